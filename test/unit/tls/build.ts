/**
 * Hand-built TLS records for the parser tests, and a driver that feeds a StreamParser the way
 * the reassembler does: in chosen chunk sizes, honouring skips, stopping at DETACH.
 */
import { DETACH, Direction, type StreamParser } from '../../../protocols/stream.js';

export const TS = Direction.ToServer;
export const TC = Direction.ToClient;

/** Certificates made with openssl 3.0 for these tests (P-256; validity from 2026-11-23 14:44:02Z). */
export const CERTS = {
  /** O=Test Hospital, CN=Test Hospital Root CA; self-signed, 10 years. */
  ca: Buffer.from(
    'MIIBxjCCAWugAwIBAgIURtDEMhdfWWdjrEkB5mC7kN51KBIwCgYIKoZIzj0EAwIwODEWMBQGA1UECgwNVGVzdCBIb3NwaXRhbDEe' +
      'MBwGA1UEAwwVVGVzdCBIb3NwaXRhbCBSb290IENBMB4XDTI2MTEyMzE0NDQwMloXDTM2MTEyMDE0NDQwMlowODEWMBQGA1UECgwN' +
      'VGVzdCBIb3NwaXRhbDEeMBwGA1UEAwwVVGVzdCBIb3NwaXRhbCBSb290IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEz1cz' +
      'KHI6HUQAP6dR8kxfhWVVjd1DeVvrc+ZYsi29TpCvqv/r7tg6I8GaEV2UZROjZprGLgVs7TeoLjuI+4Syq6NTMFEwHQYDVR0OBBYE' +
      'FG4q8qV6M+pswEa+NnYS5RRfC7tmMB8GA1UdIwQYMBaAFG4q8qV6M+pswEa+NnYS5RRfC7tmMA8GA1UdEwEB/wQFMAMBAf8wCgYI' +
      'KoZIzj0EAwIDSQAwRgIhAIpaXITnGx+E+OBldAPWRkchpOAISbdUG87msosaJmlmAiEA6oneNwR3DWIxarsTsu5LLMU+floFyirF' +
      'Jihez7WvNOY=',
    'base64',
  ),
  /** O=Test Hospital, CN=pacs.test.example; X.509 v1, issued by the CA, 1 year (to 2027-11-23T14:44:02Z). */
  leaf: Buffer.from(
    'MIIBVTCB+wICEJIwCgYIKoZIzj0EAwIwODEWMBQGA1UECgwNVGVzdCBIb3NwaXRhbDEeMBwGA1UEAwwVVGVzdCBIb3NwaXRhbCBS' +
      'b290IENBMB4XDTI2MTEyMzE0NDQwMloXDTI3MTEyMzE0NDQwMlowNDEWMBQGA1UECgwNVGVzdCBIb3NwaXRhbDEaMBgGA1UEAwwR' +
      'cGFjcy50ZXN0LmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASkw5RGM3lywgmli0FBk77rCeP8k+AK77KoLO3dRv7I' +
      'p2p3WD61e28U3BDyG/sCV4YNovInImLKg8vyQL+a3EL1MAoGCCqGSM49BAMCA0kAMEYCIQCWoNXhbXCJfIOQiaiJq4vEHGWnC0ze' +
      'wt9zxpOTEPVQrwIhAKilaQozPRftdDyofmvJoKbT6tAmeXM4hz/ecSC/btKI',
    'base64',
  ),
  /** O=Acme Medical, CN=us-room1.acme.example; self-signed, 30 days (to 2026-12-23T14:44:02Z). */
  selfSigned: Buffer.from(
    'MIIBwzCCAWmgAwIBAgIUIsc89gE4G2sVM4bLMRgFd/YdDoQwCgYIKoZIzj0EAwIwNzEVMBMGA1UECgwMQWNtZSBNZWRpY2FsMR4w' +
      'HAYDVQQDDBV1cy1yb29tMS5hY21lLmV4YW1wbGUwHhcNMjYxMTIzMTQ0NDAyWhcNMjYxMjIzMTQ0NDAyWjA3MRUwEwYDVQQKDAxB' +
      'Y21lIE1lZGljYWwxHjAcBgNVBAMMFXVzLXJvb20xLmFjbWUuZXhhbXBsZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGyDXh9z' +
      'hxvoHNO40MIFtWNOa9dsLAsk+T5Uy1xhX/8VaVDaRt366aQdpSBPk7pUdwfDBjE6Li+37kmLtzneHBSjUzBRMB0GA1UdDgQWBBQ/' +
      'sWdDqk5fVe+5fMXES3cjHLNBljAfBgNVHSMEGDAWgBQ/sWdDqk5fVe+5fMXES3cjHLNBljAPBgNVHRMBAf8EBTADAQH/MAoGCCqG' +
      'SM49BAMCA0gAMEUCIQCcXo9D+J4hAqxk6zj82rr3BA7OqX3VrqAmNZaUr4IBGAIgcK6XvW5Iyo9pe00CgNzbzH1KroKDlI2fqfTa' +
      'oQfBQjU=',
    'base64',
  ),
};

