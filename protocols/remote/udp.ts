/**
 * Remote access over UDP: RDP's UDP transport (MS-RDPEUDP) and TeamViewer over UDP. Both
 * carry their session encrypted (RDP-UDP runs TLS or DTLS inside, MS-RDPEMT; TeamViewer its
 * own end-to-end encryption), so all there is to read is the opening datagram's header. Each
 * parser reports one `remote_access` record with `transport: 'udp'` and detaches.
 *
 * RDP-UDP opens with a SYN datagram (MS-RDPEUDP 3.1.5.1.1) whose fixed layout is a strong
 * signature: RDPUDP_FEC_HEADER (snSourceAck = 0xFFFFFFFF, uReceiveWindowSize, uFlags with
 * RDPUDP_FLAG_SYN) and RDPUDP_SYNDATA_PAYLOAD (snInitialSequenceNumber, then uUpStreamMtu and
 * uDownStreamMtu, each 1132..1232), optionally followed by RDPUDP_CORRELATION_ID_PAYLOAD and
 * RDPUDP_SYNDATAEX_PAYLOAD; all fields in network byte order. The server answers SYN+ACK with
 * the same SYNDATA layout.
 *
 * TeamViewer over UDP (5938/udp) carries its frame magic 0x17 0x24 at offset 11 of a datagram
 * longer than 13 bytes whose first byte — a sequence counter — starts at 0 (as nDPI knows it).
 * That is weaker than RDP's layout, so it is accepted only with 5938 as one of the ports.
 */
import { DETACH, Direction } from '../stream.js';
import type { DatagramParser } from '../datagram.js';
import { ProbeVerdict } from '../probe.js';
import { newRemoteAccess, type RemoteParserOptions } from './records.js';

export const RDPUDP_FLAG_SYN = 0x0001;
export const RDPUDP_FLAG_ACK = 0x0004;
export const RDPUDP_FLAG_SYNLOSSY = 0x0200;
export const RDPUDP_FLAG_CORRELATION_ID = 0x0800;
export const RDPUDP_FLAG_SYNEX = 0x1000;
/** RDPUDP_FEC_HEADER (8) + RDPUDP_SYNDATA_PAYLOAD (8). */
export const RDPUDP_SYN_MIN = 16;
export const RDPUDP_MTU_MIN = 1132;
export const RDPUDP_MTU_MAX = 1232;
const CORRELATION_ID_PAYLOAD = 32;
const SYNDATAEX_PAYLOAD = 4;

export const TEAMVIEWER_UDP_PORT = 5938;

export interface RdpUdpSyn {
  /** The server's SYN+ACK (else the client's SYN). */
  ack: boolean;
  /** RDPUDP_FLAG_SYNLOSSY: the lossy (DTLS) transport rather than the reliable (TLS) one. */
  lossy: boolean;
  upMtu: number;
  downMtu: number;
  /** RDPUDP_SYNDATAEX_PAYLOAD's uUdpVer (1, 2 or 0x101), 0 without it. */
  udpVersion: number;
}

const mtuOk = (m: number) => m >= RDPUDP_MTU_MIN && m <= RDPUDP_MTU_MAX;

/**
 * A client SYN (snSourceAck 0xFFFFFFFF, SYN without ACK) or a server SYN+ACK, with both MTUs
 * in range; null for anything else. Reads only within buf[off, off+len).
 */
export function parseRdpUdpSyn(buf: Buffer, off: number, len: number): RdpUdpSyn | null {
  if (len < RDPUDP_SYN_MIN) return null;
  const sourceAck = buf.readUInt32BE(off);
  const flags = buf.readUInt16BE(off + 6);
  if ((flags & RDPUDP_FLAG_SYN) === 0) return null;
  const ack = (flags & RDPUDP_FLAG_ACK) !== 0;
  // The client acknowledges nothing yet: -1. The server acknowledges the client's ISN.
  if (!ack && sourceAck !== 0xffffffff) return null;
  const upMtu = buf.readUInt16BE(off + 12);
  const downMtu = buf.readUInt16BE(off + 14);
  if (!mtuOk(upMtu) || !mtuOk(downMtu)) return null;
  let p = RDPUDP_SYN_MIN;
  if ((flags & RDPUDP_FLAG_CORRELATION_ID) !== 0) p += CORRELATION_ID_PAYLOAD;
  let udpVersion = 0;
  if ((flags & RDPUDP_FLAG_SYNEX) !== 0 && p + SYNDATAEX_PAYLOAD <= len) udpVersion = buf.readUInt16BE(off + p + 2);
  return { ack, lossy: (flags & RDPUDP_FLAG_SYNLOSSY) !== 0, upMtu, downMtu, udpVersion };
}

