/**
 * Memory with many open flows: a generated capture of N TCP connections (default 100,000)
 * spread over DICOM, HL7, TLS and HTTP, each left open in the middle of its first message,
 * so every analyzer holds per-flow state at the end. The real `muvakt analyze` process reads
 * it with every analyzer on (plain, then with the example policy and a store), and its peak
 * RSS is read from /proc/PID/status (VmHWM) while it runs.
 *
 *   node dist/test/bench/concurrent-flows.js [--flows N] [--file PATH]
 *
 * Also used by bench.ts, which prints the same row.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/agent/cli/muvakt.cjs');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');

const enum Flag {
  Syn = 0x02,
  Ack = 0x10,
  PshAck = 0x18,
  SynAck = 0x12,
}

/** One frame: Ethernet + IPv4 + TCP (no options) + payload, checksums zero (the sensor never checks them). */
function frame(src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer | null): Buffer {
  const plen = payload === null ? 0 : payload.length;
  const f = Buffer.alloc(14 + 20 + 20 + plen);
  f.writeUInt32BE(0x02000000, 0);
  f.writeUInt16BE(dst & 0xffff, 4);
  f.writeUInt32BE(0x02000000, 6);
  f.writeUInt16BE(src & 0xffff, 10);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40 + plen, 16);
  f[22] = 64;
  f[23] = 6;
  f.writeUInt32BE(src >>> 0, 26);
  f.writeUInt32BE(dst >>> 0, 30);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(dport, 36);
  f.writeUInt32BE(seq >>> 0, 38);
  f.writeUInt32BE(ack >>> 0, 42);
  f[46] = 0x50;
  f[47] = flags;
  f.writeUInt16BE(65535, 48);
  if (payload !== null) payload.copy(f, 54);
  return f;
}

function pad(s: string, n: number): Buffer {
  const b = Buffer.alloc(n, 0x20);
  b.write(s, 'latin1');
  return b;
}

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

