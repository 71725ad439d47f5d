/**
 * npm run bench:api -- [FILE] [--requests N] [--concurrency C] [--alerts A]
 *
 * Latency of `GET /api/v1/alerts` over real HTTP (node:http, keep-alive) against the API on
 * the main thread, first with nothing else running, then while a worker thread replays FILE
 * (default /tmp/bench.pcap) through the whole analysis at full speed into the same store file
 * — the shape of `muvakt run --listen`. Prints p50/p95/p99/max for both phases.
 */
import { rmSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SqliteStore, type AlertCandidate, type Severity } from '../../agent/store/index.js';
import { buildApp } from '../../dashboard-api/app.js';
import { tokenHash } from '../../dashboard-api/plugins/auth.js';
import type { ApiLatencyWorkerData } from './api-latency-worker.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    alerts: { type: 'string', default: '1000' },
    limit: { type: 'string', default: '100' },
  },
});
const file = positionals[0] ?? process.env.MUVAKT_BENCH_FILE ?? '/tmp/bench.pcap';
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const ALERTS = Number(values.alerts);
const HERE = dirname(fileURLToPath(import.meta.url));
const POLICY = join(HERE, '../../../deploy/policy.example.yaml');
const TOKEN = 'bench-viewer-token-0123456789abcdef0123';
const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
const RULES = ['flow-not-allowed', 'dicom-cleartext-phi', 'hl7-negative-ack', 'tls-weak-version', 'obsolete-protocol', 'remote-access-session'];

function seed(n: number): AlertCandidate[] {
  const t0 = Date.now() - n * 1000;
  return Array.from({ length: n }, (_, i) => ({
    rule_id: RULES[i % RULES.length],
    title: `Bench alert ${i}`,
    severity: SEVERITIES[i % SEVERITIES.length],
    guide_refs: ['MU 3.7', 'LEV 6.4'],
    subject: { src_ip: `10.77.${10 + (i % 20)}.${1 + (i % 250)}`, dst_ip: `10.88.${Math.floor(i / 250)}.${1 + (i % 200)}`, zone_src: 'mu-radiology', zone_dst: i % 3 ? 'pacs' : 'office' },
    evidence: { app: 'dicom', dst_port: 104, n: i },
    recommendation: 'Bench recommendation.',
    ts: new Date(t0 + i * 1000).toISOString(),
  }));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
        if (bytes < 100) return reject(new Error(`GET ${path}: body of ${bytes} bytes`));
        resolve(Number(process.hrtime.bigint() - t) / 1e6);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Query shapes an officer's dashboard sends: newest, most severe, filtered by severity and status. */
const PATHS = [
  `/api/v1/alerts?limit=${values.limit}`,
  `/api/v1/alerts?limit=${values.limit}&sort=severity`,
  `/api/v1/alerts?limit=${values.limit}&severity=high&severity=critical&status=open`,
  `/api/v1/alerts?limit=${values.limit}&status=open&status=acknowledged&sort=severity`,
];

async function measure(port: number, n: number): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  const one = async () => {
    while (next < n) {
      const i = next++;
      out.push(await get(port, PATHS[i % PATHS.length]));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, one));
  return out;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report(name: string, ms: number[]): { p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  const f = (x: number) => `${x.toFixed(2).padStart(7)} ms`;
  console.log(`${name.padEnd(36)} n=${s.length}  p50 ${f(pct(s, 50))}  p95 ${f(pct(s, 95))}  p99 ${f(pct(s, 99))}  max ${f(s[s.length - 1])}`);
  return { p99: pct(s, 99) };
}

const dir = mkdtempSync(join(tmpdir(), 'muvakt-api-bench-'));
const db = join(dir, 'bench.db');
let worker: Worker | null = null;
try {
  readFileSync(file); // warm the page cache (and fail early if the capture is missing)
  const store = SqliteStore.open(db);
  const r = await store.upsertAlerts(seed(ALERTS));
  if (r.created.length !== ALERTS) throw new Error(`seeded ${r.created.length} of ${ALERTS} alerts`);
  const app = await buildApp({
    store,
    auth: { tokens: [{ name: 'bench', role: 'viewer', sha256: tokenHash(TOKEN) }], rate_limit: { max: 1_000_000, window_s: 60 } },
    processMetrics: false,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  console.log(`muvakt api bench: ${ALERTS} alerts, ${REQUESTS} requests × 2 phases, concurrency ${CONCURRENCY}, limit ${values.limit}, node ${process.version}; background: ${file}`);

  await measure(port, 200); // warm-up (JIT, SQLite page cache)
  const idle = report('idle (no analysis)', await measure(port, REQUESTS));

  const passes: { packets: number; s: number }[] = [];
  const stop = new SharedArrayBuffer(4);
  const progress = new SharedArrayBuffer(8);
  const data: ApiLatencyWorkerData = { file, db, policy: POLICY, stop, progress };
  const w = new Worker(new URL('./api-latency-worker.js', import.meta.url), { workerData: data });
  worker = w;
  const started = new Promise<void>((resolve, reject) => {
    w.on('message', (m: { type: string; packets?: number; s?: number; message?: string }) => {
      if (m.type === 'started') resolve();
      else if (m.type === 'pass') passes.push({ packets: m.packets!, s: m.s! });
      else if (m.type === 'error') reject(new Error(`analysis worker: ${m.message}`));
    });
    w.on('error', reject);
  });
  await started;
  await new Promise((res) => setTimeout(res, 500)); // let the replay get going
  const tBusy = process.hrtime.bigint();
  const pk0 = new Float64Array(progress)[0];
  const busyMs = await measure(port, REQUESTS);
  const busySeconds = Number(process.hrtime.bigint() - tBusy) / 1e9;
  const busy = report('with full-speed analysis (worker)', busyMs);
  const pk = new Float64Array(progress)[0] - pk0;

  const stopped = new Promise<void>((res) => w.on('message', (m: { type: string }) => m.type === 'stopped' && res()));
  Atomics.store(new Int32Array(stop), 0, 1);
  await stopped;
  await w.terminate();
  worker = null;
  console.log(
    `analysis in the worker during the busy phase: ${Math.round(pk).toLocaleString('en-US')} packets in ${busySeconds.toFixed(1)} s = ${Math.round(pk / busySeconds).toLocaleString('en-US')} pkt/s` +
      (passes.length > 0 ? ` (${passes.length} full passes of ${file} finished)` : ''),
  );
  console.log(`p99 under load: ${busy.p99.toFixed(2)} ms (target < 50 ms: ${busy.p99 < 50 ? 'met' : 'NOT met'}); idle p99 ${idle.p99.toFixed(2)} ms`);
  await app.close();
  store.close();
  agent.destroy();
  process.exitCode = busy.p99 < 50 ? 0 : 1;
} finally {
  if (worker) await worker.terminate();
  rmSync(dir, { recursive: true, force: true });
}
