/**
 * Fødselsnummer / D-nummer / H-nummer detection over cleartext payloads that arrive in pieces
 * (HTTP bodies, syslog over TCP): an 11-digit run split over chunks is still found, and a run
 * of 12+ digits split the same way is still rejected. What leaves is kinds, counts and keyed
 * pseudonyms; the digits themselves live only in an 11-byte scratch buffer.
 */
import { classifyFnrDigits, FnrKind, fnrKindName, scanFnr } from '../phi/fodselsnummer.js';
import type { Pseudonymize } from '../phi/pseudonym.js';

/** Distinct identifiers kept per message: a hostile body full of numbers costs a counter, not thousands of HMACs. */
export const MAX_PHI_IDS = 32;

/** Identifiers found in one message (an HTTP body, a syslog line, an SNMP datagram). */
export class PhiAccumulator {
  readonly kinds: string[] = [];
  readonly pseudonyms: string[] = [];
  /** Every valid number seen, repeats included. */
  occurrences = 0;
  /** Numbers not pseudonymised because MAX_PHI_IDS distinct ones were already held. */
  dropped = 0;
  /** Where they were found (e.g. "body", "url", "headers"). */
  readonly locations: string[] = [];

  constructor(private readonly pseudonymize: Pseudonymize) {}

  /** A valid number at buf[start, start+11). */
  add(kind: FnrKind, buf: Uint8Array, start: number, location?: string): void {
    this.occurrences++;
    const name = fnrKindName(kind);
    if (!this.kinds.includes(name)) this.kinds.push(name);
    if (location !== undefined && !this.locations.includes(location)) this.locations.push(location);
    if (this.pseudonyms.length >= MAX_PHI_IDS) {
      this.dropped++;
      return;
    }
    // The value exists as a string only for the HMAC call.
    const p = this.pseudonymize(name, Buffer.from(buf.buffer, buf.byteOffset + start, 11).toString('latin1'));
    if (!this.pseudonyms.includes(p)) this.pseudonyms.push(p);
  }

  /** Distinct identifiers (pseudonymised ones; at most MAX_PHI_IDS). */
  get distinct(): number {
    return this.pseudonyms.length;
  }

  get empty(): boolean {
    return this.occurrences === 0;
  }

  /** Scans a whole, bounded range (a URL, a header line, an SNMP value). */
  scan(buf: Uint8Array, off: number, len: number, location?: string): number {
    return scanFnr(buf, off, len, (start, kind) => this.add(kind, buf, start, location));
  }
}

const isDigit = (c: number) => c - 0x30 >>> 0 <= 9;

/**
 * Streaming scan: push() the bytes of one logical stream (a body) in order, flush() at its end.
 * Only the digit run that touches a chunk boundary is carried (at most 11 digits).
 */
export class FnrStream {
  /** Length of the digit run ending at the last byte pushed; 12 means "too long / unknowable". */
  private run = 0;
  /** The carried digits; made on first use (most streams never carry a run over a chunk boundary). */
  private held: Buffer | null = null;
  private location: string | undefined;
  /** Bytes scanned over the stream's life. */
  scanned = 0;

  constructor(private sink: PhiAccumulator | null = null) {}

  /** Starts a new logical stream that reports into `sink`. */
  begin(sink: PhiAccumulator, location?: string): void {
    this.sink = sink;
    this.location = location;
    this.run = 0;
  }

  push(buf: Uint8Array, off: number, len: number): void {
    const sink = this.sink;
    if (sink === null || len <= 0) return;
    this.scanned += len;
    const end = off + len;
    let i = off;
    if (this.run > 0) {
      while (i < end && isDigit(buf[i])) this.extend(buf[i++]);
      if (i === end) return;
      this.closeRun();
    }
    // [i, j) ends with a non-digit: runs inside it are bounded on both sides.
    let j = end;
    while (j > i && isDigit(buf[j - 1])) j--;
    if (j > i) {
      const loc = this.location;
      scanFnr(buf, i, j - i, (start, kind) => sink.add(kind, buf, start, loc));
    }
    for (let p = j; p < end; p++) this.extend(buf[p]);
  }

  /** Bytes were lost: a run touching the hole cannot be validated. */
  poison(): void {
    this.run = 12;
  }

  /** The stream ended: a run ending exactly at the end counts. */
  flush(): void {
    this.closeRun();
  }

  private extend(c: number): void {
    if (this.run < 11) (this.held ??= Buffer.alloc(11))[this.run] = c;
    if (this.run < 12) this.run++;
  }

  private closeRun(): void {
    if (this.run === 11 && this.sink !== null && this.held !== null) {
      const kind = classifyFnrDigits(this.held, 0);
      if (kind !== FnrKind.Invalid) this.sink.add(kind, this.held, 0, this.location);
    }
    this.run = 0;
  }
}
