/**
 * Every remote-access parser against endless and garbled streams: each must stop reading
 * (detach) after a bounded number of bytes, report exactly one session, count what went
 * wrong, and never throw — whatever the chunking.
 */
import { describe, expect, it } from 'vitest';
import { RdpStreamParser } from '../../../protocols/remote/rdp.js';
import type { RemoteParserOptions } from '../../../protocols/remote/records.js';
import { RfbStreamParser } from '../../../protocols/remote/rfb.js';
import { SshStreamParser } from '../../../protocols/remote/ssh.js';
import { TeamViewerStreamParser } from '../../../protocols/remote/teamviewer.js';
import { TelnetStreamParser } from '../../../protocols/remote/telnet.js';
import { Direction, type StreamParser } from '../../../protocols/stream.js';
import { drive, rng, type Chunking, type Segment } from '../../support/streams.js';
import { connectionRequest, DO, IAC, rfbVersion, SPEC_CC, SPEC_CR, text, u8, WILL } from './build.js';
import { collect } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const MiB = 1 << 20;

function noise(n: number, seed: number): Buffer {
  const r = rng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const PARSERS: [string, (o: RemoteParserOptions) => StreamParser, Segment[]][] = [
  ['ssh', (o) => new SshStreamParser(o), [{ dir: TS, data: text('SSH-2.0-x\r\n') }, { dir: TC, data: text('SSH-2.0-') }]],
  ['rdp', (o) => new RdpStreamParser(o), [{ dir: TS, data: connectionRequest({ user: 'u', requested: 3 }) }]],
  ['vnc', (o) => new RfbStreamParser(o), [{ dir: TC, data: rfbVersion('003.008') }, { dir: TS, data: rfbVersion('003.008') }, { dir: TC, data: u8(1, 2) }]],
  ['telnet', (o) => new TelnetStreamParser(o), [{ dir: TC, data: Buffer.from([IAC, DO, 24, IAC, WILL, 1]) }, { dir: TC, data: text('login: ') }]],
  ['teamviewer', (o) => new TeamViewerStreamParser(o), [{ dir: TS, data: Buffer.from([0x17, 0x24, 10, 0, 0]) }]],
];

describe.each(PARSERS)('%s against endless input', (_name, make, opening) => {
  it.each(['random', 'mss', 'whole'] as Chunking[])('stops reading after a bounded prefix (%s)', (chunking) => {
    for (const [dir, seed] of [[TS, 1], [TC, 2]] as const) {
      const col = collect();
      const p = make(col.opts);
      const segs: Segment[] = [...opening, { dir, data: noise(4 * MiB, seed) }, { dir: dir ^ 1, data: noise(MiB, seed + 10) }];
      const d = drive(p, segs, chunking, seed);
      p.end('timeout');
      expect(col.access()).toHaveLength(1);
      // Byte-bounded: nothing reads megabytes of a stream it cannot make sense of.
      if (chunking !== 'whole') expect(d.delivered).toBeLessThan(256 * 1024);
    }
  });

  it('never throws on 1-byte chunks of garbage', () => {
    for (let i = 0; i < 40; i++) {
      const col = collect();
      const p = make(col.opts);
      drive(p, [...opening, { dir: i % 2 ? TS : TC, data: noise(3000, i) }, { dir: i % 2 ? TC : TS, data: noise(3000, i + 99) }], 'tiny', i);
      p.gap(TS, 10);
      p.end('rst');
      p.end('rst');
      expect(col.access()).toHaveLength(1);
    }
  });
});

describe('bad TPKT lengths through every split', () => {
  it('counts them, reports malformed once and detaches', () => {
    for (const n of [0, 4, 10, 600, 0xffff]) {
      for (const chunking of ['tiny', 'segments', 'random'] as Chunking[]) {
        const cr = Buffer.from(SPEC_CR);
        cr.writeUInt16BE(n, 2);
        const col = collect();
        const p = new RdpStreamParser(col.opts);
        const d = drive(p, [{ dir: TS, data: cr }, { dir: TC, data: SPEC_CC }], chunking);
        p.end('fin');
        expect(p.counters.bad_tpkt_length, `${n} ${chunking}`).toBe(1);
        expect(d.detached).toBe(true);
        expect(col.access()).toEqual([expect.objectContaining({ protocol: 'rdp', malformed: true, encrypted: false })]);
      }
    }
  });
});
