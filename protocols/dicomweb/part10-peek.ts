/**
 * One DICOM Part 10 object (an `application/dicom` body or multipart part) read like a DIMSE
 * data set: the 128-byte preamble and "DICM", the file meta group (always explicit VR little
 * endian) for the transfer syntax, then the data set through the DIMSE walker
 * (dicom/dataset-peek.ts) until Pixel Data, an error or the cap. Bytes are copied into a peek
 * buffer in steps, only while the walk still wants them; the rest of the object is counted,
 * not copied. A deflated data set is reported, never inflated.
 */
import { hasLongLength, peekDataset, PeekStatus, guessEncoding, type PeekSink } from '../dicom/dataset-peek.js';
import { datasetEncoding, type DatasetEncoding } from '../dicom/transfer-syntax.js';

/** Copy in small steps: the walk stops at Pixel Data, and at most one step of pixels is copied. */
const STEP = 1024;
const PREAMBLE = 128;
const TRANSFER_SYNTAX_UID = 0x00020010;
const UID_TEXT = /^[0-9.]{1,64}$/;

const enum Phase {
  Meta,
  Dataset,
  Done,
}

export class Part10Peek {
  private peek: Buffer | null = null;
  private len = 0;
  private next = 0;
  private phase = Phase.Meta;
  private enc: DatasetEncoding | null = null;
  transferSyntax = '';
  /** The walk stopped before Pixel Data or the end (cap, bad bytes, cut off). */
  truncated = false;
  deflated = false;

  constructor(
    private readonly cap: number,
    private readonly sink: PeekSink,
  ) {}

  /** Nothing more to learn from this object. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  /** Bytes copied and looked at. */
  get inspected(): number {
    return this.len;
  }

  /** Offers buf[off, off+n); returns how many bytes were taken (the rest is the caller's to count as skipped). */
  push(buf: Buffer, off: number, n: number): number {
    let taken = 0;
    while (taken < n && this.phase !== Phase.Done) {
      const room = this.cap - this.len;
      if (room <= 0) {
        this.stop(true);
        break;
      }
      const take = Math.min(n - taken, room, STEP);
      if (this.peek === null || this.peek.length < this.len + take) {
        const size = Math.min(this.cap, Math.max(this.len + take, STEP, (this.peek?.length ?? 0) * 2));
        const grown = Buffer.allocUnsafe(size);
        if (this.peek !== null) this.peek.copy(grown, 0, 0, this.len);
        this.peek = grown;
      }
      buf.copy(this.peek, this.len, off + taken, off + taken + take);
      this.len += take;
      taken += take;
      this.walk(false);
    }
    return taken;
  }

  /** The object ended (`cut`: it did not end normally: a gap, the body cut short). */
  end(cut: boolean): void {
    if (this.phase === Phase.Done) return;
    this.walk(true);
    if (!this.done) this.stop(cut || this.next < this.len || (this.phase as Phase) === Phase.Meta);
  }

  /** Releases the bytes held (the observations are already in the sink). */
  release(): void {
    this.peek = null;
  }

  private stop(truncated: boolean): void {
    this.phase = Phase.Done;
    if (truncated) this.truncated = true;
    this.peek = null;
  }

  private walk(final: boolean): void {
    const b = this.peek;
    if (b === null) return;
    if (this.phase === Phase.Meta) {
      const r = this.meta(b, final);
      if (r === 'more') return;
      if (r === 'invalid') return this.stop(true);
      if (this.deflated) return this.stop(false);
      this.phase = Phase.Dataset;
    }
    const r = peekDataset(b, this.next, this.len, this.enc!, this.sink);
    this.next = r.next;
    if (r.status === PeekStatus.Done) this.stop(false);
    else if (r.status === PeekStatus.Invalid) this.stop(true);
  }

  /** The preamble and file meta group: sets `next` to the data set and `enc` from the transfer syntax. */
  private meta(b: Buffer, final: boolean): 'more' | 'ok' | 'invalid' {
    let p = 0;
    if (this.len < PREAMBLE + 4) {
      if (!final) return 'more';
    } else if (b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d) {
      p = PREAMBLE + 4;
    }
    if (p === 0) {
      // No "DICM": a bare data set (some servers send one). Its first bytes say how it is encoded.
      const g = guessEncoding(b, 0, this.len);
      if (g === null) return final ? 'invalid' : 'more';
      this.enc = g;
      this.next = 0;
      return 'ok';
    }
    let ts = '';
    while (p + 8 <= this.len && b.readUInt16LE(p) === 0x0002) {
      const tag = ((b.readUInt16LE(p) << 16) | b.readUInt16LE(p + 2)) >>> 0;
      let v: number;
      let n: number;
      if (hasLongLength(b[p + 4], b[p + 5])) {
        if (p + 12 > this.len) return final ? 'invalid' : 'more';
        n = b.readUInt32LE(p + 8);
        v = p + 12;
      } else {
        n = b.readUInt16LE(p + 6);
        v = p + 8;
      }
      if (v + n > this.len) return final || v + n > this.cap ? 'invalid' : 'more';
      if (tag === TRANSFER_SYNTAX_UID) {
        let e = v + n;
        while (e > v && (b[e - 1] === 0x00 || b[e - 1] === 0x20)) e--;
        ts = b.toString('latin1', v, e);
      }
      p = v + n;
    }
    if (p + 8 > this.len && !final) return 'more';
    if (!UID_TEXT.test(ts)) return 'invalid';
    this.transferSyntax = ts;
    this.enc = datasetEncoding(ts);
    this.deflated = this.enc.deflated;
    this.next = p;
    return 'ok';
  }
}
