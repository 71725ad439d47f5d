/**
 * The TLS handshake over one TCP connection, as a StreamParser.
 *
 * Per direction: a 5-byte record header, collected into number fields (no buffer) only when
 * it straddles two chunks, then the record body by content type. Handshake records feed a
 * small message assembler (a 4-byte header collected the same way, and a body buffer only
 * for the three messages we read —
 * ClientHello, ServerHello, Certificate — capped at `maxMessageLength`); messages that fit in
 * the chunk are read in place. Alerts give their first two bytes. Everything else, and every
 * record after a direction's ChangeCipherSpec or first application data, is encrypted or
 * irrelevant: its body goes back to the reassembler as a skip, never copied.
 *
 * Once the facts are known — after the ServerHello for TLS 1.3 (the rest is encrypted), after
 * the Certificate or ServerHelloDone for TLS ≤ 1.2, or when encryption starts — the parser
 * emits one `tls.handshake` record and detaches. A record header that is not TLS detaches
 * at once (with what was learnt so far); lengths are never trusted past their record or
 * message; nothing a peer sends can make it throw or hold more than the caps.
 */
import { DETACH, Direction, emitTo, type RecordOut, type StreamEndReason, type StreamParser } from '../stream.js';
import { parseCertificateMessage, readCertificate, type LeafCertificate } from './certificate.js';
import { cipherSuiteName, cipherSuiteWeaknesses, hex16 } from './cipher-suites.js';
import {
  alertName,
  ContentType,
  HANDSHAKE_HEADER_LENGTH,
  HandshakeType,
  isDeprecatedVersion,
  isTls13,
  MAX_RECORD_LENGTH,
  RECORD_HEADER_LENGTH,
  SSL3,
  TLS10,
  TLS11,
  TLS12,
  TLS13,
  versionName,
} from './constants.js';
import { parseClientHello, parseServerHello, type ClientHelloInfo, type ServerHelloInfo } from './hello.js';
import { parseV2ClientHello, parseV2ServerHello, SSL2, v2CipherName, v2CipherWeaknesses, V2_HEADER_LENGTH, v2MasterKeyCipher, V2MessageType } from './sslv2.js';
import type { TlsCounters, TlsHandshakeRecord, WeakReason } from './records.js';

export interface TlsMetricsHooks {
  /** muvakt_tls_handshakes_total{version}: a bounded label ("TLS 1.2", …, "other", "none"). */
  handshake(version: string): void;
}

export interface TlsParserOptions {
  /** Receives the connection's one tls.handshake record, synchronously. */
  emit: RecordOut<TlsHandshakeRecord>;
  /** Handshake messages we read (hellos, certificate chain) are kept up to this. Default 64 KiB. */
  maxMessageLength?: number;
  /** Bytes (both directions, read or skipped) after which a handshake without its facts is given up. Default 256 KiB. */
  maxHandshakeBytes?: number;
  metrics?: TlsMetricsHooks;
}

export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024;
const DEFAULT_MAX_HANDSHAKE_BYTES = 256 * 1024;
/** First allocation of a message body buffer; it doubles as bytes arrive, up to the cap. */
const BODY_STEP = 2048;

const enum Rec {
  Header,
  Handshake,
  Alert,
  Skip,
  /** The body of an SSL 2.0 record (hello or CLIENT-MASTER-KEY). */
  V2,
}

/** Counters that move only on an anomaly or once a connection: made with the first count. */
type TlsRareCounters = Omit<TlsCounters, 'bytes' | 'bytes_skipped' | 'records' | 'handshake_messages'>;

function newRareCounters(): TlsRareCounters {
  return {
    messages_truncated: 0,
    bad_records: 0,
    malformed_messages: 0,
    certificates: 0,
    certificates_unreadable: 0,
    gaps: 0,
    gap_bytes: 0,
    abandoned: 0,
    handshakes_emitted: 0,
    internal_errors: 0,
  };
}

