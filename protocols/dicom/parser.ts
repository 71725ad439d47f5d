/**
 * DICOM upper layer over one TCP connection, as a StreamParser.
 *
 * Framing follows node-postgres' pg-protocol parser: per direction, a 6-byte header that is
 * only collected (into two number fields, no buffer) when it straddles two chunks (the common
 * case reads it straight from the chunk), then a body handled by PDU type. Association PDUs are small and
 * copied whole; P-DATA-TF is never buffered: PDV headers are read, command fragments are
 * copied into a small command buffer, the first bytes of each data set into a bounded peek
 * buffer, and everything else (pixel data) is handed back to the reassembler as a skip.
 *
 * Anything that does not frame — an unknown PDU type, a length above the cap, a gap across
 * a header — moves the direction into a bounded resync scan for a strongly-checked PDU
 * header; if none turns up the parser detaches. Nothing a peer sends can make it throw,
 * allocate more than the configured caps, or emit a patient value.
 */
import { DETACH, Direction, emitTo, type RecordOut, type StreamEndReason, type StreamParser } from '../stream.js';
import type { Pseudonymize } from '../phi/pseudonym.js';
import type { CredentialFields } from '../credentials.js';
import type { CredentialCleartextRecord } from '../events/index.js';
import { parseAbort, parseAssociate, parseReject } from './associate.js';
import { Association } from './association.js';
import { isResponse, parseCommandSet } from './command-set.js';
import { guessEncoding, peekDataset, PeekStatus } from './dataset-peek.js';
import { dimseRecord, MessageSink, newMessage, type Message } from './message.js';
import { ASSOCIATE_FIXED_LENGTH, Mch, PDU_HEADER_LENGTH, PDV_HEADER_LENGTH, PduType } from './pdu-types.js';
import type {
  AssociateInfo,
  AssociationResult,
  DicomDirection,
  DicomMalformedRecord,
  DicomRecord,
  MalformedReason,
} from './records.js';
import { isPduSignature, SIG_BYTES, signatureBytes } from './resync.js';

export interface DicomMetricsHooks {
  /** muvakt_dicom_associations_total{result} */
  association(result: AssociationResult): void;
  /** muvakt_dicom_dimse_total{command} */
  dimse(command: string): void;
}

export interface DicomParserOptions {
  /** Receives every record; called synchronously from data()/gap()/end(). */
  emit: RecordOut<DicomRecord>;
  /** Keyed pseudonym for a value of the given kind ('patient-id', 'dicom-username'). */
  pseudonymize: Pseudonymize;
  /** PDUs longer than this are malformed, whatever the peers negotiated. Default 16 MiB. */
  maxPduLength?: number;
  /** Cap for the association PDUs we copy whole (RQ/AC/RJ/release/abort). Default 256 KiB. */
  maxAssociatePduLength?: number;
  /** Cap for one reassembled command set. Default 64 KiB. */
  maxCommandLength?: number;
  /** Bytes of each data set inspected before the rest is skipped. Default 64 KiB. */
  datasetPeekBytes?: number;
  /** Bytes scanned for a PDU header after losing framing, before detaching. Default maxPduLength. */
  resyncLimit?: number;
  /** Malformed records per connection; further ones are only counted. Default 16. */
  maxMalformedRecords?: number;
  metrics?: DicomMetricsHooks;
  /**
   * Receives a `credential.cleartext` for each user identity that carries a passcode, beside the
   * association record (which only says that one was present). Without it none is made.
   */
  emitCredential?: RecordOut<CredentialCleartextRecord>;
}

export const DEFAULT_MAX_PDU_LENGTH = 16 * 1024 * 1024;
const DEFAULT_MAX_ASSOCIATE_PDU = 256 * 1024;
const DEFAULT_MAX_COMMAND = 64 * 1024;
const DEFAULT_PEEK_BYTES = 64 * 1024;
/** Before any PDU has framed, a long scan would only be reading someone else's protocol. */
const UNSYNCED_RESYNC_LIMIT = 256 * 1024;
/** Copy into the peek buffer in steps, so a big chunk is not copied past where the walk stops. */
const PEEK_STEP = 4096;

export interface DicomCounters {
  bytes: number;
  bytes_skipped: number;
  pdus: number;
  malformed: number;
  pdu_too_long: number;
  pdu_exceeds_negotiated: number;
  resyncs: number;
  resync_failures: number;
  gaps: number;
  bytes_lost: number;
  commands: number;
  datasets: number;
  datasets_truncated: number;
  datasets_deflated: number;
  datasets_without_command: number;
  records_suppressed: number;
  internal_errors: number;
}

