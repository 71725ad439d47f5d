/** Shared helpers for the cleartext tests. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { cleartextTcpAnalyzers, cleartextUdpAnalyzers } from '../../../agent/analyzers/cleartext-analyzers.js';
import { dicomAnalyzer } from '../../../agent/analyzers/dicom-analyzer.js';
import { defaultEnvironment } from '../../../agent/analyzers/environment.js';
import { hl7Analyzer } from '../../../agent/analyzers/hl7-analyzer.js';
import { AnalyzerRegistry } from '../../../agent/analyzers/registry.js';
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import type { CleartextRecord } from '../../../protocols/cleartext/records.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';
import { tmpdir } from 'node:os';
import { eth, ipv4, tcp, udp } from '../../support/packet-builder.js';
import { writePcap, type Frame } from '../../support/pcap-writer.js';
import type { TestFrame } from '../../support/frames.js';
import { Direction } from '../../../protocols/stream.js';

export const CORPUS = join(import.meta.dirname, '../../../fixtures/corpus');
export const pseudonymize = createPseudonymizer(TEST_PSEUDONYM_KEY);

/** DICOM and HL7 as the default registry has them, then the cleartext analyzers. */
export function cleartextRegistry(): AnalyzerRegistry {
  const env = defaultEnvironment(TEST_PSEUDONYM_KEY);
  const r = new AnalyzerRegistry();
  r.register(dicomAnalyzer(env));
  r.register(hl7Analyzer(env));
  for (const f of cleartextTcpAnalyzers(env)) r.register(f);
  for (const f of cleartextUdpAnalyzers(env)) r.registerUdp(f);
  return r;
}

export function collector(): { records: CleartextRecord[]; emit: (r: CleartextRecord) => void; of: <T extends CleartextRecord['type']>(t: T) => Extract<CleartextRecord, { type: T }>[] } {
  const records: CleartextRecord[] = [];
  return {
    records,
    emit: (r) => records.push(r),
    of: (t) => records.filter((r) => r.type === t) as never,
  };
}

interface Manifest {
  captures: { file: string; planted_secrets: string[] }[];
  identities: { patients: { PatientName: string; fodselsnummer: string }[]; credentials: { user?: string; password: string }[] };
}

export const manifest: Manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8'));

/** Every planted secret of the corpus (passwords, users, names and their parts, fødselsnumre). */
export function plantedSecrets(): string[] {
  const s = new Set<string>();
  for (const c of manifest.captures) for (const x of c.planted_secrets) s.add(x);
  for (const p of manifest.identities.patients) {
    s.add(p.PatientName);
    s.add(p.fodselsnummer);
    for (const part of p.PatientName.split('^')) s.add(part);
  }
  for (const c of manifest.identities.credentials) {
    s.add(c.password);
    if (c.user) s.add(c.user);
  }
  return [...s];
}

/** UDP payloads of a capture, in order, with their source and destination ports. */
export function udpPayloads(file: string): { sport: number; dport: number; payload: Buffer }[] {
  const out = execFileSync('tshark', ['-n', '-r', join(CORPUS, file), '-Y', 'udp', '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'udp.payload'], {
    encoding: 'latin1',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [s, d, p] = l.split('\t');
      return { sport: Number(s), dport: Number(d), payload: Buffer.from(p.replace(/:/g, ''), 'hex') };
    });
}

// ---- hand-built sessions, for the pipeline and for tshark as an oracle ----


export interface Piece {
  dir: Direction;
  data: Buffer;
}

const CLIENT = '10.77.10.40';
const SERVER = '10.77.20.60';

/** A whole TCP connection (handshake, data split at `mss`, FIN) as Ethernet frames. */
export function tcpSession(pieces: Piece[], sport: number, cport = 50000, mss = 1400, t0 = 1_790_000_000): TestFrame[] {
  const frames: TestFrame[] = [];
  let t = t0;
  const seq = [1000, 9000];
  const push = (dir: Direction, flags: string, payload?: Buffer) => {
    const [src, dst, sp, dp] = dir === Direction.ToServer ? [CLIENT, SERVER, cport, sport] : [SERVER, CLIENT, sport, cport];
    const seg = tcp({ sport: sp, dport: dp, seq: seq[dir], ack: seq[dir ^ 1], flags, payload });
    frames.push({ data: eth(ipv4(src, dst, 6, seg), 0x0800), t });
    t += 0.001;
    seq[dir] = (seq[dir] + (payload?.length ?? 0) + (flags.includes('S') || flags.includes('F') ? 1 : 0)) >>> 0;
  };
  push(Direction.ToServer, 'S');
  push(Direction.ToClient, 'SA');
  push(Direction.ToServer, 'A');
  for (const p of pieces) for (let o = 0; o < p.data.length; o += mss) push(p.dir, 'PA', p.data.subarray(o, o + mss));
  push(Direction.ToServer, 'FA');
  push(Direction.ToClient, 'FA');
  push(Direction.ToServer, 'A');
  return frames;
}

/** UDP datagrams of one flow as Ethernet frames. */
export function udpFlow(pieces: Piece[], sport: number, cport = 50001, t0 = 1_790_000_000): TestFrame[] {
  return pieces.map((p, i) => {
    const [src, dst, sp, dp] = p.dir === Direction.ToServer ? [CLIENT, SERVER, cport, sport] : [SERVER, CLIENT, sport, cport];
    return { data: eth(ipv4(src, dst, 17, udp(sp, dp, p.data)), 0x0800), t: t0 + i * 0.001 };
  });
}

/** Writes frames to a temporary pcap (for tshark) and returns its path. */
export function toPcap(frames: TestFrame[], name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'muvakt-cleartext-'));
  const path = join(dir, name);
  const fs: Frame[] = frames.map((f) => ({ sec: Math.floor(f.t), nsec: Math.round((f.t % 1) * 1e9), data: f.data, origLen: f.data.length }));
  writeFileSync(path, writePcap(fs, 1));
  return path;
}

export { tsharkFields } from '../../support/tshark.js';
