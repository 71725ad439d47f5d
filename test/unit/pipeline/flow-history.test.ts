import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Flow } from '../../../agent/flows/flow.js';
import { FlowHistory, OVERFLOW_LABEL, type FlowHistoryOptions } from '../../../agent/flows/flow-history.js';
import type { FlowHistoryRow } from '../../../agent/store/index.js';
import { policyZones } from '../../../agent/sensor/flow-history-writer.js';
import { analyzeFiles } from '../../support/analyze.js';
import { runFrames, type TestFrame } from '../../support/frames.js';
import { eth, ipv4, tcp } from '../../support/packet-builder.js';
import { examplePolicy } from '../../support/rules.js';

const B = 300;
const T0 = 1_795_000_200; // a bucket start (divisible by 300)

/** A flow table stand-in: the aggregator only iterates it. */
class Flows {
  readonly list: Flow[] = [];
  forEach(fn: (f: Flow) => void): void {
    for (const f of this.list) fn(f);
  }
  open(app = 'dicom', zones: [string, string] = ['MU', 'pacs'], encrypted = false): Flow {
    const f = new Flow();
    f.app = app;
    f.encrypted = encrypted;
    (f as Flow & { zones: [string, string] }).zones = zones;
    this.list.push(f);
    return f;
  }
  end(f: Flow, h: FlowHistory): void {
    h.flowEnded(f);
    this.list.splice(this.list.indexOf(f), 1);
  }
}

function history(o: Partial<FlowHistoryOptions> = {}): FlowHistory {
  return new FlowHistory({ sensor: 'sensor-a', zonesOf: (f) => (f as Flow & { zones: [string, string] }).zones, bucketSeconds: B, ...o });
}

const send = (f: Flow, bytes: number) => {
  f.bytesToServer += bytes;
};

/** The zone rows (the zone matrix's); the address-pair rows beside them are checked on their own. */
const zoneRows = (rows: FlowHistoryRow[]) => rows.filter((r) => r.clientIp === undefined);
const peerRows = (rows: FlowHistoryRow[]) => rows.filter((r) => r.clientIp !== undefined);

function byBucket(rows: FlowHistoryRow[]): Record<number, Pick<FlowHistoryRow, 'bytes' | 'flows' | 'phiFlows'>[]> {
  const out: Record<number, Pick<FlowHistoryRow, 'bytes' | 'flows' | 'phiFlows'>[]> = {};
  for (const r of rows) (out[(r.bucketMs / 1000 - T0) / B] ??= []).push({ bytes: r.bytes, flows: r.flows, phiFlows: r.phiFlows });
  return out;
}

