/**
 * npm run bench:process-ab -- OLD_DIST [NEW_DIST] [--starts N] [--rounds N] [--file F] [--no-policy]
 *
 * The muvakt process as a user runs it, from two builds alternately (their order swapped every
 * round), so the paired ratio cancels the drift of a shared machine:
 * - start-up: exec → first packet of `analyze` on a one-association capture (N pairs, each with
 *   a bare `node -e 0` beside it). A build that prints no hrtime mark (older ones printed the
 *   wall-clock time) is read by that;
 * - throughput: `analyze F --quiet`, and with `--policy deploy/policy.example.yaml --db` (a fresh
 *   SQLite file each run), with `tcpdump -r F -w /dev/null` once a round for reference.
 * Build the old side outside this checkout, e.g.
 *   mkdir /tmp/old && git archive <commit> | tar -x -C /tmp/old && ln -s $PWD/node_modules /tmp/old/ && (cd /tmp/old && npm run build)
 * F defaults to the bench's large capture (/tmp/bench-x4.pcap, which `npm run bench` builds).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    starts: { type: 'string', default: '21' },
    rounds: { type: 'string', default: '5' },
    file: { type: 'string', default: '/tmp/bench-x4.pcap' },
    'no-policy': { type: 'boolean', default: false },
  },
});
if (positionals.length < 1) {
  console.error('usage: npm run bench:process-ab -- OLD_DIST [NEW_DIST] [--starts N] [--rounds N] [--file F] [--no-policy]');
  process.exit(2);
}
const here = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const builds = [resolve(positionals[0]), resolve(positionals[1] ?? here)];
const cliOf = (dist: string) => join(dist, 'agent/cli/main.js');
for (const b of builds) statSync(cliOf(b));
const root = resolve(here, '..');
const SMALL = join(root, 'fixtures/corpus/01_dicom_cecho.pcap');
const POLICY = join(root, 'deploy/policy.example.yaml');
const NODE = [process.execPath, '--max-semi-space-size=32'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quartiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 4)].toFixed(3)}–${s[Math.floor((3 * s.length) / 4)].toFixed(3)}`;
};

/** Exec → first packet, in ms, read from the process's own mark. */
function firstPacketMs(dist: string): number {
  const spawned = process.hrtime.bigint();
  const spawnedWall = performance.timeOrigin + performance.now();
  const r = spawnSync(NODE[0], [...NODE.slice(1), cliOf(dist), 'analyze', SMALL, '--quiet'], { encoding: 'utf8', env: { ...process.env, MUVAKT_MARK_FIRST_PACKET: '1' } });
  const hr = /first packet at hrtime (\d+) ns/.exec(r.stderr);
  if (hr) return Number(BigInt(hr[1]) - spawned) / 1e6;
  const wall = /first packet at (\d+\.\d+) ms/.exec(r.stderr);
  if (wall) return Number(wall[1]) - spawnedWall;
  throw new Error(`${dist}: no first-packet mark: ${r.stderr}`);
}

function seconds(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const pairOrder = (i: number) => (i % 2 === 0 ? [0, 1] : [1, 0]);
const starts = [[], []] as number[][];
const bare: number[] = [];
firstPacketMs(builds[0]);
firstPacketMs(builds[1]); // each build's code cache written, as by any earlier run
for (let i = 0; i < Number(values.starts); i++) {
  for (const k of pairOrder(i)) starts[k].push(firstPacketMs(builds[k]));
  bare.push(seconds(process.execPath, ['-e', '0']) * 1000);
}
const ratio = (b: number[], a: number[]) => b.map((x, i) => x / a[i]);
console.log(`exec → first packet (analyze ${SMALL}), ${starts[0].length} pairs, median ms (bare node -e 0: ${median(bare).toFixed(0)} ms)`);
for (const k of [0, 1]) console.log(`  ${builds[k].padEnd(40)} ${median(starts[k]).toFixed(0).padStart(6)} ms  (min ${Math.min(...starts[k]).toFixed(0)})`);
const sr = ratio(starts[1], starts[0]);
console.log(`  new / old, paired: ${median(sr).toFixed(3)} (quartiles ${quartiles(sr)})`);

const rounds = Number(values.rounds);
if (rounds > 0) {
  const file = values.file!;
  statSync(file);
  const dir = mkdtempSync(join(tmpdir(), 'muvakt-process-ab-'));
  const plain = [[], []] as number[][];
  const policy = [[], []] as number[][];
  const tcpdump: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      tcpdump.push(seconds('tcpdump', ['-r', file, '-w', '/dev/null']));
      for (const k of pairOrder(i)) {
        plain[k].push(seconds(NODE[0], [...NODE.slice(1), cliOf(builds[k]), 'analyze', file, '--quiet']));
        if (values['no-policy']) continue;
        const db = join(dir, `r${i}-${k}.db`);
        policy[k].push(seconds(NODE[0], [...NODE.slice(1), cliOf(builds[k]), 'analyze', file, '--quiet', '--policy', POLICY, '--db', db]));
        for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ref = median(tcpdump);
  console.log(`\n${file}, ${rounds} rounds, median s (tcpdump -r ${ref.toFixed(2)} s)`);
  for (const [name, rows] of [['analyze --quiet', plain], ['analyze --quiet --policy --db', policy]] as const) {
    if (rows[0].length === 0) continue;
    for (const k of [0, 1]) console.log(`  ${name.padEnd(30)} ${builds[k].padEnd(40)} ${median(rows[k]).toFixed(2).padStart(7)} s  ${(ref / median(rows[k])).toFixed(2)}× tcpdump`);
    const r = ratio(rows[1], rows[0]);
    console.log(`  ${name}: new / old time, paired: ${median(r).toFixed(3)} (quartiles ${quartiles(r)})`);
  }
}
