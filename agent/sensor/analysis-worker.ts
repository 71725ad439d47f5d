import { parentPort, workerData } from 'node:worker_threads';
import { RecordKind, RingReader } from '../capture/packet-ring.js';
import type { EventSink, MuvaktEvent } from '../events/types.js';
import { DEFAULT_FLOW_LIMITS } from '../flows/flow-table.js';
import type { FlowHistoryRow } from '../flows/flow-history.js';
import { FlowHistory } from '../flows/flow-history.js';
import { Pipeline } from '../pipeline.js';
import type { Flow } from '../flows/flow.js';
import { analyzersFor } from './assembly.js';
import { policyZones } from './flow-history-writer.js';
import { MemoryGuard } from './memory-guard.js';
import { figuresMessage } from './pipeline-figures.js';
import { writeCodeCaches } from './worker-entry.js';
import { END_REASONS, Phase, type AnalysisBatch, type AnalysisWorkerData } from './analysis-messages.js';

/** Records processed between two batches posted. */
const BATCH_RECORDS = 4096;
/** The workers' figures go to the main thread at most this often (and at the end). */
const FIGURES_MS = 250;

/**
 * One analysis worker of the parallel pipeline (parallel-pipeline.ts): its own flow table,
 * reassembly, analyzers and flow history, fed by a packet ring from the capture reader. It
 * posts what the analyzers found, in batches, each event with the sequence number of the
 * record that made it, so the main thread can merge the workers' streams into one.
 *
 * The loop is synchronous and blocks on the ring when it is empty: nothing comes over the
 * message port, the ring carries the clock, sweeps and the end too.
 */
async function main(): Promise<void> {
  const port = parentPort!;
  const o = workerData as AnalysisWorkerData;
  const reader = new RingReader(o.ring);
  try {
    const policy = o.policyFile ? (await import('../policy-file.js')).compilePolicyFile(o.policyFile) : null;
    const { registry } = analyzersFor(policy, undefined, Buffer.from(o.pseudonymKey));
    let out: unknown[] = [];
    let seq = 0;
    let phase: Phase = Phase.Packet;
    /**
     * Where an event goes among those other workers make for the same record: one pipeline's
     * timeouts end flows by timeout class, then idle time; its last flush by idle time, then
     * class; protocol timers after both.
     */
    let orderA = 0;
    let orderB = 0;
    const flowEnding = (f: Flow | null) => {
      if (f === null) orderA = orderB = Infinity;
      else if (phase === Phase.End) {
        orderA = f.lastSeen;
        orderB = f.timeoutClass;
      } else {
        orderA = f.timeoutClass;
        orderB = f.lastSeen;
      }
    };
    const sink: EventSink = {
      write(e: MuvaktEvent, flowSeq?: number) {
        out.push(seq, phase, orderA, orderB, flowSeq ?? 0, e);
      },
      flush() {},
      close() {},
    };
    let historyRows: FlowHistoryRow[] | undefined;
    let history: FlowHistory | null = null;
    if (o.history && policy) {
      const h = new FlowHistory({ sensor: o.sensor, zonesOf: policyZones(policy), onReady: () => (historyRows = (historyRows ?? []).concat(h.drain())) });
      history = h;
    }
    const memory = o.memoryCeiling !== undefined ? new MemoryGuard(o.memoryCeiling, () => {}) : undefined;
    const pipeline = new Pipeline({
      events: sink,
      registry,
      flowLimits: { ...DEFAULT_FLOW_LIMITS, maxFlows: o.maxFlows },
      history: history ?? undefined,
      maxAnalyzerStates: o.maxAnalyzerStates,
      memory,
      flowEnding,
    });
    let lastFiguresMs = 0;
    const post = (type: 'batch' | 'end', done: number) => {
      const now = Date.now();
      const msg: AnalysisBatch = { type, events: out, done };
      if (type === 'end' || now - lastFiguresMs >= FIGURES_MS) {
        lastFiguresMs = now;
        msg.figures = figuresMessage(pipeline);
      }
      if (historyRows !== undefined) {
        msg.history = historyRows;
        historyRows = undefined;
      }
      port.postMessage(msg);
      out = [];
    };
    const rec = reader.rec;
    for (;;) {
      let n = 0;
      let ended = false;
      while (n < BATCH_RECORDS && reader.next()) {
        n++;
        seq = reader.seq;
        switch (reader.kind) {
          case RecordKind.Packet:
            phase = Phase.Packet;
            orderA = orderB = 0;
            pipeline.handle(rec);
            break;
          case RecordKind.Clock:
            phase = Phase.Clock;
            orderA = orderB = Infinity;
            pipeline.advanceClock(rec.tsSec, rec.tsNsec);
            break;
          case RecordKind.Tick:
            phase = Phase.Clock;
            orderA = orderB = Infinity;
            pipeline.tick(rec.tsSec + rec.tsNsec * 1e-9);
            break;
          case RecordKind.Sweep:
            phase = Phase.Clock;
            orderA = orderB = Infinity;
            pipeline.sweepHistory();
            if (history !== null) historyRows = (historyRows ?? []).concat(history.drain());
            break;
          case RecordKind.End:
            phase = Phase.End;
            orderA = orderB = Infinity;
            pipeline.finish(END_REASONS[reader.arg] ?? 'shutdown');
            if (history !== null) historyRows = (historyRows ?? []).concat(history.drain());
            ended = true;
            break;
        }
        if (ended) break;
      }
      if (n > 0) reader.release();
      if (ended) {
        // Everything the run needed is compiled now: the next start of a worker takes it from the cache.
        writeCodeCaches();
        post('end', seq);
        return;
      }
      if (n > 0) post('batch', seq);
      else reader.waitForData(1000);
    }
  } catch (e) {
    // The reader must not wait for a ring nobody empties.
    reader.fail();
    port.postMessage({ type: 'error', message: (e as Error).message });
  }
}

if (parentPort !== null) void main();