describe('flow history aggregator', () => {
  it('counts an open flow in every bucket it carried bytes in, with the bytes of each bucket, and once more nowhere', () => {
    const flows = new Flows();
    const h = history();
    h.advance(flows, T0);
    const f = flows.open();
    send(f, 1000);
    h.advance(flows, T0 + B); // bucket 0 closes while the flow is open
    send(f, 200);
    h.advance(flows, T0 + 2 * B + 10);
    h.advance(flows, T0 + 3 * B); // bucket 2: the flow was idle, so it does not count there
    send(f, 30);
    flows.end(f, h);
    const all = h.drain();
    const rows = zoneRows(all);
    expect(byBucket(rows)).toEqual({ 0: [{ bytes: 1000, flows: 1, phiFlows: 0 }], 1: [{ bytes: 200, flows: 1, phiFlows: 0 }], 3: [{ bytes: 30, flows: 1, phiFlows: 0 }] });
    expect(rows.reduce((n, r) => n + r.bytes, 0)).toBe(f.bytesToServer + f.bytesToClient);
    expect(rows.every((r) => r.sensor === 'sensor-a' && r.bucketSeconds === B && r.zoneSrc === 'MU' && r.zoneDst === 'pacs' && r.app === 'dicom')).toBe(true);
    expect(h.stats.bucketsClosed).toBe(3);
  });

  it('a sweep inside a bucket (a live write) moves the bytes so far and does not count the flow twice in that bucket', () => {
    const flows = new Flows();
    const h = history();
    h.advance(flows, T0);
    const f = flows.open();
    send(f, 500);
    h.sweep(flows);
    const first = h.drain();
    expect(byBucket(zoneRows(first))).toEqual({ 0: [{ bytes: 500, flows: 1, phiFlows: 0 }] });
    send(f, 70);
    h.sweep(flows);
    h.sweep(flows); // nothing new: no row
    f.phiSeen = true; // patient data seen later in the same bucket
    send(f, 5);
    flows.end(f, h);
    expect(byBucket(zoneRows(h.drain()))).toEqual({ 0: [{ bytes: 75, flows: 0, phiFlows: 1 }] });
  });

  it('sums flows of the same key and keeps apps, encryption and zone pairs apart', () => {
    const flows = new Flows();
    const h = history();
    h.advance(flows, T0);
    const a = flows.open('dicom');
    const b = flows.open('dicom');
    const c = flows.open('dicom', ['MU', 'pacs'], true);
    const d = flows.open('hl7', ['lab', 'his']);
    for (const [f, n] of [[a, 10], [b, 20], [c, 40], [d, 80]] as const) send(f, n);
    b.phiSeen = true;
    for (const f of [...flows.list]) flows.end(f, h);
    const rows = zoneRows(h.drain()).map((r) => `${r.zoneSrc}>${r.zoneDst} ${r.app} ${r.encrypted ? 'enc' : 'clear'}: ${r.bytes} B, ${r.flows} flows, ${r.phiFlows} phi`).sort();
    expect(rows).toEqual(['MU>pacs dicom clear: 30 B, 2 flows, 1 phi', 'MU>pacs dicom enc: 40 B, 1 flows, 0 phi', 'lab>his hl7 clear: 80 B, 1 flows, 0 phi']);
  });

  it('folds keys beyond the per-bucket cap into one (other) row, bytes kept and flows counted as overflow; the next bucket starts afresh', () => {
    const flows = new Flows();
    const h = history({ maxKeysPerBucket: 2 });
    h.advance(flows, T0);
    for (const app of ['a', 'b', 'c', 'd']) send(flows.open(app), 100);
    for (const f of [...flows.list]) flows.end(f, h);
    h.advance(flows, T0 + B);
    for (const app of ['c', 'd']) send(flows.open(app), 1);
    for (const f of [...flows.list]) flows.end(f, h);
    const rows = zoneRows(h.drain());
    const b0 = rows.filter((r) => r.bucketMs === T0 * 1000).map((r) => [r.app, r.zoneSrc, r.bytes, r.flows]);
    expect(b0.sort()).toEqual([[OVERFLOW_LABEL, OVERFLOW_LABEL, 200, 2], ['a', 'MU', 100, 1], ['b', 'MU', 100, 1]]);
    expect(rows.filter((r) => r.bucketMs === (T0 + B) * 1000).map((r) => r.app).sort()).toEqual(['c', 'd']);
    expect(h.stats.overflowFlows).toBe(2);
  });

  it('holds at most maxPendingRows rows while nothing is written: beyond that flows are dropped and counted', () => {
    const flows = new Flows();
    let asked = 0;
    const h = history({ maxPendingRows: 4, onReady: () => asked++ });
    h.advance(flows, T0);
    for (let i = 0; i < 6; i++) send(flows.open(`app${i}`), 10);
    for (const f of [...flows.list]) flows.end(f, h);
    // Each flow holds a zone row and an address-pair row: two flows fill the four.
    expect(h.pendingRows).toBe(4);
    expect(h.stats).toMatchObject({ droppedFlows: 4, droppedBytes: 40 });
    expect(asked).toBeGreaterThan(0); // asked for a write from half the cap on
  });

  it('rows taken back after a failed write sum with what came meanwhile', () => {
    const flows = new Flows();
    const h = history();
    h.advance(flows, T0);
    const f = flows.open();
    send(f, 10);
    h.sweep(flows);
    const failed = h.drain();
    send(f, 5);
    flows.end(f, h);
    h.restore(failed);
    const again = h.drain();
    expect(byBucket(zoneRows(again))).toEqual({ 0: [{ bytes: 15, flows: 1, phiFlows: 0 }] });
    expect(peerRows(again).map((r) => [r.bytes, r.flows])).toEqual([[15, 1]]);
  });

  it('counts each flow per address pair in hourly rows beside the zone rows: same bytes, a flow once per hour, pairs capped per hour', () => {
    const flows = new Flows();
    const h = history({ maxPeerKeysPerBucket: 2 });
    const hour = T0 - (T0 % 3600);
    h.advance(flows, hour);
    const at = (f: Flow, c: number, s: number) => {
      f.ipVersion = 4;
      f.c3 = c;
      f.s3 = s;
      return f;
    };
    const a = at(flows.open('dicom'), 0x0a4d0a32, 0x0a4d1409);
    send(a, 100);
    h.advance(flows, hour + B); // the next 5-minute bucket, the same hour
    send(a, 50);
    a.phiSeen = true;
    h.advance(flows, hour + 3600); // the next hour
    send(a, 7);
    const b = at(flows.open('hl7'), 0x0a4d1e05, 0x0a4d1409);
    const c = at(flows.open('tls', ['MU', 'pacs'], true), 0x0a4d1e06, 0x0a4d1409);
    send(b, 1);
    send(c, 1);
    for (const f of [...flows.list]) flows.end(f, h);
    const peers = peerRows(h.drain()).map((r) => `${(r.bucketMs / 1000 - hour) / 3600} ${r.clientIp}>${r.serverIp} ${r.zoneSrc}>${r.zoneDst} ${r.app}: ${r.bytes} B, ${r.flows} flows, ${r.phiFlows} phi, ${r.bucketSeconds} s`);
    expect(peers.sort()).toEqual([
      '0 10.77.10.50>10.77.20.9 MU>pacs dicom: 150 B, 1 flows, 1 phi, 3600 s',
      '1 10.77.10.50>10.77.20.9 MU>pacs dicom: 7 B, 1 flows, 1 phi, 3600 s',
      '1 10.77.30.5>10.77.20.9 MU>pacs hl7: 1 B, 1 flows, 0 phi, 3600 s',
    ]);
    expect(h.stats.peerDroppedFlows).toBe(1);
  });

  it('follows capture time: a jump back past the previous bucket (files out of order) moves the bucket back; smaller reordering stays', () => {
    const flows = new Flows();
    const h = history();
    h.advance(flows, T0 + 10 * B);
    expect(h.due(T0 + 10 * B - 5)).toBe(false);
    expect(h.due(T0 + 9 * B)).toBe(false); // the bucket before: stays
    expect(h.due(T0 + 9 * B - 1)).toBe(true); // before that: moves back
    h.advance(flows, T0 + 2 * B + 7);
    expect(h.currentBucket).toBe(T0 + 2 * B);
  });
});