const NO_RARE_COUNTERS: Readonly<TlsRareCounters> = Object.freeze(newRareCounters());

const enum Flag {
  InMessage = 1,
  Encrypted = 2,
  Lost = 4,
  V2Allowed = 8,
}

/** SSL 2.0 records read per direction: the hello, and the client's CLIENT-MASTER-KEY. */
const V2_RECORDS_READ = 2;

class DirState {
  rec = Rec.Header;
  /**
   * A record header split by a chunk boundary, collected as numbers so no direction needs a
   * header buffer: hdrHi holds its first three bytes (or an SSL 2.0 header's two), hdrLo the length.
   */
  hdrHi = 0;
  hdrLo = 0;
  hdrLen = 0;
  recRemaining = 0;
  /** Bytes of a handshake header split by a chunk boundary, collected into msgType and msgLen. */
  hsHdrLen = 0;
  msgType = 0;
  msgLen = 0;
  msgRemaining = 0;
  /** Bytes of the current message we keep (0: not a message we read). */
  keep = 0;
  body: Buffer | null = null;
  bodyLen = 0;
  alert0 = 0;
  alertLen = 0;
  v2Records = 0;
  /** The yes/no facts below, one bit each: one field instead of four in every direction. */
  private flags = Flag.V2Allowed;
  constructor(readonly dir: Direction) {}

  /** Inside a handshake message (its header read). */
  get inMessage(): boolean {
    return (this.flags & Flag.InMessage) !== 0;
  }
  set inMessage(v: boolean) {
    this.setFlag(Flag.InMessage, v);
  }

  /** ChangeCipherSpec or application data seen: the rest of this direction is ciphertext. */
  get encrypted(): boolean {
    return (this.flags & Flag.Encrypted) !== 0;
  }
  set encrypted(v: boolean) {
    this.setFlag(Flag.Encrypted, v);
  }

  /** A gap broke this direction's framing: its bytes are ignored. */
  get lost(): boolean {
    return (this.flags & Flag.Lost) !== 0;
  }
  set lost(v: boolean) {
    this.setFlag(Flag.Lost, v);
  }

  /** No TLS record yet in this direction: a 2-byte SSL 2.0 header (high bit set) is still possible. */
  get v2Allowed(): boolean {
    return (this.flags & Flag.V2Allowed) !== 0;
  }
  set v2Allowed(v: boolean) {
    this.setFlag(Flag.V2Allowed, v);
  }

  private setFlag(f: Flag, v: boolean): void {
    this.flags = v ? this.flags | f : this.flags & ~f;
  }

  /** Adds the next byte of a record header split by a chunk boundary. */
  pushHeaderByte(b: number): void {
    if (this.hdrLen === 0) this.hdrHi = this.hdrLo = 0;
    if (this.hdrLen < 3) this.hdrHi = (this.hdrHi << 8) | b;
    else this.hdrLo = (this.hdrLo << 8) | b;
    this.hdrLen++;
  }

  /** First byte of the record header being collected (hdrLen > 0). */
  firstHeaderByte(): number {
    return this.hdrHi >>> (8 * (Math.min(this.hdrLen, 3) - 1));
  }

  /** Adds the next byte of a handshake header split by a chunk boundary. */
  pushHandshakeHeaderByte(b: number): void {
    if (this.hsHdrLen === 0) {
      this.msgType = b;
      this.msgLen = 0;
    } else {
      this.msgLen = (this.msgLen << 8) | b;
    }
    this.hsHdrLen++;
  }

  dropMessage(): void {
    this.inMessage = false;
    this.hsHdrLen = 0;
    this.body = null;
    this.bodyLen = 0;
    this.keep = 0;
  }
}

export class TlsStreamParser implements StreamParser {
  // What moves on every chunk or record is a plain field; the rest waits for its first count.
  private bytes = 0;
  private bytesSkipped = 0;
  private records = 0;
  private handshakeMessages = 0;
  private rareCounters: TlsRareCounters | null = null;

