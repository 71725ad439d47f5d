/**
 * npm run bench:workers -- [--file F] [--spread] [--rounds N] [--workers 1,2]
 *
 * `muvakt analyze FILE --policy … --quiet --workers N` as the process a user runs (alerts in
 * the in-memory store, the inventory built), for each N in turn, N rounds, alternating so the
 * drift of a shared machine falls on all alike. Prints the median wall time, packets/s and MB/s
 * and the speed-up against the first N, with the machine's core count: the figures mean
 * nothing without it. Also used by bench.ts, which prints the same rows. With --spread, the
 * four-copy capture of F whose copies are other hosts (big-capture.ts): many address pairs.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { repoRoot } from '../support/repo-root.js';
import { buildBigCapture } from './big-capture.js';

const ROOT = repoRoot();
const CLI = join(ROOT, 'dist/agent/cli/muvakt.cjs');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');

function run(file: string, workers: number): { ms: number; packets: number } {
  const t0 = process.hrtime.bigint();
  // Not --quiet: the summary's packet count is the check that both runs saw the same capture.
  const r = spawnSync(process.execPath, ['--max-semi-space-size=32', CLI, 'analyze', file, '--policy', POLICY, '--workers', String(workers)], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '80' },
    maxBuffer: 64 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`analyze --workers ${workers} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  const m = /^packets\s+([\d,]+)/m.exec(r.stdout);
  return { ms, packets: m ? Number(m[1].replaceAll(',', '')) : 0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The rows: a heading, then one line per worker count with its speed-up against the first. */
export function workerRows(file: string, rounds: number, counts: number[]): string[] {
  const size = statSync(file).size;
  const times = new Map<number, number[]>(counts.map((n) => [n, []]));
  let packets = 0;
  for (let i = 0; i < rounds; i++) {
    for (const n of i % 2 === 0 ? counts : [...counts].reverse()) {
      const r = run(file, n);
      if (packets !== 0 && r.packets !== packets) throw new Error(`--workers ${n} counted ${r.packets} packets, another run ${packets}`);
      packets = r.packets;
      times.get(n)!.push(r.ms);
    }
  }
  const rows = [`analyze ${file} --policy (${(size / 1e6).toFixed(0)} MB, ${packets.toLocaleString('en-US')} packets), median of ${rounds} alternating rounds, ${availableParallelism()} cores`];
  const base = median(times.get(counts[0])!);
  for (const n of counts) {
    const ms = median(times.get(n)!);
    rows.push(
      `  --workers ${String(n).padEnd(3)} ${(ms / 1000).toFixed(2)} s  ${Math.round(packets / (ms / 1000)).toLocaleString('en-US')} packets/s  ${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s  speed-up ${(base / ms).toFixed(2)}×`,
    );
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { file: { type: 'string', default: '/tmp/bench.pcap' }, spread: { type: 'boolean', default: false }, rounds: { type: 'string', default: '5' }, workers: { type: 'string', default: '1,2' } },
  });
  const file = values.spread ? buildBigCapture(values.file!, true).path : values.file!;
  for (const row of workerRows(file, Number(values.rounds), values.workers!.split(',').map(Number))) process.stdout.write(`${row}\n`);
}
