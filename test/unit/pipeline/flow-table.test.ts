import { describe, expect, it } from 'vitest';
import { DEFAULT_FLOW_LIMITS } from '../../../agent/flows/flow-table.js';
import { eth, ipv4, tcp, udp } from '../../support/packet-builder.js';
import { runFrames, type TestFrame } from '../../support/frames.js';

const T0 = 1_795_000_000;
const C = '10.77.10.21';
const S = '10.77.20.10';
const up = (o: Parameters<typeof tcp>[0]) => eth(ipv4(C, S, 6, tcp(o)), 0x0800, { src: '02:77:0a:00:00:15', dst: '02:77:14:00:00:0a' });
const down = (o: Parameters<typeof tcp>[0]) => eth(ipv4(S, C, 6, tcp(o)), 0x0800, { src: '02:77:14:00:00:0a', dst: '02:77:0a:00:00:15' });

function connection(sport: number, t: number, opts: { close?: 'fin' | 'rst'; payload?: string } = {}): TestFrame[] {
  const p = Buffer.from(opts.payload ?? 'GET / HTTP/1.0\r\n\r\n');
  const f: TestFrame[] = [
    { data: up({ sport, dport: 80, seq: 100, flags: 'S' }), t },
    { data: down({ sport: 80, dport: sport, seq: 900, ack: 101, flags: 'SA' }), t: t + 0.001 },
    { data: up({ sport, dport: 80, seq: 101, ack: 901, flags: 'A' }), t: t + 0.002 },
    { data: up({ sport, dport: 80, seq: 101, ack: 901, flags: 'PA', payload: p }), t: t + 0.003 },
  ];
  if (opts.close === 'fin') {
    f.push({ data: up({ sport, dport: 80, seq: 101 + p.length, ack: 901, flags: 'FA' }), t: t + 0.004 });
    f.push({ data: down({ sport: 80, dport: sport, seq: 901, ack: 102 + p.length, flags: 'FA' }), t: t + 0.005 });
    f.push({ data: up({ sport, dport: 80, seq: 102 + p.length, ack: 902, flags: 'A' }), t: t + 0.006 });
  } else if (opts.close === 'rst') {
    f.push({ data: down({ sport: 80, dport: sport, seq: 901, flags: 'R' }), t: t + 0.004 });
  }
  return f;
}

