import { finding, isExternal, zonesOf } from '../engine/helpers.js';
import { defineRule, type Rule, type RuleFinding } from '../engine/types.js';

export const smbNtlmV1 = defineRule({
  id: 'smb-ntlmv1',
  title: { nb: 'SMB-pålogging med NTLMv1', en: 'SMB login with NTLMv1' },
  recommendation: {
    nb: 'Klienten logget på med NTLMv1, der svaret på serverens utfordring kan knekkes slik at passordet avsløres. MU-veilederen sier at autentiseringsmekanismen må ha tilstrekkelig kvalitet og styrke. Slå av NTLMv1 på klient og server (bare NTLMv2 eller Kerberos), og bytt passordet som er eksponert.',
    en: 'The client logged in with NTLMv1, whose answer to the server’s challenge can be cracked to reveal the password. The MU guide says the authentication mechanism must be of sufficient quality and strength. Turn NTLMv1 off on client and server (NTLMv2 or Kerberos only), and change the exposed password.',
  },
  severity: 'high',
  guide_refs: ['MU 4.4', 'LEV 6.4'],
  requirements: ['G7'],
  events: ['smb'],
  create: (ctx) => (e) => {
    if (e.ntlm_v1 !== true) return null;
    const z = zonesOf(ctx, e);
    return finding(e, z, { protocol: 'smb', dialect: e.dialect, username_pseudonym: e.username_pseudonym, ntlm_domain: e.ntlm_domain }, isExternal(z.src) || isExternal(z.dst) ? 'critical' : undefined);
  },
});

export const smbAnonymousSession = defineRule({
  id: 'smb-anonymous-session',
  title: { nb: 'Anonym SMB-økt (null session)', en: 'Anonymous SMB session (null session)' },
  recommendation: {
    nb: 'Serveren fikk en SMB-pålogging uten brukernavn og passord. MU-veilederen har manglende tilgangskontroll til utstyr, system eller lagringsområde med helse- og personopplysninger blant sine eksempler på uønskede hendelser. Finn ut hva den anonyme økten gir tilgang til, og slå av anonym tilgang der den ikke trengs.',
    en: 'The server received an SMB login with no user name and no password. The MU guide lists missing access control to equipment, a system or a storage area with health and personal data among its examples of unwanted events. Find out what the anonymous session gives access to, and turn anonymous access off where it is not needed.',
  },
  severity: 'medium',
  guide_refs: ['MU annex #6', 'MU 4.4'],
  requirements: ['G5'],
  events: ['smb'],
  create: (ctx) => (e) => {
    if (e.anonymous !== true) return null;
    const z = zonesOf(ctx, e);
    return finding(e, z, { protocol: 'smb', dialect: e.dialect, anonymous: true }, isExternal(z.src) ? 'high' : undefined);
  },
});

export const sshProtocol1 = defineRule({
  id: 'ssh-protocol-1',
  title: { nb: 'SSH protokollversjon 1', en: 'SSH protocol version 1' },
  recommendation: {
    nb: 'En side av økten snakker bare SSH-1 (banneret SSH-1.x, ikke SSH-1.99), en utgått protokollversjon med kjente svakheter i krypteringen. MU-veilederen sier at all kommunikasjon ved fjernsupport skal sikres ved kryptering, og viser til NSMs kryptografiske anbefalinger. Oppdater programvaren til SSH-2, og skjerm utstyret som ikke kan oppdateres.',
    en: 'One side of the session speaks only SSH-1 (the banner SSH-1.x, not SSH-1.99), an obsolete protocol version with known weaknesses in its encryption. The MU guide says all remote-support communication shall be secured by encryption, and points to NSM’s cryptographic recommendations. Update the software to SSH-2, and shield equipment that cannot be updated.',
  },
  severity: 'high',
  guide_refs: ['MU 4.7', 'LEV 6.4', 'LEV 7'],
  requirements: ['G8', 'G13'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    if (e.protocol !== 'ssh' || e.weak_reason !== 'ssh-1') return null;
    return finding(e, zonesOf(ctx, e), { protocol: 'ssh', protocol_version: e.protocol_version, client_software: e.client_software, server_software: e.server_software });
  },
});

