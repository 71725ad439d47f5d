/**
 * Remote-access tools that cannot be recognised by their own bytes because they run inside
 * TLS. AnyDesk is TLS throughout (its relays are `relay-*.net.anydesk.com`; direct
 * connections use TCP 7070, newer clients 6568). TeamViewer is recognised by content
 * (teamviewer.ts) and, when it does use TLS, by SNI. The TLS analyzer calls these with the
 * ClientHello's SNI and the server port; SNI wins, the port is the last resort.
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

/** SNI first, then the server port; with how it was decided. */
export function remoteAccessFromTls(sni: string | undefined, serverPort: number): { protocol: TlsRemoteApp; detection: RemoteDetection } | null {
  if (sni !== undefined && sni !== '') {
    const bySni = remoteAccessFromTlsSni(sni);
    if (bySni !== null) return { protocol: bySni, detection: 'sni' };
  }
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