describe('flows', () => {
  it('reports a closed connection with roles, counters, state, MACs and the recognised app', () => {
    const frames = connection(40000, T0, { close: 'fin' });
    const { flows } = runFrames(frames);
    expect(flows).toHaveLength(1);
    const f = flows[0];
    expect(f.flow).toMatchObject({ src_ip: C, src_port: 40000, dst_ip: S, dst_port: 80, proto: 'tcp', app: 'http', vlan: [] });
    expect([f.pkts_toserver, f.pkts_toclient]).toEqual([5, 2]);
    expect(f.bytes_toserver).toBe(frames.filter((x) => x.data.readUInt32BE(26) === 0x0a4d0a15).reduce((a, x) => a + x.data.length, 0));
    expect([f.state, f.tcp_state, f.reason]).toEqual(['closed', 'closed', 'shutdown']);
    expect([f.client_mac, f.server_mac]).toEqual(['02:77:0a:00:00:15', '02:77:14:00:00:0a']);
    expect(f.start).toBe('2026-11-18T11:06:40.000000Z');
    expect(f.end).toBe('2026-11-18T11:06:40.006000Z');
  });

  it('ends closed flows after the short timeout and idle ones after theirs, in capture time', () => {
    const frames = [
      ...connection(40001, T0, { close: 'fin' }),
      ...connection(40002, T0, {}), // stays established
      { data: up({ sport: 40003, dport: 80, seq: 1, flags: 'S' }), t: T0 }, // SYN only
      { data: eth(ipv4(C, S, 17, udp(5000, 514, Buffer.from('<13>x'))), 0x0800), t: T0 },
      // A packet of an unrelated flow much later moves the clock.
      { data: eth(ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, Buffer.from('x'))), 0x0800), t: T0 + 100 },
    ];
    const { flows } = runFrames(frames);
    const byPort = new Map(flows.map((f) => [f.flow.src_port, f]));
    expect(byPort.get(40001)!.reason).toBe('closed'); // 10 s closed timeout
    expect(byPort.get(40003)!.reason).toBe('timeout'); // 30 s SYN-only timeout
    expect(byPort.get(40003)!.state).toBe('new');
    expect(byPort.get(5000)!.reason).toBe('shutdown'); // UDP 120 s: still open at the end
    expect(byPort.get(40002)!.reason).toBe('shutdown'); // established 600 s
  });

  it('finds every flow again after its buckets have grown, in both directions, and ends each once', () => {
    // 3,000 connections open before any of them goes on: the bucket array (1,024 to start) doubles
    // twice with flows in it, and every later packet, either way, must find its flow.
    const n = 3000;
    const conns = Array.from({ length: n }, (_, i) => connection(20000 + i, T0 + i * 0.0001, { close: 'fin' }));
    const frames: TestFrame[] = [...conns.map((c) => c[0]), ...conns.flatMap((c) => c.slice(1))];
    const { pipeline, flows } = runFrames(frames);
    expect(pipeline.flows.created).toBe(n);
    expect(flows).toHaveLength(n);
    expect(new Set(flows.map((f) => f.flow.src_port)).size).toBe(n);
    for (const f of flows) {
      expect([f.pkts_toserver, f.pkts_toclient, f.tcp_state], String(f.flow.src_port)).toEqual([5, 2, 'closed']);
    }
  });

  it('evicts the flow idle longest when the table is full and counts it', () => {
    const frames: TestFrame[] = [];
    for (let i = 0; i < 20; i++) frames.push({ data: up({ sport: 30000 + i, dport: 104, seq: i, flags: 'S' }), t: T0 + i * 0.001 });
    // Flow 0 is touched again, so flow 1 is the oldest idle one when the 6th flow arrives.
    frames.splice(5, 0, { data: up({ sport: 30000, dport: 104, seq: 0, flags: 'S' }), t: T0 + 0.0045 });
    const { pipeline, flows } = runFrames(frames, { flowLimits: { ...DEFAULT_FLOW_LIMITS, maxFlows: 5 } });
    expect(pipeline.flows.evictions).toBe(15);
    const evicted = flows.filter((f) => f.reason === 'evicted').map((f) => f.flow.src_port);
    expect(evicted[0]).toBe(30001);
    expect(flows.filter((f) => f.reason === 'shutdown').map((f) => f.flow.src_port).sort()).toEqual([30015, 30016, 30017, 30018, 30019]);
  });

  it('a new SYN on a finished 5-tuple starts a new flow (port reuse)', () => {
    const { flows } = runFrames([...connection(40010, T0, { close: 'rst' }), ...connection(40010, T0 + 1, { close: 'fin' })]);
    expect(flows).toHaveLength(2);
    expect(flows[0].reason).toBe('reused');
    expect(flows[0].tcp_state).toBe('reset');
    expect(flows[1].pkts_toserver).toBe(5);
  });

  it('takes the SYN-ACK receiver as client, and the well-known port as server midstream', () => {
    const synack = runFrames([{ data: down({ sport: 80, dport: 40020, seq: 9, ack: 1, flags: 'SA' }), t: T0 }]).flows[0];
    expect([synack.flow.src_ip, synack.flow.src_port, synack.pkts_toclient]).toEqual([C, 40020, 1]);
    const mid = runFrames([{ data: down({ sport: 104, dport: 40021, seq: 9, ack: 1, flags: 'PA', payload: Buffer.from('x') }), t: T0 }]).flows[0];
    expect([mid.flow.src_port, mid.flow.dst_port, mid.midstream, mid.tcp_state]).toEqual([40021, 104, true, 'midstream']);
  });

  it('separates flows by VLAN tags', () => {
    const frame = (vlans: [number, number][]) => eth(ipv4(C, S, 17, udp(5000, 514, Buffer.from('x'))), 0x0800, { vlans });
    const { flows } = runFrames([frame([]), frame([[0x8100, 110]]), frame([[0x8100, 130]]), frame([[0x88a8, 300], [0x8100, 120]]), frame([[0x8100, 110]])].map((data) => ({ data, t: T0 })));
    expect(flows.map((f) => [f.flow.vlan, f.pkts_toserver]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([[[], 1], [[110], 2], [[130], 1], [[300, 120], 1]]);
  });
});
