import { describe, expect, it } from 'vitest';
import { Inventory, clean, defaultZoneOf, isPrivateAddress, isUnroutable } from '../../../agent/inventory/index.js';

describe('isPrivateAddress (read in place on the hot path)', () => {
  it.each([
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['127.0.0.1', true],
    ['172.16.0.1', true],
    ['172.31.255.254', true],
    ['172.15.0.1', false],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['192.169.1.1', false],
    ['100.64.0.1', true],
    ['100.127.0.1', true],
    ['100.128.0.1', false],
    ['169.254.3.4', true],
    ['8.8.8.8', false],
    ['193.69.1.1', false],
    ['1.10.0.1', false],
    ['fe80::1', true],
    ['fd00::5', true],
    ['::1', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:8.8.4.4', false],
    ['2001:db8::1', false],
  ])('%s → %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });

  it('calls nothing external that is not a dotted quad', () => {
    for (const junk of ['', '1.2.3', '1.2.3.4.5', 'a.b.c.d', '10..1.1', '1234.1.1.1']) expect(isPrivateAddress(junk)).toBe(true);
  });

  it('default zones are shared constants, one per kind', () => {
    expect(defaultZoneOf('10.1.1.1', [])).toBe(defaultZoneOf('192.168.0.1', []));
    expect(defaultZoneOf('8.8.8.8', [])).toEqual({ name: 'external', kind: 'external' });
    expect(Object.isFrozen(defaultZoneOf('8.8.8.8', []))).toBe(true);
  });

  it('broadcast, multicast and unspecified addresses are unroutable', () => {
    expect(isUnroutable('224.0.0.251')).toBe(true);
    expect(isUnroutable('255.255.255.255')).toBe(true);
    expect(isUnroutable('0.0.0.0')).toBe(true);
    expect(isUnroutable('ff02::fb')).toBe(true);
    expect(isUnroutable('10.1.1.1')).toBe(false);
    expect(isUnroutable('239.255.255.250')).toBe(true);
    expect(isUnroutable('240.0.0.1')).toBe(false);
    expect(isUnroutable('223.1.1.1')).toBe(false);
    expect(isUnroutable('FF02::1')).toBe(true);
    expect(isUnroutable('::')).toBe(true);
    expect(isUnroutable('2001:db8::1')).toBe(false);
    expect(isUnroutable('fe80::1')).toBe(false);
    expect(isUnroutable('')).toBe(false);
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
