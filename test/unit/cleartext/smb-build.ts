/** Hand-built SMB messages (NetBIOS-framed) and NTLMSSP AUTHENTICATE blobs for the crafted tests. */

export function nbss(msg: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(msg.length, 0);
  return Buffer.concat([h, msg]);
}

export function smb2Header(cmd: number, response: boolean, messageId: number): Buffer {
  const h = Buffer.alloc(64);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(64, 4);
  h.writeUInt16LE(cmd, 12);
  h.writeUInt16LE(1, 14);
  h.writeUInt32LE(response ? 1 : 0, 16);
  h.writeBigUInt64LE(BigInt(messageId), 24);
  return h;
}

export function smb2NegotiateRequest(dialects: number[]): Buffer {
  const b = Buffer.alloc(36 + 2 * dialects.length);
  b.writeUInt16LE(36, 0);
  b.writeUInt16LE(dialects.length, 2);
  b.writeUInt16LE(1, 4); // signing enabled
  dialects.forEach((d, i) => b.writeUInt16LE(d, 36 + 2 * i));
  return nbss(Buffer.concat([smb2Header(0, false, 0), b]));
}

export function smb2NegotiateResponse(dialect: number, signingRequired: boolean): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt16LE(65, 0);
  b.writeUInt16LE(signingRequired ? 3 : 1, 2);
  b.writeUInt16LE(dialect, 4);
  b.writeUInt16LE(128, 56); // security buffer offset (none)
  return nbss(Buffer.concat([smb2Header(0, true, 0), b]));
}

/** NTLMSSP AUTHENTICATE (type 3) with Unicode strings. */
export function ntlmAuthenticate(user: string, domain: string, ntLen: number, version?: [number, number, number]): Buffer {
  const u = Buffer.from(user, 'utf16le');
  const d = Buffer.from(domain, 'utf16le');
  const w = Buffer.from('WS01', 'utf16le');
  const lm = Buffer.alloc(24);
  const nt = Buffer.alloc(ntLen, 0x5a);
  const head = Buffer.alloc(88);
  head.write('NTLMSSP\0', 0, 'latin1');
  head.writeUInt32LE(3, 8);
  let off = 88;
  const field = (at: number, buf: Buffer) => {
    head.writeUInt16LE(buf.length, at);
    head.writeUInt16LE(buf.length, at + 2);
    head.writeUInt32LE(off, at + 4);
    off += buf.length;
  };
  field(12, lm);
  field(20, nt);
  field(28, d);
  field(36, u);
  field(44, w);
  field(52, Buffer.alloc(0));
  head.writeUInt32LE(0xe2888215, 60); // NEGOTIATE_UNICODE and NEGOTIATE_VERSION among others
  if (version) ntlmVersionField(version).copy(head, 64);
  return Buffer.concat([head, lm, nt, d, u, w]);
}

/** The VERSION structure: major, minor, build, three reserved bytes, NTLMSSP_REVISION_W2K3. */
export function ntlmVersionField([major, minor, build]: [number, number, number]): Buffer {
  const v = Buffer.alloc(8);
  v[0] = major;
  v[1] = minor;
  v.writeUInt16LE(build, 2);
  v[7] = 0x0f;
  return v;
}

/** NTLMSSP CHALLENGE (type 2), with the server's VERSION when given. */
export function ntlmChallenge(version?: [number, number, number]): Buffer {
  const target = Buffer.from('HOSPITAL', 'utf16le');
  const head = Buffer.alloc(56);
  head.write('NTLMSSP\0', 0, 'latin1');
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(target.length, 12);
  head.writeUInt16LE(target.length, 14);
  head.writeUInt32LE(56, 16);
  head.writeUInt32LE(version ? 0xe2898215 : 0xe0898215, 20);
  Buffer.alloc(8, 0x11).copy(head, 24);
  head.writeUInt32LE(56 + target.length, 44);
  if (version) ntlmVersionField(version).copy(head, 48);
  return Buffer.concat([head, target]);
}

