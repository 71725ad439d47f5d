/** Telnet: corpus capture 10 (character mode, echo), hand-built sessions and hostile input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeTelnet } from '../../../protocols/remote/probes.js';
import { telnetOptionName, TelnetStreamParser, type TelnetParserOptions } from '../../../protocols/remote/telnet.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { Direction } from '../../../protocols/stream.js';
import { drive, followTcp, rng, type Chunking, type Segment } from '../../support/streams.js';
import { DO, IAC, SB, SE, text, WILL, WONT } from './build.js';
import { collect, CORPUS, leaks, pseudonymize } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const CHUNKINGS: Chunking[] = ['segments', 'tiny', 'random', 'whole'];
const s = (data: Buffer | string): Segment => ({ dir: TC, data: typeof data === 'string' ? text(data) : data });
const c = (data: Buffer | string): Segment => ({ dir: TS, data: typeof data === 'string' ? text(data) : data });
/** One segment per key, the way a character-mode client sends them, with the server's echo. */
const typed = (line: string, echo: boolean): Segment[] => [...line].flatMap((ch) => (echo ? [c(ch), s(ch === '\b' ? '\b \b' : ch)] : [c(ch)]));

function run(segments: Segment[], chunking: Chunking = 'segments', seed = 1, opts: Partial<TelnetParserOptions> = {}) {
  const col = collect();
  const parser = new TelnetStreamParser({ ...col.opts, ...opts });
  const driven = drive(parser, segments, chunking, seed);
  parser.end('fin');
  return { ...col, parser, driven, rec: col.access()[0] };
}

const NEGOTIATION = [
  s(Buffer.from([IAC, DO, 24, IAC, WILL, 1, IAC, WILL, 3])),
  c(Buffer.from([IAC, WILL, 24, IAC, DO, 1, IAC, DO, 3, IAC, WONT, 31])),
];

function login(user: string, password: string, after = '\r\n$ '): Segment[] {
  return [...typed(user, true), c('\r\0'), s('\r\n'), s('Password: '), ...typed(password, false), c('\r\n'), s(after)];
}

