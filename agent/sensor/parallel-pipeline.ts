import type { Worker } from 'node:worker_threads';
import { createRingBuffer, maxFrameBytes, RecordKind, RingWriter } from '../capture/packet-ring.js';
import type { PacketRecord } from '../capture/packet-record.js';
import type { EventSink, MuvaktEvent } from '../events/types.js';
import type { FlowEndReason } from '../flows/flow.js';
import type { FlowHistory } from '../flows/flow-history.js';
import type { MemoryCheck } from '../pipeline.js';
import { END_REASONS, type AnalysisBatch, type AnalysisWorkerData } from './analysis-messages.js';
import { PacketRouter } from './packet-router.js';
import { startWorker } from './worker-entry.js';
import { sumFigures, type FiguresMessage, type PipelineFigures } from './pipeline-figures.js';

export interface ParallelPipelineOptions {
  workers: number;
  /** The head of the sink chain on this thread: rules, inventory, store see the workers' events here, merged. */
  events: EventSink;
  /** What each worker needs to build its own pipeline (its ring is added here). */
  worker: Omit<AnalysisWorkerData, 'ring'>;
  /** The main thread's flow history: the workers' rows are summed into it. */
  history?: FlowHistory;
  /** Told when the history has rows to write. */
  onHistory?: () => void;
  /** Looked at as the workers' batches come in (the inventory sheds near the ceiling). */
  memory?: MemoryCheck;
  /**
   * A live capture: a full ring drops the packet (counted in `ringDrops`) instead of making the
   * reader wait. A file analysis waits: nothing is lost.
   */
  dropWhenFull?: boolean;
  /** Bytes of each worker's ring (default 16 MiB). */
  ringBytes?: number;
}

/** Records written to a ring before they are published to its worker (also published when the reader yields). */
const PUBLISH_EVERY = 1024;
const DEFAULT_RING_BYTES = 16 << 20;

interface Lane {
  readonly worker: Worker;
  readonly ring: RingWriter;
  /** Flat (seq, phase, orderA, orderB, flowSeq, event) tuples not yet handed on, from `head`. */
  queue: unknown[];
  head: number;
  /** Sequence number of the last record the worker reported processed, and of the last one written to it. */
  done: number;
  written: number;
  ended: boolean;
  figures: FiguresMessage | null;
}

/**
 * The packet path on several cores: this thread reads the capture and routes each frame, by
 * its flow (packet-router.ts), into one worker's ring; each worker (analysis-worker.ts) has its
 * own flow table, reassembly and analyzers. The workers' events come back in batches and are
 * merged by the sequence number of the record that made them — (sequence, phase, worker) — so
 * rules, inventory and store on this thread see one stream, in the order of the capture: a
 * packet's events come after every event of the packets before it. Events made by the same
 * record in two workers (timeouts run by the clock, the flows ended at the end) come worker by
 * worker.
 *
 * A new capture second is told to every worker (a Clock record) before the frame that brought
 * it, so flows time out at the same packet as in one pipeline.
 */
export class ParallelPipeline implements PipelineFigures {
  private readonly lanes: Lane[] = [];
  private readonly router: PacketRouter;
  private readonly events: EventSink;
  private readonly history: FlowHistory | null;
  private readonly onHistory: () => void;
  private readonly memory: MemoryCheck | null;
  private readonly dropWhenFull: boolean;
  private readonly maxFrame: number;
  /** Sequence number of the last record written (to any ring). */
  private seq = 0;
  private lastSec = -1;
  private publishScheduled = false;
  private failure: Error | null = null;
  private whenEnded: (() => void) | null = null;
  private cached: PipelineFigures | null = null;
  /** Frames not handed to a worker because its ring was full (a live capture only). */
  ringDrops = 0;

