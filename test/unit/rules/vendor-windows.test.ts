import { describe, expect, it } from 'vitest';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';

function policy(extra: string): CompiledPolicy {
  const r = parsePolicy(
    `site: Test
${extra}
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: it, kind: clinical, cidrs: [10.77.40.0/24]}
remote_access:
  jump_hosts: [10.77.40.5]
  vendors:
    - {name: Day vendor, cidrs: [192.0.2.0/24], windows: [{days: [mon, tue, wed, thu, fri], from: "07:00", to: "17:00"}]}
    - {name: Night vendor, cidrs: [198.51.100.0/24], windows: [{days: [fri], from: "22:00", to: "06:00"}]}
`,
    'site.yaml',
  );
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

const inWindow = (p: CompiledPolicy, ip: string, iso: string) => p.vendorOf(ip, new Date(iso))?.inWindow;

describe('vendor windows in the site’s time zone', () => {
  it('reads windows in Europe/Oslo by default, whatever the sensor’s clock, summer and winter', () => {
    const p = policy('');
    expect(p.timeZone).toBe('Europe/Oslo');
    // Monday 07:30 in Oslo is 06:30 UTC in winter (CET) and 05:30 UTC in summer (CEST).
    expect(inWindow(p, '192.0.2.9', '2026-01-05T06:30:00Z')).toBe(true);
    expect(inWindow(p, '192.0.2.9', '2026-07-06T05:30:00Z')).toBe(true);
    // Monday 06:30 in Oslo (05:30 UTC in winter): before the window, although 06:30 UTC would not be.
    expect(inWindow(p, '192.0.2.9', '2026-01-05T05:30:00Z')).toBe(false);
    // Friday 17:30 in Oslo, Saturday 10:00 in Oslo.
    expect(inWindow(p, '192.0.2.9', '2026-01-09T16:30:00Z')).toBe(false);
    expect(inWindow(p, '192.0.2.9', '2026-01-10T09:00:00Z')).toBe(false);
  });

  it('takes an explicit time zone', () => {
    const p = policy('time_zone: America/New_York');
    // Monday 07:30 in New York (EST, UTC-5) is 12:30 UTC.
    expect(inWindow(p, '192.0.2.9', '2026-01-05T12:30:00Z')).toBe(true);
    expect(inWindow(p, '192.0.2.9', '2026-01-05T06:30:00Z')).toBe(false);
  });

  it('a window whose end is before its start runs past midnight into the next day', () => {
    const p = policy('');
    // Friday 22:00 – Saturday 06:00, Oslo time (UTC+1 in January).
    expect(inWindow(p, '198.51.100.7', '2026-01-09T22:30:00Z')).toBe(true); // Fri 23:30
    expect(inWindow(p, '198.51.100.7', '2026-01-10T04:00:00Z')).toBe(true); // Sat 05:00
    expect(inWindow(p, '198.51.100.7', '2026-01-10T05:00:00Z')).toBe(false); // Sat 06:00, the end
    expect(inWindow(p, '198.51.100.7', '2026-01-09T04:00:00Z')).toBe(false); // Fri 05:00: that would be Thursday's window
    expect(inWindow(p, '198.51.100.7', '2026-01-08T22:30:00Z')).toBe(false); // Thu 23:30
    expect(inWindow(p, '198.51.100.7', '2026-01-10T22:30:00Z')).toBe(false); // Sat 23:30
  });

  it('rejects an unknown time zone and an empty window, located', () => {
    const errors = (yaml: string) => {
      const r = parsePolicy(yaml, 'site.yaml');
      return r.ok ? [] : r.errors.map(String);
    };
    expect(errors(`site: T\ntime_zone: Europe/Atlantis\nzones: [{name: mu, kind: medical, cidrs: [10.0.0.0/24]}]\n`)).toEqual([
      'site.yaml:2:12: time_zone: unknown time zone "Europe/Atlantis" (expected an IANA name such as Europe/Oslo)',
    ]);
    expect(
      errors(`site: T\nzones: [{name: mu, kind: medical, cidrs: [10.0.0.0/24]}]\nremote_access:\n  vendors: [{name: V, cidrs: [192.0.2.0/24], windows: [{from: "08:00", to: "08:00"}]}]\n`),
    ).toEqual(['site.yaml:4:76: remote_access.vendors[0].windows[0].to: "to" equals "from" (08:00): a window needs a length (a "to" before "from" runs past midnight)']);
  });

  it('remote-access-from-external follows the window in site time', () => {
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(''), ALL_RULES, (f) => found.push(f));
    const session = (ts: string): RuleEvent => ({
      ts,
      type: 'remote_access',
      protocol: 'ssh',
      encrypted: true,
      flow: { id: ts, vlan: [], src_ip: '198.51.100.7', src_port: 50000, dst_ip: '10.77.40.5', dst_port: 22, proto: 'tcp', app: 'ssh' },
    });
    engine.evaluate(session('2026-01-10T04:00:00.000000Z')); // Saturday 05:00 in Oslo: inside Friday night's window
    expect(found.filter((f) => f.rule.id === 'remote-access-from-external')).toEqual([]);
    engine.evaluate(session('2026-01-10T09:00:00.000000Z')); // Saturday 10:00: outside
    const outside = found.filter((f) => f.rule.id === 'remote-access-from-external');
    expect(outside).toHaveLength(1);
    expect(outside[0].evidence).toMatchObject({ vendor: 'Night vendor', outside_window: true });
  });
});

