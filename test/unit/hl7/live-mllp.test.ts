/**
 * Real peers: python3-hl7's mllp_send against the corpus' mllp_server.py (AA/AE/AR) and against
 * a listener that never answers, through a local TCP relay that records what each side sent
 * with timestamps, as a mirror port would.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS } from './tcp-streams.js';
import { harness, leaks } from './support.js';

const PY = '/usr/bin/python3';
const haveHl7 = existsSync('/usr/bin/mllp_send') && spawnSync(PY, ['-c', 'import hl7']).status === 0;

interface Rec {
  dir: 0 | 1;
  data: Buffer;
  t: bigint;
}

function listen(server: Server): Promise<number> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)));
}

/** A relay in front of `target` recording both directions of every connection. */
async function relay(target: number, log: Rec[]): Promise<{ port: number; close: () => void }> {
  const server = createServer((c: Socket) => {
    const up = connect(target, '127.0.0.1');
    c.on('data', (d) => {
      log.push({ dir: 0, data: Buffer.from(d), t: process.hrtime.bigint() });
      up.write(d);
    });
    up.on('data', (d) => {
      log.push({ dir: 1, data: Buffer.from(d), t: process.hrtime.bigint() });
      c.write(d);
    });
    c.on('end', () => up.end());
    up.on('end', () => c.end());
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  return { port: await listen(server), close: () => server.close() };
}

async function freePort(): Promise<number> {
  const s = createServer();
  const p = await listen(s);
  await new Promise((r) => s.close(r));
  return p;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('listener did not start');
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: 'ignore' });
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${cmd} exit ${code}`))));
  });
}

function messagesFile(dir: string): string {
  const f = join(dir, 'msgs.hl7');
  spawnSync(PY, [join(CORPUS, 'scripts/hl7msgs.py'), f, 'adt_a01', 'oru_r01', 'orm_o01', 'adt_a08', '--fnr', '14078521210', '--ctl-prefix', 'LIVE'], { stdio: 'ignore' });
  return f;
}

function feed(log: Rec[], opts: { ackTimeoutMs?: number } = {}) {
  const h = harness(opts);
  const t0 = log[0]?.t ?? 0n;
  for (const r of log) {
    const ns = r.t - t0 + 1_000_000_000n * 1000n;
    h.parser.data(r.dir, r.data, 0, r.data.length, Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n));
  }
  return h;
}

describe('live mllp_send', () => {
  // CI installs python3-hl7 (.ci/run); a missing peer is a failure, not a reason to skip.
  beforeAll(() => {
    if (!haveHl7) throw new Error('python3-hl7 (mllp_send) is missing: apt-get install python3-hl7');
  });
  it('pairs AA, AE, AR from mllp_server.py', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muvakt-hl7-'));
    const file = messagesFile(dir);
    const port = await freePort();
    const srv: ChildProcess = spawn(PY, [join(CORPUS, 'scripts/mllp_server.py'), '--host', '127.0.0.1', '--port', String(port), '--acks', 'AA,AE,AR,AA'], { stdio: 'ignore' });
    const log: Rec[] = [];
    try {
      await waitForPort(port);
      const r = await relay(port, log);
      await run('/usr/bin/mllp_send', ['--loose', '-q', '-f', file, '-p', String(r.port), '127.0.0.1']);
      await new Promise((res) => setTimeout(res, 100));
      r.close();
    } finally {
      srv.kill();
    }
    const h = feed(log);
    h.parser.end('fin');
    const o = h.originals();
    expect(o.map((m) => [m.control_id, m.message_type, m.ack_code])).toEqual([
      ['LIVE000001', 'ADT^A01', 'AA'],
      ['LIVE000002', 'ORU^R01', 'AE'],
      ['LIVE000003', 'ORM^O01', 'AR'],
      ['LIVE000004', 'ADT^A08', 'AA'],
    ]);
    expect(o.every((m) => m.ack_latency_ms! >= 0 && m.ack_latency_ms! < 5000)).toBe(true);
    expect(h.undelivered().map((u) => [u.control_id, u.reason, u.ack_code])).toEqual([
      ['LIVE000002', 'negative-ack', 'AE'],
      ['LIVE000003', 'negative-ack', 'AR'],
    ]);
    expect(leaks(h.records, ['NORDMANN', '14078521210', '19850714', 'Storgata'])).toEqual([]);
  });

  it('reports messages a silent listener never acknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muvakt-hl7-'));
    writeFileSync(join(dir, 'one.hl7'), 'MSH|^~\\&|A|B|C|D|20240312||ADT^A01^ADT_A01|SILENT1|P|2.5.1\nPID|1||X1^^^OUS^PI||DOE^JOHN\n');
    // A listener that reads and never answers; mllp_send waits for a reply, so we stop it.
    const silent = createServer((c) => c.on('data', () => {}));
    const port = await listen(silent);
    const log: Rec[] = [];
    const r = await relay(port, log);
    const sender = spawn('/usr/bin/mllp_send', ['--loose', '-q', '-f', join(dir, 'one.hl7'), '-p', String(r.port), '127.0.0.1'], { stdio: 'ignore' });
    // Until the message has passed the relay (python's start-up takes its time on a busy machine).
    const t0 = Date.now();
    while (!log.some((x) => x.dir === 0 && x.data.includes('SILENT1')) && Date.now() - t0 < 20_000) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 100));
    sender.kill();
    r.close();
    silent.close();
    const h = feed(log, { ackTimeoutMs: 200 });
    expect(h.undelivered()).toEqual([]);
    h.parser.tick(1000 + 1, 0);
    expect(h.undelivered().map((u) => [u.control_id, u.reason])).toEqual([['SILENT1', 'ack-timeout']]);
  });
});
