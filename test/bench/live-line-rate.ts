/**
 * Live capture at line rate: tcpreplay sends a capture into one end of a veth pair while
 * `muvakt run` (every analyzer, the example policy, a store and the API) captures on the other
 * end, each in a network namespace this script makes and removes. A prober inside the sensor's
 * namespace asks `GET /api/v1/alerts` every 50 ms meanwhile. Cold start: the replay begins as
 * soon as the sensor says the capture has started.
 *
 *   npm run bench:live -- [--file F] [--mbps 1000,2000] [--pps N] [--seconds 60] [--busy]
 *                         [--find-max] [--small] [--sensor-args="--buffer-mb 256 …"]
 *
 * --busy      another process keeps one core busy for the whole run
 * --find-max  steps the rate up (20 s each) and reports the highest rate with zero drops
 * --small     replays a capture of small packets (TCP handshakes and first segments) instead,
 *             with rates in packets/s (--pps)
 * --sensor-args  more options for `muvakt run` (space-separated), e.g. a larger --buffer-mb
 *
 * Prints, per run: packets sent (tcpreplay), received by the kernel, dropped (kernel), analysed
 * by muvakt, left unread in the kernel buffer after the stop's drain, how long the stop took (a
 * long stop means the analysis was that far behind the replay), the API's p50/p99 latency, and the drops of each 5-second statistics interval (when
 * in the run they happened). Needs root (namespaces, capture).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NetnsPair, waitFor } from '../support/netns.js';
import { writeConcurrentFlows } from './concurrent-flows.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/agent/cli/muvakt.cjs');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');
const API_PORT = 18480;
const TOKEN = 'line-rate-bench-token-0123456789abcdef';

const { values } = parseArgs({
  options: {
    file: { type: 'string', default: process.env.MUVAKT_BENCH_FILE ?? '/tmp/bench.pcap' },
    mbps: { type: 'string', default: '1000,2000' },
    pps: { type: 'string' },
    seconds: { type: 'string', default: '60' },
    busy: { type: 'boolean', default: false },
    'find-max': { type: 'boolean', default: false },
    small: { type: 'boolean', default: false },
    'sensor-args': { type: 'string', default: '' },
  },
});

interface Rate {
  kind: 'mbps' | 'pps';
  value: number;
}

interface RunResult {
  rate: Rate;
  seconds: number;
  busy: boolean;
  sent: number;
  failed: number;
  received: number;
  dropped: number;
  analysed: number;
  /** Left in the kernel buffer after the sensor's stop-time drain (it was that far behind). */
  unread: number;
  /** How long the stop's drain waited for the analysis to catch up with the kernel: how far behind it was. */
  drainSeconds: number;
  /** From the stop signal to the sensor's exit: the drain of what it had yet to read, then the final writes. */
  stopSeconds: number;
  /** Cumulative drops at each statistics line (every 5 s from the start of the capture). */
  dropTimeline: number[];
  p50: number;
  p99: number;
  probes: number;
}

