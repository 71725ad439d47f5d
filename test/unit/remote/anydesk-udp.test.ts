/**
 * AnyDesk over UDP: its LAN discovery announcement, recognised by the chain of its fields (bytes
 * built in build.ts from the public proof of concept for CVE-2020-13160; no real capture was at
 * hand) with the announced port as one of the flow's ports. The flow becomes `anydesk` and the
 * remote-access rules of the example policy judge it as they judge AnyDesk over TLS; random
 * datagrams on 50001 and other UDP protocols are left alone.
 */
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { Inventory } from '../../../agent/inventory/index.js';
import { RemoteSessionLog } from '../../../agent/sensor/remote-sessions.js';
import type { RemoteSessionRow } from '../../../agent/store/index.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { AnyDeskDiscoveryDatagramParser, parseAnyDeskDiscovery, probeAnyDeskDiscovery } from '../../../protocols/remote/anydesk-discovery.js';
import { Direction } from '../../../protocols/stream.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { runFrames } from '../../support/frames.js';
import { MemorySink } from '../../support/memory-sink.js';
import { examplePolicy } from '../../support/rules.js';
import { clientHello, record, serverHello, serverHelloDone } from '../tls/build.js';
import { anyDeskDiscovery, noise, tcpSession, udpExchange } from './build.js';
import { collect } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const byType = (events: MuvaktEvent[], type: string) => events.filter((e) => e.type === type);
const parses = (b: Buffer) => parseAnyDeskDiscovery(b, 0, b.length);