describe('vendor windows on the jump host → device leg', () => {
  const leg = (id: string, ts: string, src: string, dst: string): RuleEvent => ({
    ts,
    type: 'remote_access',
    protocol: 'rdp',
    encrypted: true,
    flow: { id, vlan: [], src_ip: src, src_port: 50000, dst_ip: dst, dst_port: 3389, proto: 'tcp', app: 'rdp' },
  });
  const ended = (id: string, ts: string, src: string, dst: string): RuleEvent => ({ ...leg(id, ts, src, dst), type: 'flow', state: 'closed' });
  const onward = (found: EngineFinding[]) => found.filter((f) => f.rule.id === 'vendor-onward-session-outside-window');

  it('a vendor logged in on time who opens the device session after the window closed is reported', () => {
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(''), ALL_RULES, (f) => found.push(f));
    // Monday 16:50 Oslo (15:50 UTC): the day vendor reaches the jump host inside 07:00–17:00.
    engine.evaluate(leg('v1', '2026-01-05T15:50:00.000000Z', '192.0.2.9', '10.77.40.5'));
    expect(found.filter((f) => f.rule.id === 'remote-access-from-external')).toEqual([]);
    // 16:55 Oslo: onward to the device, still inside.
    engine.evaluate(leg('d1', '2026-01-05T15:55:00.000000Z', '10.77.40.5', '10.77.10.21'));
    expect(onward(found)).toEqual([]);
    // 17:10 Oslo: a second device session through the same open vendor session, outside.
    engine.evaluate(leg('d2', '2026-01-05T16:10:00.000000Z', '10.77.40.5', '10.77.10.22'));
    expect(onward(found)).toHaveLength(1);
    expect(onward(found)[0].subject).toMatchObject({ src_ip: '10.77.40.5', dst_ip: '10.77.10.22' });
    expect(onward(found)[0].evidence).toMatchObject({ vendor: 'Day vendor', vendor_ip: '192.0.2.9', jump_host: '10.77.40.5', first_leg_flow: 'v1', outside_window: true, time_zone: 'Europe/Oslo' });
  });

  it('crosses midnight with a night window, and forgets the vendor once its session to the jump host ends', () => {
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(''), ALL_RULES, (f) => found.push(f));
    engine.evaluate(leg('n1', '2026-01-09T22:30:00.000000Z', '198.51.100.7', '10.77.40.5')); // Fri 23:30
    engine.evaluate(leg('d1', '2026-01-10T04:30:00.000000Z', '10.77.40.5', '10.77.10.21')); // Sat 05:30: inside
    expect(onward(found)).toEqual([]);
    engine.evaluate(leg('d2', '2026-01-10T05:30:00.000000Z', '10.77.40.5', '10.77.10.21')); // Sat 06:30: outside
    expect(onward(found)).toHaveLength(1);
    engine.evaluate(ended('n1', '2026-01-10T05:40:00.000000Z', '198.51.100.7', '10.77.40.5'));
    engine.evaluate(leg('d3', '2026-01-10T06:00:00.000000Z', '10.77.40.5', '10.77.10.23')); // an IT session, no vendor open
    expect(onward(found)).toHaveLength(1);
  });
});
