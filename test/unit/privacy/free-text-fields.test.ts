/**
 * Fields that carry a device's or a protocol's own text (AE titles, HL7 header and equipment
 * fields, HTTP paths and media types, syslog header fields, Telnet banners) report only text of
 * the field's own shape. What a misframed or hostile stream puts there instead — a patient's
 * name, a fødselsnummer, an address — is dropped or templated, never echoed. Found by the fuzzer.
 */
import { describe, expect, it } from 'vitest';
import { aeTitle, INVALID_AE } from '../../../protocols/dicom/reader.js';
import { isHostName, pathTemplate, productText } from '../../../protocols/cleartext/http.js';
import { hostNameText } from '../../../protocols/phi/host-name.js';
import { uidText } from '../../../protocols/dicom/reader.js';
import { parseSyslogHeader } from '../../../protocols/cleartext/syslog.js';
import { bannerBeforePrompt, softwareBanner } from '../../../protocols/remote/telnet.js';
import { controlIdText, plausibleHeader } from '../../../protocols/hl7/message.js';

const FNR = '14078521210';
const ae = (s: string) => {
  const b = Buffer.alloc(16, 0x20);
  b.write(s, 'latin1');
  return aeTitle(b, 0, 16);
};

describe('free-text fields keep their own shape', () => {
  it('DICOM AE titles: the AE repertoire only, without `^`', () => {
    expect(ae('CT_SCANNER01')).toBe('CT_SCANNER01');
    expect(ae('  PACS MAIN')).toBe('PACS MAIN');
    expect(ae('HANSEN^OLA^JOHAN')).toBe(INVALID_AE);
    expect(ae('A\u0001B')).toBe(INVALID_AE);
    expect(ae('BACK\\SLASH')).toBe(INVALID_AE);
  });

  it('HTTP paths become templates: words stay, identifiers become {id}, {fnr} stays', () => {
    expect(pathTemplate('/api/v2/patients/123456/studies')).toBe('/api/v2/patients/{id}/studies');
    expect(pathTemplate('/wado/1.2.840.113619.2.55.3/series')).toBe('/wado/{id}/series');
    expect(pathTemplate('/docs/550e8400-e29b-41d4-a716-446655440000')).toBe('/docs/{id}');
    expect(pathTemplate('/patient/{fnr}/journal')).toBe('/patient/{fnr}/journal');
    expect(pathTemplate('/apint_name":"NORDMANN^KARI"/events')).toBe('/{id}/events');
    expect(pathTemplate('/index.html')).toBe('/index.html');
    expect(pathTemplate('/')).toBe('/');
  });

  it('HTTP Host: a host name, an IPv4 or a bracketed IPv6 literal with an optional port', () => {
    for (const h of ['pacs.sykehus.no', '10.77.10.40:8080', '[fd00::1]:443']) expect(isHostName(h), h).toBe(true);
    for (const h of ['10.77.10.40???uthorization: Basic YWRt', 'NORDMANN^KARI', `host${FNR}`, '']) expect(isHostName(h), h).toBe(false);
  });

  it('HL7: headers believed only with a real message code and version; control ids in their form', () => {
    const h = { messageCode: 'ADT', triggerEvent: 'A01', version: '2.5' } as Parameters<typeof plausibleHeader>[0];
    expect(plausibleHeader(h)).toBe(true);
    expect(plausibleHeader({ ...h, version: '' })).toBe(false);
    expect(plausibleHeader({ ...h, messageCode: 'NORDMANN' })).toBe(false);
    expect(controlIdText('MSG00001')).toBe('MSG00001');
    expect(controlIdText(FNR)).toBe('');
    expect(controlIdText(`${FNR}^^^NOFNR`)).toBe('');
  });

  it('syslog header fields with HL7 separators or long digit runs are dropped', () => {
    const hdr = (msgid: string) => parseSyslogHeader(Buffer.from(`<134>1 2026-11-23T13:39:57Z host app 123 ${msgid} - text`), 0, 200)!;
    expect(hdr('ID47').msgId).toBe('ID47');
    expect(hdr('HANSEN^OLA^JOHAN').msgId).toBeUndefined();
    expect(hdr(`0${FNR}0acc`).msgId).toBeUndefined();
  });

  it('a Telnet banner ends at a login prompt on its line: the echo after it is the user', () => {
    expect(bannerBeforePrompt('Debian GNU/Linux 12')).toBe('Debian GNU/Linux 12');
    expect(bannerBeforePrompt('vm login: biomed')).toBe('vm login:');
    expect(bannerBeforePrompt('Password: secret')).toBe('Password:');
  });
  it('a Telnet server line is a banner only in a software banner shape', () => {
    expect(softwareBanner('Linux 6.18.44-fc-v669 (localhost) (pts/1)')).toBe('Linux 6.18.44-fc-v669 (localhost) (pts/1)');
    expect(softwareBanner('Acme Infusion Gateway 4.2')).toBe('Acme Infusion Gateway 4.2');
    expect(softwareBanner('Debian GNU/Linux 12')).toBe('Debian GNU/Linux 12');
    // A password the server echoed, a name, an address, a number: not a banner.
    for (const s of ['Biomed#2024', 'HANSEN, OLA JOHAN', 'NORDMANN^KARI', 'Storgata 1', `Patient ${FNR} 1.0`, 'vm login:']) expect(softwareBanner(s), s).toBe('');
  });

  it('HTTP User-Agent and Server: product tokens and platform comments only', () => {
    expect(productText('curl/7.88.1')).toBe('curl/7.88.1');
    expect(productText('nginx')).toBe('nginx');
    expect(productText('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0')).toBe('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0');
    expect(productText('x/1 (HANSEN, OLA JOHAN)')).toBe('x/1');
    for (const s of ['SMC-vice":"CT_SCANNER01"', 'NORDMANN^KARI', 'SMC-CT-004711', 'x/SMC-CT-004711', 'radtech01', `x/${FNR}`, 'nginx/1.aW46SW5mdXMxMG4h', 'Storgata 1']) expect(productText(s), s).toBe('');
  });

  it('HTTP Host: a label of encoded text is no host name', () => {
    expect(isHostName('10.77.10.YWRtaW46SW5mdXMxMG4h')).toBe(false);
    expect(isHostName('PACS.SYKEHUS.NO')).toBe(true);
  });

  it('host names from DNS, TLS and DHCP keep their domain; labels that are not labels become placeholders', () => {
    expect(hostNameText('pacs.sykehus.no')).toBe('pacs.sykehus.no');
    expect(hostNameText('_ldap._tcp.dc.sykehus.no')).toBe('_ldap._tcp.dc.sykehus.no');
    expect(hostNameText(`${FNR}.sykehus.no`)).toBe('{fnr}.sykehus.no');
    expect(hostNameText(`pc${FNR}x.sykehus.no`)).toBe('{fnr}.sykehus.no');
    expect(hostNameText('10.77.10.YWRtaW46SW5mdXMxMG4h')).toBe('10.77.10.{token}');
    expect(hostNameText('NORDMANN^KARI')).toBe('{text}');
  });

  it('DICOM UIDs whose digits hold a fødselsnummer are reported invalid', () => {
    const uid = (s: string) => uidText(Buffer.from(s, 'latin1'), 0, s.length);
    expect(uid('1.2.840.10008.1.2.1')).toBe('1.2.840.10008.1.2.1');
    expect(uid(`1.2.276.0.${FNR}.3.6.7`)).toBe('<invalid-uid>');
    expect(uid(`1.2.3.9${FNR}.4`)).toBe('<invalid-uid>');
  });
});