  constructor(o: ParallelPipelineOptions) {
    this.events = o.events;
    this.history = o.history ?? null;
    this.onHistory = o.onHistory ?? (() => {});
    this.memory = o.memory ?? null;
    this.dropWhenFull = o.dropWhenFull ?? false;
    this.router = new PacketRouter(o.workers);
    let maxFrame = Infinity;
    for (let i = 0; i < o.workers; i++) {
      const sab = createRingBuffer(o.ringBytes ?? DEFAULT_RING_BYTES);
      maxFrame = Math.min(maxFrame, maxFrameBytes(sab));
      const data: AnalysisWorkerData = { ...o.worker, ring: sab };
      const worker = startWorker('analysis-worker', { workerData: data });
      const lane: Lane = { worker, ring: new RingWriter(sab), queue: [], head: 0, done: 0, written: 0, ended: false, figures: null };
      worker.on('message', (m: AnalysisBatch | { type: 'error'; message: string }) => this.received(lane, m));
      worker.on('error', (e) => this.failed(new Error(`analysis worker ${i + 1} failed: ${e.message}`)));
      worker.on('exit', () => {
        if (!lane.ended) this.failed(new Error(`analysis worker ${i + 1} stopped`));
      });
      this.lanes.push(lane);
    }
    this.maxFrame = maxFrame;
  }

  readonly handle = (rec: PacketRecord): void => {
    if (this.failure !== null) throw this.failure;
    const seq = ++this.seq;
    if (rec.tsSec !== this.lastSec) {
      this.lastSec = rec.tsSec;
      for (const lane of this.lanes) this.put(lane, RecordKind.Clock, seq, rec.tsSec, rec.tsNsec, null, 0, true);
    }
    const lane = this.lanes[this.router.route(rec)];
    // A frame longer than a ring can hold (no pcap snaplen allows one) is cut, as a snaplen would.
    if (rec.capLen > this.maxFrame) rec.capLen = this.maxFrame;
    if (!this.put(lane, RecordKind.Packet, seq, rec.tsSec, rec.tsNsec, rec, 0, false)) this.ringDrops++;
  };

  /** Wall-clock time for a quiet live capture: every worker runs its timeouts. */
  tick(nowSec: number): void {
    const sec = Math.floor(nowSec);
    this.control(RecordKind.Tick, sec, Math.floor((nowSec - sec) * 1e9), 0);
  }

  /** Every worker counts what its open flows carried into the flow history (a periodic write); the rows follow in its next batch. */
  sweepHistory(): void {
    this.control(RecordKind.Sweep, 0, 0, 0);
  }

  /** As Pipeline's: each worker's own pipeline ends its flows (its finish), in parallel with the others. */
  finishInBatches(reason: FlowEndReason = 'shutdown'): Promise<void> {
    return this.finish(reason);
  }

  /**
   * Ends every flow in every worker, waits for their last events and figures, and hands the
   * merged rest on. The workers stop.
   */
  async finish(reason: FlowEndReason = 'shutdown'): Promise<void> {
    if (this.lanes.every((l) => l.ended)) return;
    const ended = new Promise<void>((resolve) => (this.whenEnded = resolve));
    this.control(RecordKind.End, 0, 0, Math.max(0, END_REASONS.indexOf(reason)));
    this.publishAll();
    await ended;
    this.release();
    this.events.flush();
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
    if (this.failure !== null) throw this.failure;
  }

  /** Ends the workers without waiting for what they hold (a run that failed). */
  async abort(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
  }

  private figures(): PipelineFigures {
    return (this.cached ??= sumFigures(this.lanes.flatMap((l) => (l.figures ? [l.figures] : []))));
  }

  get stats(): PipelineFigures['stats'] {
    return this.figures().stats;
  }

  get flows(): PipelineFigures['flows'] {
    return this.figures().flows;
  }

  get ftpData(): PipelineFigures['ftpData'] {
    return this.figures().ftpData;
  }

  get reassembly(): PipelineFigures['reassembly'] {
    return this.figures().reassembly;
  }

  get fragments(): PipelineFigures['fragments'] {
    return this.figures().fragments;
  }

  get workers(): number {
    return this.lanes.length;
  }

  private control(kind: RecordKind, tsSec: number, tsNsec: number, arg: number): void {
    const seq = ++this.seq;
    for (const lane of this.lanes) this.put(lane, kind, seq, tsSec, tsNsec, null, arg, false);
    this.publishAll();
  }

