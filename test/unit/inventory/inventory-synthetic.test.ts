import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { examplePolicy } from '../../support/rules.js';
import { EndpointMemo } from '../../../agent/inventory/endpoint-memo.js';
import { Inventory, alertCountsFrom, classify, deviceDetail, listSummaries, policyZones } from '../../../agent/inventory/index.js';

const TS = '2026-11-23T10:00:00.000000Z';

function flow(src: string, dst: string, port: number, app: string, extra: Record<string, unknown> = {}, ts = TS): MuvaktEvent {
  return {
    ts,
    type: 'flow',
    flow: { id: 'x', vlan: [], src_ip: src, src_port: 40000, dst_ip: dst, dst_port: port, proto: 'tcp', app },
    app,
    state: 'closed',
    pkts_toclient: 3,
    ...extra,
  };
}

function ev(type: string, src: string, dst: string, port: number, app: string, extra: Record<string, unknown> = {}): MuvaktEvent {
  return { ts: TS, type, flow: { id: 'x', vlan: [], src_ip: src, src_port: 40000, dst_ip: dst, dst_port: port, proto: 'tcp', app }, ...extra };
}

function mac(i: number): string {
  return ['02', (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1].map((x) => (typeof x === 'string' ? x : x.toString(16).padStart(2, '0'))).join(':');
}

describe('inventory bounds', () => {
  it('caps 200k synthetic devices at maxDevices, evicting with a counter', () => {
    // The cost of a full inventory is measured in the bench, not timed here.
    const inv = new Inventory({ maxDevices: 100_000 });
    for (let i = 0; i < 200_000; i++) {
      inv.observe({ ts: TS, type: 'dhcp', client_mac: mac(i), hostname: `host${i}`, dhcp_type: 'request' });
    }
    expect(inv.size).toBe(100_000);
    expect(inv.counters.devices_evicted).toBe(100_000);
    expect(inv.counters.devices_dropped).toBe(0);
    expect(inv.counters.events).toBe(200_000);
  });

  it('evicts the least recently seen device, sparing one that is still talking', () => {
    const at = (s: number) => `2026-11-23T10:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000000Z`;
    const inv = new Inventory({ maxDevices: 4 });
    const pacs = '10.9.9.9';
    // The PACS is the first device made, then keeps answering every new client.
    for (let i = 0; i < 50; i++) {
      inv.observe(flow(`10.100.0.${i + 1}`, pacs, 104, 'dicom', { client_mac: mac(i + 1), server_mac: '02:00:00:09:09:09' }, at(i)));
    }
    expect(inv.size).toBe(4);
    expect(inv.byIp(pacs)).toBeDefined();
    // The newest clients are kept, the oldest evicted, and their addresses are free again.
    expect(inv.byIp('10.100.0.50')).toBeDefined();
    expect(inv.byIp('10.100.0.1')).toBeUndefined();
    expect(inv.counters.devices_evicted).toBe(50 + 1 - 4);
    // An evicted host seen again is a new device.
    inv.observe(flow('10.100.0.1', pacs, 104, 'dicom', { client_mac: mac(1), server_mac: '02:00:00:09:09:09' }, at(100)));
    expect(inv.byIp('10.100.0.1')!.first_seen).toBe(at(100));
  });

  it('makes no new device while shedding, counting what it did not make', () => {
    const inv = new Inventory();
    inv.observe(flow('10.1.1.1', '10.9.9.9', 104, 'dicom', { client_mac: mac(1), server_mac: '02:00:00:09:09:09' }));
    inv.shedding = true;
    inv.observe(flow('10.1.1.2', '10.9.9.9', 104, 'dicom', { client_mac: mac(2), server_mac: '02:00:00:09:09:09' }));
    expect(inv.size).toBe(2);
    expect(inv.counters.devices_shed).toBe(1);
    // The known devices go on learning.
    expect(inv.byIp('10.9.9.9')!.events).toBe(2);
    inv.shedding = false;
    inv.observe(flow('10.1.1.2', '10.9.9.9', 104, 'dicom', { client_mac: mac(2), server_mac: '02:00:00:09:09:09' }));
    expect(inv.size).toBe(3);
  });

  it('caps external devices separately', () => {
    const inv = new Inventory({ maxExternalDevices: 10 });
    for (let i = 0; i < 50; i++) inv.observe(flow('10.0.0.5', `198.51.100.${i + 1}`, 443, 'tls', { client_mac: '02:00:00:00:00:05', server_mac: '02:77:fe:00:00:01' }));
    expect([...inv.devices()].filter((d) => d.external)).toHaveLength(10);
    expect(inv.counters.external_devices_dropped).toBe(40);
    expect(inv.byIp('10.0.0.5')!.external_peers).toHaveLength(10);
  });

  it('caps per-device lists with counters', () => {
    const inv = new Inventory({ maxPeersPerApp: 64, maxList: 32 });
    for (let i = 0; i < 1000; i++) {
      inv.observe(flow(`10.100.${i >> 8}.${i & 255}`, '10.9.9.9', 104, 'dicom', { client_mac: mac(i + 1), server_mac: '02:00:00:09:09:09' }));
      inv.observe(ev('dicom.association', `10.100.${i >> 8}.${i & 255}`, '10.9.9.9', 104, 'dicom', { calling_ae: `AE${i}`, called_ae: `PACS${i}` }));
    }
    const pacs = inv.byIp('10.9.9.9')!;
    expect(pacs.peers.dicom).toHaveLength(64);
    expect(pacs.dropped.peers).toBe(1000 - 64);
    expect(pacs.dicom.called_aes).toHaveLength(32);
    expect(pacs.dropped.called_aes).toBe(1000 - 32);
    expect(JSON.stringify(inv.toJSON()).length).toBeLessThan(2_000_000);
  });
});

describe('events of one connection (shared flow object)', () => {
  it('follows a re-key, a merge and a new address although later events reuse the same flow object', () => {
    const inv = new Inventory();
    // The pipeline hands every event of a connection the same flow object; the inventory keeps
    // the last connection's devices, which must not outlive a change of identity.
    const ref = { id: 'c1', vlan: [], src_ip: '10.1.1.5', src_port: 40000, dst_ip: '10.1.2.10', dst_port: 104, proto: 'tcp', app: 'dicom' };
    const at = (s: number) => `2026-11-23T10:00:${String(s).padStart(2, '0')}.000000Z`;
    const dimse = (s: number) => inv.observe({ ts: at(s), type: 'dicom.dimse', flow: ref, command: 'C-STORE-RQ' });
    inv.observe({ ts: at(1), type: 'dicom.association', flow: ref, calling_ae: 'US_1', called_ae: 'PACS' });
    dimse(2);
    dimse(3);
    const before = inv.byIp('10.1.1.5')!;
    expect(before.id).toBe('ip:10.1.1.5');
    expect(before.last_seen).toBe(at(3));
    expect(before.events).toBe(3);
    // The flow event brings the MACs: the IP-keyed device becomes the MAC-keyed one.
    inv.observe({ ts: at(4), type: 'flow', flow: ref, app: 'dicom', state: 'closed', client_mac: '02:00:00:00:01:05', server_mac: '02:00:00:00:02:10' });
    dimse(5);
    const after = inv.byIp('10.1.1.5')!;
    expect(after.id).toBe('mac:02:00:00:00:01:05');
    expect(after.last_seen).toBe(at(5));
    expect(after.addresses.find((a) => a.ip === '10.1.1.5')!.last_seen).toBe(at(5));
    // Another connection of the same client, then back to the first: times keep moving on the
    // address record the device really holds.
    const other = { ...ref, id: 'c2', dst_ip: '10.1.2.11' };
    inv.observe({ ts: at(6), type: 'dicom.dimse', flow: other, command: 'C-ECHO-RQ' });
    dimse(7);
    expect(inv.byIp('10.1.1.5')).toBe(after);
    expect(after.last_seen).toBe(at(7));
    expect(inv.byIp('10.1.2.10')!.last_seen).toBe(at(7));
    expect(inv.byIp('10.1.2.11')!.last_seen).toBe(at(6));
    // An IP-keyed device folded into the MAC-keyed one: the cached device is the one that is gone.
    const v6 = { ...ref, id: 'c3', src_ip: 'fd00::5' };
    inv.observe({ ts: at(8), type: 'dicom.dimse', flow: v6, command: 'C-ECHO-RQ' });
    inv.observe({ ts: at(9), type: 'dicom.dimse', flow: v6, command: 'C-ECHO-RQ' });
    expect(inv.byIp('fd00::5')!.id).toBe('ip:fd00::5');
    inv.observe({ ts: at(10), type: 'flow', flow: { ...v6 }, app: 'dicom', state: 'closed', client_mac: '02:00:00:00:01:05' });
    inv.observe({ ts: at(11), type: 'dicom.dimse', flow: v6, command: 'C-ECHO-RQ' });
    expect(inv.byIp('fd00::5')).toBe(after);
    expect(inv.get('ip:fd00::5')).toBeUndefined();
    expect(after.addresses.find((a) => a.ip === 'fd00::5')!.last_seen).toBe(at(11));
    expect(after.last_seen).toBe(at(11));
  });
});

describe('events of one connection after a DHCP lease moves its address', () => {
  it('resolves again once a DHCP event folds the cached device into another', () => {
    const inv = new Inventory();
    const at = (s: number) => `2026-11-23T10:01:${String(s).padStart(2, '0')}.000000Z`;
    // The workstation's MAC is known from another address first.
    inv.observe({ ts: at(1), type: 'flow', flow: { id: 'w', vlan: [], src_ip: '10.1.1.99', src_port: 1, dst_ip: '10.1.2.10', dst_port: 104, proto: 'tcp', app: 'dicom' }, app: 'dicom', state: 'closed', client_mac: '02:00:00:00:01:99' });
    const ws = inv.byIp('10.1.1.99')!;
    // A connection from 10.1.1.5, seen only in protocol events so far: an IP-keyed device.
    const ref = { id: 'c', vlan: [], src_ip: '10.1.1.5', src_port: 40000, dst_ip: '10.1.2.10', dst_port: 104, proto: 'tcp', app: 'dicom' };
    inv.observe({ ts: at(2), type: 'dicom.dimse', flow: ref, command: 'C-ECHO-RQ' });
    inv.observe({ ts: at(3), type: 'dicom.dimse', flow: ref, command: 'C-ECHO-RQ' });
    expect(inv.byIp('10.1.1.5')!.id).toBe('ip:10.1.1.5');
    // The lease says 10.1.1.5 is that workstation: the IP-keyed device is folded into it.
    inv.observe({ ts: at(4), type: 'dhcp', dhcp_type: 'ack', client_mac: '02:00:00:00:01:99', assigned_ip: '10.1.1.5' });
    expect(inv.get('ip:10.1.1.5')).toBeUndefined();
    inv.observe({ ts: at(5), type: 'dicom.dimse', flow: ref, command: 'C-ECHO-RQ' });
    expect(inv.byIp('10.1.1.5')).toBe(ws);
    expect(ws.last_seen).toBe(at(5));
    expect(ws.addresses.find((a) => a.ip === '10.1.1.5')!.last_seen).toBe(at(5));
  });
});

describe('flow events between the endpoints of the last protocol event', () => {
  const ref = (id: string) => ({ id, vlan: [20], src_ip: '10.1.1.5', src_port: 40000, dst_ip: '10.1.2.10', dst_port: 80, proto: 'tcp', app: 'http' });
  const at = (h: number, s: number) => `2026-11-23T${String(10 + h).padStart(2, '0')}:00:${String(s).padStart(2, '0')}.000000Z`;
  const flowEv = (id: string, ts: string, clientMac: string) =>
    ({ ts, type: 'flow', flow: ref(id), app: 'http', state: 'closed', pkts_toclient: 3, client_mac: clientMac, server_mac: '02:00:00:00:02:10' }) as MuvaktEvent;

  it('count every connection of a burst on the same two devices', () => {
    const inv = new Inventory();
    for (let i = 0; i < 5; i++) {
      inv.observe({ ts: at(0, i), type: 'http', flow: ref(`c${i}`), hostname: 'pump.local', http_user_agent: 'curl/8' });
      inv.observe(flowEv(`c${i}`, at(0, i), '02:00:00:00:01:05'));
    }
    const client = inv.byIp('10.1.1.5')!;
    const server = inv.byIp('10.1.2.10')!;
    expect(client.id).toBe('mac:02:00:00:00:01:05');
    expect(server.services_offered).toEqual([{ proto: 'tcp', port: 80, app: 'http', count: 5 }]);
    expect(client.services_used).toEqual([{ app: 'http', count: 5 }]);
    expect(client.vlans).toEqual([20]);
    expect(client.last_seen).toBe(at(0, 4));
    expect(server.software).toEqual([]);
    expect(client.software).toEqual([{ source: 'http-user-agent', value: 'curl/8' }]);
  });

  it('never move a device’s last time back after another connection’s flow touched it', () => {
    const inv = new Inventory();
    const x = ref('x');
    const y = { ...ref('y'), src_ip: '10.1.3.7', dst_ip: '10.1.1.5', dst_port: 104, app: 'dicom' };
    // All three devices known by their MACs first (earlier connections): nothing new is learnt below.
    inv.observe(flowEv('w', at(0, 5), '02:00:00:00:01:05'));
    inv.observe({ ts: at(0, 6), type: 'flow', flow: { ...y, id: 'y0' }, app: 'dicom', state: 'closed', client_mac: '02:00:00:00:03:07', server_mac: '02:00:00:00:01:05' });
    inv.observe({ ts: at(0, 10), type: 'http', flow: x, hostname: 'pump.local' });
    inv.observe({ ts: at(0, 20), type: 'flow', flow: y, app: 'dicom', state: 'closed', client_mac: '02:00:00:00:03:07', server_mac: '02:00:00:00:01:05' });
    // An event of the first connection that reaches us a little late.
    inv.observe({ ts: at(0, 15), type: 'http', flow: x, hostname: 'pump.local' });
    const d = inv.byIp('10.1.1.5')!;
    expect(d.last_seen).toBe(at(0, 20));
    expect(d.id).toBe('mac:02:00:00:00:01:05');
    expect(d.addresses.find((a) => a.ip === '10.1.1.5')!.last_seen).toBe(at(0, 20));
    expect(d.first_seen).toBe(at(0, 5));
  });

  it('never move a device’s last time back after a DHCP message from it', () => {
    const inv = new Inventory();
    const x = ref('x');
    inv.observe(flowEv('w', at(0, 5), '02:00:00:00:01:05'));
    inv.observe({ ts: at(0, 10), type: 'http', flow: x, hostname: 'pump.local' });
    // A DISCOVER carries no address: the device is found by its MAC alone.
    inv.observe({ ts: at(0, 20), type: 'dhcp', dhcp_type: 'discover', client_mac: '02:00:00:00:01:05', hostname: 'pump-7' });
    inv.observe({ ts: at(0, 15), type: 'http', flow: x, hostname: 'pump.local' });
    const d = inv.byIp('10.1.1.5')!;
    expect(d.names.map((n) => n.name)).toContain('pump-7');
    expect(d.last_seen).toBe(at(0, 20));
  });

  it('take the full path when the flow brings another MAC for the address', () => {
    const inv = new Inventory();
    inv.observe({ ts: at(0, 1), type: 'http', flow: ref('a'), hostname: 'pump.local' });
    inv.observe(flowEv('a', at(0, 1), '02:00:00:00:01:05'));
    inv.observe({ ts: at(0, 2), type: 'http', flow: ref('b'), hostname: 'pump.local' });
    // Two hours later the address belongs to a new network card: a new device holds it.
    inv.observe(flowEv('c', at(2, 3), '02:00:00:00:01:99'));
    expect(inv.byIp('10.1.1.5')!.id).toBe('mac:02:00:00:00:01:99');
    expect(inv.get('mac:02:00:00:00:01:05')!.last_seen).toBe(at(0, 2));
    expect(inv.byIp('10.1.1.5')!.services_used).toEqual([{ app: 'http', count: 1 }]);
  });
});

/** Interleaved connections, MAC changes, DHCP and times out of order, from a fixed seed. */
function randomTraffic(seed = 99): MuvaktEvent[] {
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const ips = ['10.1.1.5', '10.1.1.6', '10.1.2.10', '10.1.2.11', 'fd00::5', '198.51.100.7'];
  const macs = ['02:00:00:00:01:05', '02:00:00:00:01:06', '02:00:00:00:02:10', '02:00:00:00:02:11', '02:00:00:00:01:99'];
  const ts = (t: number) => `2026-11-23T${String(10 + Math.floor(t / 3600)).padStart(2, '0')}:${String(Math.floor(t / 60) % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}.000000Z`;
  const events: MuvaktEvent[] = [];
  // Each address mostly keeps its MAC; now and then it moves to another card.
  const macOf = new Map(ips.map((ip, i) => [ip, macs[i % macs.length]]));
  const open: { id: string; vlan: number[]; src_ip: string; src_port: number; dst_ip: string; dst_port: number; proto: string; app: string }[] = [];
  let t = 0;
  while (events.length < 8000) {
    // Mostly forward in time, sometimes the same instant, sometimes back (two capture files).
    const step = rnd(20);
    t = step === 0 ? Math.max(0, t - rnd(4000)) : step < 4 ? t : t + rnd(3) + (rnd(50) === 0 ? 4000 : 0);
    if (rnd(6) === 0) {
      events.push({ ts: ts(t), type: 'dhcp', dhcp_type: 'ack', client_mac: macs[rnd(macs.length)], assigned_ip: ips[rnd(4)] });
      continue;
    }
    if (rnd(15) === 0) macOf.set(ips[rnd(ips.length)], macs[rnd(macs.length)]);
    // Up to four connections open at once, their events interleaved; a flow event when one ends.
    if (open.length < 4 && (open.length === 0 || rnd(4) === 0)) {
      const src = ips[rnd(ips.length)];
      const dst = rnd(8) === 0 ? src : ips[rnd(ips.length)];
      const port = [80, 104, 2575][rnd(3)];
      const app = port === 80 ? 'http' : port === 104 ? 'dicom' : 'hl7';
      open.push({ id: `f${events.length}`, vlan: rnd(4) === 0 ? [20] : [], src_ip: src, src_port: 40000, dst_ip: dst, dst_port: port, proto: 'tcp', app });
    }
    const c = rnd(open.length);
    const flow = open[c];
    if (rnd(6) === 0) {
      open.splice(c, 1);
      if (rnd(5) !== 0) {
        events.push({ ts: ts(t), type: 'flow', flow, app: flow.app, state: rnd(5) === 0 ? 'new' : 'closed', pkts_toclient: rnd(3), client_mac: macOf.get(flow.src_ip), server_mac: macOf.get(flow.dst_ip) });
      }
      continue;
    }
    const burst = 1 + rnd(4);
    for (let b = 0; b < burst; b++) {
      // Events of interleaved connections reach the inventory a little out of time order.
      const jitter = rnd(6);
      if (jitter === 0) t += rnd(3);
      else if (jitter === 1) t = Math.max(0, t - rnd(3));
      const k = rnd(6);
      if (k < 2) events.push({ ts: ts(t), type: 'http', flow, hostname: ['pump.local', 'pacs', ''][rnd(3)], http_user_agent: ['curl/8', 'UA/1'][rnd(2)], http_server: 'srv/2' });
      else if (k < 3) events.push({ ts: ts(t), type: 'credential.cleartext', flow, protocol: 'http', kind: 'basic-auth' });
      else if (k < 5) events.push({ ts: ts(t), type: 'dicom.dimse', flow, command: ['C-ECHO-RQ', 'C-STORE-RQ'][rnd(2)], direction: rnd(2) ? 'to_server' : 'to_client' });
      else events.push({ ts: ts(t), type: 'hl7.message', flow, direction: 'to_server', sending_application: 'RIS', sending_facility: 'RAD', message_type: 'ADT^A01' });
    }
  }
  return events;
}

/**
 * Feeds the events to an inventory with the shortcuts and one without, and returns where they
 * first differ (null when they never do). Compared along the way, not only at the end: a time
 * put back and later moved on again would otherwise go unseen.
 */
function divergence(events: MuvaktEvent[]): { at: string; fast: unknown; full: unknown; reuses: number } | null {
  const fast = new Inventory({ reuseEndpoints: true, rebindAfterMs: 600_000, routerThreshold: 3 });
  const full = new Inventory({ reuseEndpoints: false, rebindAfterMs: 600_000, routerThreshold: 3 });
  const state = (inv: Inventory) => JSON.stringify(inv.toJSON());
  // After every event, the times (the shortcuts keep copies of them); everything every 50.
  const times = (inv: Inventory) =>
    [...inv.devices()].map((d) => `${d.id} ${d.first_seen} ${d.last_seen} ${d.events} ${d.addresses.map((a) => `${a.ip} ${a.first_seen} ${a.last_seen}`).join(',')}`).join('\n');
  for (let i = 0; i < events.length; i++) {
    fast.observe(events[i]);
    full.observe(events[i]);
    if (times(fast) !== times(full)) return { at: `after event ${i}`, fast: times(fast), full: times(full), reuses: fast.endpointReuses };
    if (i % 50 === 49 && state(fast) !== state(full)) return { at: `after event ${i}`, fast: JSON.parse(state(fast)), full: JSON.parse(state(full)), reuses: fast.endpointReuses };
  }
  expect(full.endpointReuses).toBe(0);
  expect(fast.size).toBeGreaterThan(3);
  if (state(fast) !== state(full)) return { at: 'at the end', fast: JSON.parse(state(fast)), full: JSON.parse(state(full)), reuses: fast.endpointReuses };
  return null;
}

describe('the shortcuts against full resolution on random traffic', () => {
  // Seed 99 alone happens to miss both kinds of report below; 6, 8 and 9 catch each of them.
  const SEEDS = [99, 6, 8, 9];
  const traffic = SEEDS.map((seed) => randomTraffic(seed));

  it.each(SEEDS.map((seed, i) => [seed, i]))('give the same inventory for interleaved connections, MAC changes, DHCP and times out of order (seed %i)', (_seed, i) => {
    const d = divergence(traffic[i]);
    if (d !== null) expect(d.fast, d.at).toEqual(d.full);
    // The comparison means something only if the shortcut was taken often.
    const fast = new Inventory({ reuseEndpoints: true, rebindAfterMs: 600_000, routerThreshold: 3 }).observeAll(traffic[i]);
    expect(fast.endpointReuses).toBeGreaterThan(2000);
  });

  // The memo is only as right as what identity resolution tells it: each of the two reports,
  // left unheard, must make the comparison above fail (so it can catch a missing report).
  it.each(['identityChanged', 'timesMoved'] as const)('tell a memo that ignores %s apart from full resolution', (hook) => {
    const heard = EndpointMemo.prototype[hook];
    EndpointMemo.prototype[hook] = () => {};
    try {
      const caught = traffic.filter((events) => divergence(events) !== null).length;
      expect(caught).toBeGreaterThan(0);
    } finally {
      EndpointMemo.prototype[hook] = heard;
    }
  });
});
