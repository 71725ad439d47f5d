import { classifyAddress, isGroupOrUnspecified } from '../../protocols/ip/address-class.js';
import { finding, isExternal, isMedical, zonesOf } from '../engine/helpers.js';
import type { FlowEvent } from '../../protocols/events/index.js';
import { defineRule, type Rule } from '../engine/types.js';

/** Protocols whose cleartext use toward external networks is routine infrastructure, not data. */
const INFRASTRUCTURE = new Set(['dns', 'ntp', 'dhcp', 'dhcpv6', 'mdns', 'ssdp', 'netbios']);
/** Protocols known to carry their content in the clear. */
const CLEARTEXT_APPS = new Set(['http', 'dicomweb', 'ftp', 'ftp-data', 'telnet', 'dicom', 'hl7', 'smtp', 'pop3', 'imap', 'snmp', 'syslog', 'vnc', 'smb', 'tftp', 'sip']);

function flowFacts(e: FlowEvent): Record<string, unknown> {
  return {
    state: e.state,
    packets: e.pkts_toserver + e.pkts_toclient,
    bytes: e.bytes_toserver + e.bytes_toclient,
    encrypted: e.encrypted,
    dst_country: e.dst_country,
    src_country: e.src_country,
  };
}

export const flowNotAllowed = defineRule({
  id: 'flow-not-allowed',
  title: { nb: 'Ikke-tillatt trafikk mellom soner', en: 'Traffic between zones that is not allowed by the policy' },
  recommendation: {
    nb: 'Flyten står ikke i policyens allowed_flows. Segmentering av medisinsk utstyr i egne nett, der trafikken inn og ut begrenses og kontrolleres, er et av tiltakene MU-veilederen nevner. Er flyten tiltenkt, legg den inn i allowed_flows; ellers stopp den i brannmuren.',
    en: 'The flow is not in the policy’s allowed_flows. Segmenting medical devices on dedicated networks, with traffic in and out limited and controlled, is one of the measures the MU guide names. If the flow is intended, add it to allowed_flows; otherwise block it in the firewall.',
  },
  severity: 'medium',
  guide_refs: ['MU 4.6', 'LEV 7', 'LEV 8', 'MU annex #14'],
  requirements: ['G1'],
  events: ['flow'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    const f = e.flow;
    if (!z || z.src.name === z.dst.name || isGroupOrUnspecified(classifyAddress(f.dst_ip)) || isGroupOrUnspecified(classifyAddress(f.src_ip))) return null;
    // External peers are judged by the internet and country rules.
    if (isExternal(z.src) || isExternal(z.dst)) return null;
    if (z.src.kind === 'unknown' && z.dst.kind === 'unknown') return null;
    const allowed = ctx.policy.allowedFlow({ srcIp: f.src_ip, dstIp: f.dst_ip, srcZone: z.src, dstZone: z.dst, app: f.app, dstPort: f.dst_port, encrypted: e.encrypted });
    if (allowed) {
      if (allowed.encryptedRequired && e.encrypted === false && e.state !== 'new') {
        return finding(e, z, { ...flowFacts(e), reason: 'allowed only encrypted', allowed_flow: allowed.index }, 'high');
      }
      if (e.encrypted === false && e.state !== 'new' && !INFRASTRUCTURE.has(f.app) && ctx.policy.encryptionRequiredFor.has('cross-zone')) {
        return finding(e, z, { ...flowFacts(e), reason: 'encryption required between zones (encryption.require_for: cross-zone)', allowed_flow: allowed.index }, 'medium');
      }
      return null;
    }
    return finding(e, z, flowFacts(e), isMedical(z.src) || isMedical(z.dst) ? 'high' : 'medium');
  },
});

