/**
 * Test support that leaves the capture pipeline out: TCP payload per direction from tshark's
 * `follow,tcp,raw` (which already reassembles, in capture order), and a driver that feeds a
 * StreamParser the way the reassembler does — in chunks of chosen sizes, honouring the skip
 * the parser returns, and reporting gaps after reducing any pending skip.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DETACH, Direction, type StreamParser } from '../../protocols/stream.js';

export const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');

export interface Segment {
  dir: Direction;
  data: Buffer;
}

export interface TcpStream {
  index: number;
  client: string;
  server: string;
  segments: Segment[];
}

const cache = new Map<string, TcpStream[]>();

/** Every listed TCP stream of a capture (one tshark run per capture, cached). */
export function followTcp(file: string, streams: number[]): TcpStream[] {
  const key = file + ':' + streams.join(',');
  const hit = cache.get(key);
  if (hit) return hit;
  const args = ['-n', '-r', join(CORPUS, file), '-q'];
  for (const s of streams) args.push('-z', `follow,tcp,raw,${s}`);
  const out = execFileSync('tshark', args, { encoding: 'latin1', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const result: TcpStream[] = [];
  let cur: TcpStream | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('Filter: tcp.stream eq ')) {
      cur = { index: Number(line.slice(22)), client: '', server: '', segments: [] };
      result.push(cur);
    } else if (cur === null || line.startsWith('=====') || line.startsWith('Follow:')) {
      continue;
    } else if (line.startsWith('Node 0: ')) {
      cur.client = line.slice(8).trim();
    } else if (line.startsWith('Node 1: ')) {
      cur.server = line.slice(8).trim();
    } else if (/^\t?[0-9a-f]+$/.test(line)) {
      const dir = line.startsWith('\t') ? Direction.ToClient : Direction.ToServer;
      cur.segments.push({ dir, data: Buffer.from(line.trim(), 'hex') });
    }
  }
  cache.set(key, result);
  return result;
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

export type Chunking = 'segments' | 'tiny' | 'random' | 'whole' | 'mss';

export interface DriveResult {
  delivered: number;
  skipped: number;
  detached: boolean;
}

/**
 * Feeds segments to the parser. 'segments' delivers them as captured, 'tiny' one byte at a
 * time, 'random' coalesces each same-direction run and re-splits it at random sizes, 'mss'
 * at 1448 bytes like Ethernet TCP segments, 'whole' delivers each run at once. Each chunk is a view into a larger buffer at a non-zero offset,
 * like the capture buffer, and is scribbled over after the call to catch retained views.
 */
export function drive(parser: StreamParser, segments: Segment[], chunking: Chunking, seed = 1): DriveResult {
  const rand = rng(seed);
  const skip = [0, 0];
  const res: DriveResult = { delivered: 0, skipped: 0, detached: false };
  const runs: Segment[] = [];
  if (chunking === 'random' || chunking === 'whole' || chunking === 'mss') {
    for (const s of segments) {
      const last = runs[runs.length - 1];
      if (last && last.dir === s.dir) last.data = Buffer.concat([last.data, s.data]);
      else runs.push({ dir: s.dir, data: s.data });
    }
  } else {
    runs.push(...segments);
  }
  let ts = 1_700_000_000;
  for (const run of runs) {
    let p = 0;
    while (p < run.data.length) {
      let n: number;
      if (chunking === 'tiny') n = 1;
      else if (chunking === 'random') n = 1 + Math.floor(rand() * (rand() < 0.3 ? 16 : 3000));
      else if (chunking === 'mss') n = 1448;
      else n = run.data.length - p;
      n = Math.min(n, run.data.length - p);
      if (!deliver(parser, run.dir, run.data, p, n, skip, res, ts)) return res;
      p += n;
    }
    ts += 1;
  }
  return res;
}

/** One chunk through the skip logic of the reassembler. Returns false once detached. */
export function deliver(
  parser: StreamParser,
  dir: Direction,
  data: Buffer,
  p: number,
  n: number,
  skip: number[],
  res: DriveResult,
  tsSec = 0,
): boolean {
  if (skip[dir] >= n) {
    skip[dir] -= n;
    res.skipped += n;
    return true;
  }
  p += skip[dir];
  n -= skip[dir];
  res.skipped += skip[dir];
  skip[dir] = 0;
  // A view at an offset inside a bigger buffer, as the capture ring would give.
  const shell = Buffer.alloc(n + 64, 0xee);
  data.copy(shell, 32, p, p + n);
  res.delivered += n;
  const r = parser.data(dir, shell, 32, n, tsSec, 0);
  shell.fill(0xcc);
  if (r === DETACH) {
    res.detached = true;
    return false;
  }
  skip[dir] += r;
  return true;
}

/** Reports a gap the way the reassembler does: bytes inside the pending skip are absorbed. */
export function gapThrough(parser: StreamParser, dir: Direction, len: number, skip: number[]): void {
  if (skip[dir] >= len) {
    skip[dir] -= len;
    return;
  }
  len -= skip[dir];
  skip[dir] = 0;
  parser.gap(dir, len);
}

/** Per-direction byte streams, for tests that cut and splice them. */
export function directions(segments: Segment[]): [Buffer, Buffer] {
  const a: Buffer[] = [];
  const b: Buffer[] = [];
  for (const s of segments) (s.dir === Direction.ToServer ? a : b).push(s.data);
  return [Buffer.concat(a), Buffer.concat(b)];
}
