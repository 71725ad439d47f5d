/** Hand-built frames for unit tests (checksums left zero: the sensor never checks them). */

export function ipv4Addr(s: string): number {
  return s.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
}

export function ipv6Bytes(s: string): Buffer {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export interface TcpOpts {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: string; // e.g. "S", "SA", "A", "PA", "FA", "R"
  payload?: Buffer;
  options?: Buffer;
}

const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20 };

export function tcp(o: TcpOpts): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const hlen = 20 + opt.length;
  const h = Buffer.alloc(hlen);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(o.seq >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (hlen / 4) << 4;
  h[13] = [...o.flags].reduce((a, c) => a | FLAG_BITS[c], 0);
  h.writeUInt16BE(65535, 14);
  opt.copy(h, 20);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: { id?: number; fragOffset?: number; more?: boolean; options?: Buffer; totalLength?: number } = {}): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const hlen = 20 + opt.length;
  const h = Buffer.alloc(hlen);
  h[0] = 0x40 | (hlen / 4);
  h.writeUInt16BE(o.totalLength ?? hlen + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.fragOffset ?? 0) / 8) | (o.more ? 0x2000 : 0), 6);
  h[8] = 64;
  h[9] = proto;
  h.writeUInt32BE(ipv4Addr(src), 12);
  h.writeUInt32BE(ipv4Addr(dst), 16);
  opt.copy(h, 20);
  return Buffer.concat([h, payload]);
}

/** IPv6 with optional extension headers given as [type, body] pairs (body padded by caller). */
export function ipv6(src: string, dst: string, proto: number, payload: Buffer, ext: [number, Buffer][] = []): Buffer {
  const chain: Buffer[] = [];
  const types = [...ext.map((e) => e[0]), proto];
  ext.forEach(([, body], i) => {
    const hdr = Buffer.concat([Buffer.from([types[i + 1], 0]), body]);
    if (ext[i][0] === 51) hdr[1] = hdr.length / 4 - 2;
    else if (ext[i][0] !== 44) hdr[1] = hdr.length / 8 - 1;
    chain.push(hdr);
  });
  const rest = Buffer.concat([...chain, payload]);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(rest.length, 4);
  h[6] = types[0];
  h[7] = 64;
  ipv6Bytes(src).copy(h, 8);
  ipv6Bytes(dst).copy(h, 24);
  return Buffer.concat([h, rest]);
}

export function eth(payload: Buffer, etherType: number, o: { vlans?: [number, number][]; src?: string; dst?: string } = {}): Buffer {
  const mac = (s: string) => Buffer.from(s.split(':').map((x) => parseInt(x, 16)));
  const parts: Buffer[] = [mac(o.dst ?? '02:00:00:00:00:02'), mac(o.src ?? '02:00:00:00:00:01')];
  for (const [tpid, vid] of o.vlans ?? []) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpid, 0);
    t.writeUInt16BE(vid, 2);
    parts.push(t);
  }
  const et = Buffer.alloc(2);
  et.writeUInt16BE(etherType);
  parts.push(et, payload);
  return Buffer.concat(parts);
}