/** 2026-11-24T00:00:00Z: every test certificate is valid then. */
export const T_VALID = Date.UTC(2026, 10, 24) / 1000;

const u8 = (n: number) => Buffer.from([n & 0xff]);
const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const cat = (...b: Buffer[]) => Buffer.concat(b);
/** A vector with a 1/2/3-byte length prefix. */
export const vec8 = (b: Buffer) => cat(u8(b.length), b);
export const vec16 = (b: Buffer) => cat(u16(b.length), b);
export const vec24 = (b: Buffer) => cat(u24(b.length), b);

export function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return cat(u8(type), u16(version), u16(body.length), body);
}

/** Splits `body` into records of at most `max` bytes each (handshake messages over records). */
export function records(type: number, body: Buffer, max = 16384, version = 0x0303): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += max) out.push(record(type, body.subarray(i, i + max), version));
  return cat(...out);
}

export function handshake(type: number, body: Buffer): Buffer {
  return cat(u8(type), u24(body.length), body);
}

export function ext(type: number, body: Buffer): Buffer {
  return cat(u16(type), vec16(body));
}

export const sniExt = (name: string) => ext(0, vec16(cat(u8(0), vec16(Buffer.from(name, 'latin1')))));
export const alpnExt = (protos: string[]) => ext(16, vec16(cat(...protos.map((p) => vec8(Buffer.from(p, 'latin1'))))));

export interface ClientHelloOpts {
  legacy?: number;
  suites?: number[];
  sni?: string;
  alpn?: string[];
  versions?: number[];
  sessionId?: Buffer;
  /** Extra raw extensions (appended). */
  extra?: Buffer[];
  /** No extensions block at all (SSL 3.0 style). */
  noExtensions?: boolean;
}

export function clientHelloBody(o: ClientHelloOpts = {}): Buffer {
  const suites = o.suites ?? [0x1301, 0x1302, 0x1303, 0xc02f, 0xc030];
  const exts: Buffer[] = [];
  if (o.sni !== undefined) exts.push(sniExt(o.sni));
  if (o.alpn !== undefined) exts.push(alpnExt(o.alpn));
  if (o.versions !== undefined) exts.push(ext(43, vec8(cat(...o.versions.map(u16)))));
  exts.push(...(o.extra ?? []));
  return cat(
    u16(o.legacy ?? 0x0303),
    Buffer.alloc(32, 0x11),
    vec8(o.sessionId ?? Buffer.alloc(32, 0x22)),
    vec16(cat(...suites.map(u16))),
    vec8(Buffer.from([0])),
    o.noExtensions ? Buffer.alloc(0) : vec16(cat(...exts)),
  );
}

export const clientHello = (o: ClientHelloOpts = {}) => handshake(1, clientHelloBody(o));

export interface ServerHelloOpts {
  legacy?: number;
  suite?: number;
  selected?: number;
  compression?: number;
  alpn?: string;
  random?: Buffer;
  noExtensions?: boolean;
}

export function serverHello(o: ServerHelloOpts = {}): Buffer {
  const exts: Buffer[] = [];
  if (o.selected !== undefined) exts.push(ext(43, u16(o.selected)));
  if (o.alpn !== undefined) exts.push(alpnExt([o.alpn]));
  return handshake(
    2,
    cat(
      u16(o.legacy ?? 0x0303),
      o.random ?? Buffer.alloc(32, 0x33),
      vec8(Buffer.alloc(32, 0x22)),
      u16(o.suite ?? 0x1302),
      u8(o.compression ?? 0),
      o.noExtensions ? Buffer.alloc(0) : vec16(cat(...exts)),
    ),
  );
}

