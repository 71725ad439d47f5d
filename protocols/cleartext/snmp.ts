/**
 * SNMP over UDP (161, 162), as a DatagramParser. A bounds-checked BER reader takes each
 * datagram apart without copying: version, community (v1/v2c → `credential.cleartext` kind
 * `community`, only a keyed fingerprint), PDU type, error status, variable names, and
 * fødselsnumre in OCTET STRING values (`phi.observed`). SNMPv3 is noted with its security level
 * and the USM user as a pseudonym. Bad BER (lengths past the datagram, indefinite lengths,
 * high tag numbers) costs a counter. A flow reports an `snmp` record for the first datagram of
 * each (version, PDU type) and for every datagram with PHI.
 */
import type { Pseudonymize } from '../phi/pseudonym.js';
import { scanFnr } from '../phi/fodselsnummer.js';
import type { DatagramParser } from '../datagram.js';
import { DETACH, type Direction } from '../stream.js';
import { CredentialLog } from './credential-log.js';
import { PhiAccumulator } from './phi-scan.js';
import { wireDirection, type CleartextEmit, type SnmpRecord } from './records.js';

const PDU_TYPES = ['get-request', 'get-next-request', 'response', 'set-request', 'trap', 'get-bulk-request', 'inform-request', 'snmpv2-trap', 'report'];
const MAX_OIDS = 4;
const MAX_ARCS = 16;
const MAX_VARBINDS = 256;

/** One TLV read: tag, content [vs, ve). Reused; never allocates. */
export class Ber {
  tag = 0;
  vs = 0;
  ve = 0;

  /** Reads the TLV at buf[pos, end): its tag, or -1 on anything malformed. */
  read(buf: Uint8Array, pos: number, end: number): number {
    if (pos + 2 > end) return -1;
    const tag = buf[pos];
    if ((tag & 0x1f) === 0x1f) return -1; // high tag numbers are not SNMP
    let l = buf[pos + 1];
    let p = pos + 2;
    if (l & 0x80) {
      const n = l & 0x7f;
      if (n === 0 || n > 4 || p + n > end) return -1; // indefinite or absurd
      l = 0;
      for (let i = 0; i < n; i++) l = l * 256 + buf[p + i];
      p += n;
    }
    if (p + l > end) return -1;
    this.tag = tag;
    this.vs = p;
    this.ve = p + l;
    return tag;
  }

  /** INTEGER content as a number (up to 6 bytes, two's complement); NaN if longer. */
  int(buf: Uint8Array): number {
    const n = this.ve - this.vs;
    if (n === 0 || n > 6) return NaN;
    let v = buf[this.vs] & 0x80 ? -1 : 0;
    for (let i = this.vs; i < this.ve; i++) v = v * 256 + buf[i];
    return v;
  }
}

/** Dotted OID from BER content, at most MAX_ARCS arcs; null if malformed. */
export function oidString(buf: Uint8Array, vs: number, ve: number): string | null {
  if (ve <= vs) return null;
  const arcs: number[] = [];
  let v = 0;
  let first = true;
  for (let i = vs; i < ve && arcs.length < MAX_ARCS; i++) {
    const b = buf[i];
    if (v > 2 ** 45) return null;
    v = v * 128 + (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      const x = v < 40 ? 0 : v < 80 ? 1 : 2;
      arcs.push(x, v - 40 * x);
      first = false;
    } else {
      arcs.push(v);
    }
    v = 0;
  }
  return arcs.join('.');
}

export type SnmpStatus = 'ok' | 'not-sequence' | 'bad-length' | 'bad-version' | 'bad-community' | 'bad-pdu' | 'bad-varbinds' | 'encrypted';

export interface SnmpMessage {
  status: SnmpStatus;
  version: number;
  /** Community at [communityStart, communityEnd) of the datagram (v1/v2c). */
  communityStart: number;
  communityEnd: number;
  pduTag: number;
  errorStatus: number;
  varbinds: number;
  oids: string[];
  /** v3 */
  msgFlags: number;
  userStart: number;
  userEnd: number;
}

function newMessage(): SnmpMessage {
  return { status: 'ok', version: -1, communityStart: 0, communityEnd: 0, pduTag: -1, errorStatus: 0, varbinds: 0, oids: [], msgFlags: 0, userStart: 0, userEnd: 0 };
}

const ber = new Ber();

/**
 * Parses one SNMP message. `onValue(start, end)` sees each OCTET STRING value of the variable
 * bindings (for the PHI scan).
 */
