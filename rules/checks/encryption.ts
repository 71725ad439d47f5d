import { SUITE_WEAKNESSES } from '../../protocols/events/tls.js';
import { finding, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule } from '../engine/types.js';

const WEAK_CIPHER_REASONS: ReadonlySet<string> = new Set(SUITE_WEAKNESSES);

function tlsVersionNumber(v: string | undefined): number | null {
  const m = /^(?:TLS|SSL) ?(\d)\.(\d)$/.exec(v ?? '');
  if (!m) return null;
  return m[0].startsWith('SSL') ? 0 : Number(`${m[1]}.${m[2]}`);
}

export const tlsWeak = defineRule({
  id: 'tls-weak-version',
  title: { nb: 'Svak TLS-versjon eller chiffer', en: 'Weak TLS version or cipher suite' },
  recommendation: {
    nb: 'Bruk TLS 1.2 eller nyere med chiffer NSM anbefaler (AES-GCM/ChaCha20 med ECDHE). Oppdater eller skjerm utstyr som ikke kan det.',
    en: 'Use TLS 1.2 or newer with cipher suites NSM recommends (AES-GCM/ChaCha20 with ECDHE). Update, or shield, devices that cannot.',
  },
  severity: 'high',
  guide_refs: ['MU 4.7', 'LEV 6.4', 'MU 5.1.2 #4'],
  requirements: ['G3', 'G13'],
  events: ['tls.handshake'],
  create: (ctx) => (e) => {
    const reasons = e.weak_reasons;
    const version = tlsVersionNumber(e.version);
    const belowMin = version !== null && version < ctx.policy.minTls;
    const weakCipher = reasons.filter((r) => WEAK_CIPHER_REASONS.has(r));
    if (!belowMin && !reasons.includes('deprecated-version') && weakCipher.length === 0) return null;
    const z = zonesOf(ctx, e)!;
    return finding(e, z, { version: e.version, cipher_suite: e.cipher_suite, sni: e.sni, reasons: reasons.filter((r) => r === 'deprecated-version' || WEAK_CIPHER_REASONS.has(r)), min_tls: ctx.policy.policy.encryption?.min_tls ?? '1.2' });
  },
});

export const tlsCertificate = defineRule({
  id: 'tls-certificate-untrusted',
  title: { nb: 'Selvsignert eller utløpt TLS-sertifikat', en: 'Self-signed or expired TLS certificate' },
  recommendation: {
    nb: 'Bruk sertifikater fra virksomhetens PKI og forny dem før de utløper, så klienter kan verifisere tjenesten.',
    en: 'Use certificates from the organisation’s PKI and renew them before they expire, so clients can verify the service.',
  },
  severity: 'low',
  guide_refs: ['MU 4.7', 'LEV 6.4'],
  requirements: ['G3'],
  events: ['tls.handshake'],
  create: (ctx) => (e) => {
    const reasons = e.weak_reasons.filter((r) => r.endsWith('-certificate'));
    if (reasons.length === 0) return null;
    const cert = e.certificate;
    return finding(e, zonesOf(ctx, e), { sni: e.sni, reasons, subject: cert?.subject, issuer: cert?.issuer, not_after: cert?.not_after, sha256: cert?.sha256 }, reasons.includes('expired-certificate') ? 'medium' : 'low');
  },
});

export const obsoleteProtocol = defineRule({
  id: 'obsolete-protocol',
  title: { nb: 'Utdatert protokoll i bruk', en: 'Obsolete protocol in use' },
  recommendation: {
    nb: 'Erstatt Telnet med SSH, FTP med SFTP/FTPS og SMBv1 med SMB 3. Utstyr som ikke kan oppdateres må skjermes i eget segment.',
    en: 'Replace Telnet with SSH, FTP with SFTP/FTPS and SMBv1 with SMB 3. Devices that cannot be updated must be shielded in their own segment.',
  },
  severity: 'medium',
  guide_refs: ['MU 5.1.2 #4', 'LEV 7', 'LEV 8'],
  requirements: ['G13'],
  events: ['flow', 'smb'],
  create: (ctx) => (e) => {
    const app = e.flow.app;
    if (e.type === 'smb') {
      if (e.smb1 !== true) return null;
      return finding(e, zonesOf(ctx, e)!, { protocol: 'smb1', dialect: e.dialect });
    }
    if ((app !== 'telnet' && app !== 'ftp') || e.state === 'new') return null;
    return finding(e, zonesOf(ctx, e)!, { protocol: app });
  },
});

export const encryptionRules: Rule[] = [tlsWeak, tlsCertificate, obsoleteProtocol];