/** A loop inside the sensor's namespace: GET /api/v1/alerts every 50 ms; prints p50/p99 as JSON on SIGTERM. */
const PROBER = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const ms = [];
let stop = false;
function once() {
  if (stop) return;
  const t = process.hrtime.bigint();
  const req = http.get({ host: '127.0.0.1', port: ${API_PORT}, path: '/api/v1/alerts?limit=100', agent, headers: { authorization: 'Bearer ${TOKEN}' } }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode === 200) ms.push(Number(process.hrtime.bigint() - t) / 1e6); setTimeout(once, 50); });
  });
  req.on('error', () => setTimeout(once, 200));
}
once();
process.on('SIGTERM', () => {
  stop = true;
  ms.sort((a, b) => a - b);
  const q = (p) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] : NaN);
  process.stdout.write(JSON.stringify({ n: ms.length, p50: q(0.5), p99: q(0.99) }));
  process.exit(0);
});
`;

function collect(c: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { out: () => out, err: () => err };
}

function exited(c: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    c.on('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

async function runOnce(file: string, rate: Rate, seconds: number, busy: boolean): Promise<RunResult> {
  const pair = new NetnsPair('lr');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-line-rate-'));
  let burner: ChildProcess | null = null;
  try {
    pair.create();
    // Room for any frame the capture holds (recorded with offloads off, but a mirror may show jumbo frames).
    pair.exec(pair.a, 'ip', 'link', 'set', pair.ifA, 'mtu', '9000');
    pair.exec(pair.b, 'ip', 'link', 'set', pair.ifB, 'mtu', '9000');
    const auth = join(tmp, 'auth.yaml');
    writeFileSync(auth, `tokens:\n  - {name: bench, role: viewer, sha256: "${createHash('sha256').update(TOKEN).digest('hex')}"}\n`, { mode: 0o600 });
    if (busy) burner = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    const sensor = pair.spawn(pair.b, process.execPath, [
      '--max-semi-space-size=32',
      CLI,
      'run',
      '--interface',
      pair.ifB,
      '--policy',
      POLICY,
      '--db',
      join(tmp, 'store.db'),
      '--listen',
      `127.0.0.1:${API_PORT}`,
      '--auth',
      auth,
      '--allow-plain-http',
      '--stats-interval',
      '5',
      ...values['sensor-args']!.split(' ').filter(Boolean),
    ]);
    const sensorLog = collect(sensor);
    await waitFor(sensor.stderr!, /capture started/, 30_000);
    const prober = pair.spawn(pair.b, process.execPath, ['-e', PROBER]);
    const proberOut = collect(prober);
    const rateArgs = rate.kind === 'mbps' ? [`--mbps=${rate.value}`] : [`--pps=${rate.value}`];
    const replay = pair.spawn(pair.a, 'tcpreplay', ['-i', pair.ifA, ...rateArgs, '--loop=0', `--duration=${seconds}`, '--preload-pcap', file]);
    const replayLog = collect(replay);
    await exited(replay, (seconds + 120) * 1000);
    // Let the sensor read what the kernel holds, then stop it the way systemd does.
    await new Promise((r) => setTimeout(r, 3000));
    prober.kill('SIGTERM');
    await exited(prober, 5000);
    const stopAt = process.hrtime.bigint();
    sensor.kill('SIGINT');
    await exited(sensor, 60_000);
    const stopSeconds = Number(process.hrtime.bigint() - stopAt) / 1e9;
    const text = replayLog.out() + replayLog.err();
    const sent = /Actual: (\d+) packets/.exec(text);
    const failed = /Failed packets:\s+(\d+)/.exec(text);
    if (sent === null) throw new Error(`tcpreplay printed no totals: ${text.slice(-1000)}`);
    const stopped = sensorLog
      .err()
      .split('\n')
      .filter((l) => l.includes('capture stopped'))
      .map((l) => JSON.parse(l) as { received: number; dropped: number; unread?: number; drain_ms?: number; packets: number })
      .pop();
    if (stopped === undefined) throw new Error(`the sensor logged no "capture stopped": ${sensorLog.err().slice(-2000)}`);
    const dropTimeline = sensorLog
      .err()
      .split('\n')
      .filter((l) => l.includes('capture statistics'))
      .map((l) => (JSON.parse(l) as { dropped: number }).dropped);
    const lat = JSON.parse(proberOut.out() || '{"n":0,"p50":null,"p99":null}') as { n: number; p50: number; p99: number };
    return {
      rate,
      seconds,
      busy,
      sent: Number(sent[1]),
      failed: failed === null ? 0 : Number(failed[1]),
      received: stopped.received,
      dropped: stopped.dropped,
      analysed: stopped.packets,
      unread: stopped.unread ?? 0,
      drainSeconds: (stopped.drain_ms ?? 0) / 1000,
      stopSeconds,
      dropTimeline,
      p50: lat.p50,
      p99: lat.p99,
      probes: lat.n,
    };
  } finally {
    burner?.kill('SIGKILL');
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
function print(r: RunResult): void {
  const rate = r.rate.kind === 'mbps' ? `${r.rate.value} Mbit/s` : `${fmt(r.rate.value)} packets/s`;
  console.log(
    `${rate.padEnd(18)} ${r.seconds}s${r.busy ? ', one core busy' : ''}: sent ${fmt(r.sent)}${r.failed > 0 ? ` (${fmt(r.failed)} failed)` : ''}, ` +
      `kernel received ${fmt(r.received)}, dropped ${fmt(r.dropped)}, analysed ${fmt(r.analysed)}, behind by ${r.drainSeconds.toFixed(1)} s at the end (unread after that ${fmt(r.unread)}), stop took ${r.stopSeconds.toFixed(1)} s; ` +
      `API p50 ${r.p50?.toFixed(1)} ms, p99 ${r.p99?.toFixed(1)} ms (${fmt(r.probes)} requests)`,
  );
  if (r.dropped > 0) console.log(`  drops by 5 s interval: ${r.dropTimeline.map((d, i) => fmt(d - (r.dropTimeline[i - 1] ?? 0))).join(', ')}`);
}

NetnsPair.requireRoot();
for (const bin of ['tcpreplay']) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${bin} is missing: apt-get install tcpreplay`);
  }
}
let file = values.file;
if (values.small) {
  file = join(tmpdir(), 'muvakt-small-packets.pcap');
  if (!existsSync(file)) writeConcurrentFlows(file, 200_000);
}
const seconds = Number(values.seconds);
const rates: Rate[] =
  values.pps !== undefined
    ? values.pps.split(',').map((v) => ({ kind: 'pps' as const, value: Number(v) }))
    : values.small
      ? [100_000, 200_000].map((value) => ({ kind: 'pps' as const, value }))
      : values.mbps.split(',').map((v) => ({ kind: 'mbps' as const, value: Number(v) }));
console.log(`muvakt live capture at line rate: ${file}, node ${process.version}`);
if (values['find-max']) {
  const steps = values.small ? [10_000, 20_000, 30_000, 40_000, 50_000, 75_000, 100_000] : [500, 1000, 1500, 2000, 2500, 3000, 4000];
  let best: RunResult | null = null;
  for (const value of steps) {
    const r = await runOnce(file, { kind: values.small ? 'pps' : 'mbps', value }, 20, values.busy);
    print(r);
    // Kept up: nothing dropped or left, and no more than one look (0.25 s) at the end to catch up.
    if (r.dropped > 0 || r.unread > 0 || r.analysed < r.received || r.drainSeconds > 0.5) break;
    best = r;
  }
  console.log(best === null ? 'no rate tried was kept up with' : `highest rate kept up with (zero drops, nothing left behind): ${best.rate.value} ${best.rate.kind === 'mbps' ? 'Mbit/s' : 'packets/s'}`);
} else {
  for (const rate of rates) print(await runOnce(file, rate, seconds, values.busy));
}
