import { finding, isExternal, isMedical, zonesOf } from '../engine/helpers.js';
import type { RemoteAccessEvent } from '../../protocols/events/index.js';
import { defineRule, type Rule } from '../engine/types.js';

function sessionFacts(e: RemoteAccessEvent): Record<string, unknown> {
  return {
    protocol: e.protocol,
    encrypted: e.encrypted,
    security: e.security,
    client_software: e.client_software,
    server_software: e.server_software,
    detection: e.detection,
    transport: e.transport,
    discovery: e.discovery,
  };
}

export const remoteAccessSession = defineRule({
  id: 'remote-access-session',
  title: { nb: 'Fjerntilgangsøkt observert', en: 'Remote access session observed' },
  recommendation: {
    nb: 'Bekreft at økten var avtalt. For fjernsupport bør tilgangen termineres gjennom brannmur i en egen DMZ-sone, bare forhåndsgodkjent trafikk slippes inn, sterk autentisering anbefales, og kommunikasjonen skal være kryptert og registrert i en hendelseslogg.',
    en: 'Confirm the session was agreed. For remote support, access should terminate through a firewall in a dedicated DMZ, only pre-approved traffic is let in, strong authentication is recommended, and the communication shall be encrypted and recorded in an event log.',
  },
  severity: 'low',
  guide_refs: ['MU 4.7', 'LEV 10.1'],
  requirements: ['G8'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    return z ? finding(e, z, sessionFacts(e)) : null;
  },
});

export const remoteAccessFromExternal = defineRule({
  id: 'remote-access-from-external',
  title: { nb: 'Fjerntilgang fra ukjent ekstern adresse', en: 'Remote access from an unknown external address' },
  recommendation: {
    nb: 'Økten kommer fra en ekstern adresse policyen ikke knytter til en leverandør, eller utenfor det policyen tillater for leverandøren. Fjernsupport bør termineres gjennom brannmur i en egen DMZ-sone, og bare forhåndsgodkjent trafikk slippes inn. Finn ut hvem som sto bak økten, og steng tilgangen hvis den ikke var avtalt.',
    en: 'The session comes from an external address the policy does not tie to a vendor, or outside what the policy allows for that vendor. Remote support should terminate through a firewall in a dedicated DMZ, and only pre-approved traffic is let in. Find out who was behind the session, and close the access if it was not agreed.',
  },
  severity: 'critical',
  guide_refs: ['MU 4.7', 'LEV 10.1', 'MU annex #14'],
  requirements: ['G8'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    if (!z || !isExternal(z.src)) return null;
    const vendor = ctx.policy.vendorOf(e.flow.src_ip, new Date(e.ts));
    if (vendor?.inWindow) return null;
    return finding(e, z, { ...sessionFacts(e), vendor: vendor?.name, outside_window: vendor ? true : undefined, contract_end: vendor?.contractEnded }, vendor ? 'high' : 'critical');
  },
});

export const remoteAccessNotViaJumpHost = defineRule({
  id: 'remote-access-not-via-jump-host',
  title: { nb: 'Fjerntilgang til medisinsk utstyr utenom godkjent hoppserver', en: 'Remote access to a medical device not through an approved jump host' },
  recommendation: {
    nb: 'Økten går utenom hoppserverne policyen godkjenner (remote_access.jump_hosts). Trafikk inn og ut av MU-nettet bør begrenses og kontrolleres, og administratortilgang bør begrenses. Send tilgangen gjennom en godkjent hoppserver, eller legg flyten inn i policyen hvis den er avtalt.',
    en: 'The session bypasses the jump hosts the policy approves (remote_access.jump_hosts). Traffic into and out of the medical-device network should be limited and controlled, and administrator access should be limited. Route the access through an approved jump host, or add the flow to the policy if it is agreed.',
  },
  severity: 'high',
  guide_refs: ['MU 4.6', 'MU 4.7', 'MU 4.4'],
  requirements: ['G8', 'G1'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    const z = zonesOf(ctx, e);
    if (!z || !isMedical(z.dst) || isExternal(z.src)) return null;
    const f = e.flow;
    if (ctx.policy.isJumpHost(f.src_ip)) return null;
    if (ctx.policy.allowedFlow({ srcIp: f.src_ip, dstIp: f.dst_ip, srcZone: z.src, dstZone: z.dst, app: f.app, dstPort: f.dst_port, encrypted: e.encrypted })) return null;
    return finding(e, z, { ...sessionFacts(e), jump_hosts: ctx.policy.policy.remote_access?.jump_hosts ?? [] });
  },
});

export const remoteAccessUnencrypted = defineRule({
  id: 'remote-access-unencrypted',
  title: { nb: 'Ukryptert fjerntilgang', en: 'Unencrypted remote access' },
  recommendation: {
    nb: 'All kommunikasjon ved fjernsupport skal krypteres. Bruk SSH i stedet for Telnet, VNC bare innenfor TLS eller VPN, og RDP med TLS/NLA.',
    en: 'All remote-support communication shall be encrypted. Use SSH instead of Telnet, VNC only inside TLS or a VPN, and RDP with TLS/NLA.',
  },
  severity: 'high',
  guide_refs: ['MU 4.7', 'LEV 6.4', 'MU 5.1.2 #4'],
  requirements: ['G8', 'G3'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    // A session whose negotiation was never seen is not known to be unencrypted, and an AnyDesk
    // discovery announcement is no session at all: the sessions it leads to run over TLS.
    if (e.encrypted !== false || e.incomplete === true || e.discovery === true || !ctx.policy.encryptionRequiredFor.has('remote-access')) return null;
    const z = zonesOf(ctx, e);
    return z ? finding(e, z, sessionFacts(e), isExternal(z.src) || isExternal(z.dst) ? 'critical' : 'high') : null;
  },
});

export const remoteAccessRules: Rule[] = [remoteAccessSession, remoteAccessFromExternal, remoteAccessNotViaJumpHost, remoteAccessUnencrypted];
