import { wireDirection } from '../events/wire-direction.js';
import type { Pseudonymize } from '../phi/pseudonym.js';
import { DETACH, emitTo, type Direction, type RecordOut, type StreamEndReason, type StreamParser } from '../stream.js';
import { AckTracker, DEFAULT_ACK_TIMEOUT_MS, DEFAULT_MAX_OUTSTANDING, type Pending } from './ack-tracker.js';
import { DEFAULT_MAX_MESSAGE_SIZE, FrameFlags, type Framer, type FramerCounters, type FrameSink } from './framing.js';
import { Hl7Scanner, readAck, readEquipment, readHeader, Seg, type Hl7AckInfo, type Hl7Header } from './message.js';
import { MllpFramer } from './mllp-framer.js';
import { readPhi } from './phi.js';
import type { Hl7Counters, Hl7MessageRecord, Hl7Record, Hl7UndeliveredRecord, PhiObservedRecord } from './records.js';
import { UnframedFramer } from './unframed-framer.js';

export interface Hl7ParserOptions {
  /** Receives every record, synchronously: a function, or an object with an emit method (the flow's context, without a closure per connection). */
  emit: RecordOut<Hl7Record>;
  /** Keyed pseudonymizer for identifiers; without it records carry kinds and counts only. */
  pseudonymize?: Pseudonymize;
  /** Default 4 MiB. */
  maxMessageSize?: number;
  /** The policy's hl7.ack_timeout_s in ms. Default 30 s. */
  ackTimeoutMs?: number;
  /** Outstanding messages per connection. Default 10,000. */
  maxOutstanding?: number;
  /** HL7 without MLLP (a port the policy declares). A stream that starts with VT is still read as MLLP. */
  unframed?: boolean;
  /** Give up on a connection that shows no HL7 frame in this many bytes. Default 1 MiB. */
  detachAfterBytes?: number;
}

/** One scanner for all connections: parsing is synchronous, so it is never shared mid-use. */
const scanner = new Hl7Scanner();

const NEGATIVE = new Set(['AE', 'AR', 'CE', 'CR']);

/**
 * Whether the sender asked for an acknowledgement. Original mode (MSH-15/16 empty) always
 * expects one; in enhanced mode only AL/SU do, and ER means "only on error" — silence is success.
 */
