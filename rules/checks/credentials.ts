import { finding, isExternal, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule, type RuleFinding } from '../engine/types.js';

export const cleartextCredentials = defineRule({
  id: 'cleartext-credentials',
  title: { nb: 'Passord eller community sendt i klartekst', en: 'Password or community string sent in cleartext' },
  recommendation: {
    nb: 'Bytt til krypterte protokoller (SSH, HTTPS, SFTP, SNMPv3), bytt passordet som er eksponert, og bruk sterk autentisering for administrativ tilgang.',
    en: 'Move to encrypted protocols (SSH, HTTPS, SFTP, SNMPv3), change the exposed password, and use strong authentication for administrative access.',
  },
  severity: 'high',
  guide_refs: ['MU 4.4', 'MU annex #3', 'MU 4.7'],
  requirements: ['G7'],
  events: ['credential.cleartext'],
  create: (ctx) => (e) => {
    if (e.kind === 'dicom-user-identity') return null; // its own rule below
    const z = zonesOf(ctx, e);
    if (!z) return null;
    // Challenge-response (VNC auth) exposes a crackable exchange rather than the secret itself.
    const severity = e.kind === 'vnc-auth' ? 'medium' : isExternal(z.src) || isExternal(z.dst) ? 'critical' : 'high';
    return finding(e, z, { protocol: e.protocol, kind: e.kind, username_pseudonym: e.username_pseudonym }, severity);
  },
});

export const dicomUserIdentityPassword = defineRule({
  id: 'dicom-user-identity-cleartext-password',
  title: { nb: 'DICOM-brukeridentitet med passord i klartekst', en: 'DICOM user identity with a cleartext password' },
  recommendation: {
    nb: 'Brukernavn og passord i DICOM User Identity sendes ukryptert uten TLS. Bruk DICOM over TLS (port 2762) eller Kerberos/SAML/JWT-identitet.',
    en: 'A DICOM User Identity username and passcode travel unencrypted without TLS. Use DICOM over TLS (port 2762), or Kerberos/SAML/JWT identities.',
  },
  severity: 'high',
  guide_refs: ['MU 4.4', 'LEV 6.4', 'MU 4.7'],
  requirements: ['G7', 'G5'],
  events: ['dicom.association'],
  create: (ctx) => (e) => {
    const ui = e.user_identity;
    if (!ui?.password_present || e.flow.app !== 'dicom') return null;
    return finding(e, zonesOf(ctx, e)!, { calling_ae: e.calling_ae, called_ae: e.called_ae, identity_type: ui.type, username_pseudonym: ui.username_pseudonym });
  },
});

export const sharedSecret = defineRule({
  id: 'shared-secret',
  title: { nb: 'Samme passord brukt av flere enheter (mulig hardkodet)', en: 'One password used by several devices (possibly hard-coded)' },
  recommendation: {
    nb: 'Unngå hardkodede og delte passord. Gi hver enhet egne legitimasjoner, og krev at leverandøren lar passordet byttes.',
    en: 'Avoid hard-coded and shared passwords. Give each device its own credentials, and require the vendor to make the password changeable.',
  },
  severity: 'high',
  guide_refs: ['MU 4.4', 'MU annex #3'],
  requirements: ['G7'],
  events: ['credential.cleartext'],
  create: (ctx) => {
    // Distinct clients per secret fingerprint (a keyed hash: the secret itself is never known).
    const clients = new Map<string, Set<string>>();
    return (e): RuleFinding | null => {
      const fp = e.secret_fingerprint;
      if (!fp) return null;
      let set = clients.get(fp);
      if (!set) {
        if (clients.size >= 50_000) clients.delete(clients.keys().next().value as string);
        set = new Set();
        clients.set(fp, set);
      }
      if (set.size < 1000) set.add(e.flow.src_ip);
      if (set.size < ctx.policy.sharedSecretDevices) return null;
      return {
        subject: { src_ip: '*', dst_ip: '*', zone_src: '*', zone_dst: '*', device_id: `secret:${fp}` },
        evidence: { protocol: e.protocol, kind: e.kind, devices: set.size, clients: [...set].slice(0, 20), secret_fingerprint: fp },
        ts: e.ts,
      };
    };
  },
});

export const credentialRules: Rule[] = [cleartextCredentials, dicomUserIdentityPassword, sharedSecret];
