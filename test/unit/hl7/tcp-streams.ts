/**
 * Test support: TCP byte streams out of a capture via tshark, until the agent's reassembly
 * exists. `followRaw` gives each direction's bytes; `tcpChunks` gives the real segments with
 * capture timestamps (for ACK latency and realistic chunking). Not a test file.
 */
import { execFileSync } from 'node:child_process';

export const CORPUS = new URL('../../../fixtures/corpus/', import.meta.url).pathname;

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** TCP stream indexes with traffic on the given port. */
export function tcpStreams(file: string, port: number): number[] {
  const out = tshark(['-n', '-r', file, '-Y', `tcp.port==${port}`, '-T', 'fields', '-e', 'tcp.stream']);
  return [...new Set(out.split('\n').filter(Boolean).map(Number))].sort((a, b) => a - b);
}

/** Both directions of one stream: [client→server, server→client] (tshark's Node 0 is the first sender). */
export function followRaw(file: string, stream: number): [Buffer, Buffer] {
  const out = tshark(['-n', '-r', file, '-q', '-z', `follow,tcp,raw,${stream}`]);
  const parts: [string[], string[]] = [[], []];
  let body = false;
  for (const line of out.split('\n')) {
    if (line.startsWith('Node 1:')) {
      body = true;
      continue;
    }
    if (!body || line.startsWith('====') || line.trim() === '') continue;
    if (line.startsWith('\t')) parts[1].push(line.trim());
    else parts[0].push(line.trim());
  }
  return [Buffer.from(parts[0].join(''), 'hex'), Buffer.from(parts[1].join(''), 'hex')];
}

export interface TcpChunk {
  dir: 0 | 1;
  data: Buffer;
  tsSec: number;
  tsNsec: number;
}

/** Payload-bearing segments of one stream in capture order, retransmissions dropped. Direction 0 = SYN sender. */
export function tcpChunks(file: string, stream: number): TcpChunk[] {
  const out = tshark([
    '-n', '-r', file, '-Y', `tcp.stream==${stream}`, '-T', 'fields', '-E', 'separator=\t',
    '-e', 'frame.time_epoch', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.ack',
    '-e', 'tcp.seq', '-e', 'tcp.payload',
  ]);
  let clientPort = -1;
  const next = new Map<number, number>();
  const chunks: TcpChunk[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [ts, sport, dport, syn, ack, seq, payload] = line.split('\t');
    const sp = Number(sport);
    if (clientPort < 0) clientPort = syn === '1' && ack === '0' ? sp : syn === '1' ? Number(dport) : sp;
    if (!payload) continue;
    const data = Buffer.from(payload.replace(/:/g, ''), 'hex');
    const s = Number(seq);
    const expected = next.get(sp) ?? s;
    if (s + data.length <= expected) continue; // pure retransmission
    const fresh = s < expected ? data.subarray(expected - s) : data;
    next.set(sp, s + data.length);
    const [sec, frac = '0'] = ts.split('.');
    chunks.push({ dir: sp === clientPort ? 0 : 1, data: fresh, tsSec: Number(sec), tsNsec: Number(frac.padEnd(9, '0').slice(0, 9)) });
  }
  return chunks;
}

/** Splits a buffer into chunks whose sizes cycle through `sizes`. */
export function* chunked(buf: Buffer, sizes: number[]): Generator<Buffer> {
  let off = 0;
  let k = 0;
  while (off < buf.length) {
    const n = Math.min(sizes[k++ % sizes.length], buf.length - off);
    yield buf.subarray(off, off + n);
    off += n;
  }
}