/** The counters that only move when something goes wrong (or at most once a data set): made with the first. */
type DicomRareCounters = Omit<DicomCounters, 'bytes' | 'bytes_skipped' | 'pdus' | 'commands' | 'datasets'>;

function newRareCounters(): DicomRareCounters {
  return {
    malformed: 0,
    pdu_too_long: 0,
    pdu_exceeds_negotiated: 0,
    resyncs: 0,
    resync_failures: 0,
    gaps: 0,
    bytes_lost: 0,
    datasets_truncated: 0,
    datasets_deflated: 0,
    datasets_without_command: 0,
    records_suppressed: 0,
    internal_errors: 0,
  };
}

const NO_RARE_COUNTERS: Readonly<DicomRareCounters> = Object.freeze(newRareCounters());

const enum St {
  Header,
  Body,
  PdvHeader,
  PdvValue,
  SkipPdu,
  Resync,
}

const enum Mode {
  Command,
  Peek,
  Skip,
}

/** Scratch for one PDU header or resync window at a time: the parser is synchronous, so all parsers share it. */
const SCRATCH = Buffer.alloc(SIG_BYTES);

/** The bytes of a PDU (or PDV) header split by a chunk boundary, back in SCRATCH[0..6). */
function headerBytes(hi: number, lo: number): Buffer {
  SCRATCH[0] = hi >>> 16;
  SCRATCH[1] = (hi >>> 8) & 0xff;
  SCRATCH[2] = hi & 0xff;
  SCRATCH[3] = lo >>> 16;
  SCRATCH[4] = (lo >>> 8) & 0xff;
  SCRATCH[5] = lo & 0xff;
  return SCRATCH;
}

class DirState {
  state = St.Header;
  synced = false;
  /**
   * A PDU or PDV header split by a chunk boundary, collected as numbers (hdrHi: its first three
   * bytes, hdrLo: the last three) so no direction needs a header buffer of its own.
   */
  hdrHi = 0;
  hdrLo = 0;
  hdrLen = 0;
  pduType = 0;
  pduRemaining = 0;
  body: Buffer | null = null;
  bodyLen = 0;
  bodyNeed = 0;
  pdvRemaining = 0;
  pdvContext = 0;
  pdvMch = 0;
  mode = Mode.Skip;
  cmd: Buffer | null = null;
  cmdLen = 0;
  cmdBroken = false;
  msg: Message | null = null;
  /** Only while resyncing (state Resync). */
  resync: ResyncWindow | null = null;
  constructor(readonly dir: Direction) {}

  /** Adds the next byte of a header split by a chunk boundary. */
  pushHeaderByte(b: number): void {
    if (this.hdrLen < 3) this.hdrHi = (this.hdrHi << 8) | b;
    else this.hdrLo = (this.hdrLo << 8) | b;
    this.hdrLen++;
  }
}

function unsyncedResync(ds: DirState): boolean {
  return ds.state === St.Resync && !ds.synced;
}

/** A direction's scan for a PDU header after losing framing: made by each resync, dropped when it ends. */
class ResyncWindow {
  /** Last bytes of the window, carried into the next chunk (an own store, not a pool slice). */
  readonly tail = Buffer.alloc(SIG_BYTES);
  tailLen = 0;
  scanned = 0;
  constructor(readonly limit: number) {}
}

function dirName(dir: Direction): DicomDirection {
  return dir === Direction.ToServer ? 'to_server' : 'to_client';
}

export class DicomStreamParser implements StreamParser {
  // What moves on every chunk or PDU is a plain field; the rest waits for its first count.
  private bytes = 0;
  private bytesSkipped = 0;
  private pdus = 0;
  private commands = 0;
  private datasets = 0;
  private rareCounters: DicomRareCounters | null = null;

  private readonly out: RecordOut<DicomRecord>;
  private readonly pseudonymize: Pseudonymize;
  private readonly maxPdu: number;
  private readonly maxAssocPdu: number;
  private readonly maxCommand: number;
  private readonly peekBytes: number;
  private readonly resyncLimit: number;
  private readonly maxMalformed: number;
  private readonly metrics: DicomMetricsHooks | undefined;

  // Two fields rather than an array of two: one object less per connection.
  private readonly toServer = new DirState(Direction.ToServer);
  private readonly toClient = new DirState(Direction.ToClient);
  private assoc: Association | null = null;
  private detached = false;
  private ended = false;
  /** Some PDU header had a valid type and reserved byte: this is DICOM, even if broken. */
  private sawDicom = false;
  private malformedEmitted = 0;
  private tsSec = 0;
  private tsNsec = 0;
  /** For the data-set walk; made with the first data set peeked. */
  private sink: MessageSink | null = null;
  private readonly emitCredential: RecordOut<CredentialCleartextRecord> | undefined;

