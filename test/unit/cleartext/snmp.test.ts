/**
 * SNMP v1/v2c/v3 over UDP: community strings as fingerprints, PDU types and variable names,
 * fødselsnumre in OCTET STRING values, v3 security levels, bad BER lengths as counters. The
 * hand-built datagrams are checked against tshark, then parsed directly and through the
 * pipeline's UDP dispatch.
 */
import { describe, expect, it } from 'vitest';
import { snmpAnalyzer } from '../../../agent/analyzers/cleartext-analyzers.js';
import { defaultEnvironment } from '../../../agent/analyzers/environment.js';
import { looksLikeSnmp, oidString, parseSnmp, SnmpDatagramParser } from '../../../protocols/cleartext/snmp.js';
import type { CleartextPhiRecord, CleartextRecord, CredentialRecord, SnmpRecord } from '../../../protocols/cleartext/records.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { Direction } from '../../../protocols/stream.js';
import { runFrames } from '../../support/frames.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';
import { rng } from '../../support/streams.js';
import { cleartextRegistry, pseudonymize, toPcap, tsharkFields, udpFlow } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const FNR = '29020456165';

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const int = (v: number) => {
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(x & 0xff);
    x >>= 8;
  } while (x > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
};
const octet = (s: string | Buffer) => tlv(0x04, typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [arcs[0] * 40 + arcs[1]];
  for (const a of arcs.slice(2)) {
    const b: number[] = [a & 0x7f];
    let x = Math.floor(a / 128);
    while (x > 0) {
      b.unshift((x & 0x7f) | 0x80);
      x = Math.floor(x / 128);
    }
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}
const NULL = Buffer.from([0x05, 0x00]);
const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_NAME = '1.3.6.1.2.1.1.5.0';

function pdu(tag: number, requestId: number, varbinds: [string, Buffer][], errorStatus = 0): Buffer {
  return tlv(tag, Buffer.concat([int(requestId), int(errorStatus), int(0), seq(...varbinds.map(([o, v]) => seq(oid(o), v)))]));
}
const v2c = (community: string, p: Buffer, version = 1) => seq(int(version), octet(community), p);

function v3(flags: number, user: string, scoped: Buffer | null): Buffer {
  const usm = seq(octet(Buffer.from('800000090300aabbccddeeff', 'hex')), int(5), int(1234), octet(user), octet(''), octet(''));
  const data = scoped ?? octet(Buffer.alloc(40, 0x99));
  return seq(int(3), seq(int(7), int(65507), octet(Buffer.from([flags])), int(3)), octet(usm), data);
}

function parse(datagrams: [Direction, Buffer][]) {
  const records: CleartextRecord[] = [];
  const p = new SnmpDatagramParser({ emit: (r) => records.push(r), pseudonymize });
  const results = datagrams.map(([dir, d]) => {
    const shell = Buffer.alloc(d.length + 20, 0xee);
    d.copy(shell, 10);
    return p.datagram(dir, shell, 10, d.length, 1_790_000_000, 0);
  });
  return {
    records,
    parser: p,
    results,
    snmp: records.filter((r): r is SnmpRecord => r.type === 'snmp'),
    creds: records.filter((r): r is CredentialRecord => r.type === 'credential.cleartext'),
    phi: records.filter((r): r is CleartextPhiRecord => r.type === 'phi.observed'),
  };
}

const get = v2c('public', pdu(0xa0, 42, [[SYS_DESCR, NULL], [SYS_NAME, NULL]]));
const response = v2c('public', pdu(0xa2, 42, [[SYS_DESCR, octet(`Infusion pump; last patient ${FNR}`)], [SYS_NAME, octet('pump-07')]]));

describe('SNMP', () => {
  it('the hand-built datagrams are what tshark decodes', () => {
    const path = toPcap(udpFlow([{ dir: TS, data: get }, { dir: TC, data: response }], 161), 'snmp.pcap');
    const rows = tsharkFields(path, ['snmp.version', 'snmp.community', 'snmp.name'], 'snmp');
    expect(rows).toEqual([
      ['1', 'public', `${SYS_DESCR},${SYS_NAME}`],
      ['1', 'public', `${SYS_DESCR},${SYS_NAME}`],
    ]);
  });

  it('v2c get and response: one community credential (a fingerprint), the PDU facts, PHI in a value', () => {
    const r = parse([
      [TS, get],
      [TC, response],
    ]);
    expect(r.creds).toEqual([{ type: 'credential.cleartext', ts_sec: 1_790_000_000, ts_nsec: 0, protocol: 'snmp', kind: 'community', secret_fingerprint: pseudonymize('secret', 'public'), snmp_version: '2c' }]);
    expect(r.snmp.map(({ ts_sec: _a, ts_nsec: _b, ...s }) => s)).toEqual([
      { type: 'snmp', direction: 'to_server', version: '2c', pdu_type: 'get-request', error_status: 0, varbind_count: 2, oids: [SYS_DESCR, SYS_NAME] },
      { type: 'snmp', direction: 'to_client', version: '2c', pdu_type: 'response', error_status: 0, varbind_count: 2, oids: [SYS_DESCR, SYS_NAME], phi_kinds: ['fodselsnummer'] },
    ]);
    expect(r.phi).toEqual([expect.objectContaining({ protocol: 'snmp', direction: 'to_client', count: 1, pseudonyms: [pseudonymize('fodselsnummer', FNR)], locations: ['value'] })]);
    const text = JSON.stringify(r.records);
    for (const s of ['public', FNR, 'Infusion', 'pump-07']) expect(text).not.toContain(s);
  });

  it('repeated polls are counted, not reported again; a new community is', () => {
    const r = parse([
      [TS, get],
      [TS, get],
      [TS, get],
      [TS, v2c('private', pdu(0xa3, 43, [[SYS_NAME, octet('x')]]))],
    ]);
    expect(r.snmp.map((s) => s.pdu_type)).toEqual(['get-request', 'set-request']);
    expect(r.creds.map((c) => c.secret_fingerprint)).toEqual([pseudonymize('secret', 'public'), pseudonymize('secret', 'private')]);
    expect(r.parser.counters.datagrams).toBe(4);
  });

  it('v1 traps', () => {
    const trap = seq(
      int(0),
      octet('traps'),
      tlv(0xa4, Buffer.concat([oid('1.3.6.1.4.1.99999'), tlv(0x40, Buffer.from([10, 77, 10, 40])), int(6), int(1), tlv(0x43, Buffer.from([1, 0])), seq(seq(oid('1.3.6.1.4.1.99999.1'), octet(`alarm for ${FNR}`)))])),
    );
    const r = parse([[TS, trap]]);
    expect(r.snmp[0]).toMatchObject({ version: '1', pdu_type: 'trap', varbind_count: 1, oids: ['1.3.6.1.4.1.99999.1'], phi_kinds: ['fodselsnummer'] });
    expect(r.snmp[0].error_status).toBeUndefined();
    expect(r.creds[0]).toMatchObject({ kind: 'community', snmp_version: '1' });
  });

  it('v3: no community; security level and the USM user as a pseudonym; encrypted PDUs are counted', () => {
    const plain = v3(0x04, 'monitor', seq(octet(''), octet(''), pdu(0xa0, 1, [[SYS_DESCR, NULL]])));
    const priv = v3(0x07, 'monitor', null);
    const r = parse([
      [TS, plain],
      [TS, priv],
    ]);
    expect(r.creds).toEqual([]);
    expect(r.snmp.map((s) => [s.version, s.security_level, s.pdu_type, s.username_pseudonym])).toEqual([
      ['3', 'noAuthNoPriv', 'get-request', pseudonymize('username', 'monitor')],
      ['3', 'authPriv', undefined, pseudonymize('username', 'monitor')],
    ]);
    expect(r.parser.counters.encrypted).toBe(1);
  });

  it('bad BER lengths, indefinite lengths, high tags and truncation cost counters, never an exception', () => {
    const past = Buffer.from(get);
    past[1] = 0x7f; // outer length past the datagram
    const indefinite = Buffer.concat([Buffer.from([0x30, 0x80]), get.subarray(2)]);
    const fiveByteLength = Buffer.concat([Buffer.from([0x30, 0x85, 0, 0, 0, 0, 0x10]), get.subarray(2)]);
    const highTag = Buffer.from([0x30, 0x05, 0x1f, 0x81, 0x01, 0x01, 0x00]);
    const badVersion = seq(int(7), octet('public'), pdu(0xa0, 1, []));
    const innerPast = Buffer.from(get);
    innerPast[get.indexOf(Buffer.from([0xa0])) + 1] = 0x7e; // PDU length past the message
    const r = parse([
      [TS, past],
      [TS, indefinite],
      [TS, fiveByteLength],
      [TS, highTag],
      [TS, badVersion],
      [TS, innerPast],
      [TS, get.subarray(0, 20)],
      [TS, Buffer.alloc(0)],
    ]);
    expect(r.parser.counters.malformed).toBe(8);
    expect(r.parser.counters.malformedBy).toMatchObject({ 'bad-length': 4, 'bad-version': 2, 'bad-pdu': 1, 'not-sequence': 1 });
    expect(r.results.every((x) => x === 0)).toBe(true);
    // After enough garbage in a row the flow is let go.
    const junk = parse(Array.from({ length: 16 }, () => [TS, Buffer.from('not snmp at all')] as [Direction, Buffer]));
    expect(junk.results.at(-1)).toBe(-1);
  });

  it('random mutations never throw', () => {
    const rand = rng(5);
    const base = [get, response, v3(0x04, 'monitor', seq(octet(''), octet(''), pdu(0xa0, 1, [[SYS_DESCR, NULL]])))];
    for (let i = 0; i < 2000; i++) {
      const d = Buffer.from(base[i % base.length]);
      for (let k = 0; k < 1 + (i % 5); k++) d[Math.floor(rand() * d.length)] = Math.floor(rand() * 256);
      parse([[TS, d.subarray(0, Math.max(1, Math.floor(rand() * d.length * 1.2)))]]);
    }
  });

  it('OIDs: arcs above 127 and at most 16 arcs', () => {
    const o = oid('1.3.6.1.4.1.2011.2.23.94.1.2.3.4.5.6.7.8.9.10');
    expect(oidString(o, 2, o.length)).toBe('1.3.6.1.4.1.2011.2.23.94.1.2.3.4.5.6');
    expect(parseSnmp(get, 0, get.length).oids).toEqual([SYS_DESCR, SYS_NAME]);
  });

  it('probe: the content must agree; away from 161/162 the whole message must parse', () => {
    const f = snmpAnalyzer(defaultEnvironment(TEST_PSEUDONYM_KEY));
    expect(looksLikeSnmp(get, 0, get.length)).toBe(true);
    expect(f.probe(TS, get, 0, get.length, 161)).toBe(ProbeVerdict.Yes);
    expect(f.probe(TS, get, 0, get.length, 40000)).toBe(ProbeVerdict.Yes);
    const brokenPdu = Buffer.from(get);
    brokenPdu[get.indexOf(Buffer.from([0xa0]))] = 0xb5;
    expect(f.probe(TS, brokenPdu, 0, brokenPdu.length, 161)).toBe(ProbeVerdict.Yes);
    expect(f.probe(TS, brokenPdu, 0, brokenPdu.length, 40000)).toBe(ProbeVerdict.No);
    const dns = Buffer.from('12340100000100000000000003777777076578616d706c6503636f6d0000010001', 'hex');
    expect(f.probe(TS, dns, 0, dns.length, 161)).toBe(ProbeVerdict.No);
    expect(f.probe(TS, Buffer.from('<13>hello'), 0, 9, 161)).toBe(ProbeVerdict.No);
  });

  it('through the pipeline UDP dispatch', () => {
    const { events, flows } = runFrames(udpFlow([{ dir: TS, data: get }, { dir: TC, data: response }], 161), { registry: cleartextRegistry() });
    expect(flows[0].app).toBe('snmp');
    expect(events.filter((e) => e.type === 'credential.cleartext')).toEqual([expect.objectContaining({ protocol: 'snmp', kind: 'community', flow: expect.objectContaining({ dst_port: 161, app: 'snmp' }) })]);
    expect(events.filter((e) => e.type === 'phi.observed')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain('public');
  });
});
