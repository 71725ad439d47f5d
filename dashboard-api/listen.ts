/** Listen address parsing and the plain-HTTP guard (pure functions, tested). */
import { isIP } from 'node:net';

export const DEFAULT_LISTEN = '127.0.0.1:8470';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (= 127.0.0.1). Returns an error message or the address. */
export function parseListen(s: string): ListenAddress | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(s);
  if (m === null) return `--listen expects HOST:PORT or [IPv6]:PORT, got "${s}"`;
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = Number(m[3]);
  if (port > 65535) return `--listen: port ${port} is out of range (0–65535)`;
  if (m[1] !== undefined && isIP(m[1]) !== 6) return `--listen: "${m[1]}" is not an IPv6 address`;
  if (m[2] && isIP(m[2]) === 0 && !/^[A-Za-z0-9.-]{1,253}$/.test(m[2])) return `--listen: "${m[2]}" is not a host name or address`;
  return { host, port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isLoopback(h.slice(7));
  return false;
}

/**
 * The transport guard (LEV 6.4: encrypt transport to and from the sensor): without TLS the API
 * may only listen on loopback, unless the operator explicitly allows plain HTTP (e.g. behind
 * a TLS-terminating proxy on the same host). Returns the refusal message, or null when allowed.
 */
export function plainHttpRefusal(opts: { host: string; tls: boolean; allowPlainHttp: boolean }): string | null {
  if (opts.tls || opts.allowPlainHttp || isLoopback(opts.host)) return null;
  return `refusing to serve plain HTTP on ${opts.host}: give --tls-cert and --tls-key, listen on loopback (127.0.0.1 or ::1), or pass --allow-plain-http if a TLS proxy on this host fronts the API`;
}