/** RDP security a session ends up with when no CredSSP (NLA) runs before the login screen. */
const WITHOUT_NLA: Readonly<Record<string, 'high' | 'medium'>> = {
  // RDP's own RC4 encryption: both weak encryption and no authentication before the session.
  'standard-rdp-security': 'high',
  tls: 'medium',
};

export const rdpWithoutNla = defineRule({
  id: 'rdp-without-nla',
  title: { nb: 'RDP uten nettverksautentisering (NLA)', en: 'RDP without network level authentication (NLA)' },
  recommendation: {
    nb: 'Økten ble forhandlet uten CredSSP (NLA): med standard RDP-sikkerhet eller bare TLS. Da får hvem som helst som når porten, serverens påloggingsbilde før noen er autentisert, og med standard RDP-sikkerhet er krypteringen svak. MU-veilederen sier at autentiseringsmekanismen må ha tilstrekkelig kvalitet og styrke, og anbefaler autentisering med høyt sikkerhetsnivå ved fjernsupport. Krev NLA på serveren.',
    en: 'The session was negotiated without CredSSP (NLA): with standard RDP security or TLS alone. Anyone who reaches the port then gets the server’s login screen before anyone is authenticated, and with standard RDP security the encryption is weak. The MU guide says the authentication mechanism must be of sufficient quality and strength, and recommends high-assurance authentication for remote support. Require NLA on the server.',
  },
  severity: 'medium',
  guide_refs: ['MU 4.4', 'MU 4.7'],
  requirements: ['G8'],
  events: ['remote_access'],
  create: (ctx) => (e) => {
    if (e.protocol !== 'rdp') return null;
    // A connection that ended before the server answered is judged only when the client offered
    // nothing but standard RDP security: then no answer could have brought NLA.
    const security = e.incomplete === true ? (e.weak_reason === 'standard-rdp-security' ? 'standard-rdp-security' : undefined) : e.security;
    const severity = security === undefined ? undefined : WITHOUT_NLA[security];
    if (severity === undefined) return null;
    return finding(e, zonesOf(ctx, e), { protocol: 'rdp', security, requested_protocols: e.requested_protocols, selected_protocol: e.selected_protocol }, severity);
  },
});

export { DEFAULT_AUTH_FAILURES as AUTH_FAILURES, DEFAULT_SHORT_CONNECTIONS as SHORT_CONNECTIONS } from '../policy/compiled.js';
/** Client → server pairs followed at once; the oldest is forgotten first. */
const MAX_PAIRS = 10_000;

/**
 * The times of the last `count` signals per key: the alert needs `count` of them inside the
 * window, so older ones are never needed and memory stays at MAX_PAIRS × count numbers.
 */
class RecentSignals {
  private readonly times = new Map<string, number[]>();
  constructor(
    private readonly count: number,
    private readonly windowMs: number,
  ) {}

  /** Records n signals at t; true when `count` fell inside the window (the key then starts over). */
  add(key: string, t: number, n = 1): boolean {
    let list = this.times.get(key);
    if (list) {
      // Re-inserted so the map's order is least recently seen first.
      this.times.delete(key);
    } else {
      if (this.times.size >= MAX_PAIRS) this.times.delete(this.times.keys().next().value as string);
      list = [];
    }
    for (let i = 0; i < Math.min(n, this.count); i++) list.push(t);
    if (list.length > this.count) list.splice(0, list.length - this.count);
    if (list.length === this.count && t - list[0] <= this.windowMs) {
      this.times.delete(key);
      return true;
    }
    this.times.set(key, list);
    return false;
  }
}