  private readonly out: RecordOut<TlsHandshakeRecord>;
  private readonly maxMessage: number;
  private readonly maxBytes: number;
  private readonly metrics: TlsMetricsHooks | undefined;
  // Two fields rather than an array of two: one object less per connection.
  private readonly toServer = new DirState(Direction.ToServer);
  private readonly toClient = new DirState(Direction.ToClient);

  private client: ClientHelloInfo | null = null;
  private server: ServerHelloInfo | null = null;
  private serverDir: Direction | -1 = -1;
  private leaf: LeafCertificate | null = null;
  /** Capture time (s) of the Certificate message: expiry is judged against it, not the wall clock. */
  private certTs = 0;
  private alert: string | undefined;
  private issues: string[] | null = null;
  /** A ClientHello or ServerHello (TLS or SSL 2.0) arrived, parsed or not. */
  private helloSeen = false;
  /** The client's hello was in the SSL 2.0 format. */
  private v2Hello = false;
  /** Record version of the first application data (0: none seen). */
  private appVersion = 0;
  /** A message we read was longer than the buffering cap. */
  private truncated = false;
  private certTruncated = false;
  private done = false;
  private ended = false;
  private tsSec = 0;
  private tsNsec = 0;

  constructor(opts: TlsParserOptions) {
    this.out = opts.emit;
    this.maxMessage = Math.max(64, opts.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH);
    this.maxBytes = opts.maxHandshakeBytes ?? DEFAULT_MAX_HANDSHAKE_BYTES;
    this.metrics = opts.metrics;
  }

  /** The connection's counters, as a snapshot. */
  get counters(): TlsCounters {
    const r = this.rareCounters ?? NO_RARE_COUNTERS;
    return {
      bytes: this.bytes,
      bytes_skipped: this.bytesSkipped,
      records: this.records,
      handshake_messages: this.handshakeMessages,
      messages_truncated: r.messages_truncated,
      bad_records: r.bad_records,
      malformed_messages: r.malformed_messages,
      certificates: r.certificates,
      certificates_unreadable: r.certificates_unreadable,
      gaps: r.gaps,
      gap_bytes: r.gap_bytes,
      abandoned: r.abandoned,
      handshakes_emitted: r.handshakes_emitted,
      internal_errors: r.internal_errors,
    };
  }

  private get rare(): TlsRareCounters {
    return (this.rareCounters ??= newRareCounters());
  }

