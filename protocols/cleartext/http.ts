/**
 * HTTP/1.x over one TCP connection, as a StreamParser.
 *
 * Per direction, heads are read line by line through a bounded line buffer (a line split over
 * chunks is copied, nothing else); bodies are never buffered: content-length and chunked
 * bodies are scanned for fødselsnumre while the connection's scan budget lasts (default
 * 64 KiB), and the rest is handed back to the reassembler as a skip. Requests queue up for
 * their responses (pipelining, keep-alive); each request/response pair becomes one `http`
 * record. Authorization: Basic and Digest become `credential.cleartext` records.
 *
 * What it never reports: query values, bodies, header values other than Host, User-Agent,
 * Server and the media type, and any value that holds a valid fødselsnummer (in the path it
 * is replaced by `{fnr}` and counted as PHI). Lost framing (a gap in a head, a bad start
 * line) moves a direction into a bounded search for the next start line; endless heads cost
 * a counter and detach the connection. Nothing a peer sends makes it throw.
 */
import type { Pseudonymize } from '../phi/pseudonym.js';
import { classifyFnr, FnrKind, scanFnr } from '../phi/fodselsnummer.js';
import { healthContentKind } from '../hl7/content-type.js';
import type { DicomwebBody, DicomwebBodyLimits } from '../dicomweb/body.js';
import { DicomwebExchange } from '../dicomweb/exchange.js';
import { dicomMedia, mayBeDicomwebPath } from '../dicomweb/recognise.js';
import { DETACH, type Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import { CredentialLog } from './credential-log.js';
import { LineBuffer } from './lines.js';
import { FnrStream, PhiAccumulator } from './phi-scan.js';
import type { CleartextEmit, CleartextPhiRecord, CleartextRecord, HttpRecord } from './records.js';
import { cleanText, decodeBase64, holdsFnr } from './text.js';

/**
 * Where the records of a connection go, as an object with methods: an analyzer hands over the
 * flow's context, which it has anyway, where two callbacks would be two closures (and their
 * contexts) kept alive per open connection.
 */
export interface HttpParserSink {
  emit(rec: CleartextRecord): void;
  /** The flow's label: called once, as ('dicomweb', false), at the first exchange recognised as DICOMweb. */
  setApp?(app: string, encrypted: boolean): void;
}

/**
 * The parser keeps the options object and reads its limits from it: an analyzer passes one
 * object to all its connections (and each its own sink), so the limits cost nothing per connection.
 */
export interface HttpParserOptions {
  /** Receives the records, when no sink is passed to the constructor. */
  emit?: CleartextEmit;
  pseudonymize: Pseudonymize;
  /** Body bytes per connection (both directions) scanned for fødselsnumre. Default 64 KiB. */
  phiScanDepth?: number;
  /** One head line (request line, header, chunk size). Default 16 KiB. */
  maxLineLength?: number;
  /** One message head. Default 64 KiB. */
  maxHeaderBytes?: number;
  /** Header lines per message. Default 256. */
  maxHeaderLines?: number;
  /** Requests waiting for their response. Default 64. */
  maxPending?: number;
  /** Bytes a direction may search for a start line after losing framing. Default 64 KiB. */
  maxLostBytes?: number;
  /** Called once, at the first exchange recognised as DICOMweb (with `emit`; a sink has `setApp`). */
  onDicomweb?: () => void;
  /** Bounds of the DICOMweb body inspection (protocols/dicomweb/body.ts). */
  dicomwebLimits?: DicomwebBodyLimits;
}

export const DEFAULT_PHI_SCAN_DEPTH = 64 * 1024;

export interface HttpCounters {
  requests: number;
  responses: number;
  /** 1xx other than 101. */
  interimResponses: number;
  exchanges: number;
  /** Responses with no request waiting (midstream pickup, lost request). */
  unpairedResponses: number;
  /** Requests never answered (reported with `incomplete`). */
  incompleteRequests: number;
  /** Heads above maxHeaderBytes/maxHeaderLines or a line above maxLineLength: the connection is detached. */
  headerOverflows: number;
  badStartLines: number;
  badHeaders: number;
  foldedHeaders: number;
  badContentLength: number;
  badChunks: number;
  badAuthorization: number;
  /** Requests pushed out of the queue by maxPending. */
  pendingOverflow: number;
  /** Heads cut by a gap or by the end of the connection. */
  truncatedHeads: number;
  gaps: number;
  gapBytes: number;
  resyncs: number;
  lostBytes: number;
  /** Directions that found no start line within maxLostBytes. */
  deadDirections: number;
  bodyBytesScanned: number;
  bodyBytesSkipped: number;
  /** Bodies with a Content-Encoding (gzip…) that are not scanned. */
  encodedBodies: number;
  /** The connection's scan budget ran out. */
  depthReached: number;
  phiMessages: number;
  credentials: number;
  /** Exchanges reported as DICOMweb (`dicomweb.request`). */
  dicomwebRequests: number;
  /** DICOMweb bodies inspected (application/dicom, dicom+json, multipart/related). */
  dicomwebBodies: number;
}

/** Counters that move with every message or body: plain fields of the parser. */
type CommonCounter = 'requests' | 'responses' | 'exchanges' | 'bodyBytesScanned' | 'bodyBytesSkipped';
/** The others (anomalies, rarer features): an object made at the first of them, most connections never need it. */
type RareCounters = Omit<HttpCounters, CommonCounter>;

function newRareCounters(): RareCounters {
  return {
    interimResponses: 0,
    unpairedResponses: 0,
    incompleteRequests: 0,
    headerOverflows: 0,
    badStartLines: 0,
    badHeaders: 0,
    foldedHeaders: 0,
    badContentLength: 0,
    badChunks: 0,
    badAuthorization: 0,
    pendingOverflow: 0,
    truncatedHeads: 0,
    gaps: 0,
    gapBytes: 0,
    resyncs: 0,
    lostBytes: 0,
    deadDirections: 0,
    encodedBodies: 0,
    depthReached: 0,
    phiMessages: 0,
    credentials: 0,
    dicomwebRequests: 0,
    dicomwebBodies: 0,
  };
}

const NO_RARE_COUNTERS: Readonly<RareCounters> = Object.freeze(newRareCounters());

const enum St {
  Start,
  Headers,
  ChunkSize,
  ChunkDataEnd,
  Trailers,
  Lost,
  // body states (>= Body)
  Body,
  ChunkData,
  ToClose,
  Dead,
}

/** "Skip everything that follows": a direction with nothing left to read. */
const FOREVER = 2 ** 50;
/**
 * `remaining` of a body read until the connection closes: more than any chunk handed in, and a
 * small integer, so the field keeps its integer representation (Infinity there once would box
 * the field of every Side in the process).
 */
const UNTIL_CLOSE = 2 ** 30 - 1;
const MAX_URL = 1024;
const MAX_QUERY_PARAMS = 16;
const PARAM_NAME = /^[A-Za-z_%][\w.\-[\]%]{0,63}$/;
const FNR_RUN = /(?<!\d)\d{11}(?!\d)/g;
/** `type/subtype`, both RFC 9110 tokens. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
/** A path segment kept as it is: a word (letters first), short, with at most three digits. */
const NAME_SEGMENT = /^[A-Za-z][A-Za-z0-9._~-]{0,39}$/;

/**
 * The path as a template: segments that name a resource (`api`, `v2`, `patients`, `index.html`)
 * stay, and every other one — numbers, UIDs, UUIDs, long tokens, anything with quotes, spaces or
 * escapes — becomes `{id}`. Identifiers in paths point at patients and studies; the template
 * still says what was asked for. `{fnr}` (a fødselsnummer, counted as PHI) is kept as it is.
 */
export function pathTemplate(path: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== 0x2f) continue;
    const seg = path.slice(from, i);
    if (seg === '' || seg === '{fnr}' || seg === '.' || seg === '..' || (NAME_SEGMENT.test(seg) && countDigits(seg) <= 3)) out += seg;
    else out += '{id}';
    if (i < path.length) out += '/';
    from = i + 1;
  }
  return out;
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) n++;
  }
  return n;
}