/** A-ASSOCIATE-RQ for Verification, complete: the DICOM parser holds the association open. */
function associateRq(i: number): Buffer {
  const ctx = Buffer.concat([Buffer.from([1, 0, 0xff, 0]), item(0x30, Buffer.from('1.2.840.10008.1.1')), item(0x40, Buffer.from('1.2.840.10008.1.2'))]);
  const maxLen = Buffer.alloc(4);
  maxLen.writeUInt32BE(16384);
  const body = Buffer.concat([
    Buffer.from([0, 1, 0, 0]),
    pad('PACS', 16),
    pad(`MOD${i % 1000}`, 16),
    Buffer.alloc(32),
    item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')),
    item(0x20, ctx),
    item(0x50, Buffer.concat([item(0x51, maxLen), item(0x52, Buffer.from('1.2.826.0.1.3680043.2.1143'))])),
  ]);
  const h = Buffer.alloc(6);
  h[0] = 0x01;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

/** The first part of an MLLP frame (no end block yet): the framer buffers it. */
function hl7Start(i: number): Buffer {
  return Buffer.from(`\x0bMSH|^~\\&|LAB|HOSP|EHR|HOSP|20261204120000||ORU^R01|M${i}|P|2.5\rOBR|1||${i}|CBC\rOBX|1|NM|WBC||${i % 90}|10*9/L\r`, 'latin1');
}

/** A TLS 1.2 ClientHello with SNI. */
function clientHello(i: number): Buffer {
  const host = Buffer.from(`dev${i}.example.org`);
  const sni = Buffer.alloc(9 + host.length);
  sni.writeUInt16BE(0, 0);
  sni.writeUInt16BE(5 + host.length, 2);
  sni.writeUInt16BE(3 + host.length, 4);
  sni[6] = 0;
  sni.writeUInt16BE(host.length, 7);
  host.copy(sni, 9);
  const exts = Buffer.concat([Buffer.from([0, 0]), sni]);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(exts.length);
  const random = Buffer.alloc(32, i & 0xff);
  const body = Buffer.concat([Buffer.from([3, 3]), random, Buffer.from([0]), Buffer.from([0, 4, 0xc0, 0x2f, 0x00, 0x9c]), Buffer.from([1, 0]), extLen, exts]);
  const hs = Buffer.alloc(4);
  hs[0] = 1;
  hs.writeUIntBE(body.length, 1, 3);
  const rec = Buffer.alloc(5);
  rec[0] = 22;
  rec.writeUInt16BE(0x0301, 1);
  rec.writeUInt16BE(hs.length + body.length, 3);
  return Buffer.concat([rec, hs, body]);
}

/** An HTTP request whose headers have not ended: the parser buffers the line. */
function httpStart(i: number): Buffer {
  return Buffer.from(`GET /wado/studies/${i} HTTP/1.1\r\nHost: pacs\r\nUser-Agent: viewer\r\nAccept: application/dicom`, 'latin1');
}

const SERVICES = [
  { port: 104, server: 0x0a4d140a, first: associateRq },
  { port: 2575, server: 0x0a4d140b, first: hl7Start },
  { port: 443, server: 0x0a4d140c, first: clientHello },
  { port: 80, server: 0x0a4d140d, first: httpStart },
];

/** Writes the capture (classic pcap, µs): N connections, one every 0.4 ms, none closed. */
export function writeConcurrentFlows(path: string, n: number): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  const rh = Buffer.alloc(16);
  let us = 0;
  const out = (f: Buffer) => {
    rh.writeUInt32LE(1_796_000_000 + Math.floor(us / 1e6), 0);
    rh.writeUInt32LE(us % 1e6, 4);
    rh.writeUInt32LE(f.length, 8);
    rh.writeUInt32LE(f.length, 12);
    writeSync(fd, rh);
    writeSync(fd, f);
    us += 100;
  };
  for (let i = 0; i < n; i++) {
    const s = SERVICES[i % SERVICES.length];
    // Clients 10.78.0.0/16 and up, several connections per client address.
    const client = (0x0a4e0000 + Math.floor(i / 8)) >>> 0;
    const sport = 20000 + (i % 8) * 5000 + (Math.floor(i / 8) % 5000);
    const cseq = 1000 + i;
    const sseq = 900_000 + i;
    const data = s.first(i);
    out(frame(client, s.server, sport, s.port, cseq, 0, Flag.Syn, null));
    out(frame(s.server, client, s.port, sport, sseq, cseq + 1, Flag.SynAck, null));
    out(frame(client, s.server, sport, s.port, cseq + 1, sseq + 1, Flag.Ack, null));
    out(frame(client, s.server, sport, s.port, cseq + 1, sseq + 1, Flag.PshAck, data));
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export interface PeakRss {
  peakMb: number;
  seconds: number;
}

/** Runs the CLI on the capture and samples VmHWM every 20 ms until it exits. */
export function peakRssOf(args: string[]): Promise<PeakRss> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--max-semi-space-size=32', CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m !== null) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // The process has gone: the last sample stands.
      }
    };
    const timer = setInterval(sample, 20);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`muvakt ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ peakMb: peakKb / 1024, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

export async function concurrentFlowsRss(n: number, file: string): Promise<{ plain: PeakRss; withPolicy: PeakRss }> {
  if (!existsSync(file)) writeConcurrentFlows(file, n);
  const plain = await peakRssOf(['analyze', file, '--quiet']);
  const dir = mkdtempSync(join(tmpdir(), 'muvakt-flows-rss-'));
  try {
    const withPolicy = await peakRssOf(['analyze', file, '--quiet', '--policy', POLICY, '--db', join(dir, 'store.db')]);
    return { plain, withPolicy };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const n = Number(opt('--flows') ?? 100_000);
  const file = opt('--file') ?? join(tmpdir(), `muvakt-open-flows-${n}.pcap`);
  const r = await concurrentFlowsRss(n, file);
  console.log(`${n.toLocaleString('en-US')} concurrent open flows (DICOM, HL7, TLS, HTTP; ${file}):`);
  console.log(`  analyze --quiet                      peak RSS ${r.plain.peakMb.toFixed(0)} MB (${r.plain.seconds.toFixed(2)} s)`);
  console.log(`  analyze --quiet --policy --db        peak RSS ${r.withPolicy.peakMb.toFixed(0)} MB (${r.withPolicy.seconds.toFixed(2)} s)`);
}
