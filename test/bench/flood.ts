/**
 * Memory under floods: writes a SYN flood and a UDP flood (each packet from its own source
 * address and MAC, so every per-address table grows) and runs `muvakt analyze` on them, printing
 * each run's peak resident memory, wall time and what the caps evicted or shed. Not a timed
 * test: on a shared machine the times are only indicative; the memory figures are what it is for.
 *
 *   npm run bench:flood -- [--flows N] [--dir DIR] [--ceiling SIZE] [--keep]
 *
 * --flows N     packets (= flows = source addresses) per flood, default 1,200,000
 * --ceiling S   the lower --memory-ceiling of the third run (default 512M)
 * --keep        leave the captures and stores in DIR (default a temporary directory)
 *
 * Runs: SYN flood with the example policy and a SQLite store, default caps; the same under
 * --memory-ceiling S; UDP flood of single-packet flows without a policy, default caps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSynFlood, writeUdpFlood } from '../support/flood-capture.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/agent/cli/muvakt.cjs');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');

const { values } = parseArgs({
  options: {
    flows: { type: 'string', default: '1200000' },
    dir: { type: 'string' },
    ceiling: { type: 'string', default: '512M' },
    keep: { type: 'boolean', default: false },
  },
});
const n = Number(values.flows);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'muvakt-flood-'));

function row(label: string, args: string[]): void {
  const t0 = process.hrtime.bigint();
  // As the CLI's shebang and the systemd unit run it.
  const r = spawnSync(process.execPath, ['--max-semi-space-size=32', CLI, 'analyze', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = r.stdout + r.stderr;
  const peak = /peak memory \(RSS\)\s+(\d+) MB/.exec(out)?.[1] ?? '?';
  const bounds = out
    .split('\n')
    .filter((l) => /evict|shed|devices not added/.test(l))
    .map((l) => l.replace(/\s{2,}/g, ': '))
    .join('; ');
  console.log(`${label.padEnd(58)} exit ${r.status}  peak RSS ${peak.padStart(5)} MB  ${s.toFixed(1).padStart(6)} s  ${bounds}`);
}

const syn = join(dir, 'syn-flood.pcap');
const udp = join(dir, 'udp-flood.pcap');
writeSynFlood(syn, n);
writeUdpFlood(udp, n);
console.log(`${n.toLocaleString('en')} source addresses per flood, in ${dir}; node ${process.version}; times on a shared machine are indicative only`);
try {
  for (const s of ['', '-wal', '-shm']) rmSync(join(dir, `a.db${s}`), { force: true });
  row(`SYN flood, --policy --db, default caps`, [syn, '--policy', POLICY, '--db', join(dir, 'a.db')]);
  for (const s of ['', '-wal', '-shm']) rmSync(join(dir, `b.db${s}`), { force: true });
  row(`SYN flood, --policy --db, --memory-ceiling ${values.ceiling}`, [syn, '--policy', POLICY, '--db', join(dir, 'b.db'), '--memory-ceiling', values.ceiling]);
  row(`UDP flood (1-packet flows), no policy, default caps`, [udp]);
} finally {
  if (!values.keep && values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}
