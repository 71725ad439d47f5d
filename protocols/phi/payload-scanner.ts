import { DETACH, type Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import type { DatagramParser } from '../datagram.js';
import { classifyFnrDigits, fnrKindName, FnrKind, scanFnr } from './fodselsnummer.js';
import type { Pseudonymize } from './pseudonym.js';
import type { PhiObservedRecord } from '../events/index.js';

/** What the scanner reports for one flow (a `phi.observed` event): kinds, a count and pseudonyms; never a value. */
export type PayloadPhiRecord = PhiObservedRecord;

export interface PayloadScannerOptions {
  protocol: string;
  pseudonymize: Pseudonymize;
  emit: (rec: PayloadPhiRecord) => void;
  /** Bytes scanned per direction before the scanner stops looking (default 64 KiB). */
  depth?: number;
}

export const DEFAULT_PHI_SCAN_DEPTH = 64 * 1024;
/** Distinct identifiers remembered per flow; beyond this only the count grows. */
const MAX_PSEUDONYMS = 32;
/** "Skip everything that follows in this direction." */
const SKIP_REST = 0x7fffffff;

/** Per-direction state: the digit run that touched the end of the previous chunk. */
class DirectionScan {
  scanned = 0;
  readonly carry = new Uint8Array(11);
  carryLen = 0;
  /** The run at the chunk end is already longer than 11 digits: not an identity. */
  longRun = false;
}

function isDigit(c: number): boolean {
  return c - 0x30 >>> 0 <= 9;
}

/**
 * Looks for Norwegian national identity numbers (fødselsnummer, D-nummer, H-nummer, with both
 * check digits) in the cleartext payload of a flow: technical logs, call-home posts and any
 * stream no protocol analyzer claimed (MU annex #16, #17). A number split across TCP segments
 * or reads is still found. Stops at a depth per direction; emits one record per flow.
 */
export class PayloadPhiScanner implements StreamParser, DatagramParser {
  private readonly dirs = [new DirectionScan(), new DirectionScan()];
  private readonly depth: number;
  private readonly kinds = new Set<string>();
  private readonly pseudonyms = new Set<string>();
  private count = 0;
  private tsSec = 0;
  private tsNsec = 0;
  private ended = false;
  private readonly joined = new Uint8Array(11);

  constructor(private readonly opts: PayloadScannerOptions) {
    this.depth = opts.depth ?? DEFAULT_PHI_SCAN_DEPTH;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    return this.scan(dir, buf, off, len, tsSec, tsNsec);
  }

  datagram(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    const r = this.scan(dir, buf, off, len, tsSec, tsNsec);
    // Datagrams never continue one another: a run at the end of one is complete.
    this.flushCarry(this.dirs[dir]);
    return r;
  }

  gap(dir: Direction): void {
    // Digits on either side of a hole are not one number.
    const d = this.dirs[dir];
    d.carryLen = 0;
    d.longRun = false;
  }

  end(_reason?: StreamEndReason): void {
    if (this.ended) return;
    this.ended = true;
    for (const d of this.dirs) this.flushCarry(d);
    if (this.count === 0) return;
    this.opts.emit({
      type: 'phi.observed',
      protocol: this.opts.protocol,
      kinds: [...this.kinds],
      count: this.count,
      pseudonyms: [...this.pseudonyms],
      scanned_bytes: this.dirs[0].scanned + this.dirs[1].scanned,
      ts_sec: this.tsSec,
      ts_nsec: this.tsNsec,
    });
  }

  private scan(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    const d = this.dirs[dir];
    const room = this.depth - d.scanned;
    if (room <= 0) return this.done(d);
    if (len > room) len = room;
    d.scanned += len;
    let i = off;
    const end = off + len;
    if (d.carryLen > 0 || d.longRun) {
      // Finish the run the previous chunk ended in.
      let j = i;
      while (j < end && isDigit(buf[j])) j++;
      const lead = j - i;
      if (j === end) {
        this.extendCarry(d, buf, i, lead);
        return this.done(d);
      }
      if (!d.longRun && d.carryLen + lead === 11) {
        this.joined.set(d.carry.subarray(0, d.carryLen));
        this.joined.set(buf.subarray(i, j), d.carryLen);
        this.found(this.joined, 0, classifyFnrDigits(this.joined, 0), tsSec, tsNsec);
      }
      d.carryLen = 0;
      d.longRun = false;
      i = j;
    }
    // A run touching the end of the chunk may continue in the next one: hold it back.
    let k = end;
    while (k > i && isDigit(buf[k - 1])) k--;
    if (k > i) {
      scanFnr(buf, i, k - i, (start, kind) => this.found(buf, start, kind, tsSec, tsNsec));
    }
    this.extendCarry(d, buf, k, end - k);
    return this.done(d);
  }

  private extendCarry(d: DirectionScan, buf: Uint8Array, from: number, n: number): void {
    if (n === 0 || d.longRun) return;
    if (d.carryLen + n > 11) {
      d.longRun = true;
      d.carryLen = 0;
      return;
    }
    d.carry.set(buf.subarray(from, from + n), d.carryLen);
    d.carryLen += n;
  }

  private flushCarry(d: DirectionScan): void {
    if (!d.longRun && d.carryLen === 11) this.found(d.carry, 0, classifyFnrDigits(d.carry, 0), this.tsSec, this.tsNsec);
    d.carryLen = 0;
    d.longRun = false;
  }

  private found(buf: Uint8Array, start: number, kind: FnrKind, tsSec: number, tsNsec: number): void {
    if (kind === FnrKind.Invalid) return;
    const name = fnrKindName(kind);
    this.count++;
    this.kinds.add(name);
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    if (this.pseudonyms.size < MAX_PSEUDONYMS) {
      let value = '';
      for (let i = 0; i < 11; i++) value += String.fromCharCode(buf[start + i]);
      this.pseudonyms.add(this.opts.pseudonymize(name, value));
    }
  }

  /**
   * After a chunk: a direction scanned to the depth skips the rest of its bytes (the reassembler
   * only counts them); both directions done detaches. The record goes out at end().
   */
  private done(d: DirectionScan): number {
    if (d.scanned < this.depth) return 0;
    if (this.dirs[0].scanned >= this.depth && this.dirs[1].scanned >= this.depth) return DETACH;
    return SKIP_REST;
  }
}