export const medicalInternet = defineRule({
  id: 'mu-device-to-external',
  title: { nb: 'Medisinsk utstyr kommuniserer med internett', en: 'Medical device communicates with the internet' },
  recommendation: {
    nb: 'MU-veilederen anbefaler å holde utstyret unna internett når bruken ikke krever det. Mål som er avtalt (for eksempel en leverandørsky), føres i policyens external.allowed_destinations eller allowed_flows; andre stoppes.',
    en: 'The MU guide recommends keeping the device off the internet when its use does not need it. Agreed destinations (a vendor cloud, for example) go in the policy’s external.allowed_destinations or allowed_flows; others are blocked.',
  },
  severity: 'high',
  guide_refs: ['MU 3.7', 'MU 4.6'],
  requirements: ['G2'],
  events: ['flow'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    if (!z) return null;
    const f = e.flow;
    const medicalToExternal = isMedical(z.src) && isExternal(z.dst);
    const externalToMedical = isExternal(z.src) && isMedical(z.dst);
    if (!medicalToExternal && !externalToMedical) return null;
    const peer = medicalToExternal ? f.dst_ip : f.src_ip;
    if (ctx.policy.isAllowedDestination(peer)) return null;
    if (ctx.policy.allowedFlow({ srcIp: f.src_ip, dstIp: f.dst_ip, srcZone: z.src, dstZone: z.dst, app: f.app, dstPort: f.dst_port, encrypted: e.encrypted })) return null;
    return finding(e, z, { ...flowFacts(e), direction: medicalToExternal ? 'outbound' : 'inbound' }, externalToMedical ? 'critical' : 'high');
  },
});

export const cleartextToExternal = defineRule({
  id: 'cleartext-to-external',
  title: { nb: 'Ukryptert kommunikasjon over nett virksomheten ikke kontrollerer', en: 'Unencrypted communication over networks the organisation does not control' },
  recommendation: {
    nb: 'Når medisinsk utstyr kommuniserer over nett virksomheten ikke kontrollerer, skal kommunikasjonen krypteres; for annet utstyr sier leverandørveilederen at all kommunikasjon bør krypteres. Bruk TLS eller VPN, med algoritmer etter NSMs kryptografiske anbefalinger.',
    en: 'When a medical device communicates over networks the organisation does not control, the communication shall be encrypted; for other equipment the supplier guide says all communication should be encrypted. Use TLS or a VPN, with algorithms per NSM’s cryptographic recommendations.',
  },
  severity: 'high',
  guide_refs: ['MU 4.6', 'LEV 6.4', 'MU 5.1.2 #4'],
  requirements: ['G3'],
  events: ['flow'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    if (!(isExternal(z.src) || isExternal(z.dst)) || !ctx.policy.encryptionRequiredFor.has('external')) return null;
    const app = e.flow.app;
    if (e.encrypted === true || INFRASTRUCTURE.has(app) || !CLEARTEXT_APPS.has(app) || e.state === 'new') return null;
    return finding(e, z, flowFacts(e), isMedical(z.src) || isMedical(z.dst) ? 'critical' : 'high');
  },
});

export const destinationCountry = defineRule({
  id: 'destination-country-not-allowed',
  title: { nb: 'Overføring til et land utenfor de tillatte (EU/EØS)', en: 'Transfer to a country outside the allowed ones (EU/EEA)' },
  recommendation: {
    nb: 'Bærer flyten personopplysninger, skal overføringen til et land utenfor EU/EØS ha et overføringsgrunnlag etter personvernforordningen artikkel 46, og lagring hos en skyleverandør krever databehandleravtale. Finn ut hva som sendes, og blokker flyten hvis den mangler grunnlag.',
    en: 'If the flow carries personal data, a transfer to a country outside the EU/EEA shall rest on a transfer basis under GDPR Article 46, and storage with a cloud provider requires a data-processing agreement. Find out what is sent, and block the flow if it has no such basis.',
  },
  severity: 'high',
  guide_refs: ['MU 4.8', 'MU 4.9.1', 'MU annex #21', 'LEV 6.2'],
  requirements: ['G10'],
  events: ['flow'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    const country = e.dst_country;
    if (!z || !country || !isExternal(z.dst) || z.src.kind === 'external' || z.src.kind === 'unknown') return null;
    if (ctx.policy.allowedCountries.has(country) || ctx.policy.isAllowedDestination(e.flow.dst_ip)) return null;
    if (e.state === 'new') return null;
    return finding(e, z, { ...flowFacts(e), country, allowed_countries: ctx.policy.policy.external?.allowed_countries ?? 'EEA' }, isMedical(z.src) ? 'high' : 'medium');
  },
});

export const segmentationRules: Rule[] = [flowNotAllowed, medicalInternet, cleartextToExternal, destinationCountry];
