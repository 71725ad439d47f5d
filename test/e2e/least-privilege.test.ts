/**
 * The Node process that parses hostile traffic holds no capability: only the capture helper
 * (a copy of tcpdump with file capabilities, as the "Least privilege" set-up in docs/deployment.md makes)
 * can open the interface. And the helper never outlives muvakt, even after `kill -9` on an
 * interface where nothing arrives.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../agent/capture/live-capture.js';
import { NetnsPair, waitFor } from '../support/netns.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');

function capsOf(pid: number): { eff: bigint; prm: bigint; amb: bigint } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hex = (k: string) => BigInt('0x' + new RegExp(`^${k}:\\s*([0-9a-f]+)$`, 'm').exec(status)![1]);
  return { eff: hex('CapEff'), prm: hex('CapPrm'), amb: hex('CapAmb') };
}

/** The Node process, from its own "capture started" log line (ip and setpriv exec in place). */
function sensorPid(log: string): number {
  const line = log.split('\n').find((l) => l.includes('capture started'))!;
  const pid = (JSON.parse(line) as { pid: number }).pid;
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(CLI);
  return pid;
}

function processesRunning(path: string): number[] {
  const pids: number[] = [];
  for (const d of execFileSync('ls', ['/proc'], { encoding: 'utf8' }).split('\n')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[0] === path) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * A node binary user nobody may run: the running one, or a copy in `dir` when it sits where
 * nobody cannot reach it (CI unpacks Node 22 into a private temporary directory).
 */
function nodeForNobody(dir: string): string {
  // By mode bits, not by trying: setpriv can keep root's DAC override across its exec, so a
  // trial run as nobody may pass where the launcher's capability-free exec fails.
  let reachable = (statSync(process.execPath).mode & 0o001) !== 0;
  for (let d = dirname(process.execPath); reachable && d !== dirname(d); d = dirname(d)) reachable = (statSync(d).mode & 0o001) !== 0;
  if (reachable) return process.execPath;
  const copy = join(dir, 'node');
  copyFileSync(process.execPath, copy);
  chmodSync(copy, 0o755);
  return copy;
}

const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;

describe('least privilege: an unprivileged sensor, a capability-holding helper that dies with it', () => {
  const pair = new NetnsPair('priv');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-priv-'));
  const helper = join(tmp, 'bin', 'tcpdump');
  const children: ChildProcess[] = [];
  let nodeBin = process.execPath;

  beforeAll(() => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    for (const bin of ['setcap', 'setpriv']) if (findExecutable(bin) === null) throw new Error(`${bin} is missing: .ci/run installs it (libcap2-bin, util-linux)`);
    // The set-up of docs/deployment.md, in a private directory: a tcpdump that alone carries the capabilities.
    execFileSync('install', ['-d', '-m', '0755', join(tmp, 'bin')]);
    copyFileSync(findExecutable('tcpdump')!, helper);
    chmodSync(helper, 0o755);
    execFileSync(findExecutable('setcap')!, ['cap_net_raw,cap_net_admin=eip', helper]);
    execFileSync('install', ['-d', '-m', '0777', join(tmp, 'out')]);
    chmodSync(tmp, 0o755);
    nodeBin = nodeForNobody(join(tmp, 'bin'));
    pair.create();
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const pid of processesRunning(helper)) process.kill(pid, 'SIGKILL');
  });
  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** `muvakt run` in the sensor namespace as nobody, with every capability dropped. */
  function startSensor(extra: string[]): ChildProcess {
    const args = [
      'netns', 'exec', pair.a,
      'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', '--',
      nodeBin, CLI, 'run', '--interface', pair.ifA, '--stats-interval', '1', '--buffer-mb', '4', ...extra,
    ];
    const child = spawn('ip', args, { env: { ...process.env, MUVAKT_TCPDUMP: helper }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  }

  it('captures with CapEff 0 in the Node process; the helper holds only NET_RAW/NET_ADMIN', async () => {
    const events = join(tmp, 'out', 'events.ndjson');
    const sensor = startSensor(['--events', events, '--filter', 'udp port 5555']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const node = sensorPid(await waitFor(sensor.stderr!, /capture started/));
    const nodeCaps = capsOf(node);
    expect(nodeCaps).toEqual({ eff: 0n, prm: 0n, amb: 0n });
    const helperPid = processesRunning(helper);
    expect(helperPid).toHaveLength(1);
    expect(capsOf(helperPid[0]).eff).toBe((1n << CAP_NET_RAW) | (1n << CAP_NET_ADMIN));

    pair.exec(pair.a, 'python3', '-c', `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(3):\n  s.sendto(b'muvakt',('${pair.ipB}',5555));time.sleep(0.2)\n`);
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    sensor.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    const flows = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'flow');
    expect(flows.length).toBeGreaterThanOrEqual(1);
    expect(flows[0].flow).toMatchObject({ src_ip: pair.ipA, dst_ip: pair.ipB, dst_port: 5555, proto: 'udp' });
    expect(flows[0].pkts_toserver).toBe(3);
    expect(processesRunning(helper)).toEqual([]);
  });

  it('kill -9 of Node on an idle interface leaves no helper behind after 2 s', async () => {
    // A filter nothing matches: tcpdump writes nothing, so only the parent-death signal can end it.
    const sensor = startSensor(['--filter', 'udp port 9']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const node = sensorPid(await waitFor(sensor.stderr!, /capture started/));
    expect(processesRunning(helper), err).toHaveLength(1);
    process.kill(node, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2000));
    expect(processesRunning(helper)).toEqual([]);
  });

  it('the launcher (systemd: AmbientCapabilities) opens the capture and runs Node with no capability', async () => {
    // As the sensor unit starts it: user nobody holding exactly CAP_NET_RAW and CAP_NET_ADMIN.
    const events = join(tmp, 'out', 'launched.ndjson');
    const launcher = join(ROOT, 'deploy/muvakt-capture-launch');
    const args = [
      'netns', 'exec', pair.a,
      'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=+net_raw,+net_admin', '--ambient-caps=+net_raw,+net_admin', '--',
      launcher, nodeBin, CLI, 'run', '--interface', pair.ifA, '--stats-interval', '1', '--events', events, '--filter', 'udp port 5555',
    ];
    const sensor = spawn('ip', args, { env: { ...process.env, MUVAKT_BUFFER_KIB: '4096' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(sensor);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const node = sensorPid(await waitFor(sensor.stderr!, /capture started/));
    expect(capsOf(node), err).toEqual({ eff: 0n, prm: 0n, amb: 0n });
    const tcpdumps = processesRunning(findExecutable('tcpdump')!);
    expect(tcpdumps.length, err).toBeGreaterThanOrEqual(1);
    expect(tcpdumps.some((pid) => capsOf(pid).eff === ((1n << CAP_NET_RAW) | (1n << CAP_NET_ADMIN)))).toBe(true);

    pair.exec(pair.a, 'python3', '-c', `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(4):\n  s.sendto(b'muvakt',('${pair.ipB}',5555));time.sleep(0.2)\n`);
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    sensor.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    const all = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const flows = all.filter((e) => e.type === 'flow');
    expect(flows[0]?.flow, err).toMatchObject({ src_ip: pair.ipA, dst_ip: pair.ipB, dst_port: 5555, proto: 'udp' });
    expect(flows[0].pkts_toserver).toBe(4);
    // The kernel's counters came from the launcher's tcpdump through its watchdog.
    expect(all.some((e) => e.type === 'stats')).toBe(true);
  });

  it('kill -9 of the launched Node leaves no helper behind after 2 s', async () => {
    const launcher = join(ROOT, 'deploy/muvakt-capture-launch');
    const before = new Set(processesRunning(findExecutable('tcpdump')!));
    const args = [
      'netns', 'exec', pair.a,
      'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=+net_raw,+net_admin', '--ambient-caps=+net_raw,+net_admin', '--',
      launcher, nodeBin, CLI, 'run', '--interface', pair.ifA, '--filter', 'udp port 9',
    ];
    const sensor = spawn('ip', args, { env: { ...process.env, MUVAKT_BUFFER_KIB: '4096' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(sensor);
    const node = sensorPid(await waitFor(sensor.stderr!, /capture started/));
    const mine = processesRunning(findExecutable('tcpdump')!).filter((p) => !before.has(p));
    expect(mine.length).toBe(1);
    process.kill(node, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2000));
    expect(processesRunning(findExecutable('tcpdump')!).filter((p) => mine.includes(p))).toEqual([]);
  });
});
