/** Hand-built tunnel headers for tests: wrap an inner packet or frame the way a mirror or tunnel endpoint would. */

/** PPPoE session stage + PPP protocol (0x0021 IPv4, 0x0057 IPv6), for EtherType 0x8864. */
export function pppoe(session: number, ip: Buffer, o: { compressed?: boolean; pppProto?: number } = {}): Buffer {
  const proto = o.pppProto ?? (ip[0] >> 4 === 6 ? 0x57 : 0x21);
  const ppp = o.compressed ? Buffer.from([proto]) : Buffer.from([proto >> 8, proto & 0xff]);
  const h = Buffer.alloc(6);
  h[0] = 0x11;
  h[1] = 0;
  h.writeUInt16BE(session, 2);
  h.writeUInt16BE(ppp.length + ip.length, 4);
  return Buffer.concat([h, ppp, ip]);
}

/** GRE (RFC 2784/2890) with optional checksum, key and sequence number. */
export function gre(protoType: number, payload: Buffer, o: { key?: number; seq?: number; csum?: boolean; version?: number; flags?: number } = {}): Buffer {
  let flags = o.flags ?? 0;
  const opt: Buffer[] = [];
  if (o.csum) {
    flags |= 0x8000;
    opt.push(Buffer.alloc(4));
  }
  if (o.key !== undefined) {
    flags |= 0x2000;
    const k = Buffer.alloc(4);
    k.writeUInt32BE(o.key >>> 0);
    opt.push(k);
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    const s = Buffer.alloc(4);
    s.writeUInt32BE(o.seq >>> 0);
    opt.push(s);
  }
  const h = Buffer.alloc(4);
  h.writeUInt16BE(flags | (o.version ?? 0), 0);
  h.writeUInt16BE(protoType, 2);
  return Buffer.concat([h, ...opt, payload]);
}

/** ERSPAN type II header (follows GRE 0x88be with a sequence number). */
export function erspan2(session: number, frame: Buffer, o: { vlan?: number; index?: number; version?: number; en?: number } = {}): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(((o.version ?? 1) << 12) | (o.vlan ?? 0), 0);
  h.writeUInt16BE(((o.en ?? 0) << 11) | (session & 0x3ff), 2);
  h.writeUInt32BE((o.index ?? 0) & 0xfffff, 4);
  return Buffer.concat([h, frame]);
}

/** ERSPAN type III header (follows GRE 0x22eb); frame type 0 Ethernet, 2 IP; `platform` adds the 8-byte subheader. */
export function erspan3(session: number, frame: Buffer, o: { frameType?: number; platform?: boolean; version?: number } = {}): Buffer {
  const h = Buffer.alloc(12 + (o.platform ? 8 : 0));
  h.writeUInt16BE((o.version ?? 2) << 12, 0);
  h.writeUInt16BE(session & 0x3ff, 2);
  h.writeUInt32BE(0x12345678, 4);
  h.writeUInt16BE(((o.frameType ?? 0) << 10) | (o.platform ? 1 : 0), 10);
  return Buffer.concat([h, frame]);
}

/** VXLAN header (UDP 4789) with the I flag. */
export function vxlan(vni: number, frame: Buffer, o: { flags?: number } = {}): Buffer {
  const h = Buffer.alloc(8);
  h[0] = o.flags ?? 0x08;
  h.writeUInt32BE((vni << 8) >>> 0, 4);
  return Buffer.concat([h, frame]);
}

/** GTP-U v1 (UDP 2152); `ext` are extension headers as [type, content] with content length 4n-2. */
export function gtpu(teid: number, ip: Buffer, o: { type?: number; seq?: number; ext?: [number, Buffer][]; firstByte?: number } = {}): Buffer {
  const ext = o.ext ?? [];
  const opt: Buffer[] = [];
  let b0 = 0x30;
  if (o.seq !== undefined || ext.length > 0) {
    if (o.seq !== undefined) b0 |= 0x02;
    if (ext.length > 0) b0 |= 0x04;
    const s = Buffer.alloc(4);
    s.writeUInt16BE(o.seq ?? 0, 0);
    s[3] = ext.length > 0 ? ext[0][0] : 0;
    opt.push(s);
    ext.forEach(([, content], i) => {
      const len = content.length + 2;
      if (len % 4 !== 0) throw new Error('GTP-U extension content must be 4n-2 bytes');
      opt.push(Buffer.concat([Buffer.from([len / 4]), content, Buffer.from([i + 1 < ext.length ? ext[i + 1][0] : 0])]));
    });
  }
  const body = Buffer.concat([...opt, ip]);
  const h = Buffer.alloc(8);
  h[0] = o.firstByte ?? b0;
  h[1] = o.type ?? 255;
  h.writeUInt16BE(body.length, 2);
  h.writeUInt32BE(teid >>> 0, 4);
  return Buffer.concat([h, body]);
}