export const certificate = (ders: Buffer[]) => handshake(11, vec24(cat(...ders.map(vec24))));
export const serverKeyExchange = () => handshake(12, Buffer.alloc(300, 0x44));
export const serverHelloDone = () => handshake(14, Buffer.alloc(0));
export const ccs = (version = 0x0303) => record(20, Buffer.from([1]), version);
export const appData = (n: number, version = 0x0303) => record(23, Buffer.alloc(n, 0xee), version);
export const alert = (level: number, desc: number, version = 0x0303) => record(21, Buffer.from([level, desc]), version);
export const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

// ---------------------------------------------------------------- sessions

export interface Segment {
  dir: Direction;
  data: Buffer;
}
export const seg = (dir: Direction, ...data: Buffer[]): Segment => ({ dir, data: cat(...data) });

/** A TLS 1.3 session: ClientHello, ServerHello, then ciphertext both ways. */
export function tls13Session(): Segment[] {
  return [
    seg(TS, record(22, clientHello({ sni: 'pacs.test.example', alpn: ['h2', 'http/1.1'], versions: [0x3a3a, 0x0304, 0x0303], suites: [0x2a2a, 0x1301, 0x1302, 0x1303] }), 0x0301)),
    seg(TC, record(22, serverHello({ selected: 0x0304, suite: 0x1302 })), ccs(), appData(2000)),
    seg(TS, ccs(), appData(80), appData(500)),
    seg(TC, appData(300)),
  ];
}

/**
 * A TLS 1.2 session whose server flight (ServerHello, Certificate, ServerKeyExchange,
 * ServerHelloDone) shares records, with the certificate chain split over records of `recMax`.
 */
export function tls12Session(o: { suite?: number; version?: number; chain?: Buffer[]; recMax?: number; sni?: string } = {}): Segment[] {
  const v = o.version ?? 0x0303;
  const flight = cat(serverHello({ legacy: v, suite: o.suite ?? 0xc030, alpn: 'h2' }), certificate(o.chain ?? [CERTS.leaf, CERTS.ca]), serverKeyExchange(), serverHelloDone());
  return [
    seg(TS, record(22, clientHello({ legacy: v, sni: o.sni ?? 'pacs.test.example', alpn: ['h2', 'http/1.1'], suites: [0xc030, 0xc02f, 0xc014, 0x009c, 0x00ff] }), 0x0301)),
    seg(TC, records(22, flight, o.recMax ?? 16384, v)),
    seg(TS, record(22, handshake(16, Buffer.alloc(66, 5)), v), ccs(v), record(22, Buffer.alloc(40, 0x99), v)),
    seg(TC, ccs(v), record(22, Buffer.alloc(40, 0x98), v), appData(1000, v)),
  ];
}

// ---------------------------------------------------------------- driver

export type Chunking = 'segments' | 'bytes' | number | { random: () => number; max: number };

export interface Driven {
  /** Bytes delivered to the parser, per direction. */
  delivered: [number, number];
  /** Bytes dropped because the parser asked to skip them. */
  skipped: [number, number];
  detached: boolean;
  /** Largest bufferedBytes seen after any call. */
  maxBuffered: number;
}

/**
 * Feeds segments in order, each cut into chunks, honouring skips; stops at DETACH. A fresh
 * Buffer per chunk with junk around it checks the parser respects off/len.
 */
