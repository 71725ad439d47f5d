/**
 * Retired devices and vendor agreements in the policy: crafted sessions through the pipeline
 * and the rule engine, one that raises each rule and one that must not; the policy keys and
 * their validation.
 */
import { describe, expect, it } from 'vitest';
import { Direction } from '../../../protocols/stream.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';
import { runFrames, type TestFrame } from '../../support/frames.js';
import { tcpSession, text } from '../remote/build.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;

const POLICY = `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: it, kind: clinical, cidrs: [10.77.40.0/24]}
remote_access:
  jump_hosts: [10.77.40.5]
  vendors:
    - {name: Ended vendor, cidrs: [192.0.2.0/24], contract_end: "2026-11-30"}
    - {name: Current vendor, cidrs: [198.51.100.0/24], contract_end: "2030-12-31"}
retired_devices:
  - {name: Old ultrasound, macs: ["02:00:5E:10:00:03"], retired_on: "2026-06-30"}
  - {name: Old monitor gateway, addresses: [10.77.10.99]}
`;

function policy(): CompiledPolicy {
  const r = parsePolicy(POLICY, 'site.yaml');
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

function findings(frames: TestFrame[]): EngineFinding[] {
  const out: EngineFinding[] = [];
  const engine = new RuleEngine(policy(), ALL_RULES, (f) => out.push(f));
  for (const e of runFrames(frames).events) engine.evaluate(e as RuleEvent);
  return out;
}

const of = (f: EngineFinding[], id: string) => f.filter((x) => x.rule.id === id);
/** Seconds since the epoch of an ISO time. */
const at = (iso: string) => Date.parse(iso) / 1000;

/** An SSH session; the server's frames carry `serverMac`. */
function ssh(client: string, server: string, t0: number, serverMac?: string): TestFrame[] {
  const frames = tcpSession(client, server, 50000, 22, [
    [TC, text('SSH-2.0-OpenSSH_9.2\r\n')],
    [TS, text('SSH-2.0-OpenSSH_9.2\r\n')],
  ], t0);
  if (serverMac) {
    const mac = Buffer.from(serverMac.replace(/:/g, ''), 'hex');
    // Frames from the server carry its MAC as the source, frames to it as the destination.
    for (const f of frames) {
      if (f.data.subarray(6, 12).equals(Buffer.from('020000000002', 'hex'))) mac.copy(f.data, 6);
      else mac.copy(f.data, 0);
    }
  }
  return frames;
}

describe('retired-device-seen', () => {
  it('a retired device’s MAC after its retirement day raises it, naming the device', () => {
    const hit = of(findings(ssh('10.77.40.5', '10.77.10.40', at('2026-12-01T10:00:00Z'), '02:00:5e:10:00:03')), 'retired-device-seen');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ retired_device: 'Old ultrasound', matched_by: 'mac', role: 'server' });
  });

  it('the same MAC before its retirement day, and another device, do not', () => {
    expect(of(findings(ssh('10.77.40.5', '10.77.10.40', at('2026-06-29T10:00:00Z'), '02:00:5e:10:00:03')), 'retired-device-seen')).toEqual([]);
    expect(of(findings(ssh('10.77.40.5', '10.77.10.40', at('2026-12-01T10:00:00Z'))), 'retired-device-seen')).toEqual([]);
  });

  it('a retired device listed by address raises it as client or server', () => {
    const hit = of(findings(ssh('10.77.10.99', '10.77.40.5', at('2026-12-01T10:00:00Z'))), 'retired-device-seen');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ retired_device: 'Old monitor gateway', matched_by: 'address', role: 'client' });
  });
});

describe('vendor-access-after-contract-end', () => {
  it('a session from a vendor after its contract’s last day (site time) raises it', () => {
    // 2026-11-30 23:30 UTC is 1 December 00:30 in Oslo: the day after the last day.
    const hit = of(findings(ssh('192.0.2.7', '10.77.40.5', at('2026-11-30T23:30:00Z'))), 'vendor-access-after-contract-end');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ vendor: 'Ended vendor', contract_end: '2026-11-30', time_zone: 'Europe/Oslo', protocol: 'ssh' });
  });

  it('on the last day, and from a vendor whose agreement runs, it does not', () => {
    expect(of(findings(ssh('192.0.2.7', '10.77.40.5', at('2026-11-30T22:30:00Z'))), 'vendor-access-after-contract-end')).toEqual([]);
    expect(of(findings(ssh('198.51.100.7', '10.77.40.5', at('2026-12-01T10:00:00Z'))), 'vendor-access-after-contract-end')).toEqual([]);
  });
});

describe('the policy keys', () => {
  const errors = (yaml: string) => {
    const r = parsePolicy(yaml, 'site.yaml');
    return r.ok ? [] : r.errors.map(String);
  };

  it('a retired device needs MACs or addresses, and its addresses and dates must parse', () => {
    const e = errors(`site: T\nzones: [{name: mu, kind: medical, cidrs: [10.0.0.0/24]}]\nretired_devices:\n  - {name: A}\n  - {name: B, addresses: [10.0.0.300]}\n  - {name: C, macs: ["02:00"], retired_on: "2026-13-01"}\n`);
    expect(e.join('\n')).toMatch(/retired_devices\[0\]: retired device "A" needs macs or addresses/);
    expect(e.join('\n')).toMatch(/retired_devices\[1\]\.addresses\[0\]: "10\.0\.0\.300" is not an address or CIDR/);
    expect(e.join('\n')).toMatch(/retired_devices\[2\]\.macs\[0\]/);
    expect(e.join('\n')).toMatch(/retired_devices\[2\]\.retired_on/);
  });

  it('a contract end is a date', () => {
    const e = errors(`site: T\nzones: [{name: mu, kind: medical, cidrs: [10.0.0.0/24]}]\nremote_access:\n  vendors: [{name: V, cidrs: [192.0.2.0/24], contract_end: "31.12.2026"}]\n`);
    expect(e.join('\n')).toMatch(/remote_access\.vendors\[0\]\.contract_end/);
  });
});
