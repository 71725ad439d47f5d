import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

function num(out: string, re: RegExp): number {
  const m = re.exec(out);
  return m === null ? 0 : Number(m[1].replace(/,/g, ''));
}

function analyze(args: string[]): { out: string; rssMb: number } {
  const out = execFileSync(process.execPath, ['--max-semi-space-size=32', CLI, 'analyze', ...args], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  return { out, rssMb: num(out, /peak memory \(RSS\)\s+(\d+) MB/) };
}

describe('bounded memory under a SYN flood from distinct source addresses (no policy)', () => {
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
    const shed = num(out, /devices ([\d,]+) \(\d+ episode/);
    expect(evicted + shed + devices).toBeGreaterThanOrEqual(FLOWS);
    expect(evicted).toBeGreaterThan(0);
    expect(rssMb, out).toBeLessThan(DEFAULT_LIMIT_MB);
  });

  it(`under --memory-ceiling ${CEILING_MB}M it stays below the ceiling, sheds work and counts it, and still counts every flow`, () => {
    const { out, rssMb } = analyze([file, '--memory-ceiling', `${CEILING_MB}M`, '--max-flows', String(FLOW_CAP)]);
    expect(num(out, /^flows\s+([\d,]+)/m)).toBe(FLOWS);
    expect(num(out, /flow evictions \(table full\)\s+([\d,]+)/)).toBe(FLOWS - FLOW_CAP);
    expect(num(out, /devices ([\d,]+) \(\d+ episode/)).toBeGreaterThan(0);
    expect(rssMb, out).toBeLessThan(CEILING_MB);
  });

  // With --policy and a store the same flood still peaks above these bounds (docs/performance.md,
  // "Memory budget"): the flush at the end of the capture ends every flow at once, and the rule
  // path's findings outgrow the collector between two looks at the ceiling.
});
