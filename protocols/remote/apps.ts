/**
 * Remote-access tools that cannot be recognised by their own bytes because they run inside
 * TLS. AnyDesk is TLS throughout (its relays are `relay-*.net.anydesk.com`; direct
 * connections use TCP 7070, newer clients 6568). TeamViewer is recognised by content
 * (teamviewer.ts) and, when it does use TLS, by SNI. A direct AnyDesk connection often sends
 * no SNI; its server then presents AnyDesk's own self-signed certificate (subject and issuer
 * "CN=AnyDesk Client"), and an AnyDesk client may offer an ALPN protocol named after it. The
 * TLS analyzer calls these with what the handshake showed: SNI wins, then the certificate,
 * then ALPN; the port is the last resort.
 */
import { newRemoteAccess, type RemoteAccessRecord, type RemoteDetection } from './records.js';

export type TlsRemoteApp = 'teamviewer' | 'anydesk';

/**
 * TeamViewer's own web pages are not remote access: browsing or downloading from them must
 * not look like a session.
 */
const TEAMVIEWER_WEB = new Set(['teamviewer.com', 'www.teamviewer.com', 'download.teamviewer.com', 'dl.teamviewer.com', 'get.teamviewer.com', 'community.teamviewer.com', 'login.teamviewer.com', 'service.teamviewer.com']);

function normalise(sni: string): string {
  let s = sni.trim().toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

/** `*.net.anydesk.com` → anydesk, `*.teamviewer.com` (but not its web pages) → teamviewer. */
export function remoteAccessFromTlsSni(sni: string): TlsRemoteApp | null {
  const s = normalise(sni);
  if (s.endsWith('.net.anydesk.com')) return 'anydesk';
  if (s.endsWith('.teamviewer.com') && !TEAMVIEWER_WEB.has(s)) return 'teamviewer';
  return null;
}

/** Well-known ports, used only for TLS streams whose SNI says nothing (or is absent). */
export const REMOTE_ACCESS_TLS_PORTS: ReadonlyMap<number, TlsRemoteApp> = new Map<number, TlsRemoteApp>([
  [7070, 'anydesk'],
  [6568, 'anydesk'],
  [5938, 'teamviewer'],
]);

export function remoteAccessFromPort(serverPort: number): TlsRemoteApp | null {
  return REMOTE_ACCESS_TLS_PORTS.get(serverPort) ?? null;
}

/** The certificate AnyDesk makes for itself names the program, not a host. */
const ANYDESK_CERT_NAME = /(^|, )CN=AnyDesk Client(,|$)/i;

/** AnyDesk's own certificate, by its issuer (or subject, when the issuer was unreadable). */
export function remoteAccessFromCertificate(issuer: string | undefined, subject: string | undefined): TlsRemoteApp | null {
  if (issuer !== undefined && ANYDESK_CERT_NAME.test(issuer)) return 'anydesk';
  if ((issuer === undefined || issuer === '') && subject !== undefined && ANYDESK_CERT_NAME.test(subject)) return 'anydesk';
  return null;
}

/** An ALPN protocol named after AnyDesk (offered by the client or chosen by the server). */
export function remoteAccessFromAlpn(alpn: readonly string[] | undefined, selected: string | undefined): TlsRemoteApp | null {
  if (selected !== undefined && /^anydesk\b/i.test(selected)) return 'anydesk';
  if (alpn !== undefined) for (const a of alpn) if (/^anydesk\b/i.test(a)) return 'anydesk';
  return null;
}

/** What a TLS handshake showed that can name a remote-access tool. */
export interface TlsRemoteFacts {
  sni?: string;
  alpn?: readonly string[];
  alpn_selected?: string;
  certificate?: { issuer: string; subject: string };
}

/** SNI first, then the certificate, then ALPN, then the server port; with how it was decided. */
export function remoteAccessFromTls(facts: TlsRemoteFacts | string | undefined, serverPort: number): { protocol: TlsRemoteApp; detection: RemoteDetection } | null {
  const f: TlsRemoteFacts = typeof facts === 'string' ? { sni: facts } : (facts ?? {});
  const sni = f.sni;
  if (sni !== undefined && sni !== '') {
    const bySni = remoteAccessFromTlsSni(sni);
    if (bySni !== null) return { protocol: bySni, detection: 'sni' };
  }
  const byCert = f.certificate === undefined ? null : remoteAccessFromCertificate(f.certificate.issuer, f.certificate.subject);
  if (byCert !== null) return { protocol: byCert, detection: 'certificate' };
  const byAlpn = remoteAccessFromAlpn(f.alpn, f.alpn_selected);
  if (byAlpn !== null) return { protocol: byAlpn, detection: 'alpn' };
  const byPort = remoteAccessFromPort(serverPort);
  return byPort === null ? null : { protocol: byPort, detection: 'port' };
}

/** The `remote_access` record for a TLS session recognised by SNI or port. */
export function tlsRemoteAccessRecord(protocol: TlsRemoteApp, detection: RemoteDetection, tsSec: number, tsNsec: number): RemoteAccessRecord {
  const rec = newRemoteAccess(protocol, true, tsSec, tsNsec);
  rec.detection = detection;
  rec.security = 'tls';
  return rec;
}
