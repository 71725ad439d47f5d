import { describe, expect, it } from 'vitest';
import { countryOf, countryOfWords, EEA } from '../../../agent/enrich/country.js';
import { classifyAddress, isPublic } from '../../../protocols/ip/address-class.js';
import { parsePrefix } from '../../../rules/policy/cidr.js';
import { macVendor } from '../../../agent/enrich/mac-vendor.js';

describe('enrichment from packaged databases', () => {
  it('names medical-device vendors from the IEEE OUI registry', () => {
    expect(macVendor('00:09:fb:12:34:56')).toMatch(/Philips/);
    expect(macVendor('00:1f:e3:00:00:01')).not.toBeNull();
    // Locally administered (the corpus' 02:77:…) and unregistered addresses have no vendor.
    expect(macVendor('02:77:0a:00:00:15')).toBeNull();
  });

  it('gives public addresses a country and special-purpose ranges none', () => {
    expect(countryOf('193.156.90.1')).toBe('NO');
    expect(countryOf('8.8.8.8')).toBe('US');
    expect(countryOf('2001:700::1')).toBe('NO');
    for (const ip of ['10.77.10.21', '192.168.1.1', '172.20.0.1', '127.0.0.1', '169.254.1.1', '198.51.100.23', '203.0.113.45', '192.0.2.1', 'fd77::20:30', 'fe80::1', '2001:db8::1', '224.0.0.251']) {
      expect(isPublic(classifyAddress(ip)), ip).toBe(false);
      expect(countryOf(ip), ip).toBeNull();
      const w = parsePrefix(ip)!.words;
      expect(countryOfWords(ip.includes(':') ? 6 : 4, w[0], w[1], w[2], w[3], () => ip), ip).toBeNull();
    }
    // The packet path's form (four words, IPv4 mapped) gives the text's answer.
    for (const [ip, cc] of [['193.156.90.1', 'NO'], ['2001:700::1', 'NO'], ['8.8.8.8', 'US']]) {
      const w = parsePrefix(ip)!.words;
      expect(countryOfWords(ip.includes(':') ? 6 : 4, w[0], w[1], w[2], w[3], () => ip), ip).toBe(cc);
    }
    expect(EEA.has('NO') && EEA.has('SE') && !EEA.has('US') && !EEA.has('GB')).toBe(true);
  });
});