function expectsAck(h: Hl7Header): boolean {
  const a = h.acceptAckType;
  const b = h.applicationAckType;
  if (a === '' && b === '') return true;
  return a === 'AL' || a === 'SU' || b === 'AL' || b === 'SU';
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function newCounters(): Hl7Counters {
  return {
    frames: 0,
    messages: 0,
    responses: 0,
    batches: 0,
    nonHl7Frames: 0,
    truncatedMessages: 0,
    oversizeFrames: 0,
    oversizeBytes: 0,
    bytesOutsideFrames: 0,
    unterminatedFrames: 0,
    framesLostToGap: 0,
    commitAcks: 0,
    commitNaks: 0,
    acksMatched: 0,
    acksUnmatched: 0,
    negativeAcks: 0,
    ackTimeouts: 0,
    closedOutstanding: 0,
    outstandingOverflow: 0,
    gaps: 0,
    gapBytes: 0,
    phiMessages: 0,
  };
}

interface OrphanAck {
  ack: Hl7AckInfo;
  ackMs: number;
}

/**
 * MSH-9.1^MSH-9.2 as one string. Codes and events come interned from the header reader and
 * a link repeats a handful of types, so the last few joined strings are handed out again.
 */
function messageType(code: string, event: string): string {
  if (event === '') return code;
  for (let i = 0; i < TYPE_CACHE; i++) {
    if (typeCodes[i] === code && typeEvents[i] === event) return typeTexts[i];
  }
  const slot = typeNext;
  typeNext = (typeNext + 1) % TYPE_CACHE;
  typeCodes[slot] = code;
  typeEvents[slot] = event;
  typeTexts[slot] = `${code}^${event}`;
  return typeTexts[slot];
}
const TYPE_CACHE = 8;
const typeCodes: string[] = new Array<string>(TYPE_CACHE).fill('');
const typeEvents: string[] = new Array<string>(TYPE_CACHE).fill('');
const typeTexts: string[] = new Array<string>(TYPE_CACHE).fill('');
let typeNext = 0;

/** The MSH-10 ids found in one direction's unfinished frame, and the frame state they belong to. */
interface PartialIds {
  frames: number;
  len: number;
  ids: Set<string>;
}

/** Offsets into Hl7StreamParser's per-direction times: last seconds, nanoseconds, ms, then the same before them. */
const enum Time {
  LastSec = 0,
  LastNsec = 1,
  LastMs = 2,
  PrevSec = 3,
  PrevNsec = 4,
  PrevMs = 5,
  PerDirection = 6,
}

/**
 * HL7 v2 over one TCP connection: frames both directions, parses each message once, pairs
 * messages with the ACK that comes back the other way (MSA-2 = MSH-10) and reports messages
 * that were refused, never answered or left outstanding when the connection ended.
 *
 * The parser is its framers' sink (they pass their direction) and keeps its state in fields and
 * in objects made on first use: connections sit open for hours between messages, and what
 * each one holds meanwhile is multiplied by every open connection.
 */
export class Hl7StreamParser implements StreamParser, FrameSink {
  // Counted for nearly every message: plain fields. The rest (anomalies, gaps, batches, commit
  // ACKs, the framers' counts) live in `rare`, made when the first of them is counted.
  private messages = 0;
  private responses = 0;
  private acksMatched = 0;
  private phiMessages = 0;
  private rare: Hl7Counters | null = null;
  /** The framers of Direction.ToServer and Direction.ToClient. */
  private framer0: Framer;
  private framer1: Framer;
  /** Made when a message waits for its ACK, released when none does. */
  private tracker: AckTracker<Hl7MessageRecord> | null = null;
  private readonly ackTimeoutMs: number;
  private readonly maxOutstanding: number;
  private readonly out: RecordOut<Hl7Record>;
  private readonly pseudonymize: Pseudonymize | undefined;
  private readonly unframed: boolean;
  private readonly detachAfterBytes: number;
  private readonly maxMessageSize: number;
  /** Capture gaps per direction, made on the first gap. */
  private gapsByDir: [number, number] | null = null;
  private bytesSeen = 0;
  private nowSec = 0;
  private nowNsec = 0;
  private nowMs = 0;
  /**
   * Capture time of each direction's latest bytes, and of the bytes before them: a frame flushed
   * later was complete by then. Six numbers per direction (Time.*) in one array, not six arrays.
   */
  private readonly times: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  private ended = false;
  private orphans: OrphanAck[] | null = null;
  /** Frames delivered per direction (Direction.ToServer, ToClient). */
  private frames0 = 0;
  private frames1 = 0;
  /** The control ids of each direction's unfinished frame (see partialControlIds), made on first use. */
  private partialIds: [PartialIds | null, PartialIds | null] | null = null;
  /** Unframed mode: bit 1 << dir is set once that direction's first byte was looked at (VT switches to MLLP). */
  private sniffed = 0;

  constructor(opts: Hl7ParserOptions) {
    this.out = opts.emit;
    this.pseudonymize = opts.pseudonymize;
    this.unframed = opts.unframed === true;
    this.detachAfterBytes = opts.detachAfterBytes ?? 1024 * 1024;
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.maxOutstanding = opts.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
    this.framer0 = this.makeFramer(0);
    this.framer1 = this.makeFramer(1);
  }

  private makeFramer(dir: Direction): Framer {
    return this.unframed ? new UnframedFramer(this, dir, this.maxMessageSize) : new MllpFramer(this, dir, this.maxMessageSize);
  }

  private framer(dir: Direction): Framer {
    return dir === 0 ? this.framer0 : this.framer1;
  }

  /** The counters made on the first thing only they count. */
  private counted(): Hl7Counters {
    return (this.rare ??= newCounters());
  }

  /** FrameSink: the framers count anomalies and commit ACKs in the same object. */
  framerCounters(): FramerCounters {
    return this.counted();
  }

  /** FrameSink: commit ACKs are only counted (by the framer). */
  onCommitAck(): void {}

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.ended) return DETACH;
    this.setNow(tsSec, tsNsec);
    this.expire();
    if (this.unframed) {
      if ((this.sniffed & (1 << dir)) === 0) this.sniff(dir, buf, off, len);
      // Unframed: the peer speaking means the other side's message is complete.
      if (len > 0) this.framer((dir ^ 1) as Direction).flush();
    }
    const t = this.times;
    const at = dir * Time.PerDirection;
    t[at + Time.PrevSec] = t[at + Time.LastSec];
    t[at + Time.PrevNsec] = t[at + Time.LastNsec];
    t[at + Time.PrevMs] = t[at + Time.LastMs];
    t[at + Time.LastSec] = this.nowSec;
    t[at + Time.LastNsec] = this.nowNsec;
    t[at + Time.LastMs] = this.nowMs;
    this.framer(dir).push(buf, off, len);
    this.bytesSeen += len;
    if (this.bytesSeen > this.detachAfterBytes && this.neverSawHl7()) return DETACH;
    return 0;
  }

  gap(dir: Direction, len: number): void {
    const c = this.counted();
    c.gaps++;
    c.gapBytes += len;
    (this.gapsByDir ??= [0, 0])[dir]++;
    this.framer(dir).gap();
  }

  end(reason: StreamEndReason): void {
    if (this.ended) return;
    // Frames without an end block are delivered: the sender may never send one.
    this.framer0.flush();
    this.framer1.flush();
    this.ended = true;
    // What already passed its deadline is a timeout, not a casualty of the close.
    this.expire();
    if (this.tracker === null) return;
    for (const e of this.tracker.drain()) {
      this.counted().closedOutstanding++;
      emitTo(this.out, e.data);
      emitTo(this.out, this.undelivered(e, 'connection-closed', { waited_ms: round3(this.nowMs - e.sentMs), end_reason: reason }));
    }
  }

  /** Advances capture time without data, so ACK timeouts fire on quiet connections. */
  tick(tsSec: number, tsNsec: number): void {
    if (this.ended) return;
    this.setNow(tsSec, tsNsec);
    this.expire();
  }

  /** Messages waiting for an ACK. */
  get outstanding(): number {
    return this.tracker === null ? 0 : this.tracker.size;
  }

  /** Bytes buffered by the framers (bounded by maxMessageSize per direction). */
  get bufferedBytes(): number {
    return this.framer0.capacity() + this.framer1.capacity();
  }

  /** This connection's counters so far (a new object per read, e.g. at end()). */
  get counters(): Hl7Counters {
    const c = this.rare === null ? newCounters() : { ...this.rare };
    c.frames = this.frames0 + this.frames1;
    c.messages = this.messages;
    c.responses = this.responses;
    c.acksMatched = this.acksMatched;
    c.phiMessages = this.phiMessages;
    return c;
  }

  /** No frame yet and none in progress (a big first message is not a reason to give up). */
  private neverSawHl7(): boolean {
    return (
      this.frames0 + this.frames1 === 0 &&
      (this.rare === null || this.rare.oversizeFrames === 0) &&
      this.framer0.partial() === null &&
      this.framer1.partial() === null
    );
  }

  private setNow(tsSec: number, tsNsec: number): void {
    const ms = tsSec * 1000 + tsNsec / 1e6;
    // Capture time can step back a little between directions; never move the clock backwards.
    if (ms < this.nowMs) return;
    this.nowSec = tsSec;
    this.nowNsec = tsNsec;
    this.nowMs = ms;
  }

  private sniff(dir: Direction, buf: Buffer, off: number, len: number): void {
    for (let i = off; i < off + len; i++) {
      const b = buf[i];
      if (b === 0x0d || b === 0x0a || b === 0x20) continue;
      this.sniffed |= 1 << dir;
      if (b === 0x0b) {
        const mllp = new MllpFramer(this, dir, this.maxMessageSize);
        if (dir === 0) this.framer0 = mllp;
        else this.framer1 = mllp;
      }
      return;
    }
  }

  private expire(): void {
    const tracker = this.tracker;
    if (tracker === null || tracker.size === 0) return;
    for (let e = tracker.takeExpired(this.nowMs); e !== null; e = tracker.takeExpired(this.nowMs)) {
      this.counted().ackTimeouts++;
      emitTo(this.out, e.data);
      const rec = this.undelivered(e, 'ack-timeout', { waited_ms: round3(this.nowMs - e.sentMs) });
      if (this.gapsIn(e.dir ^ 1) !== e.gapsAtSend) rec.capture_loss = true;
      emitTo(this.out, rec);
    }
    this.releaseIdleTracker();
  }

  /**
   * Lets go of the tracker once nothing waits for an ACK: between messages it would keep its
   * maps, and the answered messages' records until its queue is compacted.
   */
  private releaseIdleTracker(): void {
    if (this.tracker !== null && this.tracker.size === 0) this.tracker = null;
  }

  private gapsIn(dir: number): number {
    return this.gapsByDir === null ? 0 : this.gapsByDir[dir];
  }

  /** FrameSink: one frame of `dir`, delivered by its framer. */
  onFrame(dir: Direction, buf: Buffer, off: number, len: number, flags: FrameFlags): void {
    if (dir === 0) this.frames0++;
    else this.frames1++;
    const sc = scanner;
    const n = sc.scan(buf, off, len);
    if (n === 0) {
      this.counted().nonHl7Frames++;
      return;
    }
    if (sc.truncated) this.counted().truncatedMessages++;
    let batchId = '';
    let s = 0;
    while (s < n) {
      const id = sc.segId[s];
      if (id === Seg.BHS || id === Seg.FHS) {
        sc.useHeader(s);
        const b = sc.field(s, 11) ? sc.text(sc.rs, sc.re) : '';
        // BHS-11 names the batch a batch-level ACK refers to; FHS-11 only if there is no BHS.
        if (id === Seg.BHS) {
          this.counted().batches++;
          batchId = b;
        } else if (batchId === '') batchId = b;
        s++;
        continue;
      }
      if (id !== Seg.MSH) {
        s++;
        continue;
      }
      let t = s + 1;
      while (t < n) {
        const u = sc.segId[t];
        if (u === Seg.MSH || u === Seg.BHS || u === Seg.FHS || u === Seg.BTS || u === Seg.FTS) break;
        t++;
      }
      this.onMessage(dir, s, t, batchId, flags);
      s = t;
    }
    if (this.orphans !== null) this.retryOrphans(dir);
  }

  private onMessage(dir: Direction, from: number, to: number, batchId: string, flags: FrameFlags): void {
    const sc = scanner;
    const earlier = (flags & FrameFlags.EndedEarlier) !== 0;
    const at = dir * Time.PerDirection + (earlier ? Time.PrevSec : Time.LastSec);
    const tsSec = this.times[at];
    const tsNsec = this.times[at + 1];
    const tsMs = this.times[at + 2];
    const h = readHeader(sc, from);
    const ack = readAck(sc, from, to);
    const phi = readPhi(sc, from, to, this.pseudonymize);
    this.messages++;

    const rec: Hl7MessageRecord = {
      type: 'hl7.message',
      ts_sec: tsSec,
      ts_nsec: tsNsec,
      direction: wireDirection(dir),
      message_type: messageType(h.messageCode, h.triggerEvent),
      message_structure: h.messageStructure,
      control_id: h.controlId,
      version: h.version,
      processing_id: h.processingId,
      message_datetime: h.dateTime,
      sending_application: h.sendingApplication,
      sending_facility: h.sendingFacility,
      receiving_application: h.receivingApplication,
      receiving_facility: h.receivingFacility,
      charset: h.charset,
      equipment_ids: equipmentPseudonyms(readEquipment(sc, from, to), this.pseudonymize),
      phi_fields: phi === null ? [] : phi.fields,
      // Declared up front, undefined until known (JSON leaves them out): set later, they would
      // give each answered message a second shape and an out-of-object property store.
      ack_code: undefined,
      ack_latency_ms: undefined,
      acknowledgment: undefined,
      batch_control_id: batchId !== '' ? batchId : undefined,
      unterminated: (flags & FrameFlags.Unterminated) !== 0 ? true : undefined,
    };

    if (phi !== null) this.phiMessages++;
    if (phi !== null && phi.count > 0) {
      const p: PhiObservedRecord = {
        type: 'phi.observed',
        ts_sec: tsSec,
        ts_nsec: tsNsec,
        direction: wireDirection(dir),
        protocol: 'hl7',
        kinds: phi.kinds,
        count: phi.count,
        pseudonyms: phi.pseudonyms,
        phi_fields: phi.fields,
        control_id: h.controlId,
      };
      emitTo(this.out, p);
    }

    if (ack !== null) {
      this.responses++;
      rec.acknowledgment = { code: ack.code, control_id: ack.controlId, error_codes: ack.errorCodes, severities: ack.severities };
      // The answered message goes out first, so consumers see request before response.
      if (!this.resolve(dir, ack, tsMs)) {
        // Maybe the message it answers is still in the other framer, missing its end block.
        if (this.framer((dir ^ 1) as Direction).partial() !== null) (this.orphans ??= []).push({ ack, ackMs: tsMs });
        else this.counted().acksUnmatched++;
      }
      emitTo(this.out, rec);
      return;
    }

    if (h.controlId === '' || !expectsAck(h)) {
      emitTo(this.out, rec);
      return;
    }
    const tracker = (this.tracker ??= new AckTracker(this.ackTimeoutMs, this.maxOutstanding));
    const evicted = tracker.add(dir, h.controlId, batchId, tsMs, this.gapsIn(dir ^ 1), rec);
    if (evicted !== null) {
      this.counted().outstandingOverflow++;
      emitTo(this.out, evicted.data);
    }
  }

  /** Pairs a response arriving in `dir` with what it answers. */
  private resolve(dir: Direction, ack: Hl7AckInfo, ackMs: number): boolean {
    const tracker = this.tracker;
    if (tracker === null) return false;
    const e = tracker.match(dir, ack.controlId);
    if (e !== null) {
      this.answer(e, ack, ackMs);
      this.releaseIdleTracker();
      return true;
    }
    const batch = tracker.matchBatch(dir, ack.controlId);
    for (const b of batch) this.answer(b, ack, ackMs);
    this.releaseIdleTracker();
    return batch.length > 0;
  }

  private answer(e: Pending<Hl7MessageRecord>, ack: Hl7AckInfo, ackMs: number): void {
    this.acksMatched++;
    const latency = round3(Math.max(0, ackMs - e.sentMs));
    const rec = e.data;
    rec.ack_code = ack.code;
    rec.ack_latency_ms = latency;
    emitTo(this.out, rec);
    if (NEGATIVE.has(ack.code)) {
      this.counted().negativeAcks++;
      const u = this.undelivered(e, 'negative-ack', { ack_code: ack.code, ack_latency_ms: latency });
      if (ack.errorCodes.length > 0) u.error_codes = ack.errorCodes;
      emitTo(this.out, u);
    }
  }

  /**
   * ACKs that matched nothing while the other direction holds an unfinished frame: if that
   * frame is the answered message (its sender omits end blocks), deliver it and pair them.
   */
  private retryOrphans(dir: Direction): void {
    const orphans = this.orphans!;
    this.orphans = null;
    const other = this.framer((dir ^ 1) as Direction);
    const p = other.partial();
    let found = false;
    if (p !== null) {
      const ids = this.partialControlIds(dir ^ 1, p);
      for (const o of orphans) if (ids.has(o.ack.controlId)) found = true;
    }
    if (found) other.flush();
    for (const o of orphans) if (!found || !this.resolve(dir, o.ack, o.ackMs)) this.counted().acksUnmatched++;
  }

  /**
   * MSH-10 ids in the unfinished frame of `dir`, scanned once per frame state: every unmatched
   * ACK retries against it, and rescanning a large frame per ACK would be quadratic.
   */
  private partialControlIds(dir: Direction, p: Buffer): Set<string> {
    const cache = (this.partialIds ??= [null, null]);
    const frames = dir === 0 ? this.frames0 : this.frames1;
    const c = cache[dir];
    // The frame only grows until it completes: same frame count and length = same bytes.
    if (c !== null && c.frames === frames && c.len === p.length) return c.ids;
    const ids = new Set<string>();
    if (scanner.scan(p, 0, p.length) > 0) {
      for (let s = 0; s < scanner.count; s++) {
        if (scanner.segId[s] === Seg.MSH && scanner.field(s, 10)) ids.add(scanner.text(scanner.rs, scanner.re));
      }
    }
    cache[dir] = { frames, len: p.length, ids };
    return ids;
  }

  private undelivered(
    e: Pending<Hl7MessageRecord>,
    reason: Hl7UndeliveredRecord['reason'],
    extra: Partial<Hl7UndeliveredRecord>,
  ): Hl7UndeliveredRecord {
    const m = e.data;
    return {
      type: 'hl7.undelivered',
      ts_sec: this.nowSec,
      ts_nsec: this.nowNsec,
      direction: m.direction,
      reason,
      message_type: m.message_type,
      control_id: m.control_id,
      version: m.version,
      sending_application: m.sending_application,
      sending_facility: m.sending_facility,
      receiving_application: m.receiving_application,
      receiving_facility: m.receiving_facility,
      ...extra,
    };
  }
}

/**
 * Equipment ids name devices, but a misframed or hostile message puts a patient's name or
 * number into the same `A^B` shape, and no syntax tells them apart: they go out as keyed
 * pseudonyms (one device keeps one token, so it can still be followed), or not at all without a key.
 */
function equipmentPseudonyms(ids: string[], pseudonymize: Pseudonymize | undefined): string[] {
  if (ids.length === 0) return ids;
  if (pseudonymize === undefined) return [];
  for (let i = 0; i < ids.length; i++) ids[i] = pseudonymize('equipment_id', ids[i]);
  return ids;
}