  constructor(opts: DicomParserOptions) {
    this.out = opts.emit;
    this.pseudonymize = opts.pseudonymize;
    this.maxPdu = opts.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
    this.maxAssocPdu = Math.min(opts.maxAssociatePduLength ?? DEFAULT_MAX_ASSOCIATE_PDU, this.maxPdu);
    this.maxCommand = opts.maxCommandLength ?? DEFAULT_MAX_COMMAND;
    this.peekBytes = opts.datasetPeekBytes ?? DEFAULT_PEEK_BYTES;
    this.resyncLimit = opts.resyncLimit ?? this.maxPdu + SIG_BYTES;
    this.maxMalformed = opts.maxMalformedRecords ?? 16;
    this.metrics = opts.metrics;
    this.emitCredential = opts.emitCredential;
  }

  /** The connection's counters, as a snapshot. */
  get counters(): DicomCounters {
    const r = this.rareCounters ?? NO_RARE_COUNTERS;
    return {
      bytes: this.bytes,
      bytes_skipped: this.bytesSkipped,
      pdus: this.pdus,
      malformed: r.malformed,
      pdu_too_long: r.pdu_too_long,
      pdu_exceeds_negotiated: r.pdu_exceeds_negotiated,
      resyncs: r.resyncs,
      resync_failures: r.resync_failures,
      gaps: r.gaps,
      bytes_lost: r.bytes_lost,
      commands: this.commands,
      datasets: this.datasets,
      datasets_truncated: r.datasets_truncated,
      datasets_deflated: r.datasets_deflated,
      datasets_without_command: r.datasets_without_command,
      records_suppressed: r.records_suppressed,
      internal_errors: r.internal_errors,
    };
  }

  private get rare(): DicomRareCounters {
    return (this.rareCounters ??= newRareCounters());
  }