export const repeatedAuthenticationFailures = defineRule({
  id: 'repeated-authentication-failures',
  title: { nb: 'Gjentatte mislykkede pålogginger', en: 'Repeated authentication failures' },
  recommendation: {
    nb: 'Samme klient har mange mislykkede eller avbrutte pålogginger mot samme tjeneste på kort tid, noe som kan være passordgjetting. For SSH og RDP ser sensoren ikke selve svaret, bare mange korte tilkoblinger, som også kan være automatisering. MU-veilederen sier at autentiseringsmekanismen må ha tilstrekkelig kvalitet og styrke, og at sterke passord bør brukes. Finn ut hvem klienten er, og steng tilgangen hvis forsøkene ikke var avtalt.',
    en: 'One client has many failed or cut-short logins to one service within a short time, which may be password guessing. For SSH and RDP the sensor does not see the answer itself, only many short connections, which can also be automation. The MU guide says the authentication mechanism must be of sufficient quality and strength, and that strong passwords should be used. Find out who the client is, and close the access if the attempts were not agreed.',
  },
  severity: 'high',
  guide_refs: ['MU 4.4'],
  requirements: ['G7', 'G14'],
  events: ['remote_access', 'credential.cleartext', 'flow'],
  create: (ctx) => {
    const { authFailures, shortConnections: short } = ctx.policy;
    const failures = new RecentSignals(authFailures.count, authFailures.windowSec * 1000);
    const shortConnections = new RecentSignals(short.count, short.windowSec * 1000);
    return (e): RuleFinding | null => {
      const f = e.flow;
      const key = `${f.src_ip}|${f.dst_ip}|${f.dst_port}`;
      const t = Date.parse(e.ts);
      let signal: string;
      let protocol: string;
      let raised: boolean;
      if (e.type === 'flow') {
        // The parsers cannot see an SSH or RDP login fail (it is encrypted): many short
        // connections from one client to one server port are the observable trace of guessing.
        if (e.app !== 'ssh' && e.app !== 'rdp') return null;
        if (e.state !== 'closed' || Date.parse(e.end) - Date.parse(e.start) > short.maxSec * 1000 || ctx.policy.isAutomationClient(f.src_ip)) return null;
        signal = 'short-connections';
        protocol = e.app;
        raised = shortConnections.add(key, t);
      } else if (e.type === 'remote_access') {
        if (e.protocol === 'vnc' && e.auth_result === 'failed') {
          signal = 'auth-result';
          raised = failures.add(key, t);
        } else if (e.protocol === 'telnet' && (e.login_attempts ?? 0) > 1) {
          // Telnet shows no verdict: every password after the first in one session followed a refusal.
          signal = 'login-attempts';
          raised = failures.add(key, t, e.login_attempts! - 1);
        } else {
          return null;
        }
        protocol = e.protocol;
      } else {
        if (e.success !== false) return null;
        signal = 'auth-result';
        protocol = e.protocol;
        raised = failures.add(key, t);
      }
      if (!raised) return null;
      const rule = signal === 'short-connections' ? short : authFailures;
      return finding(e, zonesOf(ctx, e), { protocol, signal, count: rule.count, window_seconds: rule.windowSec });
    };
  },
});

export const defaultVendorCredential = defineRule({
  id: 'default-vendor-credential',
  title: { nb: 'Leverandørens standardpassord i bruk', en: 'Vendor default password in use' },
  recommendation: {
    nb: 'Påloggingen bruker brukernavn og passord som leverandøren har publisert som standard for produktet varselet nevner, og som dermed er felles for alt slikt utstyr. MU-veilederen regner manglende eller felles passord som en uønsket hendelse, sier at hardkodede passord bør unngås, og nevner bytte av administratorpassord som tiltak. Bytt passordet, og be leverandøren om å gjøre det mulig hvis det ikke går.',
    en: 'The login uses a user name and password the vendor has published as the default for the product the alert names, and so shared by all such equipment. The MU guide counts missing or shared passwords as an unwanted event, says hard-coded passwords should be avoided, and names changing administrator passwords as a measure. Change the password, and ask the vendor to make that possible if it is not.',
  },
  severity: 'high',
  guide_refs: ['MU annex #3', 'MU 4.4', 'MU 5.1.2 #4'],
  requirements: ['G7'],
  events: ['credential.cleartext'],
  create: (ctx) => (e) => {
    if (e.default_credential === undefined) return null;
    const z = zonesOf(ctx, e);
    return finding(e, z, { protocol: e.protocol, kind: e.kind, default_credential: e.default_credential, username_pseudonym: e.username_pseudonym }, isExternal(z.src) || isExternal(z.dst) ? 'critical' : undefined);
  },
});

export const authenticationRules: Rule[] = [smbNtlmV1, smbAnonymousSession, sshProtocol1, rdpWithoutNla, repeatedAuthenticationFailures, defaultVendorCredential];
