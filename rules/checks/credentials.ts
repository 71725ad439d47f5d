import { finding, isExternal, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule, type RuleFinding } from '../engine/types.js';

export const cleartextCredentials = defineRule({
  id: 'cleartext-credentials',
  title: { nb: 'Påloggingsopplysninger sendt i klartekst', en: 'Credentials sent in cleartext' },
  recommendation: {
    nb: 'Påloggingsopplysninger som sendes ukryptert, kan avlyttes. Bytt til krypterte protokoller (SSH, HTTPS, SFTP, SNMPv3) og bytt passordet som er eksponert. MU-veilederen anbefaler sterkere autentisering for administrativ tilgang.',
    en: 'Credentials sent unencrypted can be intercepted. Move to encrypted protocols (SSH, HTTPS, SFTP, SNMPv3) and change the exposed password. The MU guide recommends stronger authentication for administrative access.',
  },
  severity: 'high',
  guide_refs: ['MU 4.4', 'MU annex #3', 'LEV 6.4'],
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
    nb: 'Brukernavn og passord i DICOM User Identity sendes ukryptert uten TLS og kan avlyttes. Bruk DICOM over TLS (for eksempel port 2762), og bytt passordet som er eksponert.',
    en: 'A DICOM User Identity username and passcode travel unencrypted without TLS and can be intercepted. Use DICOM over TLS (port 2762, for example), and change the exposed password.',
  },
  severity: 'high',
  guide_refs: ['MU 4.4', 'LEV 6.4'],
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
    nb: 'Flere enheter bruker samme passord, som kan være hardkodet eller felles. MU-veilederen sier at hardkodede passord bør unngås, og regner felles passord som en uønsket hendelse. Gi hver enhet egne påloggingsopplysninger, og be leverandøren gjøre passordet mulig å bytte.',
    en: 'Several devices use the same password, which may be hard-coded or shared. The MU guide says hard-coded passwords should be avoided, and counts shared passwords as an unwanted event. Give each device its own credentials, and ask the vendor to make the password changeable.',
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
