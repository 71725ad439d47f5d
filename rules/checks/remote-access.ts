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
  };
}

export const remoteAccessSession = defineRule({
  id: 'remote-access-session',
  title: { nb: 'Fjerntilgangsøkt observert', en: 'Remote access session observed' },
  recommendation: {
    nb: 'Fjerntilgang skal gå gjennom egen sone (brannmur/DMZ), være forhåndsgodkjent, sterkt autentisert, kryptert og logget. Bekreft at økten var planlagt.',
    en: 'Remote access must go through its own zone (firewall/DMZ), be pre-approved, strongly authenticated, encrypted and logged. Confirm the session was planned.',
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
    nb: 'Leverandørtilgang skal termineres i en egen sone for fjerntilgang og bare fra avtalte adresser og tidsvinduer. Steng tilgangen og undersøk økten.',
    en: 'Vendor access must terminate in a dedicated remote-access zone, only from agreed addresses and time windows. Close the access and investigate the session.',
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
    return finding(e, z, { ...sessionFacts(e), vendor: vendor?.name, outside_window: vendor ? true : undefined }, vendor ? 'high' : 'critical');
  },
});

export const remoteAccessNotViaJumpHost = defineRule({
  id: 'remote-access-not-via-jump-host',
  title: { nb: 'Fjerntilgang til medisinsk utstyr utenom godkjent hoppvert', en: 'Remote access to a medical device not through an approved jump host' },
  recommendation: {
    nb: 'Administrativ tilgang til medisinsk utstyr skal gå via de deklarerte hoppvertene (policyens remote_access.jump_hosts).',
    en: 'Administrative access to medical devices must go through the declared jump hosts (the policy’s remote_access.jump_hosts).',
  },
  severity: 'high',
  guide_refs: ['MU 4.7', 'MU 4.6', 'LEV 10.1'],
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
    nb: 'All fjerntilgang skal krypteres: bruk SSH i stedet for Telnet, VNC bare innenfor TLS/VPN, og RDP med TLS/NLA.',
    en: 'All remote access must be encrypted: SSH instead of Telnet, VNC only inside TLS or a VPN, and RDP with TLS/NLA.',
  },
  severity: 'high',
  guide_refs: ['MU 4.7', 'LEV 10.1', 'LEV 6.4', 'MU annex #15'],
  requirements: ['G8', 'G3'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    // A session whose negotiation was never seen is not known to be unencrypted.
    if (e.encrypted !== false || e.incomplete === true) return null;
    const z = zonesOf(ctx, e);
    return z ? finding(e, z, sessionFacts(e), isExternal(z.src) || isExternal(z.dst) ? 'critical' : 'high') : null;
  },
});

export const remoteAccessRules: Rule[] = [remoteAccessSession, remoteAccessFromExternal, remoteAccessNotViaJumpHost, remoteAccessUnencrypted];
