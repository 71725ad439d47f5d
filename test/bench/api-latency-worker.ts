/**
 * Worker of api-latency.ts: replays a capture through the whole analysis (analyzers, rules,
 * alert store on the same SQLite file as the API) at full speed, over and over, until told to
 * stop. Posts `{type:'pass', packets, s}` after each pass. The main thread stops it through a
 * shared flag (the replay never yields to the worker's event loop, so a message would wait for
 * the end of a pass) and reads the packet count so far from shared memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AlertingSink } from '../../agent/alerts.js';
import { readCaptureFile } from '../../agent/capture/capture-file.js';
import type { EventSink } from '../../agent/events/types.js';
import { Pipeline } from '../../agent/pipeline.js';
import { compilePolicyFile } from '../../agent/policy-file.js';
import { analyzersFor } from '../../agent/sensor/assembly.js';
import { SqliteStore } from '../../agent/store/index.js';

export interface ApiLatencyWorkerData {
  file: string;
  db: string;
  policy: string;
  /** Int32Array[0]: 1 = stop. */
  stop: SharedArrayBuffer;
  /** Float64Array[0]: packets analysed so far, all passes. */
  progress: SharedArrayBuffer;
}

const port = parentPort!;
const { file, db, policy: policyFile, stop, progress } = workerData as ApiLatencyWorkerData;
const stopFlag = new Int32Array(stop);
const done = new Float64Array(progress);
const stopping = () => Atomics.load(stopFlag, 0) === 1;

async function main(): Promise<void> {
  const policy = compilePolicyFile(policyFile);
  const { registry } = analyzersFor(policy);
  const store = SqliteStore.open(db, { retentionDays: policy.retentionDays });
  const nothing: EventSink = { write() {}, flush() {}, close() {} };
  port.postMessage({ type: 'started' });
  while (!stopping()) {
    const t = process.hrtime.bigint();
    const alerting = await AlertingSink.create(nothing, policy, store);
    const pipeline = new Pipeline({ events: alerting, registry });
    let before = done[0];
    await readCaptureFile(file, pipeline.handle, {
      shouldStop: stopping,
      onChunk: () => {
        done[0] = before + pipeline.stats.packets;
      },
    });
    before = done[0] = before + pipeline.stats.packets;
    pipeline.finish();
    await alerting.finish();
    port.postMessage({ type: 'pass', packets: pipeline.stats.packets, s: Number(process.hrtime.bigint() - t) / 1e9 });
  }
  await store.close();
  port.postMessage({ type: 'stopped' });
}

main().catch((e: Error) => port.postMessage({ type: 'error', message: e.stack ?? e.message }));