  // ---------------------------------------------------------------- StreamParser

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.detached || this.ended) return DETACH;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    this.bytes += len;
    const ds = dir === Direction.ToServer ? this.toServer : this.toClient;
    try {
      this.consume(ds, buf, off, Math.min(off + len, buf.length));
      if (this.detached) return DETACH;
      return this.takeSkip(ds);
    } catch {
      // A bug here must cost one connection's decoding, never the sensor.
      return this.internalError(ds);
    }
  }

  gap(dir: Direction, len: number): void {
    if (this.detached || this.ended || len <= 0) return;
    const ds = dir === Direction.ToServer ? this.toServer : this.toClient;
    this.rare.gaps++;
    this.rare.bytes_lost += len;
    if (this.assoc) {
      this.assoc.gaps++;
      this.assoc.bytesLost += len;
    }
    try {
      this.onGap(ds, len);
    } catch {
      this.internalError(ds);
    }
  }

  end(reason: StreamEndReason): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.finishMessages();
      if (!this.detached && !this.sawDicom && this.bytes > 0) {
        const ds = unsyncedResync(this.toServer) ? this.toServer : unsyncedResync(this.toClient) ? this.toClient : null;
        if (ds !== null) this.malformed(ds, 'not-dicom', 'detach');
      }
      this.emitAssociation(reason);
    } catch {
      this.rare.internal_errors++;
    }
  }

  /** Whether the parser has given up on this connection. */
  get isDetached(): boolean {
    return this.detached;
  }

  // ---------------------------------------------------------------- framing

  private consume(ds: DirState, buf: Buffer, p: number, end: number): void {
    while (p < end && !this.detached) {
      switch (ds.state) {
        case St.Header: {
          let type: number;
          let reserved: number;
          let length: number;
          // Where the header's bytes are, in case it is rejected and we resync from its second byte.
          let seed: Buffer;
          let seedAt: number;
          if (ds.hdrLen === 0 && end - p >= PDU_HEADER_LENGTH) {
            type = buf[p];
            reserved = buf[p + 1];
            length = buf.readUInt32BE(p + 2);
            seed = buf;
            seedAt = p;
            p += PDU_HEADER_LENGTH;
          } else {
            if (ds.hdrLen === 0) ds.hdrHi = ds.hdrLo = 0;
            while (ds.hdrLen < PDU_HEADER_LENGTH && p < end) ds.pushHeaderByte(buf[p++]);
            if (ds.hdrLen < PDU_HEADER_LENGTH) break;
            type = ds.hdrHi >>> 16;
            reserved = (ds.hdrHi >>> 8) & 0xff;
            length = (ds.hdrHi & 0xff) * 0x1000000 + ds.hdrLo;
            seed = headerBytes(ds.hdrHi, ds.hdrLo);
            seedAt = 0;
          }
          ds.hdrLen = 0;
          this.onPduHeader(ds, type, reserved, length, seed, seedAt);
          break;
        }
        case St.Body: {
          const n = Math.min(ds.bodyNeed - ds.bodyLen, end - p);
          if (ds.bodyLen === 0 && n === ds.bodyNeed) {
            // Whole body in this chunk: decode in place, no copy.
            this.onPduBody(ds, buf, p, p + n);
            p += n;
            ds.state = St.Header;
            break;
          }
          if (ds.body === null) ds.body = Buffer.alloc(ds.bodyNeed);
          buf.copy(ds.body, ds.bodyLen, p, p + n);
          ds.bodyLen += n;
          p += n;
          if (ds.bodyLen === ds.bodyNeed) {
            const body = ds.body;
            this.onPduBody(ds, body, 0, ds.bodyNeed);
            // The RQ may have carried a passcode: do not leave it lying in our heap.
            body.fill(0);
            ds.body = null;
            ds.bodyLen = 0;
            ds.state = St.Header;
          }
          break;
        }
        case St.PdvHeader: {
          if (ds.pduRemaining < PDV_HEADER_LENGTH) {
            this.malformed(ds, 'bad-pdv', 'continue', PduType.PData, ds.pduRemaining);
            this.breakMessage(ds);
            ds.state = St.SkipPdu;
            break;
          }
          let pdvLen: number;
          let ctx: number;
          let mch: number;
          if (ds.hdrLen === 0 && end - p >= PDV_HEADER_LENGTH) {
            pdvLen = buf.readUInt32BE(p);
            ctx = buf[p + 4];
            mch = buf[p + 5];
            p += PDV_HEADER_LENGTH;
          } else {
            if (ds.hdrLen === 0) ds.hdrHi = ds.hdrLo = 0;
            while (ds.hdrLen < PDV_HEADER_LENGTH && p < end) ds.pushHeaderByte(buf[p++]);
            if (ds.hdrLen < PDV_HEADER_LENGTH) break;
            pdvLen = ds.hdrHi * 0x100 + (ds.hdrLo >>> 16);
            ctx = (ds.hdrLo >>> 8) & 0xff;
            mch = ds.hdrLo & 0xff;
          }
          ds.hdrLen = 0;
          ds.pduRemaining -= PDV_HEADER_LENGTH;
          if (pdvLen < 2 || pdvLen - 2 > ds.pduRemaining) {
            // The PDU length still frames the stream; only this PDU's contents are lost.
            this.malformed(ds, 'pdv-overrun', 'continue', PduType.PData, pdvLen);
            this.breakMessage(ds);
            ds.state = St.SkipPdu;
            break;
          }
          ds.pdvRemaining = pdvLen - 2;
          this.onPdvStart(ds, ctx, mch);
          ds.state = St.PdvValue;
          if (ds.pdvRemaining === 0) this.onPdvComplete(ds);
          break;
        }
        case St.PdvValue: {
          const n = Math.min(ds.pdvRemaining, end - p);
          if (ds.mode === Mode.Command) this.appendCommand(ds, buf, p, n);
          else if (ds.mode === Mode.Peek) this.appendPeek(ds, buf, p, n);
          else if (ds.msg !== null && ds.msg.datasetStarted) ds.msg.datasetBytes += n;
          p += n;
          ds.pdvRemaining -= n;
          ds.pduRemaining -= n;
          if (ds.pdvRemaining === 0) this.onPdvComplete(ds);
          break;
        }
        case St.SkipPdu: {
          const n = Math.min(ds.pduRemaining, end - p);
          p += n;
          ds.pduRemaining -= n;
          if (ds.pduRemaining === 0) ds.state = St.Header;
          break;
        }
        case St.Resync:
          p = this.scan(ds, buf, p, end);
          break;
      }
    }
  }

  /** At the end of a chunk: hand what we do not need back to the reassembler as a skip. */
  private takeSkip(ds: DirState): number {
    let s = 0;
    if (ds.state === St.PdvValue && ds.mode === Mode.Skip && ds.pdvRemaining > 0) {
      s = ds.pdvRemaining;
      if (ds.msg !== null && ds.msg.datasetStarted) ds.msg.datasetBytes += s;
      ds.pduRemaining -= s;
      ds.pdvRemaining = 0;
      this.onPdvComplete(ds);
    } else if (ds.state === St.SkipPdu && ds.pduRemaining > 0) {
      s = ds.pduRemaining;
      ds.pduRemaining = 0;
      ds.state = St.Header;
    }
    this.bytesSkipped += s;
    return this.detached ? DETACH : s;
  }

  /** `seed[seedAt..seedAt+6)` holds the header's bytes, for a resync if it is rejected. */
  private onPduHeader(ds: DirState, type: number, reserved: number, length: number, seed: Buffer, seedAt: number): void {
    if (type < PduType.AssociateRq || type > PduType.Abort || reserved !== 0) {
      if (ds.synced) this.malformed(ds, type > PduType.Abort || type === 0 ? 'bad-pdu-type' : 'bad-pdu-header', 'resync', type, length);
      this.enterResync(ds, seed, seedAt + 1, seedAt + PDU_HEADER_LENGTH);
      return;
    }
    this.sawDicom = true;
    if (length > this.maxPdu) {
      this.rare.pdu_too_long++;
      this.malformed(ds, 'pdu-too-long', 'resync', type, length);
      this.enterResync(ds, seed, seedAt + 1, seedAt + PDU_HEADER_LENGTH);
      return;
    }
    let ok: boolean;
    switch (type) {
      case PduType.AssociateRq:
      case PduType.AssociateAc:
        ok = length >= ASSOCIATE_FIXED_LENGTH;
        if (ok && length > this.maxAssocPdu) {
          this.rare.pdu_too_long++;
          this.malformed(ds, 'pdu-too-long', 'resync', type, length);
          this.enterResync(ds, seed, seedAt + 1, seedAt + PDU_HEADER_LENGTH);
          return;
        }
        break;
      case PduType.PData:
        ok = length >= PDV_HEADER_LENGTH;
        break;
      default:
        // RJ, release and abort bodies are 4 bytes; tolerate a little padding.
        ok = length >= 4 && length <= 64;
    }
    if (!ok) {
      this.malformed(ds, 'pdu-too-short', 'resync', type, length);
      this.enterResync(ds, seed, seedAt + 1, seedAt + PDU_HEADER_LENGTH);
      return;
    }
    ds.synced = true;
    this.pdus++;
    // An RQ may open a new association; it is counted once we know which.
    if (type !== PduType.AssociateRq) this.association().pdus++;
    ds.pduType = type;
    if (type === PduType.PData) {
      this.checkNegotiatedMax(ds, length);
      ds.pduRemaining = length;
      ds.state = St.PdvHeader;
    } else {
      ds.bodyNeed = length;
      ds.bodyLen = 0;
      ds.state = St.Body;
    }
  }

  /** Counted, not malformed: the peer broke the agreement, the stream is still readable. */
  private checkNegotiatedMax(ds: DirState, length: number): void {
    const a = this.assoc;
    if (a === null) return;
    // The receiver announces what it accepts: the client's limit binds the server's PDUs.
    const limit = ds.dir === Direction.ToServer ? a.ac?.max_pdu_length : a.rq?.max_pdu_length;
    if (limit !== undefined && limit > 0 && length > limit) this.rare.pdu_exceeds_negotiated++;
  }

  private onPduBody(ds: DirState, buf: Buffer, off: number, end: number): void {
    const type = ds.pduType;
    switch (type) {
      case PduType.AssociateRq: {
        let a = this.association();
        if (a.rq !== null || a.emitted || a.pdus > 0) {
          // A new association on the same connection: close out the previous one.
          this.emitAssociation();
          a = this.newAssociation();
        }
        a.pdus++;
        const credential = this.emitCredential === undefined ? undefined : (f: CredentialFields) => this.credentialRecord(f);
        a.rq = parseAssociate(buf, off, end, false, { pseudonymize: this.pseudonymize, credential });
        a.startSec = this.tsSec;
        a.startNsec = this.tsNsec;
        this.associateIssues(ds, type, end - off, a.rq);
        break;
      }
      case PduType.AssociateAc: {
        const a = this.association();
        a.ac = parseAssociate(buf, off, end, true);
        if (a.rq !== null && a.rq.user_identity !== undefined && a.ac.user_identity_response !== undefined) {
          a.rq.user_identity.server_response_present = a.ac.user_identity_response;
        }
        a.acceptContexts();
        this.associateIssues(ds, type, end - off, a.ac);
        break;
      }
      case PduType.AssociateRj: {
        const a = this.association();
        a.reject = parseReject(buf, off, end);
        this.emitAssociation();
        break;
      }
      case PduType.ReleaseRq:
        this.association().releaseRq = true;
        break;
      case PduType.ReleaseRp: {
        const a = this.association();
        a.releaseRp = true;
        this.finishMessages();
        this.emitAssociation();
        break;
      }
      case PduType.Abort: {
        const a = this.association();
        a.abort = parseAbort(buf, off, end, dirName(ds.dir));
        this.finishMessages();
        this.emitAssociation();
        break;
      }
    }
  }

  /** Unknown items are legal (PS3.8 says ignore them); items running past their PDU are not. */
  private associateIssues(ds: DirState, type: number, length: number, info: AssociateInfo): void {
    if (info.issues.includes('item-overrun') || info.issues.includes('short-fixed-part')) {
      this.malformed(ds, 'item-overrun', 'continue', type, length, info.issues);
    }
  }

  // ---------------------------------------------------------------- PDVs and messages

  private onPdvStart(ds: DirState, ctx: number, mch: number): void {
    ds.pdvContext = ctx;
    ds.pdvMch = mch;
    if (mch > (Mch.Command | Mch.Last)) this.malformed(ds, 'bad-pdv', 'continue', PduType.PData, mch);
    if ((mch & Mch.Command) !== 0) {
      // A new command while a data set was still expected: that message ended without it.
      if (ds.msg !== null) this.finishMessage(ds, true);
      ds.mode = ds.cmdBroken ? Mode.Skip : Mode.Command;
      return;
    }
    const m = ds.msg;
    if (m === null) {
      // Data set whose command we never saw (capture started mid-message, or after a resync).
      this.rare.datasets_without_command++;
      ds.mode = Mode.Skip;
      return;
    }
    if (!m.datasetStarted) this.startDataset(m, ctx);
    ds.mode = m.peekDone ? Mode.Skip : Mode.Peek;
  }

  private startDataset(m: Message, ctx: number): void {
    m.datasetStarted = true;
    this.datasets++;
    const c = this.assoc?.contexts.get(ctx);
    if (c !== undefined) {
      m.enc = c.enc;
      m.transferSyntax = c.transferSyntax;
      if (c.enc.deflated) {
        this.rare.datasets_deflated++;
        m.peekDone = true;
      }
    }
  }

  private onPdvComplete(ds: DirState): void {
    const last = (ds.pdvMch & Mch.Last) !== 0;
    ds.state = ds.pduRemaining > 0 ? St.PdvHeader : St.Header;
    if ((ds.pdvMch & Mch.Command) !== 0) {
      if (last) this.completeCommand(ds);
      return;
    }
    if (last && ds.msg !== null && ds.msg.datasetStarted) this.finishMessage(ds, false);
  }

  private appendCommand(ds: DirState, buf: Buffer, p: number, n: number): void {
    const need = ds.cmdLen + n;
    if (need > this.maxCommand) {
      this.malformed(ds, 'command-too-long', 'continue', PduType.PData, need);
      ds.cmdBroken = true;
      ds.cmdLen = 0;
      ds.mode = Mode.Skip;
      return;
    }
    if (ds.cmd === null || ds.cmd.length < need) {
      const grown = Buffer.alloc(Math.min(this.maxCommand, Math.max(256, need, (ds.cmd?.length ?? 0) * 2)));
      if (ds.cmd !== null) ds.cmd.copy(grown, 0, 0, ds.cmdLen);
      ds.cmd = grown;
    }
    buf.copy(ds.cmd, ds.cmdLen, p, p + n);
    ds.cmdLen += n;
  }

  private completeCommand(ds: DirState): void {
    const broken = ds.cmdBroken;
    const len = ds.cmdLen;
    ds.cmdBroken = false;
    ds.cmdLen = 0;
    if (broken || ds.cmd === null) return;
    const cmd = parseCommandSet(ds.cmd, 0, len);
    if (typeof cmd === 'string') {
      this.malformed(ds, 'command-invalid', 'continue', PduType.PData, len);
      return;
    }
    this.commands++;
    const m = newMessage(cmd, ds.pdvContext, this.tsSec, this.tsNsec);
    if (m.expectDataset) ds.msg = m;
    else this.emitDimse(ds, m);
  }

  private appendPeek(ds: DirState, buf: Buffer, p: number, n: number): void {
    const m = ds.msg!;
    m.datasetBytes += n;
    let from = p;
    const end = p + n;
    while (from < end && !m.peekDone) {
      const room = this.peekBytes - m.peekLen;
      if (room <= 0) {
        this.walk(m, 'cap');
        break;
      }
      const take = Math.min(end - from, room, PEEK_STEP);
      if (m.peek === null || m.peek.length < m.peekLen + take) {
        const size = Math.min(this.peekBytes, Math.max(m.peekLen + take, PEEK_STEP, (m.peek?.length ?? 0) * 2));
        const grown = Buffer.allocUnsafe(size);
        if (m.peek !== null) m.peek.copy(grown, 0, 0, m.peekLen);
        m.peek = grown;
      }
      buf.copy(m.peek, m.peekLen, from, from + take);
      m.peekLen += take;
      from += take;
      this.walk(m, m.peekLen >= this.peekBytes ? 'cap' : 'more');
    }
    if (m.peekDone) ds.mode = Mode.Skip;
  }

  /**
   * Runs the resumable data-set walk over what we hold. `why` says whether more bytes may
   * come ('more'), the data set ended ('end'), the budget is spent ('cap') or it was cut off.
   */
  private walk(m: Message, why: 'more' | 'end' | 'cap' | 'cut'): void {
    if (m.peekDone) return;
    const final = why !== 'more';
    if (m.peek === null) {
      if (final) this.stopPeek(m, why !== 'end');
      return;
    }
    if (m.enc === null) {
      const g = guessEncoding(m.peek, 0, m.peekLen);
      if (g === null) {
        if (final) this.stopPeek(m, true);
        return;
      }
      m.enc = g;
      m.encGuessed = true;
    }
    const sink = (this.sink ??= new MessageSink(this.pseudonymize));
    sink.message = m;
    const r = peekDataset(m.peek, m.peekNext, m.peekLen, m.enc, sink);
    sink.message = null;
    m.peekNext = r.next;
    if (r.status === PeekStatus.Done) this.stopPeek(m, false);
    else if (r.status === PeekStatus.Invalid) this.stopPeek(m, true);
    else if (final) this.stopPeek(m, why !== 'end' || r.next < m.peekLen);
  }

  private stopPeek(m: Message, truncated: boolean): void {
    m.peekDone = true;
    if (truncated) m.truncated = true;
  }

  /**
   * Ends the message waiting for (or reading) its data set and emits it. `cut` means the
   * data set did not end normally (gap, resync, abort, end of stream, next command).
   */
  private finishMessage(ds: DirState, cut: boolean): void {
    const m = ds.msg;
    if (m === null) return;
    ds.msg = null;
    if (m.datasetStarted) this.walk(m, cut ? 'cut' : 'end');
    if (cut && m.expectDataset) m.truncated = true;
    this.emitDimse(ds, m);
  }

  private finishMessages(): void {
    this.finishMessage(this.toServer, true);
    this.finishMessage(this.toClient, true);
  }

  /** Framing inside a P-DATA is lost: drop a half-built command, close the message. */
  private breakMessage(ds: DirState): void {
    ds.cmdLen = 0;
    ds.cmdBroken = false;
    this.finishMessage(ds, true);
  }

  // ---------------------------------------------------------------- gaps and resync

  private onGap(ds: DirState, len: number): void {
    switch (ds.state) {
      case St.PdvValue:
        if (len <= ds.pdvRemaining) {
          if (ds.mode === Mode.Command) {
            ds.cmdBroken = true;
            ds.mode = Mode.Skip;
          } else if (ds.mode === Mode.Peek && ds.msg !== null) {
            const m = ds.msg;
            m.datasetBytes += len;
            this.walk(m, 'cut');
            m.truncated = true;
            ds.mode = Mode.Skip;
          } else if (ds.msg !== null && ds.msg.datasetStarted) {
            ds.msg.datasetBytes += len;
          }
          ds.pdvRemaining -= len;
          ds.pduRemaining -= len;
          if (ds.pdvRemaining === 0) this.onPdvComplete(ds);
          return;
        }
        break;
      case St.SkipPdu:
        if (len <= ds.pduRemaining) {
          ds.pduRemaining -= len;
          if (ds.pduRemaining === 0) ds.state = St.Header;
          return;
        }
        break;
      case St.Body:
        if (len <= ds.bodyNeed - ds.bodyLen) {
          // An association PDU with a hole cannot be decoded; the framing survives.
          ds.pduRemaining = ds.bodyNeed - ds.bodyLen - len;
          if (ds.body !== null) ds.body.fill(0);
          ds.body = null;
          ds.bodyLen = 0;
          ds.state = ds.pduRemaining > 0 ? St.SkipPdu : St.Header;
          return;
        }
        break;
      case St.Resync:
        // Bytes on either side of the hole are not adjacent: forget the partial window.
        ds.resync!.tailLen = 0;
        return;
    }
    this.breakMessage(ds);
    this.enterResync(ds, SCRATCH, 0, 0);
  }

  private enterResync(ds: DirState, seed: Buffer, from: number, to: number): void {
    if (ds.state !== St.Resync) this.rare.resyncs++;
    if (ds.body !== null) ds.body.fill(0);
    ds.body = null;
    ds.bodyLen = 0;
    ds.hdrLen = 0;
    ds.state = St.Resync;
    const rw = (ds.resync = new ResyncWindow(ds.synced ? this.resyncLimit : Math.min(this.resyncLimit, UNSYNCED_RESYNC_LIMIT)));
    // The rejected header's later bytes may be the start of the real one.
    const n = Math.min(to - from, SIG_BYTES - 1);
    seed.copy(rw.tail, 0, to - n, to);
    rw.tailLen = n;
  }

  private byteAt(rw: ResyncWindow, buf: Buffer, p: number, i: number): number {
    return i < 0 ? rw.tail[rw.tailLen + i] : buf[p + i];
  }

  /**
   * Looks for a PDU header at each position of tail + chunk. Returns the chunk position to
   * continue from (framing restored there) or `end` (still scanning, tail updated).
   */
  private scan(ds: DirState, buf: Buffer, p: number, end: number): number {
    const rw = ds.resync!;
    const n = end - p;
    const tl = rw.tailLen;
    const w = SCRATCH;
    const lim = { maxPdu: this.maxPdu, maxAssocPdu: this.maxAssocPdu, contexts: this.assoc?.contexts };
    for (let s = -tl; s < n; s++) {
      const b0 = this.byteAt(rw, buf, p, s);
      if (b0 < PduType.AssociateRq || b0 > PduType.Abort) continue;
      const avail = Math.min(n - s, SIG_BYTES);
      const need = signatureBytes(b0);
      if (avail < need) break; // not enough bytes yet: keep from here in the tail
      for (let i = 0; i < need; i++) w[i] = this.byteAt(rw, buf, p, s + i);
      if (!isPduSignature(w, need, lim)) continue;
      ds.state = St.Header;
      ds.hdrLen = 0;
      ds.resync = null;
      if (s < 0) {
        const replay = Buffer.from(rw.tail.subarray(tl + s, tl));
        this.consume(ds, replay, 0, replay.length);
        return p;
      }
      return p + s;
    }
    rw.scanned += n;
    if (rw.scanned > rw.limit) {
      this.rare.resync_failures++;
      if (ds.synced || this.sawDicom) this.malformed(ds, 'resync-failed', 'detach');
      else this.malformed(ds, 'not-dicom', 'detach');
      this.detach();
      return end;
    }
    // Keep the last bytes that could begin a header split by the chunk boundary.
    const keep = Math.min(SIG_BYTES - 1, tl + n);
    for (let i = 0; i < keep; i++) SCRATCH[i] = this.byteAt(rw, buf, p, n - keep + i);
    SCRATCH.copy(rw.tail, 0, 0, keep);
    rw.tailLen = keep;
    return end;
  }

  /** Gives up on the connection; what was learnt so far is reported now, not at end(). */
  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.finishMessages();
    this.emitAssociation();
  }

  private internalError(ds: DirState): number {
    this.rare.internal_errors++;
    try {
      this.malformed(ds, 'internal-error', 'detach');
    } catch {
      // emit itself failed; nothing more to do
    }
    this.detached = true;
    return DETACH;
  }

  // ---------------------------------------------------------------- records

  private association(): Association {
    return this.assoc ?? this.newAssociation();
  }

  private newAssociation(): Association {
    this.assoc = new Association(this.tsSec, this.tsNsec);
    return this.assoc;
  }

  private malformed(
    ds: DirState,
    reason: MalformedReason,
    action: DicomMalformedRecord['action'],
    pduType?: number,
    length?: number,
    issues?: string[],
  ): void {
    this.rare.malformed++;
    if (this.assoc !== null) this.assoc.malformed++;
    if (this.malformedEmitted >= this.maxMalformed) {
      this.rare.records_suppressed++;
      return;
    }
    this.malformedEmitted++;
    const r: DicomMalformedRecord = {
      type: 'dicom.malformed',
      ts_sec: this.tsSec,
      ts_nsec: this.tsNsec,
      direction: dirName(ds.dir),
      reason,
      action,
    };
    if (pduType !== undefined) r.pdu_type = pduType;
    if (length !== undefined) r.length = length;
    if (issues !== undefined && issues.length > 0) r.issues = issues.slice();
    emitTo(this.out, r);
  }

  private credentialRecord(f: CredentialFields): void {
    if (this.emitCredential !== undefined) emitTo(this.emitCredential, { type: 'credential.cleartext', ts_sec: this.tsSec, ts_nsec: this.tsNsec, ...f });
  }

  private emitDimse(ds: DirState, m: Message): void {
    const a = this.association();
    const r = dimseRecord(m, dirName(ds.dir), a.rq?.calling_ae ?? '', a.rq?.called_ae ?? '');
    // Release the peek buffer now rather than with the message.
    m.peek = null;
    if (r.dataset?.truncated) this.rare.datasets_truncated++;
    a.countDimse(r.command, isResponse(r.command_field), r.status_class, r.phi_fields);
    this.metrics?.dimse(r.command);
    emitTo(this.out, r);
  }

  private emitAssociation(endReason?: StreamEndReason): void {
    const a = this.assoc;
    if (a === null || a.emitted || !a.worthReporting) return;
    a.emitted = true;
    const r = a.record(this.tsSec, this.tsNsec, endReason);
    this.metrics?.association(r.result);
    emitTo(this.out, r);
  }
}
