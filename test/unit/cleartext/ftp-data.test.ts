/**
 * FTP data connections: the announcements (PORT, EPRT, 227, 229) as the control parser reads
 * them, the bounded table of expectations, and hand-built sessions through the pipeline: the
 * data flow is ftp-data with its control flow's id, a planted fødselsnummer in an uploaded file
 * comes out as a phi.observed (kinds and count, never the number), and after AUTH TLS the data
 * connections are TLS, not cleartext.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Flow } from '../../../agent/flows/flow.js';
import { flowId } from '../../../agent/flows/flow-table.js';
import { FtpDataExpectations } from '../../../agent/flows/ftp-data-expectations.js';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { ipv6Words, parseEprtArgument, parseEpsvReply, parsePasvReply, parsePortArgument, type FtpDataEndpoint } from '../../../protocols/cleartext/ftp-data.js';
import { FtpStreamParser } from '../../../protocols/cleartext/ftp.js';
import { Direction } from '../../../protocols/stream.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { runFrames, type TestFrame } from '../../support/frames.js';
import { ipv4Addr } from '../../support/packet-builder.js';
import { examplePolicy } from '../../support/rules.js';
import { tcpSession } from '../remote/build.js';
import { appData, ccs, certificate, CERTS, clientHello, record, serverHello, serverHelloDone } from '../tls/build.js';
import { collector, pseudonymize } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const FNR = execFileSync('/usr/bin/python3', [join(import.meta.dirname, '../../../fixtures/corpus/scripts/fnr.py'), '03041987', '120'], { encoding: 'utf8' }).trim();
const v4 = (s: string): [number, number, number, number] => [0, 0, 0, ipv4Addr(s)];

describe('data connection announcements', () => {
  it('PORT and 227 (with and without parentheses)', () => {
    expect(parsePortArgument('10,77,10,5,195,80')).toEqual({ passive: false, ipVersion: 4, addr: v4('10.77.10.5'), port: 50000 });
    expect(parsePasvReply('Entering Passive Mode (10,77,20,9,39,16).')).toEqual({ passive: true, ipVersion: 4, addr: v4('10.77.20.9'), port: 10000 });
    expect(parsePasvReply('=10,77,20,9,39,17')).toMatchObject({ port: 10001 });
    for (const bad of ['10,77,10,5,195', '10,77,10,256,1,1', '10,77,10,5,0,0', 'a,b,c,d,e,f', '']) expect(parsePortArgument(bad), bad).toBeNull();
    expect(parsePasvReply('Entering Passive Mode')).toBeNull();
  });

  it('EPRT (IPv4, IPv6, any delimiter) and 229', () => {
    expect(parseEprtArgument('|1|10.77.10.5|6275|')).toEqual({ passive: false, ipVersion: 4, addr: v4('10.77.10.5'), port: 6275 });
    expect(parseEprtArgument('!2!fd77::10:5!6446!')).toEqual({ passive: false, ipVersion: 6, addr: [0xfd770000, 0, 0, 0x00100005], port: 6446 });
    expect(parseEprtArgument('|1|10.77.10.5|0|')).toBeNull();
    expect(parseEprtArgument('|3|x|1|')).toBeNull();
    expect(parseEprtArgument('|1|10.77.10|1|')).toBeNull();
    expect(parseEpsvReply('Entering Extended Passive Mode (|||6446|)')).toEqual({ passive: true, ipVersion: 0, addr: [0, 0, 0, 0], port: 6446 });
    expect(parseEpsvReply('Entering Extended Passive Mode (|||70000|)')).toBeNull();
    expect(parseEpsvReply('Entering Extended Passive Mode')).toBeNull();
    expect(ipv6Words('::ffff:10.77.10.5')).toEqual([0, 0, 0xffff, ipv4Addr('10.77.10.5')]);
    expect(ipv6Words('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(ipv6Words('1::2::3')).toBeNull();
  });

  it('the control parser keeps reading after the login and reports each announcement', () => {
    const c = collector();
    const eps: FtpDataEndpoint[] = [];
    const p = new FtpStreamParser({ emit: c.emit, pseudonymize, onDataChannel: (ep) => eps.push(ep) });
    const feed = (dir: Direction, s: string) => p.data(dir, Buffer.from(s, 'latin1'), 0, s.length, 100, 0);
    feed(TC, '220 (vsFTPd 3.0.3)\r\n');
    feed(TS, 'USER biomed\r\nPASS Sekret#1\r\n');
    feed(TC, '331 Please specify the password.\r\n230 Login successful.\r\n');
    // The login is reported at once, as before; the parser stays attached.
    expect(c.of('ftp')).toEqual([expect.objectContaining({ login: 'success', cleartext_login: true })]);
    expect(feed(TS, 'PASV\r\n')).toBe(0);
    feed(TC, '227 Entering Passive Mode (10,77,20,9,39,16).\r\n');
    feed(TS, 'EPSV\r\n');
    feed(TC, '229 Entering Extended Passive Mode (|||6446|)\r\n');
    feed(TS, 'PORT 10,77,10,5,195,80\r\nEPRT |1|10.77.10.5|6275|\r\nPORT nonsense\r\n');
    p.end('fin');
    expect(eps.map((e) => [e.passive, e.port])).toEqual([[true, 10000], [true, 6446], [false, 50000], [false, 6275]]);
    expect(p.counters).toMatchObject({ dataChannels: 4, badDataChannels: 1 });
    expect(c.of('ftp')).toHaveLength(1);
    expect(JSON.stringify(c.records)).not.toContain('Sekret#1');
  });
});

function controlFlow(client: string, server: string, cport = 50001, sport = 21): Flow {
  const f = new Flow();
  f.ipVersion = 4;
  f.proto = 6;
  f.c3 = ipv4Addr(client);
  f.s3 = ipv4Addr(server);
  f.cport = cport;
  f.sport = sport;
  f.startSec = 100;
  return f;
}

function newFlow(client: string, server: string, cport: number, sport: number): Flow {
  const f = controlFlow(client, server, cport, sport);
  f.startSec = 110;
  return f;
}

describe('the table of expected data connections', () => {
  it('an endpoint is matched once, by initiator, address and port; the wrong way round or the wrong port is not', () => {
    const t = new FtpDataExpectations({ max: 16, ttlSec: 60 });
    const ctl = controlFlow('10.77.10.5', '10.77.20.9');
    t.expectEndpoint(ctl, parsePasvReply('(10,77,20,9,39,16)')!, 100);
    expect(t.match(newFlow('10.77.20.9', '10.77.10.5', 40000, 10000), 101)).toBeNull();
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40000, 10001), 101)).toBeNull();
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40000, 10000), 101)).toEqual({ controlId: flowId(ctl), tls: false });
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40001, 10000), 101)).toBeNull();
    // Active: the server connects to the client's announced port.
    t.expectEndpoint(ctl, parsePortArgument('10,77,10,5,195,80')!, 102);
    expect(t.match(newFlow('10.77.20.9', '10.77.10.5', 20, 50000), 103)).toMatchObject({ tls: false });
    // EPSV names no address: the control connection's server.
    t.expectEndpoint(ctl, parseEpsvReply('(|||6446|)')!, 104);
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40002, 6446), 105)).not.toBeNull();
    expect(t.matched).toBe(3);
    expect(t.size).toBe(0);
  });

  it('a client that ignores the 227 address and connects to the control server still matches', () => {
    const t = new FtpDataExpectations({ max: 16, ttlSec: 60 });
    const ctl = controlFlow('10.77.10.5', '10.77.20.9');
    t.expectEndpoint(ctl, parsePasvReply('(192,168,1,9,39,16)')!, 100);
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40000, 10000), 101)).not.toBeNull();
  });

  it('expires after its time, and a full table pushes out the oldest, counted', () => {
    const t = new FtpDataExpectations({ max: 4, ttlSec: 60 });
    const ctl = controlFlow('10.77.10.5', '10.77.20.9');
    for (let i = 0; i < 6; i++) t.expectEndpoint(ctl, { passive: true, ipVersion: 0, addr: [0, 0, 0, 0], port: 10000 + i }, 100 + i);
    expect(t.size).toBe(4);
    expect(t.evictions).toBe(2);
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40000, 10000), 106)).toBeNull();
    t.expire(162.5);
    expect(t.expired).toBe(1);
    expect(t.size).toBe(3);
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40000, 10002), 163)).toBeNull();
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40000, 10003), 162.9)).not.toBeNull();
  });

  it('a TLS session: any connection to a port ≥ 1024 between the two hosts, either way, while the control flow lives', () => {
    const t = new FtpDataExpectations({ max: 16, ttlSec: 60 });
    const ctl = controlFlow('10.77.10.5', '10.77.20.9');
    t.expectTlsSession(ctl);
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40000, 12000), 500)).toEqual({ controlId: flowId(ctl), tls: true });
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40001, 12001), 900)).not.toBeNull();
    expect(t.match(newFlow('10.77.20.9', '10.77.10.5', 20, 50000), 900)).not.toBeNull();
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40002, 443), 900)).toBeNull();
    expect(t.match(newFlow('10.77.10.6', '10.77.20.9', 40002, 12002), 900)).toBeNull();
    t.controlEnded(ctl);
    expect(t.size).toBe(0);
    expect(t.match(newFlow('10.77.10.5', '10.77.20.9', 40003, 12003), 901)).toBeNull();
  });
});

// ---------------------------------------------------------------- through the pipeline

const CLIENT = '10.77.10.5'; // MU zone of the example policy
const SERVER = '10.77.20.9'; // clinical-servers
const T0 = 1_795_000_000;

/** The control session's frames with the data connection's inserted before the control connection closes. */
function withData(control: TestFrame[], data: TestFrame[]): TestFrame[] {
  const closing = control.slice(-3).map((f, i) => ({ ...f, t: T0 + 5 + i * 0.001 }));
  return [...control.slice(0, -3), ...data, ...closing];
}