interface Msg {
  tsSec: number;
  tsNsec: number;
  /** Requests only. */
  method: string;
  url: string;
  queryParams: string[] | null;
  version: string;
  /** Responses only (-1 for requests). */
  status: number;
  host: string | undefined;
  userAgent: string | undefined;
  server: string | undefined;
  contentType: string | undefined;
  authScheme: string | undefined;
  /** -1 absent, -2 invalid. */
  contentLength: number;
  chunked: boolean;
  /** Transfer-Encoding other than chunked. */
  otherCoding: boolean;
  encoded: boolean;
  bodyBytes: number;
  phi: PhiAccumulator | null;
  tunnel: boolean;
  /** A request whose path has the DICOMweb shape (and its response, pointing at the same exchange). */
  dw: DicomwebExchange | null;
  /** The DICOMweb body being inspected. */
  dwBody: DicomwebBody | null;
  /** DicomMedia bits of Accept and Content-Type. */
  dicomMedia: number;
  /** Content-Type with its parameters, kept only when it may be a DICOM body (the boundary is in it). */
  dicomContentType: string | undefined;
}

function newMsg(tsSec: number, tsNsec: number): Msg {
  return {
    tsSec,
    tsNsec,
    method: '',
    url: '',
    queryParams: null,
    version: '',
    status: -1,
    host: undefined,
    userAgent: undefined,
    server: undefined,
    contentType: undefined,
    authScheme: undefined,
    contentLength: -1,
    chunked: false,
    otherCoding: false,
    encoded: false,
    bodyBytes: 0,
    phi: null,
    tunnel: false,
    dw: null,
    dwBody: null,
    dicomMedia: 0,
    dicomContentType: undefined,
  };
}

/**
 * One direction of the connection: its head lines' assembler with the state of the message
 * being read. It is the LineBuffer itself: one object per direction, not two.
 */
class Side extends LineBuffer {
  state = St.Start;
  headBytes = 0;
  headLines = 0;
  msg: Msg | null = null;
  remaining = 0;
  scanning = false;
  /** Made when a body is first scanned: many connections never send one. */
  fnr: FnrStream | null = null;
  lostBytes = 0;
  lastSec = 0;
  lastNsec = 0;
}

