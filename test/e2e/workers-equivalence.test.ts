/**
 * `analyze --workers 3` finds what `analyze --workers 1` finds: the same alerts (rule, subject,
 * endpoints, count, evidence) and the same devices, for every corpus capture and for a made-up
 * capture of many interleaved flows, fragments and clock crossings. Also the same summary
 * counters. Runs the built CLI as a process (the workers are real threads).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eth, ipv4, tcp, udp } from '../support/packet-builder.js';
import { writePcap, type Frame } from '../support/pcap-writer.js';
import { TEST_PSEUDONYM_KEY } from '../support/keys.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const CORPUS = join(ROOT, 'fixtures/corpus');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-workers-'));
const KEY = join(tmp, 'pseudonym.key');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
  writeFileSync(KEY, TEST_PSEUDONYM_KEY, { mode: 0o600 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  stderr: string;
  summary: string;
  alerts: string[];
  devices: string[];
}

/** One analyze run: its alerts and devices from the store, normalised (the order of rows and of JSON keys does not count). */
function analyze(capture: string, workers: number): Outcome {
  const db = join(tmp, `${capture.split('/').pop()}-${workers}.db`);
  rmSync(db, { force: true });
  const r = spawnSync(process.execPath, [CLI, 'analyze', capture, '--policy', POLICY, '--db', db, '--pseudonym-key', KEY, '--sensor', 'eq', '--workers', String(workers)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const d = new Database(db, { readonly: true });
  try {
    const alerts = (d.prepare('SELECT rule_id, severity, subject, src_ip, dst_ip, zone_src, zone_dst, device_id, count, first_seen, last_seen, evidence FROM alerts').all() as Record<string, unknown>[]).map((a) =>
      canonical({
        ...a,
        subject: JSON.parse(a.subject as string),
        evidence: JSON.parse(a.evidence as string),
        // A broken capture is stamped with the wall clock at the error, not capture time: it differs from run to run.
        ...(a.rule_id === 'capture-truncated' ? { first_seen: 'wall clock', last_seen: 'wall clock' } : {}),
      }),
    );
    const devices = (d.prepare('SELECT id, zone, role, exposure_score, exposure_level, first_seen_ms, last_seen_ms, summary, detail FROM inventory_devices').all() as Record<string, unknown>[]).map((x) =>
      canonical({ ...x, summary: JSON.parse(x.summary as string), detail: JSON.parse(x.detail as string) }),
    );
    // The summary's figures, not its timings.
    const summary = r.stdout
      .split('\n')
      .filter((l) => !/^(duration|throughput|peak memory)/.test(l))
      .join('\n')
      .replaceAll(db, 'DB');
    return { code: r.status, stderr: r.stderr, summary, alerts: alerts.sort(), devices: devices.sort() };
  } finally {
    d.close();
  }
}

/** JSON with object keys sorted at every level. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

function expectSame(capture: string): { alerts: number; devices: number } {
  const one = analyze(capture, 1);
  const three = analyze(capture, 3);
  expect(three.code, three.stderr).toBe(one.code);
  expect(three.summary).toBe(one.summary);
  expect(three.alerts).toEqual(one.alerts);
  expect(three.devices).toEqual(one.devices);
  return { alerts: one.alerts.length, devices: one.devices.length };
}

const corpus = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'))
  .sort();

describe('analyze --workers 3 against --workers 1', () => {
  it('covers the whole corpus', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(29);
    expect(corpus.some((f) => f.endsWith('.pcapng'))).toBe(true);
  });

  it.each(corpus)('%s: the same alerts, devices and summary', (file) => {
    const n = expectSame(join(CORPUS, file));
    expect(n.devices).toBeGreaterThan(0);
  });

  it('a capture of many interleaved flows, clock crossings, idle timeouts and fragments: the same alerts, devices and summary', () => {
    const file = join(tmp, 'many-flows.pcap');
    writeFileSync(file, writePcap(manyFlows(), 1));
    const n = expectSame(file);
    // It raises alerts of several rules over many devices: the comparison has something to compare.
    expect(n.alerts).toBeGreaterThan(20);
    expect(n.devices).toBeGreaterThan(40);
  });
});

/**
 * 600 TCP connections between 24 office clients and 40 medical devices (HTTP with Basic
 * credentials, Telnet logins), advanced step by step all at once so both directions of many
 * flows interleave; they come in waves 3 minutes apart (idle timeouts fire between them), and
 * syslog datagrams to a log server, some cut into IP fragments.
 */
function manyFlows(): Frame[] {
  const frames: Frame[] = [];
  let t = 1_700_000_000 * 1e6;
  const push = (srcMac: string, dstMac: string, ip: Buffer) => {
    t += 397; // µs: many packets per second, a new second every few thousand
    const data = eth(ip, 0x0800, { src: srcMac, dst: dstMac });
    frames.push({ sec: Math.floor(t / 1e6), nsec: (t % 1e6) * 1000, data, origLen: data.length });
  };
  const macOf = (ip: string) => `02:00:${ip.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}`;
  const waves = 3;
  const perWave = 200;
  for (let w = 0; w < waves; w++) {
    const conns = Array.from({ length: perWave }, (_, i) => {
      const k = w * perWave + i;
      const client = `10.77.30.${1 + (k % 24)}`;
      const server = `10.77.10.${1 + ((k * 7) % 40)}`;
      const telnet = k % 5 === 0;
      return { client, server, sport: 20_000 + k, dport: telnet ? 23 : 80, cseq: 1000 + k * 17, sseq: 500_000 + k * 31, telnet, k };
    });
    const send = (c: (typeof conns)[number], toServer: boolean, flags: string, payload?: Buffer) => {
      const [s, d] = toServer ? [c.client, c.server] : [c.server, c.client];
      const seg = tcp({ sport: toServer ? c.sport : c.dport, dport: toServer ? c.dport : c.sport, seq: toServer ? c.cseq : c.sseq, ack: flags.includes('A') ? (toServer ? c.sseq : c.cseq) : 0, flags, payload });
      push(macOf(s), macOf(d), ipv4(s, d, 6, seg));
      const adv = (payload?.length ?? 0) + (flags.includes('S') || flags.includes('F') ? 1 : 0);
      if (toServer) c.cseq += adv;
      else c.sseq += adv;
    };
    for (const c of conns) send(c, true, 'S');
    for (const c of conns) send(c, false, 'SA');
    for (const c of conns) send(c, true, 'A');
    for (const c of conns) {
      const req = c.telnet ? Buffer.from('admin\r\n') : Buffer.from(`GET /status/${c.k} HTTP/1.1\r\nHost: ${c.server}\r\nAuthorization: Basic YWRtaW46c2VjcmV0\r\n\r\n`);
      if (c.telnet) send(c, false, 'PA', Buffer.from('\r\nlogin: '));
      send(c, true, 'PA', req);
    }
    for (const c of conns) {
      const resp = c.telnet ? Buffer.from('Password: ') : Buffer.from(`HTTP/1.1 200 OK\r\nServer: DeviceWeb/${c.k % 3}\r\nContent-Length: 2\r\n\r\nok`);
      send(c, false, 'PA', resp);
    }
    for (const c of conns) {
      if (c.telnet) send(c, true, 'PA', Buffer.from('s3cret\r\n'));
      // Half the connections are closed, the rest left open to time out before the next wave.
      if (c.k % 2 === 0) {
        send(c, true, 'FA');
        send(c, false, 'FA');
        send(c, true, 'A');
      }
    }
    // Syslog to the log server: small datagrams, and large ones in three in-order fragments.
    for (let i = 0; i < 30; i++) {
      const dev = `10.77.10.${1 + (i % 40)}`;
      const log = '10.77.20.50';
      const msg = Buffer.from(`<134>device ${dev} status ${'x'.repeat(i % 3 === 0 ? 3000 : 40)}`);
      const dgram = udp(40_000 + i, 514, msg);
      if (dgram.length < 1400) {
        push(macOf(dev), macOf(log), ipv4(dev, log, 17, dgram));
      } else {
        const id = 1000 + w * 100 + i;
        for (let off = 0; off < dgram.length; off += 1280) {
          const part = dgram.subarray(off, Math.min(off + 1280, dgram.length));
          push(macOf(dev), macOf(log), ipv4(dev, log, 17, part, { id, fragOffset: off, more: off + 1280 < dgram.length }));
        }
      }
    }
    t += 180 * 1e6;
  }
  return frames;
}