const login: [Direction, Buffer][] = [
  [TC, Buffer.from('220 (vsFTPd 3.0.3)\r\n')],
  [TS, Buffer.from('USER biomed\r\n')],
  [TC, Buffer.from('331 Please specify the password.\r\n')],
  [TS, Buffer.from('PASS Sekret#1\r\n')],
  [TC, Buffer.from('230 Login successful.\r\n')],
];
const file = Buffer.from(`Pasientliste\nid;navn\n${FNR};Test Testesen\n`);

function ids(events: MuvaktEvent[]) {
  const flows = events.filter((e) => e.type === 'flow');
  return { control: flows.find((f) => f.app === 'ftp'), data: flows.find((f) => f.app === 'ftp-data') };
}

function findings(events: MuvaktEvent[]): EngineFinding[] {
  const out: EngineFinding[] = [];
  const engine = new RuleEngine(examplePolicy(), ALL_RULES, (f) => out.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  return out;
}

describe('FTP data connections in the pipeline', () => {
  it.each([
    ['passive (PASV)', 'PASV', '227 Entering Passive Mode (10,77,20,9,39,16).', 'client'],
    ['passive (EPSV)', 'EPSV', '229 Entering Extended Passive Mode (|||10000|)', 'client'],
    ['active (PORT)', 'PORT 10,77,10,5,39,16', '200 PORT command successful.', 'server'],
    ['active (EPRT)', 'EPRT |1|10.77.10.5|10000|', '200 EPRT command successful.', 'server'],
  ])('%s: an uploaded file is ftp-data with its control flow’s id, and its fødselsnummer a phi.observed', (_name, cmd, reply, opener) => {
    const control = tcpSession(CLIENT, SERVER, 50001, 21, [...login, [TS, Buffer.from(`${cmd}\r\nSTOR liste.csv\r\n`)], [TC, Buffer.from(`${reply}\r\n150 Ok to send data.\r\n`)]], T0);
    const data = opener === 'client' ? tcpSession(CLIENT, SERVER, 50002, 10000, [[TS, file]], T0 + 1) : tcpSession(SERVER, CLIENT, 20, 10000, [[TC, file]], T0 + 1);
    const { events } = runFrames(withData(control, data));
    const { control: ctl, data: dat } = ids(events);
    expect(ctl).toBeDefined();
    expect(dat).toMatchObject({ encrypted: false, flow: { control_flow_id: ctl!.flow.id, dst_port: 10000 } });
    const phi = events.filter((e) => e.type === 'phi.observed');
    expect(phi).toHaveLength(1);
    expect(phi[0]).toMatchObject({ protocol: 'ftp-data', count: 1, kinds: ['fodselsnummer'], flow: { app: 'ftp-data', control_flow_id: ctl!.flow.id } });
    // The same rule path as HTTP and the other cleartext scanners: MU → clinical-servers in the clear.
    expect(findings(events).map((f) => f.rule.id)).toContain('phi-cleartext');
    const out = JSON.stringify(events) + JSON.stringify(findings(events));
    expect(out).not.toContain(FNR);
    expect(out).not.toContain('Sekret#1');
  });

  it('a connection to an announced port from another host, or to a port nobody announced, is not ftp-data', () => {
    const control = tcpSession(CLIENT, SERVER, 50001, 21, [...login, [TS, Buffer.from('PASV\r\n')], [TC, Buffer.from('227 Entering Passive Mode (10,77,20,9,39,16).\r\n')]], T0);
    const other = tcpSession('10.77.10.77', SERVER, 50003, 10000, [[TS, file]], T0 + 1);
    const unannounced = tcpSession(CLIENT, SERVER, 50004, 10001, [[TS, file]], T0 + 1.5);
    const { events } = runFrames(withData(control, [...other, ...unannounced]));
    expect(events.filter((e) => e.type === 'flow' && e.app === 'ftp-data')).toEqual([]);
    expect(events.some((e) => 'flow' in e && e.flow !== undefined && 'control_flow_id' in e.flow)).toBe(false);
  });

  it('after AUTH TLS the data connection is TLS: ftp-data, encrypted, its tls.handshake labelled so; a cleartext connection between the hosts is not claimed', () => {
    const control = tcpSession(
      CLIENT,
      SERVER,
      50001,
      21,
      [
        [TC, Buffer.from('220 (vsFTPd 3.0.3)\r\n')],
        [TS, Buffer.from('AUTH TLS\r\n')],
        [TC, Buffer.from('234 Proceed with negotiation.\r\n')],
        [TS, record(22, clientHello({ legacy: 0x0303, sni: 'ftp.test.example', suites: [0xc02f] }), 0x0301)],
        [TC, record(22, Buffer.concat([serverHello({ legacy: 0x0303, suite: 0xc02f }), certificate([CERTS.leaf, CERTS.ca]), serverHelloDone()]))],
        [TS, Buffer.concat([ccs(), appData(80)])],
        [TC, Buffer.concat([ccs(), appData(120)])],
      ],
      T0,
    );
    const tlsData = tcpSession(CLIENT, SERVER, 50002, 12000, [
      [TS, record(22, clientHello({ legacy: 0x0303, suites: [0xc02f] }), 0x0301)],
      [TC, record(22, Buffer.concat([serverHello({ legacy: 0x0303, suite: 0xc02f }), serverHelloDone()]))],
      [TS, appData(900)],
    ], T0 + 1);
    const clear = tcpSession(CLIENT, SERVER, 50003, 12001, [[TS, file]], T0 + 2);
    const { events, flows } = runFrames(withData(control, [...tlsData, ...clear]));
    const ctl = flows.find((f) => f.flow.dst_port === 21)!;
    expect(ctl).toMatchObject({ app: 'ftp', encrypted: true });
    const dat = flows.find((f) => f.flow.dst_port === 12000)!;
    expect(dat).toMatchObject({ app: 'ftp-data', encrypted: true, flow: { control_flow_id: ctl.flow.id } });
    const hs = events.filter((e) => e.type === 'tls.handshake' && e.flow.dst_port === 12000);
    expect(hs).toHaveLength(1);
    expect(hs[0].flow).toMatchObject({ app: 'ftp-data', control_flow_id: ctl.flow.id });
    const other = flows.find((f) => f.flow.dst_port === 12001)!;
    expect(other.app).not.toBe('ftp-data');
    expect(other.flow.control_flow_id).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain(FNR);
  });
});