const isUpperToken = (c: number) => (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'].map((m) => [m, Buffer.from(m, 'latin1')] as const);

/** The method token b[o, e) as text: the standard ones without a new string each time. */
function methodText(b: Buffer, o: number, e: number): string {
  const n = e - o;
  for (let k = 0; k < METHODS.length; k++) {
    const want = METHODS[k][1];
    if (want.length !== n) continue;
    let i = 0;
    while (i < n && b[o + i] === want[i]) i++;
    if (i === n) return METHODS[k][0];
  }
  return b.toString('latin1', o, e);
}

/** "HTTP/d.d" at b[o, o+8) (already checked by isVersion) as text; 1.1 and 1.0 without a new string. */
function versionText(b: Buffer, o: number): string {
  if (b[o + 5] === 0x31 && b[o + 7] === 0x31) return 'HTTP/1.1';
  if (b[o + 5] === 0x31 && b[o + 7] === 0x30) return 'HTTP/1.0';
  return b.toString('latin1', o, o + 8);
}

/** "HTTP/d.d" at line[o, o+8). */
function isVersion(b: Buffer, o: number, e: number): boolean {
  return (
    e - o === 8 &&
    b[o] === 0x48 &&
    b[o + 1] === 0x54 &&
    b[o + 2] === 0x54 &&
    b[o + 3] === 0x50 &&
    b[o + 4] === 0x2f &&
    isDigit(b[o + 5]) &&
    b[o + 6] === 0x2e &&
    isDigit(b[o + 7])
  );
}

/** The request and response headers the parser reads. */
const enum H {
  Other,
  Host,
  UserAgent,
  Server,
  ContentType,
  ContentLength,
  TransferEncoding,
  ContentEncoding,
  /** Authorization and Proxy-Authorization. */
  Authorization,
  Accept,
}

const HEADER_NAMES: [string, H][] = [
  ['host', H.Host],
  ['user-agent', H.UserAgent],
  ['server', H.Server],
  ['content-type', H.ContentType],
  ['content-length', H.ContentLength],
  ['transfer-encoding', H.TransferEncoding],
  ['content-encoding', H.ContentEncoding],
  ['authorization', H.Authorization],
  ['proxy-authorization', H.Authorization],
  ['accept', H.Accept],
];
/** By name length (up to 19): the candidates as lower-case bytes. */
const HEADERS_BY_LENGTH: [Buffer, H][][] = Array.from({ length: 20 }, () => []);
for (const [n, h] of HEADER_NAMES) HEADERS_BY_LENGTH[n.length].push([Buffer.from(n, 'latin1'), h]);

/** Which header b[o, c) names, compared case-insensitively in place (a string per header line would be garbage). */
function headerName(b: Buffer, o: number, c: number): H {
  const n = c - o;
  if (n >= HEADERS_BY_LENGTH.length) return H.Other;
  const candidates = HEADERS_BY_LENGTH[n];
  for (let k = 0; k < candidates.length; k++) {
    const want = candidates[k][0];
    let i = 0;
    // Header names are tokens: OR-ing 0x20 lower-cases letters and leaves '-' as it is.
    while (i < n && (b[o + i] | 0x20) === want[i]) i++;
    if (i === n) return candidates[k][1];
  }
  return H.Other;
}

export class HttpStreamParser implements StreamParser {
  private readonly sink: HttpParserSink;
  /** Made at the first credential. */
  private creds: CredentialLog | null = null;
  private readonly toServer: Side;
  private readonly toClient: Side;
  /** Requests waiting for their response, oldest first: the oldest in a field, the rest (pipelining) in an array made when needed. */
  private oldest: Msg | null = null;
  private younger: Msg[] | null = null;
  private budget: number;
  private dicomwebSeen = false;
  private ended = false;
  private requests = 0;
  private responses = 0;
  private exchanges = 0;
  private bodyBytesScanned = 0;
  private bodyBytesSkipped = 0;
  private rareCounters: RareCounters | null = null;

  /** `sink` takes the place of `opts.emit` and `opts.onDicomweb`. */
  constructor(
    private readonly opts: HttpParserOptions,
    sink?: HttpParserSink,
  ) {
    this.sink = sink ?? callbackSink(opts);
    const maxLine = opts.maxLineLength ?? 16 * 1024;
    this.toServer = new Side(maxLine);
    this.toClient = new Side(maxLine);
    this.budget = opts.phiScanDepth ?? DEFAULT_PHI_SCAN_DEPTH;
  }

  private get pseudonymize(): Pseudonymize {
    return this.opts.pseudonymize;
  }

  private get maxHeaderBytes(): number {
    return this.opts.maxHeaderBytes ?? 64 * 1024;
  }

  private get maxHeaderLines(): number {
    return this.opts.maxHeaderLines ?? 256;
  }

  private get maxPending(): number {
    return this.opts.maxPending ?? 64;
  }

  private get maxLostBytes(): number {
    return this.opts.maxLostBytes ?? 64 * 1024;
  }

  /** The connection's counters, as a snapshot made on each read (only tests and tools read them). */
  get counters(): Readonly<HttpCounters> {
    return {
      requests: this.requests,
      responses: this.responses,
      exchanges: this.exchanges,
      bodyBytesScanned: this.bodyBytesScanned,
      bodyBytesSkipped: this.bodyBytesSkipped,
      ...(this.rareCounters ?? NO_RARE_COUNTERS),
    };
  }

  /** Bytes held by the line buffers (bounded by 2 × maxLineLength). */
  get bufferedBytes(): number {
    return this.toServer.capacity + this.toClient.capacity;
  }

  get pendingRequests(): number {
    return this.oldest === null ? 0 : 1 + (this.younger?.length ?? 0);
  }

  private rare(): RareCounters {
    return (this.rareCounters ??= newRareCounters());
  }

  private side(dir: Direction): Side {
    return dir === 0 ? this.toServer : this.toClient;
  }

  private emit(rec: CleartextRecord): void {
    this.sink.emit(rec);
  }

  private enqueue(m: Msg): void {
    if (this.oldest === null) this.oldest = m;
    else (this.younger ??= []).push(m);
  }

  /** The oldest waiting request, taken out of the queue. */
  private dequeue(): Msg | null {
    const m = this.oldest;
    const y = this.younger;
    this.oldest = y !== null && y.length > 0 ? y.shift()! : null;
    return m;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.ended) return DETACH;
    const s = this.side(dir);
    s.lastSec = tsSec;
    s.lastNsec = tsNsec;
    // `>>> 0` is exact below 4 GiB (far beyond any chunk) and makes a boxed offset a small
    // integer again, so the counts derived from it stay small integers in Side's fields.
    const r = this.read(dir, s, buf, off >>> 0, (off + len) >>> 0);
    // The chunk is the caller's: no view of it may stay behind in an idle connection.
    s.forget();
    return r;
  }

  private read(dir: Direction, s: Side, buf: Buffer, off: number, end: number): number {
    let pos = off;
    while (pos < end) {
      const st = s.state;
      if (st === St.Dead) return FOREVER;
      if (st >= St.Body) {
        const m = s.msg!;
        const n = Math.min(end - pos, s.remaining);
        if (s.scanning) {
          const k = Math.min(n, this.budget);
          if (k > 0) {
            s.fnr!.push(buf, pos, k);
            this.budget -= k;
            this.bodyBytesScanned += k;
          }
          if (this.budget === 0) {
            s.scanning = false;
            s.fnr!.flush();
            this.rare().depthReached++;
          }
        }
        const dwb = m.dwBody;
        if (dwb !== null && n > 0) {
          if (dwb.wanting) dwb.push(buf, pos, n);
          else dwb.skipped(n);
        }
        m.bodyBytes += n;
        pos += n;
        if (st !== St.ToClose) s.remaining -= n;
        if (s.remaining === 0) {
          this.bodyPartDone(dir, s);
          continue;
        }
        if (s.scanning || (dwb !== null && dwb.wanting)) continue;
        // Nothing more to read in this body part: the reassembler drops it.
        if (st === St.ToClose) {
          this.messageDone(dir, s);
          return this.kill(s, false);
        }
        const skip = s.remaining;
        m.bodyBytes += skip;
        this.bodyBytesSkipped += skip;
        dwb?.skipped(skip);
        s.remaining = 0;
        this.bodyPartDone(dir, s);
        return skip;
      }

      const next = s.take(buf, pos, end);
      const used = (next < 0 ? end : next) - pos;
      pos = next < 0 ? end : next;
      if (st === St.Lost) {
        this.rare().lostBytes += used;
        s.lostBytes += used;
        if (s.lostBytes > this.maxLostBytes) {
          this.rare().deadDirections++;
          return this.kill(s, true);
        }
        if (next < 0) break;
        if (this.parseStart(dir, s, true)) {
          this.rare().resyncs++;
          s.lostBytes = 0;
        }
        continue;
      }
      s.headBytes += used;
      if (s.headBytes > this.maxHeaderBytes || s.overflowing || (next >= 0 && s.truncated)) return this.overflow();
      if (next < 0) break;
      const r = this.onLine(dir, s);
      if (r === DETACH) return DETACH;
    }
    return 0;
  }

  gap(dir: Direction, len: number): void {
    if (this.ended) return;
    this.rare().gaps++;
    this.rare().gapBytes += len;
    const s = this.side(dir);
    const m = s.msg;
    switch (s.state) {
      case St.Dead:
        return;
      case St.ToClose:
        s.fnr?.poison();
        m!.bodyBytes += len;
        m!.dwBody?.gap(len);
        return;
      case St.Body:
      case St.ChunkData:
        if (len <= s.remaining) {
          s.remaining -= len;
          m!.bodyBytes += len;
          s.fnr?.poison();
          m!.dwBody?.gap(len);
          if (s.remaining === 0) this.bodyPartDone(dir, s);
          return;
        }
        break;
      default:
        break;
    }
    // Framing is lost: keep what the message had, then search for the next start line.
    if (m !== null) {
      if (s.state === St.Headers) {
        this.rare().truncatedHeads++;
        s.msg = null;
      } else {
        this.messageDone(dir, s);
      }
    }
    s.state = St.Lost;
    s.scanning = false;
    s.reset();
    s.lostBytes = 0;
  }

  end(_reason: StreamEndReason): void {
    this.finishAll();
  }

  /** Reports everything still open (end of connection, or before detaching). */
  private finishAll(): void {
    if (this.ended) return;
    this.ended = true;
    for (const dir of [0, 1] as Direction[]) {
      const s = this.side(dir);
      if (s.msg === null) continue;
      if (s.state === St.Headers) {
        this.rare().truncatedHeads++;
        s.msg = null;
      } else {
        this.messageDone(dir, s);
      }
    }
    for (let req = this.dequeue(); req !== null; req = this.dequeue()) {
      this.rare().incompleteRequests++;
      this.exchange(req, null, this.toServer.lastSec, this.toServer.lastNsec);
    }
  }

  private overflow(): number {
    this.rare().headerOverflows++;
    this.finishAll();
    return DETACH;
  }

  /** This direction has nothing more to give: skip it, or detach when the other is done too. */
  private kill(s: Side, lost: boolean): number {
    s.state = St.Dead;
    s.scanning = false;
    if (lost) s.msg = null;
    const other = this.toServer === s ? this.toClient : this.toServer;
    if (other.state === St.Dead) {
      this.finishAll();
      return DETACH;
    }
    return FOREVER;
  }

  private onLine(dir: Direction, s: Side): number {
    const ln: LineBuffer = s;
    switch (s.state) {
      case St.Start:
        if (ln.lineLen === 0) return 0;
        if (!this.parseStart(dir, s, false)) {
          this.rare().badStartLines++;
          s.state = St.Lost;
          s.lostBytes = 0;
        }
        return 0;
      case St.Headers:
        if (ln.lineLen === 0) return this.headEnd(dir, s);
        if (++s.headLines > this.maxHeaderLines) return this.overflow();
        this.header(dir, s);
        return 0;
      case St.Trailers:
        if (ln.lineLen === 0) this.messageDone(dir, s);
        return 0;
      case St.ChunkSize: {
        s.headBytes = 0;
        const size = chunkSize(ln.line, ln.lineOff, ln.lineLen);
        if (size < 0) return this.badChunk(dir, s);
        if (size === 0) {
          s.state = St.Trailers;
          return 0;
        }
        s.remaining = size;
        s.state = St.ChunkData;
        return 0;
      }
      case St.ChunkDataEnd:
        if (ln.lineLen !== 0) return this.badChunk(dir, s);
        s.state = St.ChunkSize;
        return 0;
      default:
        return 0;
    }
  }

  private badChunk(dir: Direction, s: Side): number {
    this.rare().badChunks++;
    this.messageDone(dir, s);
    s.state = St.Lost;
    s.lostBytes = 0;
    return 0;
  }

  /** The line in the buffer as a request line (to server) or status line (to client). */
  private parseStart(dir: Direction, s: Side, resync: boolean): boolean {
    const ln: LineBuffer = s;
    const b = ln.line;
    const o = ln.lineOff;
    const e = o + ln.lineLen;
    const m = newMsg(s.lastSec, s.lastNsec);
    if (dir === 0) {
      let i = o;
      while (i < e && isUpperToken(b[i])) i++;
      if (i === o || i - o > 24 || i >= e || b[i] !== 0x20) return false;
      let sp = e - 1;
      while (sp > i && b[sp] !== 0x20) sp--;
      if (sp <= i + 1 || !isVersion(b, sp + 1, e)) return false;
      m.method = methodText(b, o, i);
      m.version = versionText(b, sp + 1);
      this.target(m, b, i + 1, sp);
    } else {
      if (e - o < 12 || !isVersion(b, o, o + 8) || b[o + 8] !== 0x20) return false;
      if (!isDigit(b[o + 9]) || !isDigit(b[o + 10]) || !isDigit(b[o + 11])) return false;
      if (e - o > 12 && b[o + 12] !== 0x20) return false;
      m.version = versionText(b, o);
      m.status = (b[o + 9] - 0x30) * 100 + (b[o + 10] - 0x30) * 10 + (b[o + 11] - 0x30);
    }
    if (resync && s.msg !== null) this.messageDone(dir, s);
    s.msg = m;
    s.state = St.Headers;
    s.headBytes = ln.lineLen;
    s.headLines = 0;
    return true;
  }

  /** Request target → hostname (absolute form), path without query or fragment, parameter names. */
  private target(m: Msg, b: Buffer, from: number, to: number): void {
    // Identifiers anywhere in the target (path or query values) are PHI in cleartext.
    this.scanPhi(m, b, from, to - from, 'url');
    let t = b.toString('latin1', from, Math.min(to, from + 8192)).trim();
    if (m.method === 'CONNECT') {
      m.url = cleanText(t, 255);
      m.host = m.url;
      return;
    }
    const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(t);
    if (scheme) {
      const rest = t.slice(scheme[0].length);
      let a = rest.search(/[/?#]/);
      if (a < 0) a = rest.length;
      const authority = rest.slice(0, a);
      const at = authority.lastIndexOf('@');
      const host = cleanText(at >= 0 ? authority.slice(at + 1) : authority, 255);
      if (isHostName(host)) m.host = host;
      t = rest.slice(a);
      if (t === '' || t[0] !== '/') t = '/' + t;
    }
    const hash = t.indexOf('#');
    if (hash >= 0) t = t.slice(0, hash);
    const q = t.indexOf('?');
    let path = q >= 0 ? t.slice(0, q) : t;
    if (q >= 0) {
      const names: string[] = [];
      for (const item of t.slice(q + 1).split(/[&;]/)) {
        const eq = item.indexOf('=');
        if (eq <= 0) continue;
        const name = item.slice(0, eq);
        if (PARAM_NAME.test(name) && !names.includes(name) && names.length < MAX_QUERY_PARAMS) names.push(name);
      }
      if (names.length > 0) m.queryParams = names;
    }
    if (path.length >= 11) path = path.replace(FNR_RUN, (d) => (classifyFnr(d) !== FnrKind.Invalid ? '{fnr}' : d));
    m.url = cleanText(pathTemplate(path), MAX_URL);
    // Most requests leave at this substring test; only a DICOMweb-shaped path costs more.
    if (mayBeDicomwebPath(path)) m.dw = DicomwebExchange.fromRequest(m.method, path, q >= 0 ? t.slice(q + 1) : null, m.url, this.pseudonymize);
  }

  /** Identifiers in a bounded piece of a head; the accumulator only exists once one is found. */
  private scanPhi(m: Msg, b: Buffer, off: number, len: number, location: string): void {
    if (len >= 11 && scanFnr(b, off, len) > 0) this.acc(m).scan(b, off, len, location);
  }

  private acc(m: Msg): PhiAccumulator {
    return (m.phi ??= new PhiAccumulator(this.pseudonymize));
  }

  private header(dir: Direction, s: Side): void {
    const ln: LineBuffer = s;
    const b = ln.line;
    const o = ln.lineOff;
    const e = o + ln.lineLen;
    const m = s.msg!;
    if (b[o] === 0x20 || b[o] === 0x09) {
      this.rare().foldedHeaders++;
      return;
    }
    let c = o;
    while (c < e && b[c] !== 0x3a && b[c] > 0x20 && b[c] < 0x7f) c++;
    if (c === o || c >= e || b[c] !== 0x3a) {
      this.rare().badHeaders++;
      return;
    }
    this.scanPhi(m, b, c + 1, e - c - 1, 'headers');
    // Only the headers we report are turned into strings; the name is matched in place.
    const name = headerName(b, o, c);
    if (name === H.Other) return;
    const value = () => b.toString('latin1', c + 1, Math.min(e, c + 1 + 8192)).trim();
    switch (name) {
      case H.Host: {
        const h = cleanText(value(), 255);
        if (isHostName(h)) m.host = h;
        break;
      }
      case H.UserAgent: {
        const ua = productText(cleanText(value(), 256));
        if (ua !== '') m.userAgent = ua;
        break;
      }
      case H.Server:
        if (dir === 1) {
          const sv = productText(cleanText(value(), 128));
          if (sv !== '') m.server = sv;
        }
        break;
      case H.ContentType: {
        const v = value();
        const semi = v.indexOf(';');
        const type = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
        // Only a media type (RFC 9110 §8.3.1) is reported: other text here is not the header's.
        if (MEDIA_TYPE.test(type)) m.contentType = type;
        if (type === 'multipart/related' || type.startsWith('application/dicom')) {
          m.dicomMedia |= dicomMedia(v);
          m.dicomContentType = v;
        }
        break;
      }
      case H.Accept:
        // Accept is on nearly every request: a string is made only when it names a DICOM type.
        if (dir === 0 && holdsDicom(b, c + 1, e)) m.dicomMedia |= dicomMedia(value());
        break;
      case H.ContentLength: {
        const v = value();
        const n = /^\d{1,15}$/.test(v) ? Number(v) : -2;
        if (n === -2 || (m.contentLength >= 0 && m.contentLength !== n)) {
          this.rare().badContentLength++;
          m.contentLength = -2;
        } else if (m.contentLength !== -2) {
          m.contentLength = n;
        }
        break;
      }
      case H.TransferEncoding: {
        const codings = value().toLowerCase().split(',');
        const last = codings[codings.length - 1].trim();
        if (last === 'chunked') m.chunked = true;
        else m.otherCoding = true;
        break;
      }
      case H.ContentEncoding: {
        const v = value().toLowerCase();
        if (v !== '' && v !== 'identity') m.encoded = true;
        break;
      }
      case H.Authorization:
        if (dir === 0) this.authorization(m, value());
        break;
      default:
        break;
    }
  }

  private authorization(m: Msg, v: string): void {
    const sp = v.indexOf(' ');
    const scheme = (sp < 0 ? v : v.slice(0, sp)).toLowerCase();
    if (!/^[a-z0-9_-]{1,24}$/.test(scheme)) {
      this.rare().badAuthorization++;
      return;
    }
    m.authScheme = scheme;
    const rest = sp < 0 ? '' : v.slice(sp + 1).trim();
    if (scheme === 'basic') {
      const raw = decodeBase64(rest);
      if (raw === null) {
        this.rare().badAuthorization++;
        return;
      }
      const text = raw.toString('utf8');
      const colon = text.indexOf(':');
      const user = colon < 0 ? text : text.slice(0, colon);
      const pass = colon < 0 ? undefined : text.slice(colon + 1);
      if (colon < 0) this.rare().badAuthorization++;
      this.credential('basic-auth', user, pass, m);
    } else if (scheme === 'digest') {
      const user = digestUsername(rest);
      if (user === null) this.rare().badAuthorization++;
      this.credential('digest-auth', user ?? undefined, undefined, m);
    }
  }

  private credential(kind: 'basic-auth' | 'digest-auth', user: string | undefined, secret: string | undefined, m: Msg): void {
    this.rare().credentials++;
    const creds = (this.creds ??= new CredentialLog(this.pseudonymize, 'http', (rec) => this.emit(rec)));
    creds.report(creds.record(kind, user, secret, m.tsSec, m.tsNsec));
  }

  private headEnd(dir: Direction, s: Side): number {
    const m = s.msg!;
    if (dir === 0) {
      this.requests++;
      if (this.pendingRequests >= this.maxPending) {
        this.rare().pendingOverflow++;
        this.rare().incompleteRequests++;
        this.exchange(this.dequeue()!, null, s.lastSec, s.lastNsec);
      }
      this.enqueue(m);
      if (m.dw !== null) this.dicomwebHead(true, m, m.dw);
      if (m.chunked) return this.beginBody(s, m, St.ChunkSize);
      if (m.contentLength === -2 || m.otherCoding) {
        // A body we cannot frame: report the request, then look for the next one.
        this.messageDone(dir, s);
        s.state = St.Lost;
        s.lostBytes = 0;
        return 0;
      }
      if (m.contentLength > 0) return this.beginBody(s, m, St.Body);
      this.messageDone(dir, s);
      return 0;
    }
    const status = m.status;
    if (status >= 100 && status < 200 && status !== 101) {
      this.rare().interimResponses++;
      s.msg = null;
      s.state = St.Start;
      return 0;
    }
    this.responses++;
    const req = this.oldest;
    if (req !== null && req.dw !== null) this.dicomwebHead(false, m, req.dw);
    if (status === 101 || (req !== null && req.method === 'CONNECT' && status >= 200 && status < 300)) {
      // The connection now carries another protocol (WebSocket, a tunnel): nothing more for us.
      m.tunnel = true;
      this.messageDone(dir, s);
      this.finishAll();
      return DETACH;
    }
    if ((req !== null && req.method === 'HEAD') || status === 204 || status === 304) {
      this.messageDone(dir, s);
      return 0;
    }
    if (m.chunked) return this.beginBody(s, m, St.ChunkSize);
    if (m.contentLength === 0) {
      this.messageDone(dir, s);
      return 0;
    }
    if (m.contentLength > 0) return this.beginBody(s, m, St.Body);
    return this.beginBody(s, m, St.ToClose);
  }

  private beginBody(s: Side, m: Msg, state: St): number {
    s.state = state;
    s.remaining = state === St.Body ? m.contentLength : state === St.ToClose ? UNTIL_CLOSE : 0;
    if (m.encoded) this.rare().encodedBodies++;
    s.scanning = this.budget > 0 && !m.encoded;
    if (s.scanning) (s.fnr ??= new FnrStream()).begin(this.acc(m), 'body');
    return 0;
  }

  private bodyPartDone(dir: Direction, s: Side): void {
    if (s.state === St.ChunkData) s.state = St.ChunkDataEnd;
    else this.messageDone(dir, s);
  }

  /** A message is over (body read or skipped): report its PHI; a response completes an exchange. */
  private messageDone(dir: Direction, s: Side): void {
    const m = s.msg;
    // The body ended early when its framing still expected bytes (a gap, the connection closing).
    const cut = s.state >= St.Body && s.state !== St.ToClose && s.remaining > 0;
    s.msg = null;
    s.state = St.Start;
    s.headBytes = 0;
    s.remaining = 0;
    if (m === null) return;
    if (s.scanning) s.fnr!.flush();
    s.scanning = false;
    if (m.dwBody !== null) m.dwBody.end(cut);
    const tsSec = s.lastSec;
    const tsNsec = s.lastNsec;
    const phi = m.phi;
    if (phi !== null && phi.empty) m.phi = null;
    if (m.phi !== null) {
      this.rare().phiMessages++;
      const req = dir === 0 ? m : this.oldest;
      const rec: CleartextPhiRecord = {
        type: 'phi.observed',
        ts_sec: tsSec,
        ts_nsec: tsNsec,
        // DICOMweb is judged as DICOM (dicom-cleartext-phi); the label keeps it out of the general HTTP rules.
        protocol: m.dw !== null && m.dw.confirmed ? 'dicomweb' : 'http',
        direction: dir === 0 ? 'to_server' : 'to_client',
        kinds: m.phi.kinds,
        count: m.phi.occurrences,
        distinct: m.phi.distinct,
        pseudonyms: m.phi.pseudonyms,
        locations: m.phi.locations,
      };
      if (req !== null) {
        rec.http_method = req.method;
        rec.url = req.url;
      }
      if (m.contentType !== undefined) rec.content_type = m.contentType;
      this.emit(rec);
    }
    if (dir === 1) {
      const req = this.dequeue();
      if (req === null) this.rare().unpairedResponses++;
      this.exchange(req, m, tsSec, tsNsec);
    }
  }

  private exchange(req: Msg | null, res: Msg | null, tsSec: number, tsNsec: number): void {
    this.exchanges++;
    // Decided before the http record, so both carry the flow's new label.
    const dw = req?.dw?.record(res?.status, res === null, tsSec, tsNsec) ?? null;
    if (dw !== null) this.dicomwebRecognised();
    const r: HttpRecord = { type: 'http', ts_sec: tsSec, ts_nsec: tsNsec };
    if (req !== null) {
      r.http_method = req.method;
      if (req.host !== undefined) r.hostname = req.host;
      r.url = req.url;
      if (req.queryParams !== null) r.query_params = req.queryParams;
      r.http_protocol = req.version;
      if (req.userAgent !== undefined) r.http_user_agent = req.userAgent;
      if (req.contentType !== undefined) r.http_request_content_type = req.contentType;
      const rl = req.contentLength >= 0 ? req.contentLength : req.bodyBytes;
      if (rl > 0) r.request_length = rl;
      if (req.authScheme !== undefined) r.auth_scheme = req.authScheme;
    }
    if (res !== null) {
      r.status = res.status;
      if (res.contentType !== undefined) r.http_content_type = res.contentType;
      r.length = res.contentLength >= 0 ? res.contentLength : res.bodyBytes;
      if (res.server !== undefined) r.http_server = res.server;
      if (res.tunnel) r.tunnel = true;
    } else {
      r.incomplete = true;
    }
    const health = healthContentKind(req?.contentType) ?? healthContentKind(res?.contentType);
    if (health !== null) r.health_content = health;
    if (req?.phi || res?.phi) {
      const kinds: string[] = [];
      for (const m of [req, res]) if (m?.phi) for (const k of m.phi.kinds) if (!kinds.includes(k)) kinds.push(k);
      if (kinds.length > 0) r.phi_kinds = kinds;
    }
    this.emit(r);
    if (dw !== null) {
      this.rare().dicomwebRequests++;
      this.emit(dw);
    }
  }

  /** A head of a DICOMweb-shaped exchange is complete: its media types count, a DICOM body gets an inspector. */
  private dicomwebHead(toServer: boolean, m: Msg, dw: DicomwebExchange): void {
    m.dw = dw;
    dw.addMedia(m.dicomMedia);
    if (m.dicomContentType !== undefined && !m.encoded && (toServer || (m.status !== 204 && m.status !== 304))) {
      m.dwBody = dw.bodyFor(toServer, m.dicomContentType, this.opts.dicomwebLimits);
      if (m.dwBody !== null) this.rare().dicomwebBodies++;
    }
    // Known from the request alone: the label is set before the request's own events.
    if (dw.confirmed) this.dicomwebRecognised();
  }

  private dicomwebRecognised(): void {
    if (this.dicomwebSeen) return;
    this.dicomwebSeen = true;
    this.sink.setApp?.('dicomweb', false);
  }
}

/** The sink of a parser made with callbacks (`emit`, `onDicomweb`). */
function callbackSink(opts: HttpParserOptions): HttpParserSink {
  const emit = opts.emit;
  if (emit === undefined) throw new TypeError('HttpStreamParser needs emit or sink');
  const onDicomweb = opts.onDicomweb;
  return onDicomweb === undefined ? { emit } : { emit, setApp: () => onDicomweb() };
}

/** Whether b[from, to) holds "dicom" in any case: the test before an Accept value becomes a string. */
function holdsDicom(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i + 5 <= to; i++) {
    if ((b[i] | 0x20) === 0x64 && (b[i + 1] | 0x20) === 0x69 && (b[i + 2] | 0x20) === 0x63 && (b[i + 3] | 0x20) === 0x6f && (b[i + 4] | 0x20) === 0x6d) return true;
  }
  return false;
}

/** Hex chunk size of a chunk-size line (extensions ignored); -1 if malformed. */
function chunkSize(b: Buffer, o: number, n: number): number {
  let v = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = b[o + i];
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else break;
    if (i >= 13) return -1;
    v = v * 16 + d;
  }
  if (i === 0) return -1;
  // Only whitespace or an extension may follow.
  while (i < n && (b[o + i] === 0x20 || b[o + i] === 0x09)) i++;
  if (i < n && b[o + i] !== 0x3b) return -1;
  return v;
}

