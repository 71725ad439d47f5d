/**
 * One DICOMweb message body, inspected as it streams past: a single Part 10 object
 * (`application/dicom`), DICOM JSON (`application/dicom+json`), or `multipart/related` whose
 * parts are either. Multipart is split by searching the boundary delimiter natively in each
 * chunk (Buffer.indexOf: no copy); the few bytes that may start a delimiter at the end of a
 * chunk are carried into the next. Each part's head is read for its Content-Type; a DICOM part
 * gets a bounded peek (Part10Peek, DicomJsonScan), other parts (rendered images, bulk data) and
 * everything after a peek stopped (Pixel Data) are passed over and counted as skipped.
 *
 * Bounds: bytes peeked per part, parts inspected per body, and bytes searched per body; past the
 * last one the body no longer wants bytes and the HTTP parser skips the rest of it.
 */
import type { PeekSink } from '../dicom/dataset-peek.js';
import { DicomJsonScan } from './json-scan.js';
import { Part10Peek } from './part10-peek.js';
import { dicomBodyKind, type DicomBodyKind } from './recognise.js';

export interface DicomwebBodyLimits {
  /** Bytes of one Part 10 object copied for the data-set walk. Default 64 KiB (as DIMSE). */
  partPeekBytes?: number;
  /** Bytes of DICOM JSON held for the scan. Default 256 KiB. */
  jsonBytes?: number;
  /** Parts inspected per body. Default 32. */
  maxParts?: number;
  /** Body bytes looked at per message (peeked or searched for the boundary). Default 64 MiB. */
  maxBodyBytes?: number;
}

export const DEFAULT_DICOMWEB_BODY_LIMITS: Required<DicomwebBodyLimits> = {
  partPeekBytes: 64 * 1024,
  jsonBytes: 256 * 1024,
  maxParts: 32,
  maxBodyBytes: 64 * 1024 * 1024,
};

interface PartInspector {
  readonly done: boolean;
  readonly inspected: number;
  truncated: boolean;
  push(buf: Buffer, off: number, n: number): number;
  end(cut: boolean): void;
}

/** What the inspection of one body found out about its shape (the patient elements are in the sink). */
export interface DicomwebBodySummary {
  /** Multipart parts seen (any type). */
  parts: number;
  /** DICOM objects and JSON documents inspected. */
  inspected_objects: number;
  bytes_inspected: number;
  /** Body bytes not inspected: Pixel Data and the rest of an object after its peek, other parts, the rest after a cap. */
  bytes_skipped: number;
  /** An inspection stopped at a cap, a gap or bad bytes before its object ended. */
  truncated: boolean;
  transfer_syntaxes: string[];
}

const enum Mode {
  /** Looking for the first delimiter (multipart preamble). */
  Preamble,
  /** Reading a part head, line by line. */
  Head,
  /** In a part's content, looking for the next delimiter. */
  Content,
  /** After the close delimiter, or a single-object body. */
  Epilogue,
  /** Nothing more wanted. */
  Off,
}

const MAX_HEAD_LINE = 1024;
const MAX_HEAD_BYTES = 8 * 1024;

export class DicomwebBody {
  readonly summary: DicomwebBodySummary = { parts: 0, inspected_objects: 0, bytes_inspected: 0, bytes_skipped: 0, truncated: false, transfer_syntaxes: [] };
  private readonly limits: Required<DicomwebBodyLimits>;
  private mode: Mode;
  private part: PartInspector | null = null;
  private readonly delimiter: Buffer | null;
  /** Bytes at the end of the last chunk that may begin a delimiter. */
  private readonly carry: Buffer | null;
  private carryLen = 0;
  private readonly scratch: Buffer | null;
  private head: Buffer | null = null;
  private headLen = 0;
  private headBytes = 0;
  private headLine = 0;
  private partType: string | null = null;
  private looked = 0;
  /** maxParts objects were inspected: the body has nothing more to give. */
  private capped = false;

  /** Null when the Content-Type is not a DICOM body. */
  static forContentType(contentType: string, sink: PeekSink, limits: DicomwebBodyLimits = {}): DicomwebBody | null {
    const kind = dicomBodyKind(contentType);
    return kind === null ? null : new DicomwebBody(kind, sink, limits);
  }