/** The probe: a client's SYN towards the server, or the server's SYN+ACK towards the client. */
export function probeRdpUdp(dir: Direction, buf: Buffer, off: number, len: number): ProbeVerdict {
  const syn = parseRdpUdpSyn(buf, off, len);
  if (syn === null) return ProbeVerdict.No;
  return syn.ack === (dir === Direction.ToClient) ? ProbeVerdict.Yes : ProbeVerdict.No;
}

const UDP_VERSIONS: Record<number, string> = { 1: '1', 2: '2', 0x101: '3' };

/** Reads the SYN and SYN+ACK of an RDP-UDP flow, reports the session, detaches. */
export class RdpUdpDatagramParser implements DatagramParser {
  private synSeen = false;
  private synAckSeen = false;
  private lossy = false;
  private udpVersion = 0;
  private emitted = false;
  private tsSec = 0;
  private tsNsec = 0;
  /** Datagrams read without finding the other half of the handshake. */
  private others = 0;

  constructor(private readonly opts: RemoteParserOptions) {}

  datagram(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.emitted) return DETACH;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    const syn = parseRdpUdpSyn(buf, off, len);
    if (syn !== null && syn.ack === (dir === Direction.ToClient)) {
      if (syn.ack) this.synAckSeen = true;
      else this.synSeen = true;
      if (syn.lossy) this.lossy = true;
      if (syn.udpVersion !== 0 && this.udpVersion === 0) this.udpVersion = syn.udpVersion;
    } else {
      this.others++;
    }
    if (this.synAckSeen || this.others >= 4) {
      this.finish();
      return DETACH;
    }
    return 0;
  }

  end(): void {
    if (!this.emitted) this.finish();
  }

  private finish(): void {
    this.emitted = true;
    const rec = newRemoteAccess('rdp', true, this.tsSec, this.tsNsec);
    rec.transport = 'udp';
    rec.security = this.lossy ? 'rdpeudp-lossy' : 'rdpeudp-reliable';
    const v = UDP_VERSIONS[this.udpVersion];
    if (v !== undefined) rec.protocol_version = v;
    if (!this.synSeen || !this.synAckSeen) rec.incomplete = true;
    this.opts.emit(rec);
  }
}

/** TeamViewer's UDP datagram header: counter byte 0 at the start, frame magic 0x17 0x24 at 11. */
export function looksLikeTeamViewerUdp(buf: Buffer, off: number, len: number): boolean {
  return len > 13 && buf[off] === 0x00 && buf[off + 11] === 0x17 && buf[off + 12] === 0x24;
}

export function probeTeamViewerUdp(buf: Buffer, off: number, len: number, serverPort: number, clientPort: number): ProbeVerdict {
  if (serverPort !== TEAMVIEWER_UDP_PORT && clientPort !== TEAMVIEWER_UDP_PORT) return ProbeVerdict.No;
  return looksLikeTeamViewerUdp(buf, off, len) ? ProbeVerdict.Yes : ProbeVerdict.No;
}

/** Reports the TeamViewer UDP session from its first datagram and detaches. */
export class TeamViewerUdpDatagramParser implements DatagramParser {
  private emitted = false;
  private tsSec = 0;
  private tsNsec = 0;

  constructor(private readonly opts: RemoteParserOptions) {}

  datagram(_dir: Direction, _buf: Buffer, _off: number, _len: number, tsSec: number, tsNsec: number): number {
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    this.finish();
    return DETACH;
  }

  end(): void {
    this.finish();
  }

  private finish(): void {
    if (this.emitted) return;
    this.emitted = true;
    const rec = newRemoteAccess('teamviewer', true, this.tsSec, this.tsNsec);
    rec.transport = 'udp';
    rec.teamviewer_version = 2;
    this.opts.emit(rec);
  }
}