/** username="…" (or username*=UTF-8''…) of a Digest header; null if absent. */
function digestUsername(v: string): string | null {
  const q = /(?:^|[\s,])username\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i.exec(v);
  if (q) return q[1] !== undefined ? q[1].replace(/\\(.)/g, '$1') : q[2];
  const x = /(?:^|[\s,])username\*\s*=\s*[A-Za-z0-9-]*'[^']*'([^\s,]+)/i.exec(v);
  if (x) {
    try {
      return decodeURIComponent(x[1]);
    } catch {
      return x[1];
    }
  }
  return null;
}

/**
 * A Host value is a DNS name, an IPv4 address or a bracketed IPv6 literal, with an optional port
 * (RFC 9110 §7.2). Anything else — header lines run together, a body where headers should be —
 * is not reported: it may be someone's data.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}))(?::[0-9]{1,5})?$/;
/**
 * A label of eight or more letters and digits with upper case, lower case and a digit is not a
 * name anyone gives a host but an encoded token: base64 of a password or a patient value landed
 * in the header.
 */
const ENCODED_LABEL = /(?:^|[.])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}(?=$|[.:])/;

export function isHostName(h: string): boolean {
  return HOST.test(h) && !ENCODED_LABEL.test(h) && !holdsFnr(h);
}

