import { SUITE_WEAKNESSES } from '../../protocols/events/tls-weaknesses.js';
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
  title: { nb: 'Svak TLS-versjon eller chifferserie', en: 'Weak TLS version or cipher suite' },
  recommendation: {
    nb: 'Versjonen er lavere enn policyen krever (encryption.min_tls), eller chifferserien er kjent som svak. Velg TLS-versjon og chifferserier etter NSMs kryptografiske anbefalinger. Utstyr som ikke kan oppdateres, bør skjermes med andre tiltak, for eksempel segmentering.',
    en: 'The version is below what the policy requires (encryption.min_tls), or the cipher suite is known to be weak. Choose TLS versions and cipher suites per NSM’s cryptographic recommendations. Devices that cannot be updated should be shielded by other measures, segmentation for example.',
  },
  severity: 'high',
  guide_refs: ['LEV 6.4', 'MU 5.1.2 #4', 'LEV 7'],
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
    nb: 'Med et selvsignert eller utløpt sertifikat kan klientene ikke verifisere tjenesten, og TLS verner dårligere mot avlytting og endring underveis. Bruk sertifikater fra virksomhetens PKI, og forny dem før de utløper.',
    en: 'With a self-signed or expired certificate clients cannot verify the service, and TLS protects less against eavesdropping and alteration in transit. Use certificates from the organisation’s PKI, and renew them before they expire.',
  },
  severity: 'low',
  guide_refs: ['LEV 6.4'],
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
    nb: 'Erstatt Telnet med SSH, FTP med SFTP/FTPS og SMBv1 med SMB 3. Utstyr som ikke kan oppdateres, bør skjermes med andre tiltak, for eksempel et eget segment.',
    en: 'Replace Telnet with SSH, FTP with SFTP/FTPS and SMBv1 with SMB 3. Devices that cannot be updated should be shielded by other measures, their own segment for example.',
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
