import { describe, expect, it } from 'vitest';
import { Inventory, clean, defaultZoneOf } from '../../../agent/inventory/index.js';

describe('zones and devices without a policy (the answers of protocols/ip/address-class)', () => {
  it('default zones are shared constants, one per kind', () => {
    expect(defaultZoneOf('10.1.1.1', [])).toBe(defaultZoneOf('192.168.0.1', []));
    expect(defaultZoneOf('8.8.8.8', [])).toEqual({ name: 'external', kind: 'external' });
    expect(Object.isFrozen(defaultZoneOf('8.8.8.8', []))).toBe(true);
  });

  it.each([
    ['10.0.0.1', 'unknown'],
    ['172.31.255.254', 'unknown'],
    ['172.32.0.1', 'external'],
    ['100.64.0.1', 'unknown'],
    ['169.254.3.4', 'unknown'],
    ['127.0.0.1', 'unknown'],
    ['fd00::5', 'unknown'],
    ['fe80::1', 'unknown'],
    ['::ffff:10.1.2.3', 'unknown'],
    ['::ffff:8.8.4.4', 'external'],
    ['8.8.8.8', 'external'],
    // Documentation ranges stand for other networks: the corpus' internet peers live there.
    ['198.51.100.23', 'external'],
    ['203.0.113.45', 'external'],
    ['192.0.2.7', 'external'],
    ['2001:db8::1', 'external'],
    // Text that is no address is nothing to call external.
    ['', 'unknown'],
    ['1.2.3', 'unknown'],
    ['10..1.1', 'unknown'],
  ])('%s → %s', (ip, kind) => {
    expect(defaultZoneOf(ip, []).kind).toBe(kind);
  });

  it.each([
    ['224.0.0.251', false],
    ['239.255.255.250', false],
    ['255.255.255.255', false],
    ['0.0.0.0', false],
    ['ff02::fb', false],
    ['FF02::1', false],
    ['::', false],
    ['10.1.1.1', true],
    ['240.0.0.1', true],
    ['223.1.1.1', true],
    ['2001:db8::1', true],
    ['fe80::1', true],
  ])('an event to %s makes a device of it: %s', (ip, isDevice) => {
    const inv = new Inventory();
    inv.observe({ ts: '2026-11-23T10:00:00.000000Z', type: 'syslog', flow: { id: 'x', vlan: [], src_ip: '10.1.1.7', src_port: 514, dst_ip: ip, dst_port: 514, proto: 'udp', app: 'syslog' } });
    expect(inv.byIp(ip) !== undefined).toBe(isDevice);
    expect(inv.byIp('10.1.1.7')).toBeDefined();
  });
});

describe('clean', () => {
  it('returns printable short text unchanged (same string) and strips the rest', () => {
    const ok = 'OsiriX-DCMTK 3.6.7';
    expect(clean(ok)).toBe(ok);
    expect(clean('  padded  ')).toBe('padded');
    expect(clean('bell\x07 and\ttab')).toBe('bell andtab');
    expect(clean('Ålesund sykehus')).toBe('Ålesund sykehus');
    expect(clean('x'.repeat(300))).toHaveLength(128);
    expect(clean(42)).toBe('');
    expect(clean('')).toBe('');
  });
});

describe('multicast MACs are nobody’s device', () => {
  it.each([
    ['01:00:5e:00:00:fb', false],
    ['33:33:00:00:00:fb', false],
    ['0B:00:00:00:00:01', false],
    ['ff:ff:ff:ff:ff:ff', false],
    ['02:00:00:00:01:08', true],
    ['0a:00:00:00:01:08', true],
    ['3C:52:82:00:00:01', true],
  ])('%s → device: %s', (mac, isDevice) => {
    const inv = new Inventory();
    inv.observe({
      ts: '2026-11-23T10:00:00.000000Z',
      type: 'flow',
      flow: { id: 'x', vlan: [], src_ip: '10.1.1.7', src_port: 40000, dst_ip: '10.1.1.8', dst_port: 104, proto: 'tcp', app: 'dicom' },
      app: 'dicom',
      state: 'closed',
      pkts_toclient: 3,
      client_mac: '02:00:00:00:01:07',
      server_mac: mac,
    });
    expect(inv.byIp('10.1.1.8')?.mac === mac.toLowerCase()).toBe(isDevice);
  });
});
