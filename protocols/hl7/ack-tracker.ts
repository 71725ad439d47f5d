/**
 * Messages waiting for their acknowledgement on one connection. Every operation a message or
 * an ACK triggers is O(1) whatever the control ids: messages that reuse one control id (MSH-10)
 * form a doubly linked chain whose first and last entries are found through maps, and so do the
 * messages of one batch (BHS-11). Timeouts are a FIFO in arrival order, so expiry costs O(1)
 * per message as capture time advances instead of a sweep. The number outstanding is capped:
 * a sender that never gets answers (or a receiver we cannot see) costs a counter, not memory.
 */

export interface Pending<T> {
  /** Direction the message travelled in; its ACK comes the other way. */
  dir: number;
  controlId: string;
  /** BHS-11 / FHS-11 of the batch it came in, '' otherwise (a batch ACK answers them all). */
  batchId: string;
  sentMs: number;
  dueMs: number;
  data: T;
  /** Capture gaps seen in the ACK direction when the message was sent (to flag possible loss later). */
  gapsAtSend: number;
  done: boolean;
  /** Older and newer outstanding messages that reuse the same control id. */
  prev: Pending<T> | null;
  next: Pending<T> | null;
  /** Older and newer outstanding messages of the same batch. */
  batchPrev: Pending<T> | null;
  batchNext: Pending<T> | null;
}

export const DEFAULT_ACK_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTSTANDING = 10_000;

/** First and last entry of each chain, per direction; the chain links live in the entries. */
class Chains<T> {
  readonly first = new Map<string, Pending<T>>();
  readonly last = new Map<string, Pending<T>>();
}

export class AckTracker<T> {
  // Per direction (0, 1), made on first use: most connections carry one direction's messages,
  // many no batches. Fields rather than two-element arrays, which cost an array each.
  private ids0: Chains<T> | null = null;
  private ids1: Chains<T> | null = null;
  private batches0: Chains<T> | null = null;
  private batches1: Chains<T> | null = null;
  private queue: Pending<T>[] = [];
  private head = 0;
  /** Outstanding (not yet resolved) messages. */
  size = 0;

  constructor(
    readonly timeoutMs: number = DEFAULT_ACK_TIMEOUT_MS,
    readonly maxOutstanding: number = DEFAULT_MAX_OUTSTANDING,
  ) {}

  /**
   * Registers a message. Returns the oldest outstanding message when the cap forced it out
   * (its fate is unknown: the caller reports it without an ACK and counts it), else null.
   */
  add(dir: number, controlId: string, batchId: string, sentMs: number, gapsAtSend: number, data: T): Pending<T> | null {
    let evicted: Pending<T> | null = null;
    if (this.size >= this.maxOutstanding) evicted = this.shiftOldest();
    const e: Pending<T> = {
      dir,
      controlId,
      batchId,
      sentMs,
      dueMs: sentMs + this.timeoutMs,
      data,
      gapsAtSend,
      done: false,
      prev: null,
      next: null,
      batchPrev: null,
      batchNext: null,
    };
    const ids = this.idChains(dir, true)!;
    const last = ids.last.get(controlId);
    if (last === undefined) ids.first.set(controlId, e);
    else {
      last.next = e;
      e.prev = last;
    }
    ids.last.set(controlId, e);
    if (batchId !== '') {
      const batches = this.batchChains(dir, true)!;
      const lastOfBatch = batches.last.get(batchId);
      if (lastOfBatch === undefined) batches.first.set(batchId, e);
      else {
        lastOfBatch.batchNext = e;
        e.batchPrev = lastOfBatch;
      }
      batches.last.set(batchId, e);
    }
    this.queue.push(e);
    this.size++;
    return evicted;
  }

  /** The oldest outstanding message sent opposite to `ackDir` with this control id, removed. */
  match(ackDir: number, controlId: string): Pending<T> | null {
    const e = this.idChains(ackDir ^ 1, false)?.first.get(controlId);
    if (e === undefined) return null;
    this.unlink(e);
    return e;
  }

