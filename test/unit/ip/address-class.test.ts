import { describe, expect, it } from 'vitest';
import {
  ADDRESS_CLASS_NAMES,
  classifyAddress,
  classifyIpv4,
  classifyIpv6,
  isExternal,
  isGroupOrUnspecified,
  isInternal,
  isPublic,
} from '../../../protocols/ip/address-class.js';
import { parsePrefix } from '../../../rules/policy/cidr.js';

/** Address, class, and the answers every user reads from it: internal, external, group/unspecified, public. */
const TABLE: [string, string, boolean, boolean, boolean, boolean][] = [
  // RFC 1918 and ULA
  ['10.0.0.1', 'private', true, false, false, false],
  ['10.255.255.255', 'private', true, false, false, false],
  ['172.16.0.1', 'private', true, false, false, false],
  ['172.31.255.254', 'private', true, false, false, false],
  ['172.15.0.1', 'public', false, true, false, true],
  ['172.32.0.1', 'public', false, true, false, true],
  ['192.168.1.1', 'private', true, false, false, false],
  ['192.169.1.1', 'public', false, true, false, true],
  ['fd00::5', 'private', true, false, false, false],
  ['fc00::1', 'private', true, false, false, false],
  ['fd77::20:30', 'private', true, false, false, false],
  ['::ffff:10.1.2.3', 'private', true, false, false, false],
  // CGNAT
  ['100.64.0.1', 'cgnat', true, false, false, false],
  ['100.127.255.255', 'cgnat', true, false, false, false],
  ['100.63.0.1', 'public', false, true, false, true],
  ['100.128.0.1', 'public', false, true, false, true],
  // loopback, link-local
  ['127.0.0.1', 'loopback', true, false, false, false],
  ['::1', 'loopback', true, false, false, false],
  ['169.254.3.4', 'link-local', true, false, false, false],
  ['169.253.3.4', 'public', false, true, false, true],
  ['fe80::1', 'link-local', true, false, false, false],
  ['FE80::1%eth0', 'link-local', true, false, false, false],
  // no single host
  ['0.0.0.0', 'unspecified', true, false, true, false],
  ['0.1.2.3', 'unspecified', true, false, true, false],
  ['::', 'unspecified', true, false, true, false],
  ['224.0.0.251', 'multicast', true, false, true, false],
  ['239.255.255.250', 'multicast', true, false, true, false],
  ['ff02::fb', 'multicast', true, false, true, false],
  ['FF02::1', 'multicast', true, false, true, false],
  ['255.255.255.255', 'broadcast', true, false, true, false],
  // documentation: external, but in no country
  ['192.0.2.1', 'documentation', false, true, false, false],
  ['198.51.100.23', 'documentation', false, true, false, false],
  ['203.0.113.45', 'documentation', false, true, false, false],
  ['2001:db8::1', 'documentation', false, true, false, false],
  ['2001:0DB8:0:0:0:0:0:1', 'documentation', false, true, false, false],
  ['::ffff:198.51.100.7', 'documentation', false, true, false, false],
  ['198.51.101.1', 'public', false, true, false, true],
  ['203.0.114.1', 'public', false, true, false, true],
  ['192.0.3.1', 'public', false, true, false, true],
  ['2001:db9::1', 'public', false, true, false, true],
  // other special-purpose space
  ['192.0.0.8', 'reserved', false, true, false, false],
  ['192.88.99.1', 'reserved', false, true, false, false],
  ['198.18.0.1', 'reserved', false, true, false, false],
  ['198.19.255.1', 'reserved', false, true, false, false],
  ['240.0.0.1', 'reserved', false, true, false, false],
  ['255.255.255.254', 'reserved', false, true, false, false],
  ['fec0::1', 'reserved', false, true, false, false],
  ['::1.2.3.4', 'reserved', false, true, false, false],
  // public
  ['8.8.8.8', 'public', false, true, false, true],
  ['193.69.1.1', 'public', false, true, false, true],
  ['1.10.0.1', 'public', false, true, false, true],
  ['223.1.1.1', 'public', false, true, false, true],
  ['::ffff:8.8.4.4', 'public', false, true, false, true],
  ['2001:700::1', 'public', false, true, false, true],
  ['2a00:1450:4001:82a::200e', 'public', false, true, false, true],
];

describe('address classes', () => {
  it.each(TABLE)('%s is %s (internal %s, external %s, group/unspecified %s, public %s)', (ip, name, internal, external, group, pub) => {
    const c = classifyAddress(ip);
    expect(ADDRESS_CLASS_NAMES[c]).toBe(name);
    expect(isInternal(c)).toBe(internal);
    expect(isExternal(c)).toBe(external);
    expect(isGroupOrUnspecified(c)).toBe(group);
    expect(isPublic(c)).toBe(pub);
    // The numeric forms give the same class as the text (the policy's parser as the reference).
    const w = parsePrefix(ip.replace(/%.*/, ''))!.words;
    expect(ADDRESS_CLASS_NAMES[classifyIpv6(w[0], w[1], w[2], w[3])]).toBe(name);
    if (!ip.includes(':')) expect(ADDRESS_CLASS_NAMES[classifyIpv4(w[3])]).toBe(name);
  });

  it('calls text that is no address invalid: neither internal nor external', () => {
    for (const junk of ['', '1.2.3', '1.2.3.4.5', 'a.b.c.d', '10..1.1', '1234.1.1.1', '256.1.1.1', '1.2.3.', ':', ':1', '1:', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '::ffff:1.2.3', '1:2:3:4:5:6:7:1.2.3.4']) {
      const c = classifyAddress(junk);
      expect(ADDRESS_CLASS_NAMES[c], junk).toBe('invalid');
      expect(isInternal(c) || isExternal(c) || isGroupOrUnspecified(c) || isPublic(c), junk).toBe(false);
    }
  });

  it('reads every IPv6 spelling of one address alike', () => {
    for (const s of ['fd00:0:0:0:0:0:0:5', 'fd00::5', 'FD00::0:5', 'fd00:0::5', 'fd00::0:0:5']) expect(ADDRESS_CLASS_NAMES[classifyAddress(s)], s).toBe('private');
    for (const s of ['0:0:0:0:0:0:0:1', '::0:1', '0::1']) expect(ADDRESS_CLASS_NAMES[classifyAddress(s)], s).toBe('loopback');
    expect(ADDRESS_CLASS_NAMES[classifyAddress('0:0:0:0:0:ffff:a01:203')]).toBe('private');
  });
});
