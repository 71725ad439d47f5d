/**
 * The fuzzer's short run in CI (long runs: `npm run fuzz -- --seconds N`), every saved regression
 * input replayed, and the harness itself shown to catch what it claims to catch.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuzz, type FuzzStats } from './engine.js';
import { collectSeeds } from './seeds.js';
import { allTargets, plantedValues, type FuzzTarget } from './targets.js';

const targets = allTargets();
const planted = plantedValues();
let seeds: Map<string, Buffer[]>;
beforeAll(async () => {
  seeds = await collectSeeds(targets.map((t) => t.name));
});

/** Inputs per target in CI: enough to pass every seed and a few thousand mutants, in about a minute in all. */
const BUDGET: Record<FuzzTarget['kind'], number> = { stream: 600, datagram: 3000, capture: 600, pipeline: 120 };

function describeFindings(s: FuzzStats): string {
  return s.findings.map((f) => `${f.kind}: ${f.message} (input ${f.input.length} bytes, base64 ${f.input.toString('base64').slice(0, 120)}…)`).join('\n');
}

describe('fuzzing: short run of every target', () => {
  it('has a target for every parser the sensor registers, the reader and the pipeline', () => {
    const names = targets.map((t) => t.name);
    for (const n of ['tcp-dicom', 'tcp-hl7', 'tcp-tls', 'tcp-http', 'tcp-smb', 'tcp-ssh', 'tcp-rdp', 'tcp-phi-fallback', 'udp-snmp', 'udp-syslog', 'udp-dns', 'udp-dhcp', 'capture-reader', 'pipeline']) {
      expect(names).toContain(n);
    }
    for (const t of targets) expect(seeds.get(t.name)?.length ?? 0, `${t.name} has seeds`).toBeGreaterThan(0);
  });

  it('every target has a seed that gets past its probe: the parser emits from it', () => {
    for (const t of targets) {
      const emitted = (seeds.get(t.name) ?? []).some((s) => t.run(s).length > 0);
      expect(emitted, `${t.name}: no seed makes the parser emit anything`).toBe(true);
    }
  });

  for (const t of targets) {
    it(`${t.name}: no crash, hang or planted value out`, () => {
      const stats = fuzz(t, seeds.get(t.name) ?? [], planted, { seed: 20261204, iterations: BUDGET[t.kind], slowMs: 5000 });
      expect(stats.execs).toBe(BUDGET[t.kind]);
      expect(stats.findings, describeFindings(stats)).toEqual([]);
    });
  }
});

describe('fuzzing: regression inputs', () => {
  const root = join(import.meta.dirname, 'regressions');
  const dirs = existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
  it('every saved input belongs to a target that exists', () => {
    for (const d of dirs) expect(targets.map((t) => t.name), d.name).toContain(d.name);
  });
  for (const d of dirs) {
    for (const file of readdirSync(join(root, d.name)).filter((f) => f.endsWith('.bin'))) {
      it(`${d.name}/${file} runs clean`, () => {
        const t = targets.find((x) => x.name === d.name)!;
        const input = readFileSync(join(root, d.name, file));
        const stats = fuzz(t, [input], planted, { seed: 1, iterations: 1, slowMs: 5000 });
        expect(stats.findings, describeFindings(stats)).toEqual([]);
      });
    }
  }
});

describe('fuzzing: the harness finds what it looks for', () => {
  const seed = [Buffer.from('hello world, this is a seed with enough bytes to mutate')];
  it('a target that throws on some inputs is reported as a crash, once per signature, with its input', () => {
    const broken: FuzzTarget = {
      name: 'broken',
      kind: 'stream',
      run(input) {
        if (input.includes(0x00)) throw new RangeError('index out of range');
        return [];
      },
    };
    const s = fuzz(broken, seed, [], { seed: 7, iterations: 3000 });
    expect(s.counts.crash).toBeGreaterThan(0);
    expect(s.findings).toHaveLength(1);
    expect(s.findings[0].kind).toBe('crash');
    expect(s.findings[0].input.includes(0x00)).toBe(true);
  });

  it('a planted value base64-encoded at any alignment in the output is a violation', () => {
    const value = planted.find((p) => p.length >= 11)!;
    for (const prefix of ['', 'a', 'ab']) {
      const echo: FuzzTarget = { name: 'echo64', kind: 'stream', run: (input) => [{ auth: input.toString('base64') }] };
      const s = fuzz(echo, [Buffer.from(`${prefix}${value}:x`)], planted, { seed: 7, iterations: 1 });
      expect(s.findings.map((f) => f.message), prefix).toEqual([`planted value of ${value.length} characters came out in an event (base64)`]);
    }
  });

  it('a planted value in the output is a violation', () => {
    const echo: FuzzTarget = { name: 'echo', kind: 'stream', run: (input) => [{ text: input.toString('latin1') }] };
    const s = fuzz(echo, [Buffer.from(`PID|||${planted[0]}|`)], planted, { seed: 7, iterations: 50 });
    expect(s.counts.violation).toBeGreaterThan(0);
    expect(s.findings[0].kind).toBe('violation');
    // The finding names the value's length, never the value.
    expect(s.findings[0].message).not.toContain(planted[0]);
  });

  it('a slow input is a hang', () => {
    const slow: FuzzTarget = {
      name: 'slow',
      kind: 'stream',
      run() {
        const until = performance.now() + 30;
        while (performance.now() < until);
        return [];
      },
    };
    const s = fuzz(slow, seed, [], { seed: 7, iterations: 3, slowMs: 10 });
    expect(s.counts.hang).toBe(3);
  });
});