  /** All outstanding messages of a batch, oldest first, for an ACK whose MSA-2 names the batch control id. */
  matchBatch(ackDir: number, batchId: string): Pending<T>[] {
    const out: Pending<T>[] = [];
    if (batchId === '') return out;
    for (let e = this.batchChains(ackDir ^ 1, false)?.first.get(batchId) ?? null; e !== null; e = e.batchNext) out.push(e);
    for (const e of out) this.unlink(e);
    return out;
  }

  /** Calls `out` for each message whose deadline is at or before nowMs, oldest first. */
  expire(nowMs: number, out: (e: Pending<T>) => void): void {
    for (let e = this.takeExpired(nowMs); e !== null; e = this.takeExpired(nowMs)) out(e);
  }

  /**
   * The oldest message whose deadline is at or before nowMs, removed, or null. expire() without
   * a callback: a caller that checks on every packet needs no closure per call.
   */
  takeExpired(nowMs: number): Pending<T> | null {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head];
      if (!e.done) {
        if (e.dueMs > nowMs) break;
        this.unlink(e);
        this.head++;
        return e;
      }
      this.head++;
    }
    this.compact();
    return null;
  }

  /** Removes and returns every outstanding message, oldest first. */
  drain(): Pending<T>[] {
    const out: Pending<T>[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (!e.done) out.push(e);
    }
    for (const e of out) this.unlink(e);
    this.queue = [];
    this.head = 0;
    return out;
  }

  /** Earliest deadline among outstanding messages (ms), or Infinity. */
  nextDueMs(): number {
    // Resolved entries at the front are dead: step past them once, not on every call.
    while (this.head < this.queue.length && this.queue[this.head].done) this.head++;
    this.compact();
    return this.head < this.queue.length ? this.queue[this.head].dueMs : Infinity;
  }

  /** The chains of one direction's control ids, made when `make` and missing. */
  private idChains(dir: number, make: boolean): Chains<T> | null {
    if (dir === 0) return this.ids0 ?? (make ? (this.ids0 = new Chains()) : null);
    return this.ids1 ?? (make ? (this.ids1 = new Chains()) : null);
  }

  /** The chains of one direction's batch ids, made when `make` and missing. */
  private batchChains(dir: number, make: boolean): Chains<T> | null {
    if (dir === 0) return this.batches0 ?? (make ? (this.batches0 = new Chains()) : null);
    return this.batches1 ?? (make ? (this.batches1 = new Chains()) : null);
  }

  private shiftOldest(): Pending<T> | null {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head++];
      if (!e.done) {
        this.unlink(e);
        return e;
      }
    }
    return null;
  }

  private unlink(e: Pending<T>): void {
    if (e.done) return;
    e.done = true;
    this.size--;
    // An entry was added through add(), which made its direction's chains.
    const ids = this.idChains(e.dir, false)!;
    if (e.prev === null) {
      if (e.next === null) ids.first.delete(e.controlId);
      else ids.first.set(e.controlId, e.next);
    } else e.prev.next = e.next;
    if (e.next === null) {
      if (e.prev === null) ids.last.delete(e.controlId);
      else ids.last.set(e.controlId, e.prev);
    } else e.next.prev = e.prev;
    e.prev = e.next = null;
    if (e.batchId !== '') {
      const batches = this.batchChains(e.dir, false)!;
      if (e.batchPrev === null) {
        if (e.batchNext === null) batches.first.delete(e.batchId);
        else batches.first.set(e.batchId, e.batchNext);
      } else e.batchPrev.batchNext = e.batchNext;
      if (e.batchNext === null) {
        if (e.batchPrev === null) batches.last.delete(e.batchId);
        else batches.last.set(e.batchId, e.batchPrev);
      } else e.batchNext.batchPrev = e.batchPrev;
      e.batchPrev = e.batchNext = null;
    }
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
