/**
 * Messages waiting for their acknowledgement on one connection. Lookup by control id is a Map;
 * timeouts are a FIFO in arrival order, so expiry costs O(1) per message as capture time
 * advances instead of a sweep. The number outstanding is capped: a sender that never gets
 * answers (or a receiver we cannot see) costs a counter, not memory.
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
  /** Older-to-newer chain of outstanding messages that reuse the same control id. */
  next: Pending<T> | null;
}

export const DEFAULT_ACK_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTSTANDING = 10_000;

export class AckTracker<T> {
  private readonly byId: [Map<string, Pending<T>>, Map<string, Pending<T>>] = [new Map(), new Map()];
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
      next: null,
    };
    const map = this.byId[dir];
    const first = map.get(controlId);
    if (first === undefined) map.set(controlId, e);
    else {
      let last = first;
      while (last.next !== null) last = last.next;
      last.next = e;
    }
    this.queue.push(e);
    this.size++;
    return evicted;
  }

  /** The oldest outstanding message sent opposite to `ackDir` with this control id, removed. */
  match(ackDir: number, controlId: string): Pending<T> | null {
    const map = this.byId[ackDir ^ 1];
    const e = map.get(controlId);
    if (e === undefined) return null;
    this.unlink(e);
    return e;
  }

  /** All outstanding messages of a batch, for an ACK whose MSA-2 names the batch control id. */
  matchBatch(ackDir: number, batchId: string): Pending<T>[] {
    const out: Pending<T>[] = [];
    if (batchId === '') return out;
    const dir = ackDir ^ 1;
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (!e.done && e.dir === dir && e.batchId === batchId) out.push(e);
    }
    for (const e of out) this.unlink(e);
    return out;
  }

  /** Calls `out` for each message whose deadline is at or before nowMs, oldest first. */
  expire(nowMs: number, out: (e: Pending<T>) => void): void {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head];
      if (!e.done) {
        if (e.dueMs > nowMs) break;
        this.unlink(e);
        out(e);
      }
      this.head++;
    }
    this.compact();
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
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i].done) return this.queue[i].dueMs;
    return Infinity;
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
    const map = this.byId[e.dir];
    const first = map.get(e.controlId);
    if (first === e) {
      if (e.next === null) map.delete(e.controlId);
      else map.set(e.controlId, e.next);
    } else if (first !== undefined) {
      let p = first;
      while (p.next !== null && p.next !== e) p = p.next;
      if (p.next === e) p.next = e.next;
    }
    e.next = null;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