function findings(events: MuvaktEvent[]): EngineFinding[] {
  const out: EngineFinding[] = [];
  const engine = new RuleEngine(examplePolicy(), ALL_RULES, (f) => out.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  return out;
}
const ruleIds = (events: MuvaktEvent[]) => new Set(findings(events).map((f) => f.rule.id));

/** A DNS query (RFC 1035 §4.1): header, one question. */
function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  return Buffer.concat([h, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

describe('AnyDesk discovery datagram', () => {
  it('reads the announced port when the chain of fields closes on the last byte', () => {
    expect(parses(anyDeskDiscovery())).toEqual({ port: 50001 });
    expect(parses(anyDeskDiscovery({ port: 50003, host: '', user: '' }))).toEqual({ port: 50003 });
    // Any bytes in the names, as the proof of concept sent (a format string and shellcode).
    expect(parses(anyDeskDiscovery({ host: Buffer.from('85fe2531242a3124782531387825', 'hex'), user: noise(3, 300) }))).toEqual({ port: 50001 });
    // Within a larger buffer: only buf[off, off+len) is read.
    const d = anyDeskDiscovery();
    const framed = Buffer.concat([Buffer.alloc(9, 0xee), d, Buffer.alloc(5, 0xee)]);
    expect(parseAnyDeskDiscovery(framed, 9, d.length)).toEqual({ port: 50001 });
  });

  it('refuses what breaks the layout', () => {
    const d = anyDeskDiscovery();
    const cases: [string, Buffer][] = [
      ['another magic', (() => { const b = Buffer.from(d); b[1] = 0xd2; return b; })()],
      ['one byte more after the port', anyDeskDiscovery({ trailing: Buffer.from([0]) })],
      ['one byte short', d.subarray(0, d.length - 1)],
      ['host name longer than the datagram', (() => { const b = Buffer.from(d); b.writeUInt32BE(0xffff, 13); return b; })()],
      ['host name length near 2^32', (() => { const b = Buffer.from(d); b.writeUInt32BE(0xfffffffc, 13); return b; })()],
      ['user name one byte off', (() => { const b = Buffer.from(d); const at = 13 + 4 + 11; b.writeUInt32BE(b.readUInt32BE(at) + 1, at); return b; })()],
      ['port 0', anyDeskDiscovery({ port: 0 })],
      ['the bare magic', Buffer.from([0x3e, 0xd1, 0x01])],
      ['nothing', Buffer.alloc(0)],
    ];
    for (const [what, b] of cases) expect(parses(b), what).toBeNull();
  });

  it('probe: the announced port must be one of the flow’s ports; the port alone says nothing', () => {
    const d = anyDeskDiscovery({ port: 50001 });
    expect(probeAnyDeskDiscovery(d, 0, d.length, 50001, 41234)).toBe(ProbeVerdict.Yes);
    expect(probeAnyDeskDiscovery(d, 0, d.length, 41234, 50001)).toBe(ProbeVerdict.Yes);
    expect(probeAnyDeskDiscovery(d, 0, d.length, 50002, 41234)).toBe(ProbeVerdict.No);
    // A second instance on the same host listens on 50002 and says so, whatever port it sends to.
    const second = anyDeskDiscovery({ port: 50002 });
    expect(probeAnyDeskDiscovery(second, 0, second.length, 50001, 50002)).toBe(ProbeVerdict.Yes);
    for (let s = 1; s <= 300; s++) {
      const n = noise(s, 37 + (s % 900));
      expect(probeAnyDeskDiscovery(n, 0, n.length, 50001, 50001), `noise ${s}`).toBe(ProbeVerdict.No);
      // The magic in front of noise is not enough either.
      n[0] = 0x3e;
      n[1] = 0xd1;
      expect(probeAnyDeskDiscovery(n, 0, n.length, 50001, 50001), `magic + noise ${s}`).toBe(ProbeVerdict.No);
    }
  });

  it('parser: one remote_access from the first datagram, over UDP, a discovery, not encrypted; no name in it', () => {
    const c = collect();
    const p = new AnyDeskDiscoveryDatagramParser(c.opts);
    const d = anyDeskDiscovery({ host: 'NORDMANN-PC', user: 'kari.nordmann' });
    expect(p.datagram(TS, d, 0, d.length, 20, 7)).toBe(-1);
    p.end();
    expect(c.access()).toEqual([{ type: 'remote_access', ts_sec: 20, ts_nsec: 7, protocol: 'anydesk', encrypted: false, initiator: 'client', detection: 'content', weak: false, transport: 'udp', discovery: true }]);
    const text = JSON.stringify(c.records);
    expect(text).not.toContain('NORDMANN');
    expect(text).not.toContain('nordmann');
    expect(text).not.toContain('123456789');

    // Handed bytes its probe never saw (a caller that skipped it): the record says they did not parse.
    const c2 = collect();
    const p2 = new AnyDeskDiscoveryDatagramParser(c2.opts);
    p2.datagram(TC, noise(1, 60), 0, 60, 1, 0);
    expect(c2.access()).toEqual([expect.objectContaining({ protocol: 'anydesk', malformed: true })]);
  });
});

describe('AnyDesk discovery in the pipeline', () => {
  it('a LAN broadcast on 50001: the flow is anydesk, one remote_access with transport udp and discovery', () => {
    const d = anyDeskDiscovery({ host: 'NORDMANN-PC', user: 'kari.nordmann' });
    const frames = udpExchange('10.77.30.15', '10.77.30.255', 50001, 50001, [
      [TS, d],
      [TS, d],
      [TS, d],
    ]);
    const { events, flows } = runFrames(frames);
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ app: 'anydesk', encrypted: false, flow: { proto: 'udp', src_ip: '10.77.30.15', dst_port: 50001 } });
    const ra = byType(events, 'remote_access');
    expect(ra).toHaveLength(1);
    expect(ra[0]).toMatchObject({ protocol: 'anydesk', transport: 'udp', discovery: true, encrypted: false, detection: 'content', flow: { app: 'anydesk', src_ip: '10.77.30.15' } });
    expect(JSON.stringify(events)).not.toMatch(/NORDMANN|nordmann/);
    const rules = ruleIds(events);
    expect(rules.has('remote-access-session')).toBe(true);
    expect(rules.has('remote-access-from-external')).toBe(false);
    // An announcement is no session whose encryption could be judged.
    expect(rules.has('remote-access-unencrypted')).toBe(false);
  });

  it('random UDP on 50001 is not labelled AnyDesk, magic or not', () => {
    for (let s = 1; s <= 20; s++) {
      const withMagic = noise(s + 500, 80 + s * 11);
      withMagic[0] = 0x3e;
      withMagic[1] = 0xd1;
      withMagic[2] = 0x01;
      // The probes see a flow's first datagram: half the flows open with the magic.
      const first: [Direction, Buffer] = s % 2 === 0 ? [TS, withMagic] : [TS, noise(s, 40 + s * 37)];
      const frames = udpExchange('10.77.30.15', '10.77.10.60', 41000 + s, 50001, [first, [TC, noise(s + 1000, 60)], [TS, withMagic], [TS, noise(s + 2000, 1200)]]);
      const { events, flows } = runFrames(frames);
      expect(flows[0].app, `seed ${s}`).not.toBe('anydesk');
      expect(byType(events, 'remote_access'), `seed ${s}`).toEqual([]);
    }
    // A whole announcement that names another port than the flow's is not taken either.
    const { flows, events } = runFrames(udpExchange('10.77.30.15', '10.77.10.60', 41500, 50001, [[TS, anyDeskDiscovery({ port: 50003 })]]));
    expect(flows[0].app).not.toBe('anydesk');
    expect(byType(events, 'remote_access')).toEqual([]);
  });

  it('DNS, and DNS sent to 50001, stay what they are', () => {
    const dns = runFrames(udpExchange('10.77.10.60', '10.77.20.53', 53001, 53, [[TS, dnsQuery(7, 'relay-1.net.anydesk.com')]]));
    expect(dns.flows[0].app).toBe('dns');
    expect(byType(dns.events, 'remote_access')).toEqual([]);
    const odd = runFrames(udpExchange('10.77.10.60', '10.77.20.53', 41001, 50001, [[TS, dnsQuery(8, 'example.org')]]));
    expect(odd.flows[0].app).not.toBe('anydesk');
    expect(byType(odd.events, 'remote_access')).toEqual([]);
  });

  it('the rule AnyDesk over TLS from outside raises is raised for its UDP form too (example policy)', () => {
    // AnyDesk over TLS into a device: its client offers the ALPN protocol named after it.
    const tcp = runFrames(
      tcpSession('203.0.113.7', '10.77.10.60', 51515, 7070, [
        [TS, record(22, clientHello({ legacy: 0x0303, suites: [0xc02f], alpn: ['anydesk/6.2.0/linux'] }), 0x0301)],
        [TC, record(22, Buffer.concat([serverHello({ legacy: 0x0303, suite: 0xc02f }), serverHelloDone()]))],
      ]),
    );
    expect(tcp.flows[0]).toMatchObject({ app: 'anydesk' });
    expect(byType(tcp.events, 'remote_access')[0]).toMatchObject({ protocol: 'anydesk', detection: 'alpn' });
    const tcpRules = ruleIds(tcp.events);
    expect(tcpRules.has('remote-access-from-external')).toBe(true);

    // The same outside host announcing itself to the device's discovery port, from an ephemeral
    // port lower than 50001: the announcer is still the flow's client.
    const udp = runFrames(udpExchange('203.0.113.7', '10.77.10.60', 41234, 50001, [[TS, anyDeskDiscovery({ port: 50001 })]]));
    expect(udp.flows[0]).toMatchObject({ app: 'anydesk', flow: { src_ip: '203.0.113.7', dst_ip: '10.77.10.60', dst_port: 50001 } });
    const udpFindings = findings(udp.events);
    const external = udpFindings.filter((f) => f.rule.id === 'remote-access-from-external');
    expect(external).toHaveLength(1);
    const tcpExternal = findings(tcp.events).find((f) => f.rule.id === 'remote-access-from-external')!;
    expect(external[0].severity).toBe(tcpExternal.severity);
    // Every remote-access rule the TLS session raised but the unencrypted one (TLS is not
    // cleartext, and an announcement is no session) is raised for the announcement.
    const remoteRules = (ids: Set<string>) => [...ids].filter((id) => id.startsWith('remote-access-')).sort();
    expect(remoteRules(ruleIds(udp.events))).toEqual(remoteRules(tcpRules));
  });

  it('the remote-session log records the announcement as an AnyDesk session', async () => {
    const { events } = runFrames(udpExchange('203.0.113.7', '10.77.10.60', 41234, 50001, [[TS, anyDeskDiscovery()]]));
    const written: RemoteSessionRow[] = [];
    const log = new RemoteSessionLog(new MemorySink(), {
      sensor: 'sensor-a',
      policy: examplePolicy(),
      store: {
        async upsertRemoteSessions(rows) {
          written.push(...rows);
          return { written: rows.length, rejected: 0 };
        },
      },
    });
    for (const e of events) log.write(e);
    await log.finish();
    expect(written.length).toBeGreaterThan(0);
    expect(written.at(-1)).toMatchObject({ protocol: 'anydesk', srcIp: '203.0.113.7', dstIp: '10.77.10.60', dstPort: 50001, zoneSrc: 'external', zoneDst: 'MU' });
  });

  it('the inventory: the announcer runs AnyDesk; nobody gains a remote-access record from it', () => {
    const { events } = runFrames(udpExchange('10.77.30.15', '10.77.30.255', 50001, 50001, [[TS, anyDeskDiscovery()]]));
    const inv = new Inventory();
    for (const e of events) inv.observe(e);
    const announcer = inv.byIp('10.77.30.15')!;
    expect(announcer.software).toContainEqual({ source: 'anydesk-discovery', value: 'AnyDesk' });
    expect(announcer.remote_access).toEqual([]);
  });
});
