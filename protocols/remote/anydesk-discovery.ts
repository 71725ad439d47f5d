/**
 * AnyDesk's LAN discovery over UDP (50001–50003 by default): an AnyDesk client announces itself
 * to the hosts of its segment so that they list it without typing its ID. The announcement is
 * the only part of AnyDesk over UDP whose layout is public: it was taken apart for the format
 * string bug in its host-name field (CVE-2020-13160, AnyDesk 5.5.2 for Linux), whose published
 * proof of concept builds the datagram the client accepted. All multi-byte fields are in network
 * byte order:
 *
 *   magic 0x3e 0xd1, one byte (1), the AnyDesk ID (u32), a u32 (0), one byte (2), an OS code;
 *   then the host name and the user name, each a u32 length and that many bytes; a u32 (0);
 *   a u32-prefixed field ("ad"), one byte (0), a u32-prefixed field ("main"); and to close,
 *   one byte (2) and the discovery port the client listens on (u16, 50001 = 0xc351).
 *
 * Two magic bytes alone would be a weak signature, so a datagram is taken only when the whole
 * chain of length-prefixed fields lands exactly on its last byte, and when the port it
 * announces is one of the two UDP ports it travels between — the port is a hint only in
 * combination with the layout. The single bytes whose meaning nobody published (1, 2, 0 and 2
 * in the proof of concept) are not required: a client that counts them differently is still
 * recognised by the chain. A later client that appends fields after the port is missed rather
 * than guessed at.
 *
 * What AnyDesk sends in its direct UDP sessions is not publicly described, and no capture of it
 * was at hand: those datagrams are not recognised (no port-only guess stands in for them).
 *
 * The announcement carries the host name and the user name in the clear; neither is reported.
 */
import { DETACH, type Direction } from '../stream.js';
import type { DatagramParser } from '../datagram.js';
import { ProbeVerdict } from '../probe.js';
import { newRemoteAccess, type RemoteParserOptions } from './records.js';

export const ANYDESK_DISCOVERY_MAGIC = 0x3ed1;
/** The ports AnyDesk's discovery uses unless configured otherwise (documentation only). */
export const ANYDESK_DISCOVERY_PORTS: readonly number[] = [50001, 50002, 50003];

/** Magic, kind, ID, u32, byte, OS code: the fixed part before the host name. */
const HEAD = 13;
/** u32 lengths of the five fields, the u32 and the byte between them, the closing byte and port. */
const CHAIN_FIXED = 4 + 4 + 4 + 4 + 1 + 4 + 3;
export const ANYDESK_DISCOVERY_MIN = HEAD + CHAIN_FIXED;

export interface AnyDeskDiscovery {
  /** The UDP port the announcing client listens on. */
  port: number;
}

/**
 * Walks one u32-length-prefixed field at `p` (relative to `off`) and returns where the next field
 * starts, or -1 when the field does not fit before `end` (relative too).
 */
function skipField(buf: Buffer, off: number, p: number, end: number): number {
  if (p + 4 > end) return -1;
  const n = buf.readUInt32BE(off + p);
  // Compared before adding: a length near 2^32 must not wrap past the check.
  if (n > end - p - 4) return -1;
  return p + 4 + n;
}

/**
 * The announcement's layout in buf[off, off+len): its announced port, or null when the chain of
 * fields does not close exactly on the datagram's end. Reads nothing outside that range.
 */
export function parseAnyDeskDiscovery(buf: Buffer, off: number, len: number): AnyDeskDiscovery | null {
  if (len < ANYDESK_DISCOVERY_MIN || off < 0 || off + len > buf.length) return null;
  if (buf.readUInt16BE(off) !== ANYDESK_DISCOVERY_MAGIC) return null;
  let p = skipField(buf, off, HEAD, len); // host name
  if (p < 0) return null;
  p = skipField(buf, off, p, len); // user name
  if (p < 0 || p + 4 > len) return null;
  p = skipField(buf, off, p + 4, len); // after the u32: "ad"
  if (p < 0 || p + 1 > len) return null;
  p = skipField(buf, off, p + 1, len); // after the byte: "main"
  if (p < 0 || p + 3 !== len) return null;
  const port = buf.readUInt16BE(off + p + 1);
  if (port === 0) return null;
  return { port };
}

/** The probe: the layout, and an announced port that is one of the flow's two ports. */
export function probeAnyDeskDiscovery(buf: Buffer, off: number, len: number, serverPort: number, clientPort: number): ProbeVerdict {
  const d = parseAnyDeskDiscovery(buf, off, len);
  if (d === null) return ProbeVerdict.No;
  return d.port === serverPort || d.port === clientPort ? ProbeVerdict.Yes : ProbeVerdict.No;
}

/**
 * Reports the announcing AnyDesk client from the first datagram and detaches: one
 * `remote_access` (transport udp, `discovery`) per flow, as the other UDP forms report theirs.
 * The datagram is cleartext, so the flow is not encrypted.
 */
export class AnyDeskDiscoveryDatagramParser implements DatagramParser {
  private emitted = false;

  constructor(private readonly opts: RemoteParserOptions) {}

  datagram(_dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.emitted) return DETACH;
    this.emitted = true;
    const rec = newRemoteAccess('anydesk', false, tsSec, tsNsec);
    rec.transport = 'udp';
    rec.discovery = true;
    // The probe chose this parser on this very datagram; only a caller that skipped the probe
    // hands it something else, and then the record says so.
    if (parseAnyDeskDiscovery(buf, off, len) === null) rec.malformed = true;
    this.opts.emit(rec);
    return DETACH;
  }

  /** Everything was reported from the first datagram. */
  end(): void {}
}