describe('flow history in the pipeline', () => {
  const C = '10.77.10.21';
  const S = '10.77.20.10';
  const up = (o: Parameters<typeof tcp>[0]) => eth(ipv4(C, S, 6, tcp(o)), 0x0800);
  const down = (o: Parameters<typeof tcp>[0]) => eth(ipv4(S, C, 6, tcp(o)), 0x0800);

  it('a connection open for 12 minutes counts in the three buckets it was active in; bytes add up to the flow event', () => {
    const frames: TestFrame[] = [
      { data: up({ sport: 40000, dport: 4242, seq: 100, flags: 'S' }), t: T0 + 100 },
      { data: down({ sport: 4242, dport: 40000, seq: 900, ack: 101, flags: 'SA' }), t: T0 + 100.001 },
      { data: up({ sport: 40000, dport: 4242, seq: 101, ack: 901, flags: 'A' }), t: T0 + 100.002 },
    ];
    let seq = 101;
    for (const t of [T0 + 200, T0 + 400, T0 + 700, T0 + 820]) {
      const p = Buffer.alloc(100, 0x41);
      frames.push({ data: up({ sport: 40000, dport: 4242, seq, ack: 901, flags: 'PA', payload: p }), t });
      seq += p.length;
    }
    const rows: FlowHistoryRow[] = [];
    const h = new FlowHistory({ sensor: 's', zonesOf: policyZones(examplePolicy()), onReady: () => rows.push(...h.drain()) });
    const { flows } = runFrames(frames, { history: h });
    rows.push(...h.drain());
    const peers = peerRows(rows);
    rows.splice(0, rows.length, ...zoneRows(rows));
    expect(flows).toHaveLength(1);
    // One hourly address-pair row with the same bytes, the flow counted once.
    expect(new Set(peers.map((r) => `${r.clientIp}>${r.serverIp} ${r.bucketMs - (r.bucketMs % 3_600_000)}`)).size).toBe(1);
    expect(peers[0]).toMatchObject({ clientIp: C, serverIp: S, bucketSeconds: 3600 });
    expect([peers.reduce((n, r) => n + r.flows, 0), peers.reduce((n, r) => n + r.bytes, 0)]).toEqual([1, rows.reduce((n, r) => n + r.bytes, 0)]);
    expect(rows.map((r) => (r.bucketMs / 1000 - T0) / B)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.flows)).toEqual([1, 1, 1]);
    expect(rows.reduce((n, r) => n + r.bytes, 0)).toBe(Number(flows[0].bytes_toserver) + Number(flows[0].bytes_toclient));
    expect(rows[0]).toMatchObject({ zoneSrc: 'MU', zoneDst: 'clinical-servers', encrypted: false, sensor: 's' });
  });

  it('over corpus captures: the buckets hold every byte of every flow event, and PHI flows where DICOM and HL7 carried patient data', async () => {
    const policy = examplePolicy();
    const rows: FlowHistoryRow[] = [];
    const h = new FlowHistory({ sensor: 's', zonesOf: policyZones(policy), onReady: () => rows.push(...h.drain()) });
    const C = (f: string) => join(import.meta.dirname, '../../../fixtures/corpus', f);
    const { flows } = await analyzeFiles(['02_dicom_cstore_ct_mr.pcap', '08_hl7_adt_oru_batch.pcap', '17_tls10_weak_vendor.pcap'].map(C), { history: h });
    rows.push(...h.drain());
    const peers = peerRows(rows);
    rows.splice(0, rows.length, ...zoneRows(rows));
    const bytes = flows.reduce((n, f) => n + Number(f.bytes_toserver) + Number(f.bytes_toclient), 0);
    expect(rows.reduce((n, r) => n + r.bytes, 0)).toBe(bytes);
    expect(rows.reduce((n, r) => n + r.flows, 0)).toBeGreaterThanOrEqual(flows.length);
    const phiApps = new Set(rows.filter((r) => r.phiFlows > 0).map((r) => r.app));
    expect(phiApps).toEqual(new Set(['dicom', 'hl7']));
    expect(rows.some((r) => r.app === 'tls' && r.encrypted && r.phiFlows === 0)).toBe(true);
    // The address-pair rows hold the same bytes, and every flow event's pair.
    expect(peers.reduce((n, r) => n + r.bytes, 0)).toBe(bytes);
    const pairs = new Set(peers.map((r) => `${r.clientIp}>${r.serverIp}`));
    for (const f of flows) expect(pairs.has(`${f.flow.src_ip}>${f.flow.dst_ip}`), `${f.flow.src_ip}>${f.flow.dst_ip}`).toBe(true);
  });
});