/**
 * A product token `Name/version` (RFC 9110 §10.1.5): a name without a run of three digits (a
 * serial number is not a product) and a version that starts with a digit; a name alone only as
 * letters (`nginx`).
 */
const PRODUCT = /^(?!.*\d{3}.*\/)[A-Za-z][A-Za-z0-9._+-]{0,63}\/[0-9][A-Za-z0-9._+-]{0,63}$|^[A-Za-z][A-Za-z_-]{0,63}$/;
/** A word inside a comment: letters, digits and `._:/+-` (`Win64`, `x86_64`, `Build/RP1A.200720.012`). */
const COMMENT_WORD = /^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,63}$/;
/** What makes a comment a platform's description: a word with a digit (`10.0`, `Win64`, `SM-G991B`). */
const COMMENT_SIGN = /\d/;
/**
 * Eight or more letters and digits with upper case, lower case and a digit together are an
 * encoded token (base64 of a password or a patient value), not a product, version or platform.
 */
const ENCODED_SEGMENT = /(?=[A-Za-z0-9+=]*[a-z])(?=[A-Za-z0-9+=]*[A-Z])(?=[A-Za-z0-9+=]*[0-9])(?<![A-Za-z0-9+=])[A-Za-z0-9+=]{8,}/;
/** Ten digits are a phone number with its country code (`4722334455`); `Gecko/20100101` has eight. */
const LONG_DIGIT_RUN = /\d{10}/;