  /**
   * Writes a record to a lane's ring. When the ring is full: a live capture drops a frame (false)
   * and a clock record (the worker's pipeline then sees the new second at its next frame); a file
   * analysis waits for the worker.
   */
  private put(lane: Lane, kind: RecordKind, seq: number, tsSec: number, tsNsec: number, rec: PacketRecord | null, arg: number, mayDrop: boolean): boolean {
    const ring = lane.ring;
    while (!ring.tryPut(kind, seq, tsSec, tsNsec, rec, arg)) {
      if ((this.dropWhenFull && kind === RecordKind.Packet) || (mayDrop && this.dropWhenFull)) {
        ring.publish();
        return false;
      }
      ring.waitForSpace(100);
      if (ring.readerFailed || this.failure !== null) throw this.failure ?? new Error('an analysis worker failed');
    }
    lane.written = seq;
    if (ring.pending >= PUBLISH_EVERY) ring.publish();
    else if (!this.publishScheduled) {
      // Published at the latest when this thread yields (the end of a capture chunk).
      this.publishScheduled = true;
      setImmediate(this.publishAll);
    }
    return true;
  }

  private readonly publishAll = (): void => {
    this.publishScheduled = false;
    for (const lane of this.lanes) lane.ring.publish();
  };

  private received(lane: Lane, m: AnalysisBatch | { type: 'error'; message: string }): void {
    if (m.type === 'error') {
      this.failed(new Error(`analysis worker failed: ${m.message}`));
      return;
    }
    if (m.events.length > 0) {
      if (lane.head === lane.queue.length) {
        lane.queue = m.events;
        lane.head = 0;
      } else {
        for (const e of m.events) lane.queue.push(e);
      }
    }
    lane.done = m.done;
    if (m.figures) {
      lane.figures = m.figures;
      this.cached = null;
    }
    if (m.history && this.history !== null) {
      this.history.restore(m.history);
      this.onHistory();
    }
    if (m.type === 'end') lane.ended = true;
    this.memory?.check();
    this.release();
    if (this.whenEnded !== null && this.lanes.every((l) => l.ended)) {
      const done = this.whenEnded;
      this.whenEnded = null;
      done();
    }
  }

  private failed(e: Error): void {
    this.failure ??= e;
    for (const lane of this.lanes) lane.ended = true;
    if (this.whenEnded !== null) {
      const done = this.whenEnded;
      this.whenEnded = null;
      done();
    }
  }

  /**
   * Hands on, in (sequence, phase, worker) order, every event no worker can still precede: a
   * worker that has processed all it was given is behind no one; one that has not can still
   * make events from the record after its `done`.
   */
  private release(): void {
    let safe = Infinity;
    for (const l of this.lanes) {
      if (l.ended || l.done === l.written) continue;
      if (l.done < safe) safe = l.done;
    }
    const lanes = this.lanes;
    const sink = this.events;
    for (;;) {
      let best: Lane | null = null;
      let bestSeq = 0;
      let bestPhase = 0;
      let bestA = 0;
      let bestB = 0;
      for (const l of lanes) {
        if (l.head >= l.queue.length) continue;
        const q = l.queue;
        const s = q[l.head] as number;
        if (s > safe) continue;
        const p = q[l.head + 1] as number;
        const a = q[l.head + 2] as number;
        const b = q[l.head + 3] as number;
        if (best === null || s < bestSeq || (s === bestSeq && (p < bestPhase || (p === bestPhase && (a < bestA || (a === bestA && b < bestB)))))) {
          best = l;
          bestSeq = s;
          bestPhase = p;
          bestA = a;
          bestB = b;
        }
      }
      if (best === null) break;
      const q = best.queue;
      const flowSeq = q[best.head + 4] as number;
      const event = q[best.head + 5] as MuvaktEvent;
      best.head += 6;
      if (best.head === q.length) {
        best.queue = [];
        best.head = 0;
      }
      sink.write(event, flowSeq === 0 ? undefined : flowSeq);
    }
  }
}
