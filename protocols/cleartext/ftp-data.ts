/**
 * Where an FTP data connection will go, as the control channel announces it: PORT and EPRT
 * (RFC 959, RFC 2428; the client listens, the server connects: active) and the 227 and 229
 * replies to PASV and EPSV (the server listens, the client connects: passive). Pure text
 * parsing; the agent turns an endpoint into an expectation the next TCP flow is matched against.
 */

export interface FtpDataEndpoint {
  /** The server listens and the client connects (PASV/EPSV); else the server connects (PORT/EPRT). */
  passive: boolean;
  /**
   * Address family of `addr`: 4 or 6; 0 when the command names no address (EPSV's reply, an
   * EPRT with an empty address): the control connection's own peer then.
   */
  ipVersion: 0 | 4 | 6;
  /** The address as four 32-bit words, the flow table's form (IPv4 in the last word). */
  addr: [number, number, number, number];
  port: number;
}

const NONE: [number, number, number, number] = [0, 0, 0, 0];

function byteList(text: string): number[] | null {
  const parts = text.split(',');
  if (parts.length !== 6) return null;
  const out: number[] = [];
  for (const p of parts) {
    const t = p.trim();
    if (!/^\d{1,3}$/.test(t)) return null;
    const n = Number(t);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function fromBytes(passive: boolean, b: number[]): FtpDataEndpoint | null {
  const port = (b[4] << 8) | b[5];
  if (port === 0) return null;
  return { passive, ipVersion: 4, addr: [0, 0, 0, ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0], port };
}

/** PORT h1,h2,h3,h4,p1,p2 (the argument only). */
export function parsePortArgument(arg: string): FtpDataEndpoint | null {
  const b = byteList(arg);
  return b === null ? null : fromBytes(false, b);
}

/**
 * The text of a 227 reply (after the code). RFC 959 gives no exact format; servers write
 * "Entering Passive Mode (h1,h2,h3,h4,p1,p2)" and some leave the parentheses out, so the first
 * run of six comma-separated numbers counts.
 */
export function parsePasvReply(text: string): FtpDataEndpoint | null {
  const m = /(\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3})/.exec(text);
  if (m === null) return null;
  const b = byteList(m[1]);
  return b === null ? null : fromBytes(true, b);
}

function portNumber(t: string): number {
  if (!/^\d{1,5}$/.test(t)) return -1;
  const n = Number(t);
  return n >= 1 && n <= 65535 ? n : -1;
}

/** EPRT <d><af><d><address><d><port><d> (RFC 2428 §2), af 1 = IPv4, 2 = IPv6. */
export function parseEprtArgument(arg: string): FtpDataEndpoint | null {
  const a = arg.trim();
  if (a.length < 5) return null;
  const d = a[0];
  const c = d.charCodeAt(0);
  if (c < 33 || c > 126) return null;
  const parts = a.split(d);
  // "" af address port "" — the text starts and ends with the delimiter.
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return null;
  const port = portNumber(parts[3]);
  if (port < 0) return null;
  if (parts[2] === '') return { passive: false, ipVersion: 0, addr: NONE, port };
  if (parts[1] === '1') {
    const b = parts[2].split('.');
    if (b.length !== 4) return null;
    const bytes = b.map((x) => (/^\d{1,3}$/.test(x) ? Number(x) : 256));
    if (bytes.some((x) => x > 255)) return null;
    return { passive: false, ipVersion: 4, addr: [0, 0, 0, ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0], port };
  }
  if (parts[1] === '2') {
    const w = ipv6Words(parts[2]);
    return w === null ? null : { passive: false, ipVersion: 6, addr: w, port };
  }
  return null;
}

/** The text of a 229 reply: "Entering Extended Passive Mode (<d><d><d><port><d>)" (RFC 2428 §3). */
export function parseEpsvReply(text: string): FtpDataEndpoint | null {
  const open = text.indexOf('(');
  const close = text.indexOf(')', open + 1);
  if (open < 0 || close < 0) return null;
  const inner = text.slice(open + 1, close);
  if (inner.length < 5) return null;
  const d = inner[0];
  const parts = inner.split(d);
  if (parts.length !== 5 || parts[0] !== '' || parts[1] !== '' || parts[2] !== '' || parts[4] !== '') return null;
  const port = portNumber(parts[3]);
  return port < 0 ? null : { passive: true, ipVersion: 0, addr: NONE, port };
}

/** IPv6 text (with `::` and an IPv4 tail) as four 32-bit words; null if it is not one. */
export function ipv6Words(text: string): [number, number, number, number] | null {
  const s = text.trim();
  if (s.length < 2 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it.includes('.')) {
        if (i !== items.length - 1) return null;
        const b = it.split('.');
        if (b.length !== 4 || b.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return null;
        out.push((Number(b[0]) << 8) | Number(b[1]), (Number(b[2]) << 8) | Number(b[3]));
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  let all: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return null;
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return null;
    all = head;
  }
  return [((all[0] << 16) | all[1]) >>> 0, ((all[2] << 16) | all[3]) >>> 0, ((all[4] << 16) | all[5]) >>> 0, ((all[6] << 16) | all[7]) >>> 0];
}