/**
 * User-Agent and Server as product tokens and comments (RFC 9110 §10.1.5, §10.2.4,
 * `Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0`), keeping what names software: products in
 * their shape, comments whose words are all software words and one of them has a digit. Other
 * comments are left out (`(KHTML, like Gecko)` and `(HANSEN, OLA JOHAN)` look alike); a product
 * of another shape, a long digit run or stray text (JSON, header lines run together) drops the
 * whole value. '' when nothing is left.
 */
export function productText(v: string): string {
  if (v === '' || LONG_DIGIT_RUN.test(v) || ENCODED_SEGMENT.test(v)) return '';
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    const c = v[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '(') {
      const close = v.indexOf(')', i + 1);
      if (close < 0) return '';
      const inner = v.slice(i + 1, close);
      const words = inner.split(/[;,]?\s+|;/).filter((w) => w !== '');
      if (words.length > 0 && words.every((w) => COMMENT_WORD.test(w)) && COMMENT_SIGN.test(inner)) out.push(`(${inner.trim()})`);
      i = close + 1;
      continue;
    }
    let end = i;
    while (end < v.length && v[end] !== ' ' && v[end] !== '\t' && v[end] !== '(') end++;
    const token = v.slice(i, end);
    if (!PRODUCT.test(token)) return '';
    out.push(token);
    i = end;
  }
  return out.join(' ');
}
