/**
 * Hand-built remote-access PDUs. RDP follows MS-RDPBCGR §2.2.1.1 (Client X.224 Connection
 * Request PDU) and §2.2.1.2 (Server X.224 Connection Confirm PDU) byte for byte; the
 * spec's own examples (§4.1.1, §4.1.2) are reproduced as constants.
 */
import { eth, ipv4, tcp, udp } from '../../support/packet-builder.js';
import type { TestFrame } from '../../support/frames.js';
import { Direction } from '../../../protocols/stream.js';

/** MS-RDPBCGR §4.1.1: Cookie "mstshash=eltons", RDP_NEG_REQ requesting PROTOCOL_RDP (0). */
export const SPEC_CR = Buffer.from('0300002c27e00000000000436f6f6b69653a206d737473686173683d656c746f6e730d0a0100080000000000', 'hex');
/** MS-RDPBCGR §4.1.2: RDP_NEG_RSP selecting PROTOCOL_RDP (standard RDP security). */
export const SPEC_CC = Buffer.from('030000130ed000001234000200080000000000', 'hex');

export const PROTOCOL_RDP = 0;
export const PROTOCOL_SSL = 0x1;
export const PROTOCOL_HYBRID = 0x2;
export const PROTOCOL_RDSTLS = 0x4;
export const PROTOCOL_HYBRID_EX = 0x8;

function tpkt(x224: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 3;
  h.writeUInt16BE(4 + x224.length, 2);
  return Buffer.concat([h, x224]);
}

/** x224Crq / x224Ccf fixed part: LI, code, DST-REF, SRC-REF, class; LI covers the variable part too. */
function x224(code: number, variable: Buffer, srcRef = 0): Buffer {
  const f = Buffer.alloc(7);
  f[0] = 6 + variable.length;
  f[1] = code;
  f.writeUInt16BE(srcRef, 4);
  return Buffer.concat([f, variable]);
}

function neg(type: number, flags: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = type;
  b[1] = flags;
  b.writeUInt16LE(8, 2);
  b.writeUInt32LE(value >>> 0, 4);
  return b;
}

export interface CrOpts {
  /** `Cookie: mstshash=<user>\r\n` */
  user?: string;
  /** `Cookie: msts=<token>\r\n` (a load balancer's routing token) */
  routingToken?: string;
  /** RDP_NEG_REQ requestedProtocols; undefined = no RDP_NEG_REQ at all (pre-5.2 clients). */
  requested?: number;
  /** RDP_CORRELATION_INFO after the request (flag CORRELATION_INFO_PRESENT). */
  correlation?: boolean;
}

export function connectionRequest(o: CrOpts = {}): Buffer {
  const parts: Buffer[] = [];
  if (o.user !== undefined) parts.push(Buffer.from(`Cookie: mstshash=${o.user}\r\n`, 'latin1'));
  if (o.routingToken !== undefined) parts.push(Buffer.from(`Cookie: msts=${o.routingToken}\r\n`, 'latin1'));
  if (o.requested !== undefined) parts.push(neg(0x01, o.correlation ? 0x08 : 0, o.requested));
  if (o.correlation) {
    const c = Buffer.alloc(36);
    c[0] = 0x06;
    c.writeUInt16LE(36, 2);
    c.fill(0x5a, 4, 20);
    parts.push(c);
  }
  return tpkt(x224(0xe0, Buffer.concat(parts)));
}

/** RDP_NEG_RSP with selectedProtocol, RDP_NEG_FAILURE with a code, or nothing (legacy server). */
export function connectionConfirm(o: { selected?: number; failure?: number } = {}): Buffer {
  let v: Buffer = Buffer.alloc(0);
  if (o.selected !== undefined) v = neg(0x02, 0x1f, o.selected);
  else if (o.failure !== undefined) v = neg(0x03, 0, o.failure);
  return tpkt(x224(0xd0, v, 0x1234));
}

/** RFB ProtocolVersion. */
export const rfbVersion = (v: string) => Buffer.from(`RFB ${v}\n`, 'latin1');
export const u8 = (...n: number[]) => Buffer.from(n);
export function u32(...n: number[]): Buffer {
  const b = Buffer.alloc(4 * n.length);
  n.forEach((x, i) => b.writeUInt32BE(x >>> 0, 4 * i));
  return b;
}

export const IAC = 255;
export const WILL = 251;
export const WONT = 252;
export const DO = 253;
export const DONT = 254;
export const SB = 250;
export const SE = 240;
export const text = (s: string) => Buffer.from(s, 'latin1');

/**
 * A whole TCP connection as Ethernet frames: handshake, the payloads in order (each one
 * segment, ACKed), FIN from both sides.
 */
