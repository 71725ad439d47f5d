/**
 * A bounded line assembler for the text protocols (HTTP heads, FTP, SMTP, POP3, IMAP, syslog
 * over TCP). A line that lies whole inside one chunk is handed out as a view into that chunk
 * (no copy); only a line split over chunks is copied, into a buffer that grows as needed up to
 * `max` bytes: the rest of an over-long line is dropped and the line is marked truncated.
 *
 * A LineBuffer lives as long as its connection, so what it keeps matters: its buffer is its own
 * memory (a slice of Node's shared 8 KiB pool would keep the whole slab alive), and a parser
 * calls forget() once it is done with a chunk, so no view into the caller's chunk stays behind.
 */

const EMPTY = Buffer.alloc(0);

export class LineBuffer {
  private buf: Buffer | null = null;
  private len = 0;
  private over = false;
  /** The line found by the last successful take(), without CR LF: a view valid until the next call. */
  line: Buffer = EMPTY;
  lineOff = 0;
  lineLen = 0;
  /** The last line was longer than the cap; only its first `max` bytes are in the view. */
  truncated = false;

  constructor(readonly max: number) {}

  /**
   * Looks for the end of a line in buf[off, end). Returns the index just after its LF and sets
   * `line`/`lineOff`/`lineLen`, or returns -1 when all bytes went into the partial line.
   */
  take(buf: Buffer, off: number, end: number): number {
    // Offsets computed by a caller from a non-integer field arrive boxed; `>>> 0` (exact below
    // 4 GiB, far beyond any chunk) keeps this object's fields small integers, not a box each.
    off >>>= 0;
    end >>>= 0;
    let i = off;
    while (i < end && buf[i] !== 0x0a) i++;
    if (i === end) {
      this.append(buf, off, end);
      return -1;
    }
    if (this.len === 0 && !this.over) {
      this.line = buf;
      this.lineOff = off;
      this.lineLen = i - off;
      this.truncated = this.lineLen > this.max;
      if (this.truncated) this.lineLen = this.max;
    } else {
      this.append(buf, off, i);
      this.line = this.buf!;
      this.lineOff = 0;
      this.lineLen = this.len;
      this.truncated = this.over;
      this.len = 0;
      this.over = false;
    }
    if (this.lineLen > 0 && this.line[this.lineOff + this.lineLen - 1] === 0x0d) this.lineLen--;
    return i + 1;
  }

  /** The current partial line has outgrown the cap (an endless line). */
  get overflowing(): boolean {
    return this.over;
  }

  /** Bytes held for a partial line. */
  get pending(): number {
    return this.len;
  }

  /** Bytes allocated (0 until a line straddles two chunks; grows up to `max`). */
  get capacity(): number {
    return this.buf === null ? 0 : this.buf.length;
  }

  /** The line as latin1 text (allocates; for short lines the parsers decided to read). */
  text(from = 0, to = this.lineLen): string {
    return this.line.toString('latin1', this.lineOff + from, this.lineOff + to);
  }

  reset(): void {
    this.len = 0;
    this.over = false;
  }

  /** Drops the view of the last line: it may point into the caller's chunk, which must not outlive the call. */
  forget(): void {
    this.line = EMPTY;
    this.lineOff = 0;
    this.lineLen = 0;
  }

  private append(buf: Buffer, s: number, e: number): void {
    const n = e - s;
    if (n === 0) return;
    const room = this.max - this.len;
    if (room <= 0) {
      this.over = true;
      return;
    }
    const take = n < room ? n : room;
    const need = this.len + take;
    if (this.buf === null || this.buf.length < need) {
      // Grow by doubling from 256 bytes: most split lines are short, and a flow keeps its buffer.
      let size = this.buf === null ? 256 : this.buf.length * 2;
      while (size < need) size *= 2;
      const next = Buffer.allocUnsafeSlow(Math.min(size, this.max));
      if (this.buf !== null) this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    buf.copy(this.buf, this.len, s, s + take);
    this.len += take;
    if (n > room) this.over = true;
  }
}
