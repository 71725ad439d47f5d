import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsPair, waitFor } from '../support/netns.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const PORT = '11114';
const METRICS = 'metrics-token-for-the-syscall-test';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * System calls the processes make that the unit's filter denies, and why that is harmless:
 * the units answer a denied call with EPERM (SystemCallErrorNumber), and these callers cope.
 */
const DENIED_BUT_HARMLESS: Record<string, string> = {
  // V8 probes for memory protection keys and runs without them when refused (often EINVAL anyway).
  pkey_alloc: 'V8 falls back',
  // SQLite chowns a new -wal/-shm file only when running as root; the units run as muvakt.
  fchown: 'only as root',
};

/** The unit's SystemCallFilter= lines as an allowed set (groups expanded by systemd-analyze). */
function allowedSyscalls(unit: string): Set<string> {
  const cache = new Map<string, string[]>();
  const expand = (name: string): string[] => {
    if (!name.startsWith('@')) return [name];
    if (!cache.has(name)) {
      const out = execFileSync('systemd-analyze', ['syscall-filter', '--no-pager', name], { encoding: 'utf8' });
      const members = out.split('\n').slice(1).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
      cache.set(name, members.flatMap(expand));
    }
    return cache.get(name)!;
  };
  const allowed = new Set<string>();
  const lines = readFileSync(join(ROOT, 'deploy', unit), 'utf8').split('\n').filter((l) => l.startsWith('SystemCallFilter='));
  expect(lines.length, unit).toBeGreaterThan(0);
  for (const l of lines) {
    const v = l.slice('SystemCallFilter='.length).trim();
    const deny = v.startsWith('~');
    for (const g of (deny ? v.slice(1) : v).split(/\s+/)) for (const s of expand(g)) (deny ? allowed.delete(s) : allowed.add(s));
  }
  return allowed;
}

/** The traced program's pid (the first line of an `strace -f -o` log): signals go to it, not to strace, which would only detach. */
function tracedPid(file: string): number {
  return Number(/^(\d+)\s/.exec(readFileSync(file, 'utf8'))![1]);
}

/** Every system call name in an `strace -f -o` log. */
function syscallsIn(file: string): Set<string> {
  const out = new Set<string>();
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\d+\s+([a-z0-9_]+)\(/.exec(l);
    if (m) out.add(m[1]);
  }
  return out;
}

/**
 * The units' system-call filters against what node (and tcpdump) really call: `run --listen`
 * capturing DICOM on a veth, and `serve` answering the API and /metrics, each under strace.
 */
describe('systemd units: the system-call filter admits what muvakt really calls', () => {
  const pair = new NetnsPair('sysc');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-syscalls-'));
  beforeAll(() => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    try {
      execFileSync('strace', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('strace is missing: .ci/run installs it (apt-get install strace)');
    }
    pair.create();
  });
  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('sensor (with tcpdump) and API stay inside their units\' filters', async () => {
    const policy = join(tmp, 'policy.yaml');
    writeFileSync(policy, `site: sysc\nzones:\n  - {name: ct, kind: medical, cidrs: [${pair.ipA}/32]}\n  - {name: pacs, kind: medical, cidrs: [${pair.ipB}/32]}\ndicom: {ports: [${PORT}]}\n`);
    const auth = join(tmp, 'auth.yaml');
    writeFileSync(auth, `tokens: []\nmetrics_token_sha256: "${sha(METRICS)}"\n`);
    const db = join(tmp, 'sensor.db');
    const scp = pair.spawn(pair.b, 'storescp', ['-aet', 'PACS_SYSC', '-od', tmp, PORT]);
    for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${PORT}`).trim(); i++) await sleep(50);

    const sensorTrace = join(tmp, 'sensor.trace');
    const sensor = pair.spawn(pair.a, 'strace', ['-f', '-qq', '-o', sensorTrace, process.execPath, CLI, 'run', '--interface', pair.ifA, '--policy', policy, '--db', db, '--listen', '127.0.0.1:18476', '--auth', auth, '--buffer-mb', '8']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(sensor.stderr!, /API listening beside the capture/, 60_000);
    pair.exec(pair.a, 'echoscu', '-aet', 'CT_SYSC', '-aec', 'PACS_SYSC', pair.ipB, PORT);
    await sleep(1500);
    expect(pair.exec(pair.a, 'curl', '-sf', '-H', `Authorization: Bearer ${METRICS}`, 'http://127.0.0.1:18476/metrics')).toMatch(/^muvakt_packets_total [1-9]/m);
    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    process.kill(tracedPid(sensorTrace), 'SIGTERM');
    expect(await exited, err).toBe(0);
    scp.kill('SIGTERM');

    const apiTrace = join(tmp, 'api.trace');
    const serve = pair.spawn(pair.a, 'strace', ['-f', '-qq', '-o', apiTrace, process.execPath, CLI, 'serve', '--db', db, '--auth', auth, '--listen', '127.0.0.1:18477']);
    let serveErr = '';
    serve.stderr!.on('data', (d: Buffer) => (serveErr += d.toString()));
    await waitFor(serve.stderr!, /API listening/, 60_000);
    expect(pair.exec(pair.a, 'curl', '-sf', '-H', `Authorization: Bearer ${METRICS}`, 'http://127.0.0.1:18477/metrics')).toMatch(/^muvakt_assets\{/m);
    pair.exec(pair.a, 'curl', '-s', '-o', '/dev/null', 'http://127.0.0.1:18477/');
    const serveExited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
    process.kill(tracedPid(apiTrace), 'SIGTERM');
    expect(await serveExited, serveErr).toBe(0);

    for (const [unit, trace] of [
      ['muvakt-sensor.service', sensorTrace],
      ['muvakt-api.service', apiTrace],
    ] as const) {
      const allowed = allowedSyscalls(unit);
      const used = syscallsIn(trace);
      expect(used.size, unit).toBeGreaterThan(30);
      expect(used.has('execve'), unit).toBe(true);
      const denied = [...used].filter((s) => !allowed.has(s) && !(s in DENIED_BUT_HARMLESS));
      expect(denied, unit).toEqual([]);
    }
    // tcpdump really ran under the sensor's trace
    expect(readFileSync(sensorTrace, 'utf8')).toMatch(/execve\("[^"]*tcpdump"/);
  });
});