export function parseSnmp(buf: Buffer, off: number, len: number, onValue?: (vs: number, ve: number) => void): SnmpMessage {
  const m = newMessage();
  const end = off + len;
  const b = ber;
  const t = b.read(buf, off, end);
  if (t < 0) return fail(m, buf[off] === 0x30 ? 'bad-length' : 'not-sequence');
  if (t !== 0x30) return fail(m, 'not-sequence');
  const msgEnd = b.ve;
  let p = b.vs;
  if (b.read(buf, p, msgEnd) !== 0x02) return fail(m, 'bad-version');
  const version = b.int(buf);
  if (version !== 0 && version !== 1 && version !== 3) return fail(m, 'bad-version');
  m.version = version;
  p = b.ve;
  if (version === 3) return parseV3(m, buf, p, msgEnd, onValue);
  if (b.read(buf, p, msgEnd) !== 0x04) return fail(m, 'bad-community');
  m.communityStart = b.vs;
  m.communityEnd = b.ve;
  return parsePdu(m, buf, b.ve, msgEnd, onValue);
}

function fail(m: SnmpMessage, s: SnmpStatus): SnmpMessage {
  m.status = s;
  return m;
}

function parseV3(m: SnmpMessage, buf: Buffer, p: number, end: number, onValue?: (vs: number, ve: number) => void): SnmpMessage {
  const b = ber;
  // msgGlobalData: msgID, msgMaxSize, msgFlags, msgSecurityModel
  if (b.read(buf, p, end) !== 0x30) return fail(m, 'bad-pdu');
  const gEnd = b.ve;
  let q = b.vs;
  for (let i = 0; i < 3; i++) {
    const t = b.read(buf, q, gEnd);
    if (t < 0) return fail(m, 'bad-pdu');
    if (i === 2) {
      if (t !== 0x04 || b.ve === b.vs) return fail(m, 'bad-pdu');
      m.msgFlags = buf[b.vs];
    }
    q = b.ve;
  }
  p = gEnd;
  // msgSecurityParameters: OCTET STRING holding the USM SEQUENCE
  if (b.read(buf, p, end) !== 0x04) return fail(m, 'bad-pdu');
  const spEnd = b.ve;
  p = spEnd;
  if (b.read(buf, b.vs, spEnd) === 0x30) {
    const uEnd = b.ve;
    q = b.vs;
    for (let i = 0; i < 4; i++) {
      const t = b.read(buf, q, uEnd);
      if (t < 0) break;
      if (i === 3 && t === 0x04) {
        m.userStart = b.vs;
        m.userEnd = b.ve;
      }
      q = b.ve;
    }
  }
  if ((m.msgFlags & 0x02) !== 0) return fail(m, 'encrypted');
  // ScopedPDU: contextEngineID, contextName, PDU
  if (b.read(buf, p, end) !== 0x30) return fail(m, 'bad-pdu');
  const sEnd = b.ve;
  q = b.vs;
  for (let i = 0; i < 2; i++) {
    if (b.read(buf, q, sEnd) !== 0x04) return fail(m, 'bad-pdu');
    q = b.ve;
  }
  return parsePdu(m, buf, q, sEnd, onValue);
}

function parsePdu(m: SnmpMessage, buf: Buffer, p: number, end: number, onValue?: (vs: number, ve: number) => void): SnmpMessage {
  const b = ber;
  const pt = b.read(buf, p, end);
  if (pt < 0xa0 || pt > 0xa8) return fail(m, 'bad-pdu');
  m.pduTag = pt;
  const pEnd = b.ve;
  let q = b.vs;
  // Trap-PDU (v1): enterprise, agent-addr, generic-trap, specific-trap, time-stamp; others:
  // request-id, error-status, error-index.
  const fields = pt === 0xa4 ? 5 : 3;
  for (let i = 0; i < fields; i++) {
    const t = b.read(buf, q, pEnd);
    if (t < 0) return fail(m, 'bad-pdu');
    if (i === 1 && fields === 3 && t === 0x02) m.errorStatus = b.int(buf) || 0;
    q = b.ve;
  }
  if (b.read(buf, q, pEnd) !== 0x30) return fail(m, 'bad-varbinds');
  const vEnd = b.ve;
  q = b.vs;
  while (q < vEnd && m.varbinds < MAX_VARBINDS) {
    if (b.read(buf, q, vEnd) !== 0x30) return fail(m, 'bad-varbinds');
    const next = b.ve;
    const vbEnd = b.ve;
    if (b.read(buf, b.vs, vbEnd) !== 0x06) return fail(m, 'bad-varbinds');
    if (m.oids.length < MAX_OIDS) {
      const oid = oidString(buf, b.vs, b.ve);
      if (oid !== null) m.oids.push(oid);
    }
    const vt = b.read(buf, b.ve, vbEnd);
    if (vt < 0) return fail(m, 'bad-varbinds');
    if (vt === 0x04 && onValue) onValue(b.vs, b.ve);
    m.varbinds++;
    q = next;
  }
  return m;
}

export interface SnmpParserOptions {
  emit: CleartextEmit;
  pseudonymize: Pseudonymize;
  /** Distinct (version, PDU type) reported per flow. Default 16. */
  maxKinds?: number;
  /** Consecutive unparseable datagrams before detaching. Default 16. */
  maxBad?: number;
}

