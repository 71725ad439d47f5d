import type { PacketRecord } from './packet-record.js';

/**
 * A single-producer, single-consumer ring of packet records in a SharedArrayBuffer: the capture
 * reader (main thread) writes, one analysis worker reads. The frame bytes are copied once, into
 * the ring; the reader sees them through one Buffer view over the shared memory.
 *
 * Layout: a control block of Int32 words, then the data area (a power of two of 32-bit words).
 * Write and read positions count words and wrap at 2³², so `(write - read) | 0` is the space in
 * use. A record is a header of RECORD_HEADER_WORDS words and the frame, padded to a word:
 *
 *   [0] record size in words (0: the rest of the area is unused, continue at its start)
 *   [1] kind (RecordKind) | link type << 8
 *   [2] sequence number, low 32 bits   [3] high bits
 *   [4] tsSec   [5] tsNsec   [6] origLen   [7] capLen
 *
 * The writer publishes its position once per batch (`publish`), so the reader wakes once per
 * batch, not per packet; the reader hands back space once per batch it has processed.
 */
export const enum RecordKind {
  /** A captured frame. */
  Packet = 0,
  /** Capture time moved to a new second (tsSec, tsNsec): timeouts run at the same packet in every worker. */
  Clock = 1,
  /** Wall-clock time for a quiet live capture (tsSec, tsNsec). */
  Tick = 2,
  /** Count what open flows carried into the flow history now (a periodic write). */
  Sweep = 3,
  /** The capture ended: end every flow (origLen holds the FlowEndReason index) and stop. */
  End = 4,
}

const CTL_WRITE = 0;
const CTL_READ = 1;
/** Set by the reader when it failed: a writer waiting for space stops waiting. */
const CTL_FAILED = 2;
const CTL_WORDS = 16;
export const RECORD_HEADER_WORDS = 8;
const TWO_32 = 0x1_0000_0000;

/** Shared memory for a ring of about `bytes` (rounded up to a power of two, at least 64 KiB). */
export function createRingBuffer(bytes: number): SharedArrayBuffer {
  let words = 1 << 14;
  while (words * 4 < bytes && words < 1 << 28) words *= 2;
  return new SharedArrayBuffer(CTL_WORDS * 4 + words * 4);
}

/** The largest frame a ring takes (a record must fit in half the area, so a wrap can always follow). */
export function maxFrameBytes(sab: SharedArrayBuffer): number {
  return ((sab.byteLength - CTL_WORDS * 4) >> 1) - RECORD_HEADER_WORDS * 4;
}

export class RingWriter {
  private readonly ctl: Int32Array;
  private readonly words: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly mask: number;
  private readonly size: number;
  /** Position written up to, not yet published. */
  private pos = 0;
  private published = 0;
  /** Records written since the last publish. */
  pending = 0;

