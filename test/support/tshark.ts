import { execFileSync, spawnSync } from 'node:child_process';

/** Runs tshark and returns its stdout; a truncated capture makes it exit 2 after printing what it read. */
function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0 && !/cut short|appears to have been cut short/.test(r.stderr)) {
    throw new Error(`tshark ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout;
}

/** One conversation line of `tshark -q -z conv,tcp|udp`. A→B is the "->" column. */
export interface TsharkConversation {
  proto: 'tcp' | 'udp';
  a: string;
  aPort: number;
  b: string;
  bPort: number;
  framesAtoB: number;
  bytesAtoB: number;
  framesBtoA: number;
  bytesBtoA: number;
  /** true when tshark printed an exact byte count ("558 bytes"), false for rounded "11 kB". */
  exactBytes: boolean;
}

function parseSize(n: string, unit: string): number {
  const v = Number(n.replace(/,/g, ''));
  switch (unit) {
    case 'bytes':
      return v;
    case 'kB':
      return v * 1000;
    case 'MB':
      return v * 1e6;
    case 'GB':
      return v * 1e9;
    default:
      throw new Error(`unknown unit ${unit}`);
  }
}

function splitEndpoint(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

export function tsharkConversations(file: string): TsharkConversation[] {
  const out = tshark(['-n', '-q', '-r', file, '-z', 'conv,tcp', '-z', 'conv,udp']);
  const convs: TsharkConversation[] = [];
  let proto: 'tcp' | 'udp' | null = null;
  const line = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB|GB)\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB|GB)\s+/;
  for (const l of out.split('\n')) {
    if (l.startsWith('TCP Conversations')) proto = 'tcp';
    else if (l.startsWith('UDP Conversations')) proto = 'udp';
    const m = line.exec(l);
    if (!m || !proto) continue;
    const [a, aPort] = splitEndpoint(m[1]);
    const [b, bPort] = splitEndpoint(m[2]);
    convs.push({
      proto,
      a,
      aPort,
      b,
      bPort,
      framesBtoA: Number(m[3]),
      bytesBtoA: parseSize(m[4], m[5]),
      framesAtoB: Number(m[6]),
      bytesAtoB: parseSize(m[7], m[8]),
      exactBytes: m[5] === 'bytes' && m[8] === 'bytes',
    });
  }
  return convs;
}

/** Exact per-direction frame bytes from tshark's own fields, for conversations it printed rounded. */
export function tsharkDirectionBytes(file: string): Map<string, { frames: number; bytes: number }> {
  const out = tshark(['-n', '-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.len', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport', '-e', 'udp.dstport', '-e', 'ip.proto', '-e', 'ipv6.nxt']);
  const m = new Map<string, { frames: number; bytes: number }>();
  for (const l of out.split('\n')) {
    if (!l) continue;
    const [len, s4, s6, ts, us, d4, d6, td, ud] = l.split('|');
    const sp = ts || us;
    const dp = td || ud;
    if (!sp || !dp) continue;
    // ICMP errors quote the offending header: tshark then lists two addresses; keep the outer one.
    const src = (s4 || s6).split(',')[0];
    const dst = (d4 || d6).split(',')[0];
    const key = `${ts ? 'tcp' : 'udp'} ${src}:${sp.split(',')[0]} ${dst}:${dp.split(',')[0]}`;
    const e = m.get(key) ?? { frames: 0, bytes: 0 };
    e.frames++;
    e.bytes += Number(len);
    m.set(key, e);
  }
  return m;
}

/** Reassembled payload of each TCP stream, per direction, from `tshark -z follow,tcp,raw,N`. */
export function tsharkFollowTcp(file: string, stream: number): { client: string; server: string; toServer: Buffer; toClient: Buffer } {
  const out = tshark(['-n', '-q', '-r', file, '-o', 'tcp.reassemble_out_of_order:TRUE', '-z', `follow,tcp,raw,${stream}`]);
  const lines = out.split('\n');
  let node0 = '';
  let node1 = '';
  const toServer: Buffer[] = [];
  const toClient: Buffer[] = [];
  let inBody = false;
  for (const l of lines) {
    if (l.startsWith('Node 0: ')) {
      node0 = l.slice(8).trim();
      continue;
    }
    if (l.startsWith('Node 1: ')) {
      node1 = l.slice(8).trim();
      inBody = true;
      continue;
    }
    if (!inBody || l.startsWith('=====') || l.trim() === '') continue;
    // Node 0's data is flush left; Node 1's is indented with a tab.
    if (l.startsWith('\t')) toClient.push(Buffer.from(l.trim(), 'hex'));
    else toServer.push(Buffer.from(l.trim(), 'hex'));
  }
  // IPv6 endpoints come as [addr]:port.
  const plain = (n: string) => n.replace(/^\[(.*)\]:(\d+)$/, '$1:$2');
  return { client: plain(node0), server: plain(node1), toServer: Buffer.concat(toServer), toClient: Buffer.concat(toClient) };
}

export function tsharkTcpStreamCount(file: string): number {
  const out = tshark(['-n', '-r', file, '-T', 'fields', '-e', 'tcp.stream', '-Y', 'tcp']);
  let max = -1;
  for (const l of out.split('\n')) if (l) max = Math.max(max, Number(l));
  return max + 1;
}

/** tshark field values (one line per packet, `|` between fields, `,` between repeats). */
export function tsharkFields(path: string, fields: string[], filter: string, decodeAs: string[] = []): string[][] {
  const args = ['-n', '-r', path, '-Y', filter, '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,'];
  for (const d of decodeAs) args.push('-d', d);
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'));
}
