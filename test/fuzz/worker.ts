/**
 * One target's fuzz run in a worker thread. Before each input runs, the input and a counter go
 * into shared memory, so the main thread can tell a hang (the counter stops) and still has the
 * input that caused it after terminating the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fuzz } from './engine.js';
import { allTargets, plantedValues } from './targets.js';
import { SHARED_HEADER, type WorkerJob } from './engine.js';

const job = workerData as WorkerJob;
const targets = allTargets();
const target = targets.find((t) => t.name === job.target);
if (!target) throw new Error(`no fuzz target named ${job.target}`);
const seeds = job.seeds.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength));
const counter = new Int32Array(job.shared, 0, 2);
const bytes = new Uint8Array(job.shared, SHARED_HEADER);
parentPort!.postMessage({ type: 'ready', seeds: seeds.length });
const stats = fuzz(target, seeds, plantedValues(), {
  seed: job.seed,
  seconds: job.seconds,
  iterations: job.iterations,
  slowMs: job.slowMs,
  maxLen: Math.min(job.maxLen, bytes.length),
  onInput(input) {
    const n = Math.min(input.length, bytes.length);
    bytes.set(input.subarray(0, n));
    Atomics.store(counter, 1, n);
    Atomics.add(counter, 0, 1);
  },
  onProgress(execs) {
    parentPort!.postMessage({ type: 'progress', execs });
  },
});
parentPort!.postMessage({ type: 'done', stats: { ...stats, findings: stats.findings.map((f) => ({ ...f, input: new Uint8Array(f.input) })) } });
