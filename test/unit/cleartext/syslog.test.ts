/**
 * Syslog: header parsing (RFC 3164 with and without hostname, RFC 5424), the corpus capture's
 * datagrams against tshark's ground truth, the same through the pipeline's UDP dispatch,
 * syslog over TCP with octet counting and LF framing in any chunking, PHI in messages (never
 * the text), and garbage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syslogTcpAnalyzer, syslogUdpAnalyzer } from '../../../agent/analyzers/cleartext-analyzers.js';
import { defaultEnvironment } from '../../../agent/analyzers/environment.js';
import type { CleartextPhiRecord, CleartextRecord, SyslogRecord } from '../../../protocols/cleartext/records.js';
import { parseSyslogHeader, SyslogDatagramParser, SyslogStreamParser } from '../../../protocols/cleartext/syslog.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { Direction } from '../../../protocols/stream.js';
import { analyzeFiles } from '../../support/analyze.js';
import { runFrames } from '../../support/frames.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';
import { drive, rng, type Chunking, type Segment } from '../../support/streams.js';
import { cleartextRegistry, CORPUS, pseudonymize, tcpSession, udpPayloads } from './support.js';

const TS = Direction.ToServer;
const FNR = '03116210443';

const split = (records: CleartextRecord[]) => ({
  syslog: records.filter((r): r is SyslogRecord => r.type === 'syslog'),
  phi: records.filter((r): r is CleartextPhiRecord => r.type === 'phi.observed'),
});

describe('syslog headers', () => {
  const h = (s: string) => {
    const b = Buffer.from(s, 'latin1');
    return parseSyslogHeader(b, 0, b.length);
  };

  it('RFC 3164 with timestamp, hostname and tag[pid]', () => {
    expect(h('<34>Oct 11 22:14:15 mymachine su[231]: su root failed')).toEqual({ format: 'rfc3164', pri: 34, hostname: 'mymachine', appName: 'su', procId: '231' });
    expect(h('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!')).toEqual({ format: 'rfc3164', pri: 13, hostname: '10.0.0.99' });
  });

  it('RFC 3164 without hostname or without timestamp', () => {
    expect(h('<13>Oct 11 22:14:15 usapp: study opened')).toEqual({ format: 'rfc3164', pri: 13, appName: 'usapp' });
    expect(h('<189>pump-agent[77]: battery low')).toEqual({ format: 'rfc3164', pri: 189, appName: 'pump-agent', procId: '77' });
    expect(h('<0>plain text')).toEqual({ format: 'rfc3164', pri: 0 });
  });

  it('RFC 5424 with nil values', () => {
    expect(h('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event')).toEqual({
      format: 'rfc5424',
      pri: 165,
      hostname: 'mymachine.example.com',
      appName: 'evntslog',
      msgId: 'ID47',
    });
    expect(h('<14>1 - - - - - -')).toEqual({ format: 'rfc5424', pri: 14 });
  });

  it('rejects what is not a PRI, and drops header fields that hold a fødselsnummer', () => {
    for (const s of ['<192>x', '<01>x', '<>x', '<1234>x', '13>x', '<1a>x', '', '<1']) expect(h(s), s).toBeNull();
    expect(h(`<14>1 2024-01-01T00:00:00Z ${FNR} app - - - x`)).toEqual({ format: 'rfc5424', pri: 14, appName: 'app' });
  });
});

describe('syslog on the corpus (18)', () => {
  const truth = JSON.parse(readFileSync(join(CORPUS, '18_syslog_phi.json'), 'utf8')).flows as { syslog: Record<string, string[]> }[];

  it('datagram by datagram: facility and severity as tshark has them, PHI in two of three, no text', () => {
    const payloads = udpPayloads('18_syslog_phi.pcap');
    expect(payloads).toHaveLength(3);
    const records: CleartextRecord[] = [];
    for (const p of payloads) {
      const parser = new SyslogDatagramParser({ emit: (r) => records.push(r), pseudonymize });
      expect(parser.datagram(TS, p.payload, 0, p.payload.length, 1, 0)).toBe(0);
    }
    const { syslog, phi } = split(records);
    expect(syslog.map((s) => [String(s.facility), String(s.severity)])).toEqual(truth.map((f) => [f.syslog['syslog.facility'][0], f.syslog['syslog.level'][0]]));
    expect(syslog.map((s) => [s.format, s.hostname, s.app_name, s.facility_name, s.severity_name, s.phi_kinds])).toEqual([
      ['rfc3164', 'vm', 'usapp', 'local0', 'info', undefined],
      ['rfc3164', 'vm', 'usapp', 'local0', 'warning', ['fodselsnummer']],
      ['rfc5424', 'vm', 'usapp', 'local0', 'err', ['fodselsnummer']],
    ]);
    expect(phi.map((p) => [p.protocol, p.count, p.pseudonyms])).toEqual([
      ['syslog', 1, [pseudonymize('fodselsnummer', FNR)]],
      ['syslog', 1, [pseudonymize('fodselsnummer', FNR)]],
    ]);
    const text = JSON.stringify(records);
    for (const s of [FNR, 'HANSEN', 'OLA', 'JOHAN', 'A24010', 'PACS_MAIN', 'export', 'retry']) expect(text).not.toContain(s);
  });

  it('through the pipeline UDP dispatch', async () => {
    const r = await analyzeFiles([join(CORPUS, '18_syslog_phi.pcap')], { registry: cleartextRegistry() });
    expect(r.error).toBeUndefined();
    expect(r.flows.map((f) => f.app)).toEqual(['syslog', 'syslog', 'syslog']);
    expect(r.events.filter((e) => e.type === 'syslog')).toHaveLength(3);
    const phi = r.events.filter((e) => e.type === 'phi.observed');
    expect(phi).toHaveLength(2);
    expect(phi.every((e) => e.protocol === 'syslog' && e.count === 1)).toBe(true);
  });
});

describe('syslog over TCP', () => {
  const msgs = [`<14>Nov 23 13:39:57 vm usapp: patient ${FNR} ready`, '<14>Nov 23 13:39:58 vm usapp: idle', '<11>1 2026-11-23T13:39:57Z vm usapp 12 ERR - failed for 29020456165'];
  const counted = msgs.map((m) => `${Buffer.byteLength(m)} ${m}`).join('');
  const lf = msgs.join('\n') + '\n';

  function run(data: string | Buffer, chunking: Chunking) {
    const records: CleartextRecord[] = [];
    const parser = new SyslogStreamParser({ emit: (r) => records.push(r), pseudonymize });
    const segs: Segment[] = [{ dir: TS, data: typeof data === 'string' ? Buffer.from(data) : data }];
    const driven = drive(parser, segs, chunking, 3);
    parser.end('fin');
    return { records, parser, driven, ...split(records) };
  }

  it.each(['segments', 'tiny', 'random'] as Chunking[])('octet counting and LF framing give the same records (%s)', (chunking) => {
    for (const data of [counted, lf]) {
      const r = run(data, chunking);
      // The second message repeats the first one's header without PHI: counted, not reported.
      expect(r.syslog.map((s) => [s.format, s.severity, s.app_name, s.proc_id, s.msg_id, s.phi_kinds])).toEqual([
        ['rfc3164', 6, 'usapp', undefined, undefined, ['fodselsnummer']],
        ['rfc5424', 3, 'usapp', '12', 'ERR', ['fodselsnummer']],
      ]);
      expect(r.parser.counters).toMatchObject({ messages: 3, reported: 2 });
      expect(r.phi.map((p) => p.pseudonyms[0])).toEqual([pseudonymize('fodselsnummer', FNR), pseudonymize('fodselsnummer', '29020456165')]);
    }
  });

  it('a last LF-framed message without LF is still read at the end', () => {
    expect(run(`<14>x: ${FNR}`, 'tiny').phi).toHaveLength(1);
  });

  it('repeats of one header are counted, not reported; PHI messages always are', () => {
    const line = '<14>Nov 23 13:39:58 vm usapp: idle\n';
    const r = run(line.repeat(50) + `<14>Nov 23 13:39:58 vm usapp: ${FNR}\n`, 'random');
    expect(r.syslog).toHaveLength(2);
    expect(r.parser.counters).toMatchObject({ messages: 51, reported: 2, phiMessages: 1 });
  });

  it('an over-long counted message is scanned to 64 KiB and the rest skipped', () => {
    const body = `<14>app: ${'x'.repeat(200_000)} ${FNR}`;
    const r = run(`${body.length} ${body}<14>app: next\n`, 'mss');
    expect(r.driven.skipped).toBeGreaterThan(100_000);
    expect(r.parser.counters.longMessages).toBe(1);
    expect(r.syslog).toHaveLength(1);
  });

  it('garbage loses framing, resynchronises at LF, and is let go after 64 KiB', () => {
    const r = run('garbage here\n<14>app: ok\n', 'tiny');
    expect(r.syslog).toHaveLength(1);
    const junk = run(Buffer.alloc(100_000, 0x41), 'mss');
    expect(junk.driven.detached).toBe(true);
    const rand = rng(3);
    for (let i = 0; i < 100; i++) {
      const d = Buffer.from(counted + lf);
      for (let k = 0; k < 5; k++) d[Math.floor(rand() * d.length)] = Math.floor(rand() * 256);
      run(d, i % 2 ? 'tiny' : 'random');
    }
  });

  it('probes: <PRI> or an octet count first from the client; a PRI on another UDP port needs a recognisable header', () => {
    const env = defaultEnvironment(TEST_PSEUDONYM_KEY);
    const tcpF = syslogTcpAnalyzer(env);
    const udpF = syslogUdpAnalyzer(env);
    const b = (s: string) => Buffer.from(s);
    const tp = (s: string, dir = TS) => tcpF.probe(dir, b(s), 0, b(s).length);
    const up = (s: string, port: number) => udpF.probe(TS, b(s), 0, b(s).length, port);
    expect(tp('<14>x')).toBe(ProbeVerdict.Yes);
    expect(tp('123 <14>x')).toBe(ProbeVerdict.Yes);
    expect(tp('12')).toBe(ProbeVerdict.NeedMore);
    expect(tp('<1')).toBe(ProbeVerdict.NeedMore);
    expect(tp('<14>x', Direction.ToClient)).toBe(ProbeVerdict.No);
    expect(tp('GET / HTTP/1.1')).toBe(ProbeVerdict.No);
    expect(tp('<html>')).toBe(ProbeVerdict.No);
    expect(tp('123 abc')).toBe(ProbeVerdict.No);
    expect(up('<14>hello', 514)).toBe(ProbeVerdict.Yes);
    expect(up('<14>hello world', 40000)).toBe(ProbeVerdict.No);
    expect(up('<14>app[1]: hello', 40000)).toBe(ProbeVerdict.Yes);
    expect(up('<14>1 - - - - - -', 40000)).toBe(ProbeVerdict.Yes);
    expect(up('<300>x', 514)).toBe(ProbeVerdict.No);
  });

  it('through the pipeline on TCP 601', () => {
    const { events, flows } = runFrames(tcpSession([{ dir: TS, data: Buffer.from(counted) }], 601), { registry: cleartextRegistry() });
    expect(flows[0].app).toBe('syslog');
    expect(events.filter((e) => e.type === 'syslog')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'phi.observed')).toHaveLength(2);
  });
});
