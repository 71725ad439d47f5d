import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCaps } from '../../agent/sensor/memory-budget.js';
import { writeSynFlood } from '../support/flood-capture.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
/**
 * A sixth of the 1.2 M-address flood of `npm run bench:flood` (docs/performance.md, "Memory
 * budget"), which takes minutes: the suite runs twice in CI. Big enough to fill the device
 * table (default 50,000) three times over.
 */
const FLOWS = 200_000;
const FLOW_CAP = 100_000;
const DEFAULT_LIMIT_MB = 1024;
const CEILING_MB = 512;
/**
 * With the policy and a store the flood fills what the tables may hold under this ceiling (their
 * caps shrink with it) several times over: a lower ceiling for a smaller flood. Measured:
 * 276–278 MB; 344 MB before the caps followed the ceiling.
 */
const POLICY_CEILING_MB = 320;

function num(out: string, re: RegExp): number {
  const m = re.exec(out);
  return m === null ? 0 : Number(m[1].replace(/,/g, ''));
}

function analyze(args: string[]): { out: string; rssMb: number } {
  const out = execFileSync(process.execPath, ['--max-semi-space-size=32', CLI, 'analyze', ...args], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  return { out, rssMb: num(out, /peak memory \(RSS\)\s+(\d+) MB/) };
}

describe('bounded memory under a SYN flood from distinct source addresses', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-flood-'));
  const file = join(tmp, 'synflood.pcap');
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    writeSynFlood(file, FLOWS);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(`${FLOWS.toLocaleString('en')} addresses stay under 1 GB with the default caps, devices evicted and counted`, () => {
    const { out, rssMb } = analyze([file]);
    expect(num(out, /^flows\s+([\d,]+)/m)).toBe(FLOWS);
    const devices = num(out, /^devices\s+(\d+)/m);
    expect(devices).toBeLessThanOrEqual(50_000);
    // Every address beyond the cap made a device that pushed out an older one, or (near the
    // ceiling) none was made: nothing is lost uncounted.
    const evicted = num(out, /device evictions \(inventory full\)\s+([\d,]+)/);
    const shed = num(out, /devices ([\d,]+), flows ended early/);
    expect(evicted + shed + devices).toBeGreaterThanOrEqual(FLOWS);
    expect(evicted).toBeGreaterThan(0);
    expect(rssMb, out).toBeLessThan(DEFAULT_LIMIT_MB);
  });

  it(`under --memory-ceiling ${CEILING_MB}M it stays below the ceiling, counts every flow, and whatever it evicted or shed is counted`, () => {
    const { out, rssMb } = analyze([file, '--memory-ceiling', `${CEILING_MB}M`, '--max-flows', String(FLOW_CAP)]);
    expect(num(out, /^flows\s+([\d,]+)/m)).toBe(FLOWS);
    // Evicted at the cap, or ended early while the table was squeezed near the ceiling.
    const evicted = num(out, /flow evictions \(table full\)\s+([\d,]+)/);
    const squeezed = num(out, /flows ended early ([\d,]+)/);
    expect(evicted + squeezed).toBeGreaterThanOrEqual(FLOWS - FLOW_CAP);
    // Whether it had to shed depends on how far the collector kept up: either way no device is lost uncounted.
    const devices = num(out, /^devices\s+(\d+)/m);
    const devicesEvicted = num(out, /device evictions \(inventory full\)\s+([\d,]+)/);
    const devicesShed = num(out, /devices ([\d,]+), flows ended early/);
    expect(devices + devicesEvicted + devicesShed).toBeGreaterThanOrEqual(FLOWS);
    expect(rssMb, out).toBeLessThan(CEILING_MB);
  });

  it(`with --policy and a SQLite store under --memory-ceiling ${POLICY_CEILING_MB}M it stays below the ceiling, every flow judged and counted, what did not fit evicted or shed and counted`, () => {
    const db = join(tmp, 'flood-ceiling.db');
    const { out, rssMb } = analyze([file, '--policy', join(ROOT, 'deploy/policy.example.yaml'), '--db', db, '--memory-ceiling', `${POLICY_CEILING_MB}M`]);
    const caps = defaultCaps(POLICY_CEILING_MB * 1024 * 1024);
    expect(num(out, /^flows\s+([\d,]+)/m)).toBe(FLOWS);
    expect(out).toMatch(/flow-not-allowed\s+medium\s+[\d,]+ alerts/);
    const evicted = num(out, /flow evictions \(table full\)\s+([\d,]+)/);
    const squeezed = num(out, /flows ended early ([\d,]+)/);
    expect(evicted + squeezed).toBeGreaterThanOrEqual(FLOWS - caps.maxFlows);
    const devices = num(out, /^devices\s+(\d+)/m);
    expect(devices).toBeLessThanOrEqual(caps.maxDevices);
    const devicesEvicted = num(out, /device evictions \(inventory full\)\s+([\d,]+)/);
    const devicesShed = num(out, /devices ([\d,]+), flows ended early/);
    expect(devices + devicesEvicted + devicesShed).toBeGreaterThanOrEqual(FLOWS);
    expect(rssMb, out).toBeLessThan(POLICY_CEILING_MB);
  }, 600_000);

  // Half a minute on a quiet 2-core machine, minutes when other jobs share it: its own timeout.
  it(`with --policy and a SQLite store, ${FLOWS.toLocaleString('en')} addresses stay under 1 GB with the default caps, every flow judged and counted`, () => {
    const db = join(tmp, 'flood.db');
    const { out, rssMb } = analyze([file, '--policy', join(ROOT, 'deploy/policy.example.yaml'), '--db', db]);
    expect(num(out, /^flows\s+([\d,]+)/m)).toBe(FLOWS);
    expect(num(out, /^devices\s+(\d+)/m)).toBeLessThanOrEqual(50_000);
    // The flood's flows are not allowed by the policy: the rule fired, capped per hour, not lost.
    expect(out).toMatch(/flow-not-allowed\s+medium\s+[\d,]+ alerts/);
    expect(rssMb, out).toBeLessThan(DEFAULT_LIMIT_MB);
  }, 600_000);
});
