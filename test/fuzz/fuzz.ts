/**
 * `npm run fuzz -- [--seconds S | --iterations N] [--target NAME]… [--jobs J] [--seed N]
 *                  [--slow-ms MS] [--hang-s S] [--out DIR] [--list]`
 *
 * Mutation fuzzing of every stream and datagram parser, the capture reader and the whole pipeline
 * (with the rules), each target in its own worker thread under a watchdog. Prints inputs executed
 * per target and what was found; saves each finding's input under DIR/<target>/ (default
 * fuzz-findings/). A fixed finding's input goes to test/fuzz/regressions/<target>/, which the test
 * suite replays. Exit 1 when anything was found.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SHARED_HEADER, type Finding, type FuzzStats, type WorkerJob } from './engine.js';
import { collectSeeds } from './seeds.js';
import { allTargets } from './targets.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    iterations: { type: 'string' },
    target: { type: 'string', multiple: true },
    jobs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'slow-ms': { type: 'string', default: '2000' },
    'hang-s': { type: 'string', default: '15' },
    out: { type: 'string', default: 'fuzz-findings' },
    list: { type: 'boolean', default: false },
  },
});

const names = allTargets().map((t) => t.name);
if (values.list) {
  console.log(names.join('\n'));
  process.exit(0);
}
const chosen = values.target ?? names;
for (const t of chosen) if (!names.includes(t)) throw new Error(`unknown target ${t}; --list shows them`);
const seconds = values.seconds !== undefined ? Number(values.seconds) : values.iterations === undefined ? 60 : undefined;
const iterations = values.iterations !== undefined ? Number(values.iterations) : undefined;
const jobs = Math.max(1, Number(values.jobs ?? availableParallelism()));
const hangMs = Number(values['hang-s']) * 1000;
const MAX_LEN = 256 * 1024;

interface Result {
  target: string;
  execs: number;
  seconds: number;
  crash: number;
  hang: number;
  violation: number;
  slowestMs: number;
  cpuSeconds: number;
  findings: Finding[];
}

/** Runs a target until its budget is spent, restarting the worker after a hang. */
async function runTarget(target: string): Promise<Result> {
  const res: Result = { target, execs: 0, seconds: 0, crash: 0, hang: 0, violation: 0, slowestMs: 0, cpuSeconds: 0, findings: [] };
  const started = performance.now();
  let seed = Number(values.seed);
  for (;;) {
    const left = seconds !== undefined ? seconds - (performance.now() - started) / 1000 : undefined;
    const itLeft = iterations !== undefined ? iterations - res.execs : undefined;
    if ((left !== undefined && left <= 0.5) || (itLeft !== undefined && itLeft <= 0)) break;
    const shared = new SharedArrayBuffer(SHARED_HEADER + MAX_LEN);
    const job: WorkerJob = { target, seed, seconds: left, iterations: itLeft, slowMs: Number(values['slow-ms']), maxLen: MAX_LEN, seeds: (seeds.get(target) ?? []).map((b) => new Uint8Array(b)), shared };
    const counter = new Int32Array(shared, 0, 2);
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: job });
    const outcome = await new Promise<{ stats?: FuzzStats; hung?: Buffer; error?: Error }>((resolve) => {
      let last = -1;
      let lastChange = performance.now();
      let ready = false;
      const timer = setInterval(() => {
        const now = Atomics.load(counter, 0);
        if (now !== last) {
          last = now;
          lastChange = performance.now();
        } else if (ready && performance.now() - lastChange > hangMs) {
          clearInterval(timer);
          const n = Atomics.load(counter, 1);
          const input = Buffer.from(new Uint8Array(shared, SHARED_HEADER, n));
          void worker.terminate().then(() => resolve({ hung: input }));
        }
      }, 250);
      worker.on('message', (m: { type: string; stats?: FuzzStats }) => {
        if (m.type === 'ready') {
          ready = true;
          lastChange = performance.now();
        } else if (m.type === 'done') {
          clearInterval(timer);
          resolve({ stats: m.stats });
        }
      });
      worker.on('error', (error) => {
        clearInterval(timer);
        resolve({ error });
      });
    });
    if (outcome.error) throw outcome.error;
    if (outcome.hung) {
      res.hang++;
      res.execs += Atomics.load(counter, 0);
      res.findings.push({ kind: 'hang', target, message: `no progress for ${hangMs / 1000} s (input never returned)`, input: outcome.hung });
      seed++;
      continue;
    }
    const s = outcome.stats!;
    res.execs += s.execs;
    res.crash += s.counts.crash;
    res.hang += s.counts.hang;
    res.violation += s.counts.violation;
    res.slowestMs = Math.max(res.slowestMs, s.slowestMs);
    res.cpuSeconds += s.cpuSeconds;
    res.findings.push(...s.findings.map((f) => ({ ...f, input: Buffer.from(f.input) })));
    break;
  }
  res.seconds = (performance.now() - started) / 1000;
  return res;
}

const seeds = await collectSeeds(names);
const results: Result[] = [];
const queue = [...chosen];
const t0 = performance.now();
console.log(`fuzzing ${chosen.length} targets, ${seconds !== undefined ? `${seconds} s` : `${iterations} inputs`} each, ${jobs} at a time, seed ${values.seed}`);
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const r = await runTarget(t);
      results.push(r);
      const rate = Math.round(r.execs / Math.max(r.seconds, 1e-3));
      const cpuRate = Math.round(r.execs / Math.max(r.cpuSeconds, 1e-3));
      console.log(`${r.target.padEnd(22)} ${String(r.execs).padStart(10)} inputs  ${String(rate).padStart(7)}/s  ${String(cpuRate).padStart(7)}/cpu-s  crashes ${r.crash}  hangs ${r.hang}  violations ${r.violation}  slowest ${r.slowestMs.toFixed(1)} ms`);
    }
  }),
);

let found = 0;
for (const r of results) {
  for (const f of r.findings) {
    found++;
    const dir = join(values.out!, r.target);
    mkdirSync(dir, { recursive: true });
    const id = createHash('sha1').update(f.input).digest('hex').slice(0, 12);
    writeFileSync(join(dir, `${f.kind}-${id}.bin`), f.input);
    writeFileSync(join(dir, `${f.kind}-${id}.txt`), `${f.message}\n`);
    console.log(`  ${f.kind} in ${r.target}: ${f.message} → ${join(dir, `${f.kind}-${id}.bin`)}`);
  }
}
const total = results.reduce((a, r) => a + r.execs, 0);
console.log(`${total} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${found === 0 ? 'nothing found' : `${found} findings saved under ${values.out}/`}`);
process.exit(found === 0 ? 0 : 1);