  constructor(sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, CTL_WORDS);
    this.size = (sab.byteLength - CTL_WORDS * 4) >> 2;
    this.mask = this.size - 1;
    this.words = new Uint32Array(sab, CTL_WORDS * 4, this.size);
    this.bytes = new Uint8Array(sab, CTL_WORDS * 4, this.size * 4);
    this.pos = this.published = Atomics.load(this.ctl, CTL_WRITE);
  }

  /** True when the reader said it failed (it reads no more). */
  get readerFailed(): boolean {
    return Atomics.load(this.ctl, CTL_FAILED) !== 0;
  }

  /**
   * Writes one record (a frame when `rec` is given) without publishing it. False when the ring
   * has no room for it now: nothing was written.
   */
  tryPut(kind: RecordKind, seq: number, tsSec: number, tsNsec: number, rec: PacketRecord | null, arg = 0): boolean {
    const capLen = rec === null ? 0 : rec.capLen;
    const need = RECORD_HEADER_WORDS + ((capLen + 3) >>> 2);
    const used = (this.pos - Atomics.load(this.ctl, CTL_READ)) | 0;
    let free = this.size - used;
    let at = this.pos & this.mask;
    const tail = this.size - at;
    if (tail < need) {
      // Not enough room before the end of the area: a wrap marker, and the record at the start.
      if (free < tail + need) return false;
      this.words[at] = 0;
      this.pos = (this.pos + tail) | 0;
      free -= tail;
      at = 0;
    } else if (free < need) {
      return false;
    }
    const w = this.words;
    w[at] = need;
    w[at + 1] = kind | ((rec === null ? 0 : rec.linkType) << 8);
    w[at + 2] = seq >>> 0;
    w[at + 3] = Math.floor(seq / TWO_32);
    w[at + 4] = tsSec;
    w[at + 5] = tsNsec;
    w[at + 6] = rec === null ? arg : rec.origLen;
    w[at + 7] = capLen;
    // Buffer#copy takes the source range itself: no view object per frame, as subarray() made.
    if (rec !== null && capLen > 0) rec.buf.copy(this.bytes, (at + RECORD_HEADER_WORDS) * 4, rec.off, rec.off + capLen);
    this.pos = (this.pos + need) | 0;
    this.pending++;
    return true;
  }

  /** Makes what was written visible to the reader and wakes it. */
  publish(): void {
    if (this.pos === this.published) return;
    this.published = this.pos;
    this.pending = 0;
    Atomics.store(this.ctl, CTL_WRITE, this.pos);
    Atomics.notify(this.ctl, CTL_WRITE);
  }

  /**
   * Publishes and blocks until the reader has freed some space (or `timeoutMs` passed). The
   * caller tries again; it is the back-pressure of a file analysis, where nothing may be lost.
   */
  waitForSpace(timeoutMs: number): void {
    this.publish();
    const read = Atomics.load(this.ctl, CTL_READ);
    if (this.readerFailed) return;
    Atomics.wait(this.ctl, CTL_READ, read, timeoutMs);
  }
}

export class RingReader {
  private readonly ctl: Int32Array;
  private readonly words: Uint32Array;
  private readonly mask: number;
  private readonly size: number;
  private pos: number;
  /** The frame's bytes are read through this view of the whole data area (rec.buf). */
  readonly rec: PacketRecord;
  kind: RecordKind = RecordKind.Packet;
  seq = 0;
  /** The End record's argument. */
  arg = 0;

  constructor(sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, CTL_WORDS);
    this.size = (sab.byteLength - CTL_WORDS * 4) >> 2;
    this.mask = this.size - 1;
    this.words = new Uint32Array(sab, CTL_WORDS * 4, this.size);
    this.pos = Atomics.load(this.ctl, CTL_READ);
    this.rec = { linkType: 0, ifIndex: 0, buf: Buffer.from(sab, CTL_WORDS * 4, this.size * 4), off: 0, capLen: 0, origLen: 0, tsSec: 0, tsNsec: 0 };
  }

  /**
   * Reads the next published record into `kind`, `seq` and `rec` (valid until `release`). False
   * when none is published.
   */
  next(): boolean {
    const end = Atomics.load(this.ctl, CTL_WRITE);
    if (this.pos === end) return false;
    let at = this.pos & this.mask;
    const w = this.words;
    if (w[at] === 0) {
      this.pos = (this.pos + (this.size - at)) | 0;
      at = 0;
    }
    const size = w[at];
    const head = w[at + 1];
    this.kind = (head & 0xff) as RecordKind;
    this.seq = w[at + 2] + w[at + 3] * TWO_32;
    const r = this.rec;
    r.linkType = head >>> 8;
    r.tsSec = w[at + 4];
    r.tsNsec = w[at + 5];
    r.origLen = this.arg = w[at + 6];
    r.capLen = w[at + 7];
    r.off = (at + RECORD_HEADER_WORDS) * 4;
    this.pos = (this.pos + size) | 0;
    return true;
  }

  /** Hands the space of the records read so far back to the writer (once per batch). */
  release(): void {
    Atomics.store(this.ctl, CTL_READ, this.pos);
    Atomics.notify(this.ctl, CTL_READ);
  }

  /** Blocks until the writer publishes something new (or `timeoutMs` passed). */
  waitForData(timeoutMs: number): void {
    Atomics.wait(this.ctl, CTL_WRITE, this.pos, timeoutMs);
  }

  /** Tells a waiting writer that this reader stops (it failed). */
  fail(): void {
    Atomics.store(this.ctl, CTL_FAILED, 1);
    Atomics.notify(this.ctl, CTL_READ);
  }
}