/** SESSION_SETUP response carrying a security blob; by default STATUS_MORE_PROCESSING_REQUIRED (a CHALLENGE). */
export function smb2SessionSetupResponse(blob: Buffer, status = 0xc0000016): Buffer {
  const h = smb2Header(1, true, 1);
  h.writeUInt32LE(status, 8);
  const b = Buffer.alloc(8);
  b.writeUInt16LE(9, 0);
  b.writeUInt16LE(64 + 8, 4);
  b.writeUInt16LE(blob.length, 6);
  return nbss(Buffer.concat([h, b, blob]));
}

export function smb2SessionSetup(blob: Buffer): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16LE(25, 0);
  b.writeUInt16LE(64 + 24, 12);
  b.writeUInt16LE(blob.length, 14);
  return nbss(Buffer.concat([smb2Header(1, false, 1), b, blob]));
}

export function smb1Header(cmd: number, response: boolean): Buffer {
  const h = Buffer.alloc(32);
  h.write('\xffSMB', 0, 'latin1');
  h[4] = cmd;
  h[9] = response ? 0x98 : 0x18;
  h.writeUInt16LE(0xc853, 10);
  return h;
}

export function smb1NegotiateRequest(dialects: string[]): Buffer {
  const bytes = Buffer.concat(dialects.map((d) => Buffer.concat([Buffer.from([0x02]), Buffer.from(d + '\0', 'latin1')])));
  const wc = Buffer.from([0]);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(bytes.length, 0);
  return nbss(Buffer.concat([smb1Header(0x72, false), wc, bc, bytes]));
}

export function smb1NegotiateResponse(index: number): Buffer {
  const words = Buffer.alloc(1 + 34 + 2);
  words[0] = 17;
  words.writeUInt16LE(index, 1);
  words[3] = 0x03; // security mode
  return nbss(Buffer.concat([smb1Header(0x72, true), words]));
}

/** SESSION_SETUP_ANDX response with an NT status and no security blob. */
export function smb1SessionSetupResponse(status: number): Buffer {
  const h = smb1Header(0x73, true);
  h.writeUInt32LE(status, 5);
  const words = Buffer.alloc(1 + 8);
  words[0] = 4;
  words[1] = 0xff; // no AndX
  return nbss(Buffer.concat([h, words, Buffer.alloc(2)]));
}

export function smb1SessionSetup(blob: Buffer): Buffer {
  const words = Buffer.alloc(1 + 24);
  words[0] = 12;
  words[1] = 0xff; // no AndX
  words.writeUInt16LE(blob.length, 1 + 14);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(blob.length, 0);
  return nbss(Buffer.concat([smb1Header(0x73, false), words, bc, blob]));
}

/** SMB1 SESSION_SETUP_ANDX without extended security: LM and NT responses in the message, then Unicode names. */
export function smb1LegacySessionSetup(user: string, domain: string, lmLen: number, ntLen: number): Buffer {
  const words = Buffer.alloc(1 + 26);
  words[0] = 13;
  words[1] = 0xff; // no AndX
  words.writeUInt16LE(lmLen, 1 + 14);
  words.writeUInt16LE(ntLen, 1 + 16);
  const head = 32 + words.length + 2;
  const passwords = Buffer.concat([Buffer.alloc(lmLen, 0x4c), Buffer.alloc(ntLen, 0x4e)]);
  // Unicode strings start on an even offset from the SMB header.
  const pad = Buffer.alloc((head + passwords.length) % 2);
  const str = (s: string) => Buffer.from(`${s}\0`, 'utf16le');
  const bytes = Buffer.concat([passwords, pad, str(user), str(domain), str('Windows 2000 2195'), str('Windows 2000 5.0')]);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(bytes.length, 0);
  return nbss(Buffer.concat([smb1Header(0x73, false), words, bc, bytes]));
}