  constructor(
    kind: DicomBodyKind,
    private readonly sink: PeekSink,
    limits: DicomwebBodyLimits = {},
  ) {
    this.limits = { ...DEFAULT_DICOMWEB_BODY_LIMITS, ...limits };
    if (kind.kind === 'multipart') {
      this.delimiter = Buffer.from(`\r\n--${kind.boundary}`, 'latin1');
      this.carry = Buffer.alloc(this.delimiter.length);
      this.scratch = Buffer.alloc(this.delimiter.length * 2);
      // The body may open with the delimiter itself: as if a line break came before it.
      this.carry[0] = 0x0d;
      this.carry[1] = 0x0a;
      this.carryLen = 2;
      this.mode = Mode.Preamble;
    } else {
      this.delimiter = this.carry = this.scratch = null;
      this.part = this.newPart(kind.kind === 'json' ? 'application/dicom+json' : 'application/dicom');
      this.mode = this.part === null ? Mode.Off : Mode.Epilogue;
    }
  }

  /** Whether more body bytes are of use; when false the caller may skip the rest (and tell skipped()). */
  get wanting(): boolean {
    if (this.mode === Mode.Off) return false;
    if (this.delimiter === null) return this.part !== null && !this.part.done;
    return this.mode !== Mode.Epilogue;
  }

  /** Body bytes the caller passed over without offering them. */
  skipped(n: number): void {
    this.summary.bytes_skipped += n;
  }

  push(buf: Buffer, off: number, n: number): void {
    if (n <= 0) return;
    if (this.mode === Mode.Off || (this.mode === Mode.Epilogue && this.delimiter !== null)) {
      this.summary.bytes_skipped += n;
      return;
    }
    const room = this.limits.maxBodyBytes - this.looked;
    if (room <= 0) {
      this.stopAll(n);
      return;
    }
    const take = Math.min(n, room);
    this.looked += take;
    if (this.delimiter === null) this.content(buf, off, take);
    else this.multipart(buf, off, take);
    if (take < n) this.stopAll(n - take);
  }

  /** Bytes of the body were lost: the object being read is cut; a multipart body looks for the next part. */
  gap(n: number): void {
    this.summary.bytes_skipped += n;
    this.endPart(true);
    if (this.delimiter !== null && this.mode !== Mode.Epilogue && this.mode !== Mode.Off) {
      this.mode = Mode.Content;
      this.carryLen = 0;
    }
  }

  /** The body ended (`cut`: before its framing said so). */
  end(cut: boolean): void {
    if (this.carryLen > 0 && this.mode === Mode.Content) this.content(this.carry!, 0, this.carryLen);
    this.carryLen = 0;
    this.endPart(cut);
    this.mode = Mode.Off;
  }

  private stopAll(rest: number): void {
    this.summary.bytes_skipped += rest;
    if (this.part !== null) this.summary.truncated = true;
    this.endPart(true);
    this.mode = Mode.Off;
  }

  private newPart(type: string): PartInspector | null {
    if (this.summary.inspected_objects >= this.limits.maxParts) {
      this.summary.truncated = true;
      this.capped = true;
      return null;
    }
    let p: PartInspector | null = null;
    if (type === 'application/dicom') p = new Part10Peek(this.limits.partPeekBytes, this.sink);
    else if (type === 'application/dicom+json') p = new DicomJsonScan(this.limits.jsonBytes, this.sink);
    if (p !== null) this.summary.inspected_objects++;
    return p;
  }

  private endPart(cut: boolean): void {
    const p = this.part;
    if (p === null) return;
    this.part = null;
    p.end(cut);
    this.summary.bytes_inspected += p.inspected;
    if (p.truncated) this.summary.truncated = true;
    if (p instanceof Part10Peek && p.transferSyntax !== '' && !this.summary.transfer_syntaxes.includes(p.transferSyntax) && this.summary.transfer_syntaxes.length < 8) {
      this.summary.transfer_syntaxes.push(p.transferSyntax);
    }
  }

  /** Part content bytes: to the part's inspector while it wants them, counted as skipped after. */
  private content(buf: Buffer, off: number, n: number): void {
    if (n <= 0) return;
    const p = this.part;
    const taken = p !== null && !p.done ? p.push(buf, off, n) : 0;
    this.summary.bytes_skipped += n - taken;
  }