export interface SnmpCounters {
  datagrams: number;
  reported: number;
  malformed: number;
  /** Per failure reason. */
  malformedBy: Partial<Record<SnmpStatus, number>>;
  encrypted: number;
  phiDatagrams: number;
}

export class SnmpDatagramParser implements DatagramParser {
  readonly counters: SnmpCounters = { datagrams: 0, reported: 0, malformed: 0, malformedBy: {}, encrypted: 0, phiDatagrams: 0 };
  private readonly emit: CleartextEmit;
  private readonly pseudonymize: Pseudonymize;
  private readonly creds: CredentialLog;
  private readonly maxKinds: number;
  private readonly maxBad: number;
  private readonly seen: string[] = [];
  private bad = 0;

  constructor(opts: SnmpParserOptions) {
    this.emit = opts.emit;
    this.pseudonymize = opts.pseudonymize;
    this.creds = new CredentialLog(opts.pseudonymize, 'snmp', opts.emit);
    this.maxKinds = opts.maxKinds ?? 16;
    this.maxBad = opts.maxBad ?? 16;
  }

  datagram(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    this.counters.datagrams++;
    let phi: PhiAccumulator | null = null;
    const m = parseSnmp(buf, off, len, (vs, ve) => {
      if (ve - vs < 11 || scanFnr(buf, vs, ve - vs) === 0) return;
      phi ??= new PhiAccumulator(this.pseudonymize);
      phi.scan(buf, vs, ve - vs, 'value');
    });
    if (m.version < 0) {
      this.counters.malformed++;
      this.counters.malformedBy[m.status] = (this.counters.malformedBy[m.status] ?? 0) + 1;
      return ++this.bad >= this.maxBad ? DETACH : 0;
    }
    this.bad = 0;
    if (m.status === 'encrypted') this.counters.encrypted++;
    else if (m.status !== 'ok') {
      this.counters.malformed++;
      this.counters.malformedBy[m.status] = (this.counters.malformedBy[m.status] ?? 0) + 1;
    }
    const version = m.version === 0 ? '1' : m.version === 1 ? '2c' : '3';
    if (m.version !== 3 && m.status !== 'bad-community') {
      const community = buf.toString('latin1', m.communityStart, m.communityEnd);
      const c = this.creds.record('community', undefined, community, tsSec, tsNsec);
      c.snmp_version = version;
      this.creds.report(c);
    }
    const pdu = m.pduTag >= 0xa0 ? PDU_TYPES[m.pduTag - 0xa0] : undefined;
    const p = phi as PhiAccumulator | null;
    const key = `${version}|${pdu ?? ''}`;
    const fresh = !this.seen.includes(key);
    if (fresh && this.seen.length < this.maxKinds) this.seen.push(key);
    if (!fresh && p === null) return 0;
    this.counters.reported++;
    const r: SnmpRecord = { type: 'snmp', ts_sec: tsSec, ts_nsec: tsNsec, direction: wireDirection(dir), version };
    if (pdu !== undefined) r.pdu_type = pdu;
    if (m.pduTag >= 0xa0 && m.pduTag !== 0xa4) r.error_status = m.errorStatus;
    if (m.pduTag >= 0xa0) r.varbind_count = m.varbinds;
    if (m.oids.length > 0) r.oids = m.oids;
    if (m.version === 3) {
      const f = m.msgFlags & 3;
      r.security_level = f === 0 ? 'noAuthNoPriv' : f === 1 ? 'authNoPriv' : 'authPriv';
      if (m.userEnd > m.userStart) r.username_pseudonym = this.pseudonymize('username', buf.toString('utf8', m.userStart, m.userEnd));
    }
    if (p !== null) r.phi_kinds = p.kinds;
    this.emit(r);
    if (p !== null) {
      this.counters.phiDatagrams++;
      this.emit({
        type: 'phi.observed',
        ts_sec: tsSec,
        ts_nsec: tsNsec,
        protocol: 'snmp',
        direction: wireDirection(dir),
        kinds: p.kinds,
        count: p.occurrences,
        distinct: p.distinct,
        pseudonyms: p.pseudonyms,
        locations: ['value'],
      });
    }
    return 0;
  }

  end(): void {}
}

/** An SNMP message: a BER SEQUENCE spanning the datagram, then INTEGER version 0, 1 or 3. */
export function looksLikeSnmp(buf: Buffer, off: number, len: number): boolean {
  const b = new Ber();
  if (b.read(buf, off, off + len) !== 0x30 || b.ve !== off + len) return false;
  if (b.read(buf, b.vs, b.ve) !== 0x02 || b.ve - b.vs !== 1) return false;
  const v = buf[b.vs];
  return v === 0 || v === 1 || v === 3;
}