  // ---------------------------------------------------------------- StreamParser

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.done || this.ended) return DETACH;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    this.bytes += len;
    const ds = dir === Direction.ToServer ? this.toServer : this.toClient;
    try {
      if (!ds.lost) this.consume(ds, buf, off, Math.min(off + len, buf.length));
      if (this.done) return DETACH;
      const skip = this.takeSkip(ds);
      // Skipped bytes count too: endless ciphertext before a ServerHello must end somewhere.
      if (this.bytes + this.bytesSkipped > this.maxBytes) {
        this.rare.abandoned++;
        this.finish();
        return DETACH;
      }
      return skip;
    } catch {
      // A bug here must cost one connection's decoding, never the sensor.
      this.rare.internal_errors++;
      this.safeFinish();
      return DETACH;
    }
  }

  gap(dir: Direction, len: number): void {
    if (len <= 0) return;
    this.rare.gaps++;
    this.rare.gap_bytes += len;
    if (this.done || this.ended) return;
    const ds = dir === Direction.ToServer ? this.toServer : this.toClient;
    ds.lost = true;
    ds.dropMessage();
    try {
      // Once the server has spoken, its direction is the only one that still matters.
      if (this.server !== null ? dir === this.serverDir : this.bothSilenced()) this.finish();
    } catch {
      this.rare.internal_errors++;
      this.safeFinish();
    }
  }

  end(_reason: StreamEndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.safeFinish();
  }

  /** Whether the parser is done with this connection (facts emitted or given up). */
  get isDetached(): boolean {
    return this.done;
  }

  /** Bytes held for framing right now (both directions), for the bounded-memory tests. */
  get bufferedBytes(): number {
    return (this.toServer.body?.length ?? 0) + (this.toClient.body?.length ?? 0);
  }

  // ---------------------------------------------------------------- records

  private consume(ds: DirState, buf: Buffer, p: number, end: number): void {
    while (p < end && !this.done) {
      switch (ds.rec) {
        case Rec.Header: {
          if (ds.v2Allowed && ((ds.hdrLen === 0 ? buf[p] : ds.firstHeaderByte()) & 0x80) !== 0) {
            while (ds.hdrLen < V2_HEADER_LENGTH && p < end) ds.pushHeaderByte(buf[p++]);
            if (ds.hdrLen < V2_HEADER_LENGTH) break;
            ds.hdrLen = 0;
            this.onV2Header(ds, ds.hdrHi & 0x7fff);
            break;
          }
          let type: number;
          let major: number;
          let minor: number;
          let length: number;
          if (ds.hdrLen === 0 && end - p >= RECORD_HEADER_LENGTH) {
            type = buf[p];
            major = buf[p + 1];
            minor = buf[p + 2];
            length = buf.readUInt16BE(p + 3);
            p += RECORD_HEADER_LENGTH;
          } else {
            while (ds.hdrLen < RECORD_HEADER_LENGTH && p < end) ds.pushHeaderByte(buf[p++]);
            if (ds.hdrLen < RECORD_HEADER_LENGTH) break;
            ds.hdrLen = 0;
            type = ds.hdrHi >>> 16;
            major = (ds.hdrHi >>> 8) & 0xff;
            minor = ds.hdrHi & 0xff;
            length = ds.hdrLo;
          }
          this.onRecordHeader(ds, type, major, minor, length);
          break;
        }
        case Rec.Handshake: {
          const n = Math.min(ds.recRemaining, end - p);
          this.handshakeBytes(ds, buf, p, p + n);
          p += n;
          ds.recRemaining -= n;
          if (ds.recRemaining === 0) ds.rec = Rec.Header;
          break;
        }
        case Rec.Alert: {
          const n = Math.min(ds.recRemaining, end - p);
          for (let i = 0; i < n && ds.alertLen < 2; i++) {
            if (ds.alertLen === 0) ds.alert0 = buf[p + i];
            else this.onAlert(ds.alert0, buf[p + i]);
            ds.alertLen++;
          }
          p += n;
          ds.recRemaining -= n;
          if (ds.recRemaining === 0) ds.rec = Rec.Header;
          break;
        }
        case Rec.Skip: {
          const n = Math.min(ds.recRemaining, end - p);
          p += n;
          ds.recRemaining -= n;
          if (ds.recRemaining === 0) ds.rec = Rec.Header;
          break;
        }
        case Rec.V2: {
          const n = Math.min(ds.recRemaining, end - p);
          if (ds.bodyLen === 0 && n === ds.recRemaining && n === ds.keep) {
            // The whole record is in this chunk: read it in place.
            ds.keep = 0;
            ds.rec = Rec.Header;
            ds.recRemaining = 0;
            this.onV2Record(ds, buf, p, p + n, false);
            p += n;
            break;
          }
          const room = ds.keep - ds.bodyLen;
          if (room > 0) this.append(ds, buf, p, Math.min(n, room));
          p += n;
          ds.recRemaining -= n;
          if (ds.recRemaining === 0) {
            ds.rec = Rec.Header;
            const wanted = ds.keep > 0;
            const body = ds.body;
            const len = ds.bodyLen;
            const truncated = ds.msgLen > len;
            ds.dropMessage();
            if (wanted) this.onV2Record(ds, body ?? EMPTY, 0, len, truncated);
          }
          break;
        }
      }
    }
  }

  private onRecordHeader(ds: DirState, type: number, major: number, minor: number, length: number): void {
    if (type < ContentType.ChangeCipherSpec || type > ContentType.Heartbeat || major !== 3 || minor > 4 || length > MAX_RECORD_LENGTH) {
      // Not a TLS record: the stream is not (or no longer) TLS we can frame.
      this.rare.bad_records++;
      this.issue('bad-record');
      this.finish();
      return;
    }
    this.records++;
    ds.v2Allowed = false;
    ds.recRemaining = length;
    switch (type) {
      case ContentType.ChangeCipherSpec:
      case ContentType.ApplicationData:
        if (ds.inMessage || ds.hsHdrLen > 0) {
          // A handshake message cut off by another content type (RFC 8446 §5.1 forbids it).
          this.rare.malformed_messages++;
          this.issue('interleaved-record');
          ds.dropMessage();
        }
        ds.rec = Rec.Skip;
        // Past the ServerHello a record carries the negotiated version (TLS 1.3 freezes it at 1.2):
        // all a connection picked up mid-stream says about its version.
        if (type === ContentType.ApplicationData && this.appVersion === 0) this.appVersion = (major << 8) | minor;
        if (!ds.encrypted) {
          ds.encrypted = true;
          this.onEncrypted();
        }
        break;
      case ContentType.Alert:
        // A plaintext alert is 2 bytes; a longer one carries a MAC or tag (encrypted, mid-stream).
        ds.rec = ds.encrypted || length !== 2 ? Rec.Skip : Rec.Alert;
        ds.alertLen = 0;
        break;
      case ContentType.Handshake:
        ds.rec = ds.encrypted ? Rec.Skip : Rec.Handshake;
        break;
      default:
        ds.rec = Rec.Skip;
    }
    if (length === 0) ds.rec = Rec.Header;
  }

  /** An SSL 2.0 record: the first two of a direction are read (hello, CLIENT-MASTER-KEY), the rest skipped. */
  private onV2Header(ds: DirState, length: number): void {
    this.records++;
    ds.recRemaining = length;
    ds.msgLen = length;
    ds.bodyLen = 0;
    ds.body = null;
    ds.keep = ds.v2Records++ < V2_RECORDS_READ ? Math.min(length, this.maxMessage) : 0;
    if (ds.keep > 0 && length > this.maxMessage) {
      this.rare.messages_truncated++;
      this.truncated = true;
    }
    ds.rec = ds.keep > 0 ? Rec.V2 : Rec.Skip;
    if (length === 0) ds.rec = Rec.Header;
  }

  private onV2Record(ds: DirState, buf: Buffer, s: number, e: number, truncated: boolean): void {
    if (e <= s) return;
    this.handshakeMessages++;
    switch (buf[s]) {
      case V2MessageType.ClientHello: {
        this.helloSeen = true;
        if (this.client !== null) return;
        const info = parseV2ClientHello(buf, s, e);
        if (info === null) {
          this.malformed('client_hello', truncated ? 'truncated' : 'short');
          return;
        }
        this.client = info;
        this.v2Hello = true;
        if (info.issue !== null) this.malformed('client_hello', info.issue);
        return;
      }
      case V2MessageType.ServerHello: {
        this.helloSeen = true;
        if (this.server !== null) return;
        const h = parseV2ServerHello(buf, s, e);
        if (h === null) {
          this.malformed('server_hello', truncated ? 'truncated' : 'short');
          this.finish();
          return;
        }
        this.server = h.info;
        this.serverDir = ds.dir;
        if (h.info.issue !== null) this.malformed('server_hello', h.info.issue);
        if (h.certEnd > h.certStart) {
          this.rare.certificates++;
          const leaf = readCertificate(buf, h.certStart, h.certEnd);
          if (leaf === null) {
            this.rare.certificates_unreadable++;
            this.malformed('certificate', 'bad-der');
          } else {
            this.leaf = leaf;
            this.certTs = this.tsSec + this.tsNsec / 1e9;
          }
        }
        // A session-id hit resumes: no CLIENT-MASTER-KEY will name the cipher.
        if (buf[s + 1] !== 0 || (ds.dir === Direction.ToServer ? this.toClient : this.toServer).lost) this.finish();
        return;
      }
      case V2MessageType.ClientMasterKey: {
        const srv = this.server;
        if (srv === null || srv.cipherSuite !== -1 || ds.dir === this.serverDir) return;
        srv.cipherSuite = v2MasterKeyCipher(buf, s, e);
        this.finish();
        return;
      }
    }
  }

  /** At the end of a chunk: the rest of a record we do not read becomes the reassembler's skip. */
  private takeSkip(ds: DirState): number {
    if (ds.rec !== Rec.Skip || ds.recRemaining === 0) return 0;
    const s = ds.recRemaining;
    ds.recRemaining = 0;
    ds.rec = Rec.Header;
    this.bytesSkipped += s;
    return s;
  }

  // ---------------------------------------------------------------- handshake messages

  private handshakeBytes(ds: DirState, buf: Buffer, p: number, e: number): void {
    while (p < e && !this.done) {
      if (!ds.inMessage) {
        let type: number;
        let len: number;
        if (ds.hsHdrLen === 0 && e - p >= HANDSHAKE_HEADER_LENGTH) {
          type = buf[p];
          len = buf.readUIntBE(p + 1, 3);
          p += HANDSHAKE_HEADER_LENGTH;
          if (len <= e - p && len <= this.maxMessage) {
            // The whole message is in this chunk: read it in place.
            this.onMessage(ds, type, buf, p, p + len, false);
            p += len;
            continue;
          }
        } else {
          while (ds.hsHdrLen < HANDSHAKE_HEADER_LENGTH && p < e) ds.pushHandshakeHeaderByte(buf[p++]);
          if (ds.hsHdrLen < HANDSHAKE_HEADER_LENGTH) return;
          ds.hsHdrLen = 0;
          type = ds.msgType;
          len = ds.msgLen;
        }
        this.startMessage(ds, type, len);
        continue;
      }
      const n = Math.min(ds.msgRemaining, e - p);
      const room = ds.keep - ds.bodyLen;
      if (room > 0) this.append(ds, buf, p, Math.min(n, room));
      ds.msgRemaining -= n;
      p += n;
      if (ds.msgRemaining === 0) this.completeMessage(ds);
    }
  }

  private startMessage(ds: DirState, type: number, len: number): void {
    if (type === HandshakeType.ClientHello || type === HandshakeType.ServerHello) this.helloSeen = true;
    ds.inMessage = true;
    ds.msgType = type;
    ds.msgLen = len;
    ds.msgRemaining = len;
    ds.bodyLen = 0;
    ds.body = null;
    ds.keep = this.wants(type) ? Math.min(len, this.maxMessage) : 0;
    if (ds.keep > 0 && len > this.maxMessage) {
      this.rare.messages_truncated++;
      this.truncated = true;
      if (type === HandshakeType.Certificate) this.certTruncated = true;
    }
    if (len === 0) this.completeMessage(ds);
  }

  private append(ds: DirState, buf: Buffer, p: number, n: number): void {
    const need = ds.bodyLen + n;
    if (ds.body === null || ds.body.length < need) {
      // Grow with the bytes that actually arrive, never to what a length field claims.
      const size = Math.min(ds.keep, Math.max(need, BODY_STEP, (ds.body?.length ?? 0) * 2));
      const grown = Buffer.allocUnsafe(size);
      if (ds.body !== null) ds.body.copy(grown, 0, 0, ds.bodyLen);
      ds.body = grown;
    }
    buf.copy(ds.body, ds.bodyLen, p, p + n);
    ds.bodyLen = need;
  }

  private completeMessage(ds: DirState): void {
    const body = ds.body;
    const len = ds.bodyLen;
    const truncated = ds.msgLen > len;
    const type = ds.msgType;
    ds.dropMessage();
    this.onMessage(ds, type, body ?? EMPTY, 0, len, truncated);
  }

  /** Messages worth buffering: the first of each hello, and the server certificate of TLS ≤ 1.2. */
  private wants(type: number): boolean {
    switch (type) {
      case HandshakeType.ClientHello:
        return this.client === null;
      case HandshakeType.ServerHello:
        return this.server === null;
      case HandshakeType.Certificate:
        return this.server !== null && this.leaf === null && !isTls13(this.negotiatedVersion());
    }
    return false;
  }

  private onMessage(ds: DirState, type: number, buf: Buffer, s: number, e: number, truncated: boolean): void {
    this.handshakeMessages++;
    if (type === HandshakeType.ClientHello || type === HandshakeType.ServerHello) this.helloSeen = true;
    switch (type) {
      case HandshakeType.ClientHello: {
        if (this.client !== null) return;
        const info = parseClientHello(buf, s, e);
        if (info === null) {
          this.malformed('client_hello', truncated ? 'truncated' : 'short');
          return;
        }
        this.client = info;
        if (info.issue !== null) this.malformed('client_hello', info.issue);
        return;
      }
      case HandshakeType.ServerHello: {
        if (this.server !== null) return;
        const info = parseServerHello(buf, s, e);
        if (info === null) {
          // Without version and suite there is nothing more to learn from this connection.
          this.malformed('server_hello', truncated ? 'truncated' : 'short');
          this.finish();
          return;
        }
        this.server = info;
        this.serverDir = ds.dir;
        if (info.issue !== null) this.malformed('server_hello', info.issue);
        // TLS 1.3: everything after the ServerHello is encrypted. HRR: its suite is the one.
        if (info.helloRetry || isTls13(this.negotiatedVersion())) this.finish();
        return;
      }
      case HandshakeType.Certificate: {
        if (this.server === null || this.leaf !== null || isTls13(this.negotiatedVersion())) return;
        this.rare.certificates++;
        const r = parseCertificateMessage(buf, s, e);
        if (typeof r === 'string') {
          this.rare.certificates_unreadable++;
          this.malformed('certificate', r);
        } else {
          this.leaf = r;
          this.certTs = this.tsSec + this.tsNsec / 1e9;
        }
        this.finish();
        return;
      }
      case HandshakeType.ServerHelloDone:
        if (this.server !== null) this.finish();
        return;
    }
  }

  private onAlert(level: number, description: number): void {
    this.alert ??= alertName(description);
    // A fatal alert in the clear ends the handshake (a server refusing an old client).
    if (level === 2) this.finish();
  }

  private onEncrypted(): void {
    // Resumption (1.2: ServerHello then ChangeCipherSpec) or 0-RTT from the client (then we
    // wait for the ServerHello, skipping the client's ciphertext).
    if (this.server !== null || this.bothSilenced()) this.finish();
  }

  private bothSilenced(): boolean {
    const a = this.toServer;
    const b = this.toClient;
    return (a.lost || a.encrypted) && (b.lost || b.encrypted);
  }

  private negotiatedVersion(): number {
    const s = this.server;
    if (s === null) return 0;
    return s.selectedVersion ?? s.legacyVersion;
  }

  private malformed(what: string, issue: string): void {
    this.rare.malformed_messages++;
    this.issue(`${what}:${issue}`);
  }

  private issue(s: string): void {
    const list = (this.issues ??= []);
    if (list.length < 8 && !list.includes(s)) list.push(s);
  }

  // ---------------------------------------------------------------- the record

  private safeFinish(): void {
    try {
      this.finish();
    } catch {
      this.rare.internal_errors++;
      this.done = true;
    }
  }

  /** Emits what is known (once) and stops reading the connection. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.toServer.dropMessage();
    this.toClient.dropMessage();
    // Records but no hello: a connection picked up mid-stream still gets its (partial) event.
    if (this.client === null && this.server === null && (this.helloSeen || this.records === 0)) return;
    const r = this.record();
    this.rare.handshakes_emitted++;
    this.metrics?.handshake(metricVersion(this.server === null ? -1 : this.negotiatedVersion()));
    emitTo(this.out, r);
  }

  private record(): TlsHandshakeRecord {
    const c = this.client;
    const s = this.server;
    const v = this.negotiatedVersion();
    const leaf = this.leaf;
    const reasons: WeakReason[] = [];
    const v2 = s !== null && v === SSL2;
    const midstream = c === null && s === null;
    // Mid-stream, a 3.0–3.2 record version is the negotiated one; 3.3 may be TLS 1.2 or 1.3.
    const recordVersion = midstream && this.appVersion !== 0 && this.appVersion < TLS12 ? this.appVersion : 0;
    if (s !== null) {
      if (isDeprecatedVersion(v)) reasons.push('deprecated-version');
      if (s.cipherSuite >= 0) for (const w of v2 ? v2CipherWeaknesses(s.cipherSuite) : cipherSuiteWeaknesses(s.cipherSuite)) reasons.push(w);
      if (s.compression !== 0 && !isTls13(v)) reasons.push('compression');
    } else if (recordVersion !== 0 && isDeprecatedVersion(recordVersion)) {
      reasons.push('deprecated-version');
    }
    if (leaf !== null) {
      if (leaf.notAfterSec < this.certTs) reasons.push('expired-certificate');
      if (leaf.notBeforeSec > this.certTs) reasons.push('not-yet-valid-certificate');
      if (leaf.info.self_signed) reasons.push('self-signed-certificate');
    }
    // Built in the order the event reads best; absent facts are absent keys, never undefined.
    const r = { type: 'tls.handshake', ts_sec: this.tsSec, ts_nsec: this.tsNsec } as TlsHandshakeRecord;
    if (s !== null) r.version = versionName(v);
    else if (recordVersion !== 0) r.version = versionName(recordVersion);
    r.client_versions = c === null ? [] : (c.supportedVersions ?? [c.legacyVersion]).map(versionName);
    if (c !== null && c.sni !== null) r.sni = c.sni;
    r.alpn = c === null ? [] : c.alpn;
    if (s !== null) {
      if (s.alpn !== null) r.alpn_selected = s.alpn;
      if (s.cipherSuite >= 0) {
        r.cipher_suite = v2 ? v2CipherName(s.cipherSuite) : cipherSuiteName(s.cipherSuite);
        r.cipher_suite_id = v2 ? '0x' + s.cipherSuite.toString(16).padStart(6, '0') : hex16(s.cipherSuite);
      }
    }
    if (c !== null) r.offered_suites = c.suitesOffered;
    if (leaf !== null) r.certificate = leaf.info;
    if (this.certTruncated) r.certificate_truncated = true;
    if (this.truncated) r.truncated = true;
    r.weak = reasons.length > 0;
    r.weak_reasons = reasons;
    r.negotiated = s !== null;
    if (s !== null && s.helloRetry) r.hello_retry = true;
    if (this.alert !== undefined) r.alert = this.alert;
    if (this.issues !== null) r.issues = this.issues;
    if (this.v2Hello) r.sslv2_hello = true;
    if (midstream) {
      r.midstream = true;
      if (this.appVersion !== 0) r.record_version = versionName(this.appVersion);
    }
    r.encrypted = true;
    return r;
  }
}

const EMPTY = Buffer.alloc(0);

function metricVersion(v: number): string {
  switch (v) {
    case -1:
      return 'none';
    case SSL3:
    case TLS10:
    case TLS11:
    case TLS12:
    case TLS13:
      return versionName(v);
  }
  return 'other';
}