export function tcpSession(
  client: string,
  server: string,
  cport: number,
  sport: number,
  payloads: [Direction, Buffer][],
  t0 = 1_795_000_000,
): TestFrame[] {
  const frames: TestFrame[] = [];
  let cseq = 1000;
  let sseq = 5000;
  let t = t0;
  const c2s = (flags: string, payload?: Buffer) =>
    frames.push({ data: eth(ipv4(client, server, 6, tcp({ sport: cport, dport: sport, seq: cseq, ack: sseq, flags, payload })), 0x0800), t: (t += 0.001) });
  const s2c = (flags: string, payload?: Buffer) =>
    frames.push({ data: eth(ipv4(server, client, 6, tcp({ sport, dport: cport, seq: sseq, ack: cseq, flags, payload })), 0x0800, { src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' }), t: (t += 0.001) });
  c2s('S');
  cseq++;
  s2c('SA');
  sseq++;
  c2s('A');
  for (const [dir, p] of payloads) {
    if (dir === Direction.ToServer) {
      c2s('PA', p);
      cseq += p.length;
    } else {
      s2c('PA', p);
      sseq += p.length;
    }
  }
  c2s('FA');
  cseq++;
  s2c('FA');
  sseq++;
  c2s('A');
  return frames;
}

// ---------------------------------------------------------------- remote access over UDP

export interface RdpUdpSynOpts {
  /** The server's SYN+ACK (snSourceAck = the client's ISN) instead of the client's SYN. */
  ack?: boolean;
  sourceAck?: number;
  receiveWindow?: number;
  /** Extra uFlags bits (RDPUDP_FLAG_SYNLOSSY 0x0200, RDPUDP_FLAG_CORRELATION_ID 0x0800, RDPUDP_FLAG_SYNEX 0x1000). */
  flags?: number;
  isn?: number;
  upMtu?: number;
  downMtu?: number;
  /** RDPUDP_SYNDATAEX_PAYLOAD uUdpVer (with RDPUDP_FLAG_SYNEX). */
  udpVersion?: number;
  /** Pad to this size with zeros (MS-RDPEUDP: a SYN datagram is 1232 bytes). */
  padTo?: number;
}

/**
 * An RDP-UDP SYN or SYN+ACK datagram per MS-RDPEUDP 2.2.2.1 / 2.2.2.5 / 2.2.2.8 / 2.2.2.14:
 * RDPUDP_FEC_HEADER, RDPUDP_SYNDATA_PAYLOAD, then the optional correlation id and SYNDATAEX
 * payloads, all big-endian, zero-padded.
 */
export function rdpUdpSyn(o: RdpUdpSynOpts = {}): Buffer {
  const flags = 0x0001 | (o.ack ? 0x0004 : 0) | (o.flags ?? 0);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32BE(o.sourceAck ?? (o.ack ? 0x1a2b3c4d : 0xffffffff), 0);
  hdr.writeUInt16BE(o.receiveWindow ?? 64, 4);
  hdr.writeUInt16BE(flags, 6);
  hdr.writeUInt32BE(o.isn ?? (o.ack ? 0x55667788 : 0x1a2b3c4d), 8);
  hdr.writeUInt16BE(o.upMtu ?? 1232, 12);
  hdr.writeUInt16BE(o.downMtu ?? 1232, 14);
  const parts = [hdr];
  if (flags & 0x0800) parts.push(Buffer.concat([Buffer.from('8f3e4d2c1b0a99887766554433221100', 'hex'), Buffer.alloc(16)]));
  if (flags & 0x1000) {
    const ex = Buffer.alloc(4);
    ex.writeUInt16BE(0x0001, 0); // RDPUDP_VERSION_INFO_VALID
    ex.writeUInt16BE(o.udpVersion ?? 0x0002, 2);
    parts.push(ex);
  }
  const body = Buffer.concat(parts);
  const pad = Math.max(0, (o.padTo ?? 1232) - body.length);
  return Buffer.concat([body, Buffer.alloc(pad)]);
}

/** A TeamViewer UDP datagram: counter byte 0, frame magic 0x17 0x24 at offset 11, a command after it. */
export function teamViewerUdpDatagram(counter = 0, length = 48): Buffer {
  const b = Buffer.alloc(length, 0x5a);
  b[0] = counter;
  b[11] = 0x17;
  b[12] = 0x24;
  b[13] = 10;
  return b;
}

export interface AnyDeskDiscoveryOpts {
  id?: number;
  os?: number;
  host?: string | Buffer;
  user?: string | Buffer;
  /** The discovery port the client announces (50001 = 0xc351). */
  port?: number;
  /** Bytes after the closing port (a layout that does not close). */
  trailing?: Buffer;
}

/**
 * AnyDesk's LAN discovery announcement, field by field as the public proof of concept for
 * CVE-2020-13160 lays it out: magic 0x3e 0xd1, 1, ID, u32 0, 2, OS code, host name, user name,
 * u32 0, "ad", 0, "main", 2, port; lengths and numbers big-endian.
 */
export function anyDeskDiscovery(o: AnyDeskDiscoveryOpts = {}): Buffer {
  const u8 = (v: number) => Buffer.from([v]);
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return b;
  };
  const field = (v: string | Buffer) => {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    return Buffer.concat([u32(b.length), b]);
  };
  const port = Buffer.alloc(2);
  port.writeUInt16BE(o.port ?? 50001);
  return Buffer.concat([
    Buffer.from([0x3e, 0xd1, 0x01]),
    u32(o.id ?? 123456789),
    u32(0),
    u8(0x02),
    u8(o.os ?? 1),
    field(o.host ?? 'US-ROOM3-WS'),
    field(o.user ?? 'biomed'),
    u32(0),
    field('ad'),
    u8(0),
    field('main'),
    u8(0x02),
    port,
    o.trailing ?? Buffer.alloc(0),
  ]);
}

/** Deterministic bytes for datagrams that must not be recognised (xorshift). */
export function noise(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** UDP datagrams between two hosts as Ethernet frames, client first. */
export function udpExchange(client: string, server: string, cport: number, sport: number, datagrams: [Direction, Buffer][], t0 = 1_795_000_000): TestFrame[] {
  let t = t0;
  return datagrams.map(([dir, p]) =>
    dir === Direction.ToServer
      ? { data: eth(ipv4(client, server, 17, udp(cport, sport, p)), 0x0800), t: (t += 0.001) }
      : { data: eth(ipv4(server, client, 17, udp(sport, cport, p)), 0x0800, { src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' }), t: (t += 0.001) },
  );
}