export function drive(parser: StreamParser & { bufferedBytes?: number }, segments: Segment[], chunking: Chunking = 'segments', ts = T_VALID): Driven {
  const d: Driven = { delivered: [0, 0], skipped: [0, 0], detached: false, maxBuffered: 0 };
  const skip = [0, 0];
  for (const s of segments) {
    let p = 0;
    while (p < s.data.length) {
      const dropped = Math.min(skip[s.dir], s.data.length - p);
      skip[s.dir] -= dropped;
      d.skipped[s.dir] += dropped;
      p += dropped;
      if (p >= s.data.length) break;
      let n: number;
      if (chunking === 'segments') n = s.data.length - p;
      else if (chunking === 'bytes') n = 1;
      else if (typeof chunking === 'number') n = chunking;
      else n = 1 + Math.floor(chunking.random() * chunking.max);
      n = Math.min(n, s.data.length - p);
      const framed = Buffer.concat([Buffer.alloc(3, 0x16), s.data.subarray(p, p + n), Buffer.alloc(3, 0x16)]);
      const r = parser.data(s.dir, framed, 3, n, ts, 0);
      d.delivered[s.dir] += n;
      d.maxBuffered = Math.max(d.maxBuffered, parser.bufferedBytes ?? 0);
      p += n;
      if (r === DETACH) {
        d.detached = true;
        return d;
      }
      skip[s.dir] += r;
    }
  }
  return d;
}

/** Every segment cut at one byte offset of its direction's stream (all offsets are tried by the caller). */
export function splitAt(segments: Segment[], dir: Direction, at: number): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (const s of segments) {
    if (s.dir === dir && at > pos && at < pos + s.data.length) {
      out.push({ dir, data: s.data.subarray(0, at - pos) }, { dir, data: s.data.subarray(at - pos) });
    } else {
      out.push(s);
    }
    if (s.dir === dir) pos += s.data.length;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- SSL 2.0 and mid-stream

/** One SSL 2.0 record: 2-byte header (high bit set), then the message. */
export const v2Record = (body: Buffer) => cat(u16(0x8000 | body.length), body);

/** An SSL 2.0-format ClientHello; `version` 0x0002 (SSL 2.0) or 3.x (an SSLv2-compatible hello). */
export function v2ClientHello(version: number, specs: number[], challenge = 16): Buffer {
  return v2Record(cat(u8(1), u16(version), u16(specs.length * 3), u16(0), u16(challenge), ...specs.map(u24), Buffer.alloc(challenge, 0x44)));
}

export function v2ServerHello(cert: Buffer, specs: number[], sessionIdHit = 0): Buffer {
  return v2Record(cat(u8(4), u8(sessionIdHit), u8(1), u16(0x0002), u16(cert.length), u16(specs.length * 3), u16(16), cert, ...specs.map(u24), Buffer.alloc(16, 0x55)));
}

/** CLIENT-MASTER-KEY naming `kind`, with 64 bytes of "encrypted key". */
export function v2ClientMasterKey(kind: number): Buffer {
  return v2Record(cat(u8(2), u24(kind), u16(0), u16(64), u16(0), Buffer.alloc(64, 0x66)));
}

/** An SSLv2-compatible hello (TLS 1.0) answered by a TLS 1.0 ServerHello choosing RC4-MD5. */
export function v2CompatSession(): Segment[] {
  const flight = cat(serverHello({ legacy: 0x0301, suite: 0x0004, noExtensions: true }), certificate([CERTS.leaf, CERTS.ca]), serverHelloDone());
  return [
    seg(TS, v2ClientHello(0x0301, [0x000004, 0x00000a, 0x010080, 0x0700c0])),
    seg(TC, record(22, flight, 0x0301)),
    seg(TS, record(22, handshake(16, Buffer.alloc(130, 5)), 0x0301), ccs(0x0301), record(22, Buffer.alloc(40, 0x99), 0x0301)),
    seg(TC, ccs(0x0301), record(22, Buffer.alloc(40, 0x98), 0x0301), appData(500, 0x0301)),
  ];
}

/** SSL 2.0 throughout: hello, SERVER-HELLO with the certificate, CLIENT-MASTER-KEY, then ciphertext. */
export function v2Session(kind = 0x0700c0): Segment[] {
  return [
    seg(TS, v2ClientHello(0x0002, [0x010080, 0x0700c0, 0x060040])),
    seg(TC, v2ServerHello(CERTS.leaf, [0x0700c0, 0x010080])),
    seg(TS, v2ClientMasterKey(kind)),
    seg(TC, v2Record(Buffer.alloc(40, 0x77))),
  ];
}

/** A session picked up after its handshake: application data both ways, an encrypted alert. */
export function midstreamSession(version = 0x0303): Segment[] {
  return [seg(TC, appData(1200, version), appData(300, version)), seg(TS, appData(90, version)), seg(TC, record(21, Buffer.alloc(26, 0xab), version))];
}
