import { finding, isExternal, isLocalBroadcast, isMedical, zonesOf } from '../engine/helpers.js';
import type { FlowEvent } from '../../protocols/events/index.js';
import { defineRule, type Rule } from '../engine/types.js';

/** Protocols whose cleartext use toward external networks is routine infrastructure, not data. */
const INFRASTRUCTURE = new Set(['dns', 'ntp', 'dhcp', 'dhcpv6', 'mdns', 'ssdp', 'netbios']);
/** Protocols known to carry their content in the clear. */
const CLEARTEXT_APPS = new Set(['http', 'ftp', 'telnet', 'dicom', 'hl7', 'smtp', 'pop3', 'imap', 'snmp', 'syslog', 'vnc', 'smb', 'tftp', 'sip']);

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
  title: { nb: 'Trafikk mellom soner som ikke er tillatt', en: 'Traffic between zones that the policy does not allow' },
  recommendation: {
    nb: 'Segmenter medisinsk utstyr i egne nett og slipp bare gjennom forhåndsgodkjent trafikk. Legg flyten inn i policyens allowed_flows hvis den er tiltenkt, ellers stopp den i brannmuren.',
    en: 'Keep medical devices on dedicated networks and pass only pre-approved traffic. Add the flow to the policy’s allowed_flows if it is intended; otherwise block it in the firewall.',
  },
  severity: 'medium',
  guide_refs: ['MU 4.6', 'LEV 7', 'LEV 8', 'MU annex #14'],
  requirements: ['G1'],
  events: ['flow'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    const f = e.flow;
    if (!z || z.src.name === z.dst.name || isLocalBroadcast(f.dst_ip) || isLocalBroadcast(f.src_ip)) return null;
    // External peers are judged by the internet and country rules.
    if (isExternal(z.src) || isExternal(z.dst)) return null;
    if (z.src.kind === 'unknown' && z.dst.kind === 'unknown') return null;
    const allowed = ctx.policy.allowedFlow({ srcIp: f.src_ip, dstIp: f.dst_ip, srcZone: z.src, dstZone: z.dst, app: f.app, dstPort: f.dst_port, encrypted: e.encrypted });
    if (allowed) {
      if (allowed.encryptedRequired && e.encrypted === false && e.state !== 'new') {
        return finding(e, z, { ...flowFacts(e), reason: 'allowed only encrypted', allowed_flow: allowed.index }, 'high');
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
    nb: 'Isoler utstyret fra internett med mindre bruken krever det. Tillatte mål (leverandørskyer) må stå i policyens external.allowed_destinations eller allowed_flows.',
    en: 'Isolate the device from the internet unless its use requires it. Permitted destinations (vendor clouds) belong in the policy’s external.allowed_destinations or allowed_flows.',
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
  title: { nb: 'Ukryptert kommunikasjon over nett sykehuset ikke kontrollerer', en: 'Unencrypted communication over networks the hospital does not control' },
  recommendation: {
    nb: 'All kommunikasjon over nett virksomheten ikke kontrollerer skal krypteres (Normen 5.3.5). Bruk TLS 1.2 eller nyere, eller VPN.',
    en: 'All communication over networks the organisation does not control must be encrypted (Normen 5.3.5). Use TLS 1.2 or newer, or a VPN.',
  },
  severity: 'high',
  guide_refs: ['MU 4.6', 'MU 4.7', 'LEV 6.4', 'MU annex #15'],
  requirements: ['G3'],
  events: ['flow'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    if (!z || !(isExternal(z.src) || isExternal(z.dst))) return null;
    const app = e.flow.app;
    if (e.encrypted === true || INFRASTRUCTURE.has(app) || !CLEARTEXT_APPS.has(app) || e.state === 'new') return null;
    return finding(e, z, flowFacts(e), isMedical(z.src) || isMedical(z.dst) ? 'critical' : 'high');
  },
});

export const destinationCountry = defineRule({
  id: 'destination-country-not-allowed',
  title: { nb: 'Overføring til land utenfor tillatte land (EU/EØS)', en: 'Transfer to a country outside the allowed countries (EU/EEA)' },
  recommendation: {
    nb: 'Overføring av personopplysninger ut av EU/EØS krever rettslig grunnlag og databehandleravtale. Avklar med personvernombudet, eller blokker flyten.',
    en: 'Transfers of personal data outside the EU/EEA need a legal basis and a data-processing agreement. Check with the data protection officer, or block the flow.',
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
