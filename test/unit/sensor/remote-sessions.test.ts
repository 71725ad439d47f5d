import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { RemoteSessionLog, remoteSessionId } from '../../../agent/sensor/remote-sessions.js';
import type { RemoteSessionRow } from '../../../agent/store/index.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';
import { MemorySink } from '../../support/memory-sink.js';

function policy(): CompiledPolicy {
  const r = parsePolicy(
    `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: it, kind: clinical, cidrs: [10.77.40.0/24]}
remote_access:
  jump_hosts: [10.77.40.5, 10.77.40.6]
  vendors:
    - {name: Day vendor, cidrs: [192.0.2.0/24], windows: [{days: [mon, tue, wed, thu, fri], from: "07:00", to: "17:00"}]}
    - {name: Night vendor, cidrs: [198.51.100.0/24], windows: [{days: [fri], from: "22:00", to: "02:00"}]}
    - {name: Relay vendor, cidrs: [203.0.113.0/24]}
`,
    'site.yaml',
  );
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

function harness() {
  const written: RemoteSessionRow[] = [];
  const inner = new MemorySink();
  const log = new RemoteSessionLog(inner, {
    sensor: 'sensor-a',
    policy: policy(),
    store: {
      async upsertRemoteSessions(rows) {
        written.push(...rows);
        return { written: rows.length, rejected: 0 };
      },
    },
  });
  const ref = (id: string, src: string, dst: string, dport = 22) => ({ id, vlan: [], src_ip: src, src_port: 50000, dst_ip: dst, dst_port: dport, proto: 'tcp' as const, app: 'ssh' });
  const start = (id: string, ts: string, src: string, dst: string, protocol = 'ssh') =>
    log.write({ ts, type: 'remote_access', flow: ref(id, src, dst), protocol, encrypted: true, initiator: 'client', detection: 'content', weak: false } as unknown as MuvaktEvent);
  const end = (id: string, from: string, to: string, src: string, dst: string, reason = 'closed', state = 'closed') =>
    log.write({
      ts: to,
      type: 'flow',
      flow: ref(id, src, dst),
      app: 'ssh',
      state,
      reason,
      pkts_toserver: 10,
      pkts_toclient: 12,
      bytes_toserver: 1000,
      bytes_toclient: 5000,
      start: from,
      end: to,
      encrypted: true,
      ip_version: 4,
    } as unknown as MuvaktEvent);
  const byFlow = (id: string) => written.filter((r) => r.flowId === id).at(-1)!;
  return { log, inner, written, start, end, byFlow };
}

describe('remote-access session log', () => {
  it('links the onward leg from the jump host to the vendor’s inbound leg, and judges it when it starts (across midnight, Oslo time)', async () => {
    const h = harness();
    // Friday 2026-01-09 23:30 Oslo (22:30Z): the night vendor reaches the jump host, inside 22:00–02:00.
    h.start('aa01', '2026-01-09T22:30:00.100000Z', '198.51.100.7', '10.77.40.5');
    // Saturday 01:30 Oslo: onward to a device, still inside (the window runs past midnight).
    h.start('bb02', '2026-01-10T00:30:00.000000Z', '10.77.40.5', '10.77.10.21');
    // Saturday 02:30 Oslo: another device, outside.
    h.start('cc03', '2026-01-10T01:30:00.000000Z', '10.77.40.5', '10.77.10.22');
    h.end('bb02', '2026-01-10T00:29:59.900000Z', '2026-01-10T00:40:00.000000Z', '10.77.40.5', '10.77.10.21');
    h.end('cc03', '2026-01-10T01:30:00.000000Z', '2026-01-10T01:35:00.000000Z', '10.77.40.5', '10.77.10.22');
    h.end('aa01', '2026-01-09T22:30:00.000000Z', '2026-01-10T01:40:00.000000Z', '198.51.100.7', '10.77.40.5');
    // After the vendor's session ended, a session from the jump host is the site's own.
    h.start('dd04', '2026-01-10T01:45:00.000000Z', '10.77.40.5', '10.77.10.23');
    await h.log.finish();
    const inbound = h.byFlow('aa01');
    expect(inbound).toMatchObject({ vendor: 'Night vendor', outsideWindow: false, jumpHost: '10.77.40.5', inboundId: null, path: ['198.51.100.7', '10.77.40.5'], zoneSrc: 'external', zoneDst: 'it' });
    expect([inbound.startMs, inbound.endMs]).toEqual([Date.parse('2026-01-09T22:30:00Z'), Date.parse('2026-01-10T01:40:00Z')]);
    expect(inbound.id).toBe(remoteSessionId('sensor-a', 'aa01'));
    expect(h.byFlow('bb02')).toMatchObject({ vendor: 'Night vendor', outsideWindow: false, inboundId: inbound.id, path: ['198.51.100.7', '10.77.40.5', '10.77.10.21'], bytesToServer: 1000, bytesToClient: 5000, zoneDst: 'mu' });
    expect(h.byFlow('bb02').startMs).toBe(Date.parse('2026-01-10T00:29:59.900Z')); // the flow's first packet
    expect(h.byFlow('cc03')).toMatchObject({ vendor: 'Night vendor', outsideWindow: true, inboundId: inbound.id });
    expect(h.byFlow('dd04')).toMatchObject({ vendor: null, outsideWindow: null, inboundId: null, jumpHost: '10.77.40.5', endMs: null, path: ['10.77.40.5', '10.77.10.23'] });
    // Every event still reaches the rest of the chain.
    expect(h.inner.events).toHaveLength(7);
  });

  it('the evening part of a midnight window belongs to its own day, the morning part to the day before', async () => {
    const h = harness();
    h.start('e1', '2026-01-09T21:30:00.000000Z', '198.51.100.7', '10.77.40.5'); // Fri 22:30: inside
    h.start('e2', '2026-01-10T02:30:00.000000Z', '198.51.100.8', '10.77.40.5'); // Sat 03:30: past 02:00
    h.start('e3', '2026-01-10T21:30:00.000000Z', '198.51.100.9', '10.77.40.5'); // Sat 22:30: Saturday has no window
    h.start('e4', '2026-01-09T00:30:00.000000Z', '198.51.100.10', '10.77.40.5'); // Fri 01:30: Thursday night, no window
    await h.log.finish();
    expect(['e1', 'e2', 'e3', 'e4'].map((f) => h.byFlow(f).outsideWindow)).toEqual([false, true, true, true]);
  });

  it('follows a chain of jump hosts, takes the vendor of a relay the device dials out to, and writes open sessions as ongoing at the end', async () => {
    const h = harness();
    h.start('j1', '2026-01-05T08:00:00.000000Z', '192.0.2.9', '10.77.40.5'); // Monday 09:00 Oslo
    h.start('j2', '2026-01-05T08:01:00.000000Z', '10.77.40.5', '10.77.40.6');
    h.start('j3', '2026-01-05T08:02:00.000000Z', '10.77.40.6', '10.77.10.30');
    h.start('tv', '2026-01-05T08:03:00.000000Z', '10.77.10.31', '203.0.113.50', 'teamviewer');
    h.end('j3', '2026-01-05T08:02:00.000000Z', '2026-01-05T08:09:00.000000Z', '10.77.40.6', '10.77.10.30', 'shutdown', 'established');
    await h.log.finish();
    expect(h.byFlow('j3')).toMatchObject({ vendor: 'Day vendor', outsideWindow: false, inboundId: remoteSessionId('sensor-a', 'j2'), path: ['192.0.2.9', '10.77.40.5', '10.77.40.6', '10.77.10.30'], endMs: null });
    expect(h.byFlow('j3').lastSeenMs).toBe(Date.parse('2026-01-05T08:09:00Z'));
    expect(h.byFlow('j2')).toMatchObject({ inboundId: remoteSessionId('sensor-a', 'j1'), endMs: null });
    expect(h.byFlow('tv')).toMatchObject({ protocol: 'teamviewer', vendor: 'Relay vendor', outsideWindow: false, jumpHost: null, path: ['10.77.10.31', '203.0.113.50'] });
  });

  it('a failed write keeps the sessions for the next attempt', async () => {
    const rows: RemoteSessionRow[] = [];
    let fail = true;
    const errors: string[] = [];
    const log = new RemoteSessionLog(new MemorySink(), {
      sensor: 's',
      policy: policy(),
      store: {
        async upsertRemoteSessions(r) {
          if (fail) throw new Error('database is locked');
          rows.push(...r);
          return { written: r.length, rejected: 0 };
        },
      },
      onError: (e) => errors.push(e.message),
    });
    log.write({ ts: '2026-01-05T08:00:00.000000Z', type: 'remote_access', flow: { id: 'f1', vlan: [], src_ip: '192.0.2.9', src_port: 1, dst_ip: '10.77.10.30', dst_port: 22, proto: 'tcp', app: 'ssh' }, protocol: 'ssh', encrypted: true } as unknown as MuvaktEvent);
    await log.finish();
    expect([errors, rows, log.stats.writeErrors]).toEqual([['database is locked'], [], 1]);
    fail = false;
    await log.save(true);
    expect(rows.map((r) => r.flowId)).toEqual(['f1']);
  });
});