describe('Telnet login', () => {
  const truth = JSON.parse(readFileSync(join(CORPUS, '10_telnet_login.json'), 'utf8')) as { flows: { telnet: { 'telnet.subcmd': string[] } }[] };
  const [stream] = followTcp('10_telnet_login.pcap', [0]);

  it('turns the corpus login into one credential event: username pseudonym, secret fingerprint', () => {
    for (const chunking of CHUNKINGS) {
      const r = run(stream.segments, chunking);
      expect(r.credentials()).toEqual([
        {
          type: 'credential.cleartext',
          ts_sec: expect.any(Number),
          ts_nsec: 0,
          protocol: 'telnet',
          kind: 'password',
          username_pseudonym: pseudonymize('username', 'biomed'),
          secret_fingerprint: pseudonymize('secret', 'Biomed#2024'),
        },
      ]);
      expect(r.access()).toHaveLength(1);
      expect(r.rec).toMatchObject({
        protocol: 'telnet',
        encrypted: false,
        security: 'none',
        weak: true,
        weak_reason: 'cleartext',
        login_prompt: true,
        login_attempts: 1,
        server_banner: 'Linux 6.18.44-fc-v669 (localhost) (pts/1)',
      });
      // Every option in effect is one tshark saw negotiated.
      const seen = new Set(truth.flows[0].telnet['telnet.subcmd'].map((o) => telnetOptionName(Number(o))));
      expect(r.rec.options!.length).toBeGreaterThan(3);
      for (const o of r.rec.options!) expect(seen).toContain(o);
      expect(r.rec.options).toContain('echo');
      // Detached at the shell prompt: the session's commands and output are never read.
      expect(r.driven.detached).toBe(true);
      expect(leaks(r.records)).toEqual([]);
    }
  });

  it('assembles a character-mode login with echo, backspace and CR NUL', () => {
    const segs = [...NEGOTIATION, s('\r\nAcme Infusion Gateway 4.2\r\n\r\ngw login: '), ...login('bioX\bmed', 'Pump#77'), c('ls\r\n'), s('a b c\r\n$ ')];
    for (const chunking of CHUNKINGS) {
      const r = run(segs, chunking);
      expect(r.credentials()).toHaveLength(1);
      expect(r.credentials()[0]).toMatchObject({ username_pseudonym: pseudonymize('username', 'biomed'), secret_fingerprint: pseudonymize('secret', 'Pump#77') });
      expect(r.rec).toMatchObject({ options: ['echo', 'suppress-go-ahead', 'terminal-type'], server_banner: 'Acme Infusion Gateway 4.2', login_attempts: 1 });
      expect(r.driven.detached).toBe(true);
    }
  });

  it('reports each attempt of a failed-then-successful login', () => {
    const segs = [...NEGOTIATION, s('login: '), ...login('admin', 'wrong', '\r\nLogin incorrect\r\nlogin: '), ...login('admin', 'right'), c('id\r\n')];
    const r = run(segs, 'tiny');
    expect(r.credentials().map((x) => x.secret_fingerprint)).toEqual([pseudonymize('secret', 'wrong'), pseudonymize('secret', 'right')]);
    expect(r.credentials().every((x) => x.username_pseudonym === pseudonymize('username', 'admin'))).toBe(true);
    expect(r.rec.login_attempts).toBe(2);
  });

  it('takes the username from NEW-ENVIRON USER when the server only asks for a password', () => {
    const env = Buffer.from([IAC, SB, 39, 0, 0, ...text('USER'), 1, ...text('biomed'), IAC, SE]);
    const r = run([...NEGOTIATION, c(env), s('Password: '), c('s3cret\r\n'), s('\r\n> '), c('status\r\n')]);
    expect(r.credentials()).toEqual([expect.objectContaining({ username_pseudonym: pseudonymize('username', 'biomed'), secret_fingerprint: pseudonymize('secret', 's3cret') })]);
    expect(r.rec.login_prompt).toBe(true);
  });

  it('reports a session as encrypted once both sides start the ENCRYPT option, and reads nothing after', () => {
    const start = Buffer.from([IAC, SB, 38, 3, 0, IAC, SE]);
    const r = run([s(Buffer.from([IAC, WILL, 38])), c(Buffer.from([IAC, DO, 38, IAC, WILL, 38])), s(Buffer.from([IAC, DO, 38])), s(start), c(start), s('login: '), c('x\r\n')]);
    expect(r.rec).toMatchObject({ encrypted: true, security: 'telnet-encrypt', weak: false, options: ['encrypt'] });
    expect(r.credentials()).toEqual([]);
    expect(r.driven.detached).toBe(true);
  });

  it('bounds lines, subnegotiations and sessions without a login', () => {
    const long = run([...NEGOTIATION, s('login: '), c('a'.repeat(10_000) + '\r\n'), s('Password: '), c('pw\r\n'), s('$ '), c('x\r\n')], 'random');
    expect(long.parser.counters.line_too_long).toBe(1);
    expect(long.credentials()).toHaveLength(1);
    expect(long.credentials()[0].username_pseudonym).toBeUndefined();

    const sb = run([s(Buffer.concat([Buffer.from([IAC, SB, 24]), Buffer.alloc(100_000, 0x41)]))], 'random');
    expect(sb.parser.counters.subnegotiation_overflow).toBe(1);

    const chatty = run([...NEGOTIATION, s('x'.repeat(200_000))], 'random');
    expect(chatty.parser.counters.budget_exhausted).toBe(1);
    expect(chatty.driven.detached).toBe(true);
    expect(chatty.driven.delivered).toBeLessThan(200_000);
    expect(chatty.rec).toMatchObject({ login_prompt: false, login_attempts: 0 });
    // Text from a server that never prompted for a login is never reported.
    expect(chatty.rec.server_banner).toBeUndefined();
  });

  it('never reports a line with a capture gap in it', () => {
    const col = collect();
    const p = new TelnetStreamParser(col.opts);
    const feed = (seg: Segment) => p.data(seg.dir, seg.data, 0, seg.data.length, 1, 0);
    for (const seg of [...NEGOTIATION, s('login: '), c('biomed\r\n'), s('Password: '), c('Bio')]) feed(seg);
    p.gap(TS, 5);
    feed(c('#2024\r\n'));
    p.end('fin');
    expect(col.credentials()).toEqual([]);
  });

  it('never throws on random bytes or mutated corpus bytes', () => {
    const rand = rng(3);
    for (let i = 0; i < 300; i++) {
      const segs = stream.segments.slice(0, 14).map((g) => {
        const d = Buffer.from(g.data);
        for (let k = 0; k < 3 && d.length > 0; k++) if (rand() < 0.5) d[Math.floor(rand() * d.length)] = rand() < 0.3 ? IAC : Math.floor(rand() * 256);
        return { dir: g.dir, data: d };
      });
      const r = run(segs, i % 3 === 0 ? 'tiny' : 'random', i);
      expect(r.access()).toHaveLength(1);
      expect(leaks(r.records)).toEqual([]);
    }
  });

  it('probe: a server opens with IAC DO/WILL…; a client needs two in a row', () => {
    const srv = Buffer.from([IAC, DO, 24]);
    expect(probeTelnet(srv, 0, 3)).toBe(ProbeVerdict.Yes);
    expect(probeTelnet(srv, 0, 2)).toBe(ProbeVerdict.NeedMore);
    expect(probeTelnet(srv, 0, 3, 2)).toBe(ProbeVerdict.NeedMore);
    expect(probeTelnet(Buffer.from([IAC, WILL, 24, IAC, DO, 1]), 0, 6, 2)).toBe(ProbeVerdict.Yes);
    expect(probeTelnet(Buffer.from([IAC, WILL, 24, 0x41, 0x42, 0x43]), 0, 6, 2)).toBe(ProbeVerdict.No);
    expect(probeTelnet(text('login: '), 0, 7)).toBe(ProbeVerdict.No);
    expect(probeTelnet(Buffer.from([IAC, 0xf1, 0]), 0, 3)).toBe(ProbeVerdict.No);
  });
});