  private multipart(buf: Buffer, off: number, n: number): void {
    const d = this.delimiter!;
    const L = d.length;
    let pos = off;
    const end = off + n;
    while (pos < end && this.mode !== Mode.Epilogue && this.mode !== Mode.Off) {
      if (this.mode === Mode.Head) {
        pos = this.headBytesIn(buf, pos, end);
        continue;
      }
      // Content or preamble: find the delimiter, minding one that started in the last chunk.
      if (this.carryLen > 0) {
        const c = this.carry!;
        const s = this.scratch!;
        const take = Math.min(end - pos, L - 1);
        c.copy(s, 0, 0, this.carryLen);
        buf.copy(s, this.carryLen, pos, pos + take);
        const sl = this.carryLen + take;
        const at = s.subarray(0, sl).indexOf(d);
        if (at >= 0 && at < this.carryLen) {
          this.bodyBytes(s, 0, at);
          pos += at + L - this.carryLen;
          this.carryLen = 0;
          this.delimiterFound();
          continue;
        }
        if (take === end - pos) {
          // The whole chunk fits in the window: carry what may still begin a delimiter.
          const k = prefixSuffix(s, 0, sl, d);
          this.bodyBytes(s, 0, sl - k);
          s.copy(c, 0, sl - k, sl);
          this.carryLen = k;
          return;
        }
        this.bodyBytes(c, 0, this.carryLen);
        this.carryLen = 0;
      }
      const at = buf.subarray(pos, end).indexOf(d);
      if (at >= 0) {
        this.bodyBytes(buf, pos, at);
        pos += at + L;
        this.delimiterFound();
        continue;
      }
      const k = prefixSuffix(buf, pos, end, d);
      this.bodyBytes(buf, pos, end - pos - k);
      buf.copy(this.carry!, 0, end - k, end);
      this.carryLen = k;
      return;
    }
    if (pos < end) this.summary.bytes_skipped += end - pos;
  }

  private bodyBytes(buf: Buffer, off: number, n: number): void {
    if (n <= 0) return;
    if (this.mode === Mode.Preamble) this.summary.bytes_skipped += n;
    else this.content(buf, off, n);
  }

  private delimiterFound(): void {
    this.endPart(false);
    this.mode = Mode.Head;
    this.headLen = 0;
    this.headBytes = 0;
    this.headLine = 0;
    this.partType = null;
  }

  /** Part head bytes from pos: lines up to the empty one. Returns where the head reading stopped. */
  private headBytesIn(buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const c = buf[pos++];
      if (++this.headBytes > MAX_HEAD_BYTES) {
        // Not a part head: give up on this body.
        this.summary.truncated = true;
        this.summary.bytes_skipped += end - pos;
        this.mode = Mode.Off;
        return end;
      }
      if (c === 0x0a) {
        const done = this.headLineDone();
        this.headLen = 0;
        if (done) return pos;
        continue;
      }
      if (c === 0x0d) continue;
      if (this.headLen < MAX_HEAD_LINE) {
        this.head ??= Buffer.allocUnsafe(MAX_HEAD_LINE);
        this.head[this.headLen++] = c;
      }
    }
    return pos;
  }

  /** One head line is complete; true when the head ended (content follows, or the body closed). */
  private headLineDone(): boolean {
    const line = this.headLine++;
    const h = this.head;
    const len = this.headLen;
    if (line === 0) {
      // The rest of the delimiter line: "--" closes the body.
      if (len >= 2 && h![0] === 0x2d && h![1] === 0x2d) {
        this.mode = Mode.Epilogue;
        return true;
      }
      return false;
    }
    if (len === 0) {
      this.summary.parts++;
      this.part = this.partType === null ? null : this.newPart(this.partType);
      this.mode = this.capped ? Mode.Off : Mode.Content;
      return true;
    }
    // Only Content-Type is read; the other part headers (Content-Location names a UID) are not.
    if (len > 13 && h!.toString('latin1', 0, 13).toLowerCase() === 'content-type:') {
      const v = h!.toString('latin1', 13, len);
      const semi = v.indexOf(';');
      this.partType = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
    }
    return false;
  }
}

/** The longest k < d.length such that buf[end-k, end) is a prefix of d. */
function prefixSuffix(buf: Buffer, from: number, end: number, d: Buffer): number {
  for (let k = Math.min(d.length - 1, end - from); k > 0; k--) {
    let i = 0;
    while (i < k && buf[end - k + i] === d[i]) i++;
    if (i === k) return k;
  }
  return 0;
}
