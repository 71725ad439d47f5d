import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createReadStream } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CaptureStreamReader } from './capture-file.js';
import type { CaptureStats, PacketHandler } from './packet-record.js';

export interface LiveCaptureOptions {
  iface: string;
  /** BPF filter expression, passed to libpcap as is. */
  filter?: string;
  snaplen: number;
  /** Kernel capture buffer in KiB. */
  bufferKiB: number;
  promiscuous: boolean;
}

/**
 * 64 MiB holds ~0.5 s of a saturated 1 Gbit/s link: enough for the analysis to fall behind
 * for a burst without the kernel dropping frames.
 */
export const DEFAULT_LIVE_OPTIONS: Omit<LiveCaptureOptions, 'iface'> = { snaplen: 262144, bufferKiB: 262144, promiscuous: true };

/** A source of live frames. The default keeps libpcap (and root) in a helper process. */
export interface LiveCaptureBackend {
  readonly name: string;
  /** Resolves once the interface is open and capturing; rejects with the helper's own reason. */
  start(onPacket: PacketHandler): Promise<void>;
  /** Latest kernel counters (updated by requestStats and at stop). */
  readonly stats: CaptureStats;
  /** Asks the helper for fresh counters; they arrive asynchronously. */
  requestStats(): void;
  /** Stops capturing; resolves after every captured frame was handed over. */
  stop(): Promise<void>;
}

export class CaptureBackendMissing extends Error {}

/**
 * What to do when the capture was refused for want of privilege (tcpdump: "You don't have
 * permission to capture on that device (socket: Operation not permitted)"), else "".
 */
export function permissionHint(tcpdumpStderr: string): string {
  if (!/Operation not permitted|permission to capture|Permission denied/i.test(tcpdumpStderr)) return '';
  return [
    '',
    'Capturing needs CAP_NET_RAW and CAP_NET_ADMIN for the capture helper (muvakt itself needs none). Either:',
    '  - run it as a service: deploy/muvakt-sensor.service starts deploy/muvakt-capture-launch, which holds the',
    '    two capabilities (AmbientCapabilities=) and hands them to tcpdump only;',
    '  - or give a copy of tcpdump file capabilities and name it in MUVAKT_TCPDUMP:',
    '      setcap cap_net_raw,cap_net_admin=eip /opt/muvakt/bin/tcpdump',
    '      MUVAKT_TCPDUMP=/opt/muvakt/bin/tcpdump muvakt run …',
    'See docs/deployment.md, "Least privilege".',
  ].join('\n');
}

/**
 * How long a stop waits for the analysis to take what the kernel already received (systemd's
 * TimeoutStopSec in deploy/muvakt-sensor.service leaves room for it and the final writes).
 */
export const STOP_DRAIN_MS = 15_000;
const DRAIN_POLL_MS = 250;

/** tcpdump's packet-buffer timeout (1000 ms) plus a margin. */
const BLOCK_RETIRE_MS = 1200;

/**
 * The helper must die with muvakt, even after a `kill -9` on an idle interface (where tcpdump,
 * writing nothing, would never see its broken pipe). The kernel's parent-death signal does that,
 * but it is cleared whenever a process's credentials change — and tcpdump's do: it drops root
 * after opening the interface, and a copy with file capabilities gains them at exec. So a shell
 * that keeps its credentials holds the parent-death signal (set by util-linux `setpriv`) and
 * stops tcpdump when it fires. It also forwards our signals: USR1 asks for counters, INT and
 * TERM stop the capture (as TERM: a non-interactive shell starts background jobs with INT
 * ignored). Its exit status is tcpdump's.
 */
export const HELPER_WATCHDOG = [
  '"$0" "$@" & p=$!',
  'trap \'kill -USR1 "$p" 2>/dev/null\' USR1',
  'trap \'kill -TERM "$p" 2>/dev/null\' INT TERM HUP',
  'st=0',
  'while kill -0 "$p" 2>/dev/null; do wait "$p"; st=$?; done',
  'exit "$st"',
].join('\n');

/**
 * How to start `bin args…` so that it cannot outlive this process: under the watchdog shell when
 * `setpriv` (util-linux) is there, else directly (it then ends at its next write after we exit).
 */
export function helperCommand(bin: string, args: readonly string[]): { file: string; args: string[] } {
  const setpriv = findExecutable('setpriv');
  const sh = findExecutable('sh');
  if (setpriv === null || sh === null) return { file: bin, args: [...args] };
  return { file: setpriv, args: ['--pdeathsig', 'TERM', '--', sh, '-c', HELPER_WATCHDOG, bin, ...args] };
}

/** Finds an executable on PATH (plus the sbin directories, where Debian puts tcpdump). */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** The running helper as the backend drives it: its two outputs, signals, and its end. */
interface Helper {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code (null when unknown) after its output has ended. */
  exited: Promise<number | null>;
  running(): boolean;
}

/**
 * The helper a privilege-separating launcher already started (`deploy/muvakt-capture-launch`):
 * its output arrives on inherited descriptors and it is signalled by pid, so this process never
 * needs a capability. Undefined when muvakt was not started that way.
 */
export function inheritedHelper(env: NodeJS.ProcessEnv = process.env): Helper | undefined {
  const fd = Number(env.MUVAKT_CAPTURE_FD);
  const errFd = Number(env.MUVAKT_CAPTURE_ERR_FD);
  const pid = Number(env.MUVAKT_CAPTURE_PID);
  if (!Number.isInteger(fd) || !Number.isInteger(errFd) || !Number.isInteger(pid) || fd < 3 || errFd < 3 || pid <= 1) return undefined;
  const stdout = createReadStream('', { fd, highWaterMark: 1 << 20 });
  const stderr = createReadStream('', { fd: errFd });
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    stdout.once('close', () => {
      done = true;
      resolve(null);
    }),
  );
  return {
    stdout,
    stderr,
    signal(sig) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone: its output has ended or is about to
      }
    },
    exited,
    running: () => !done,
  };
}

function spawnedHelper(file: string, args: string[]): Helper & { child: ChildProcess } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutDone = new Promise<void>((resolve) => child.stdout!.once('end', resolve));
  return {
    child,
    stdout: child.stdout!,
    stderr: child.stderr!,
    signal: (sig) => child.kill(sig),
    exited: new Promise((resolve) => child.once('exit', (code) => stdoutDone.then(() => resolve(code)))),
    running: () => child.exitCode === null,
  };
}

/**
 * tcpdump as the capture helper: `tcpdump -U -w -` streams pcap with nanosecond timestamps
 * into our reader, reports kernel drops on SIGUSR1 and at exit, drops its root privileges
 * after opening the interface, and never transmits. It is the only process that needs
 * CAP_NET_RAW/CAP_NET_ADMIN: started as root it drops them itself; run unprivileged, either a
 * launcher started it with the capabilities and ran muvakt without them (`inheritedHelper`), or
 * `MUVAKT_TCPDUMP` names a copy of tcpdump with file capabilities (docs/deployment.md, "Least
 * privilege"). It never outlives muvakt (`helperCommand`).
 */
export class TcpdumpBackend implements LiveCaptureBackend {
  readonly name = 'tcpdump';
  readonly stats: CaptureStats = { received: 0, dropped: 0, ifDropped: 0, captured: 0 };
  private helper: Helper | null = null;
  private reader: CaptureStreamReader | null = null;
  private stderrTail = '';

  constructor(
    private readonly opts: LiveCaptureOptions,
    private readonly inherited: Helper | undefined = inheritedHelper(),
  ) {}

  /** MUVAKT_TCPDUMP names the helper explicitly (e.g. a build with a newer libpcap). */
  static available(): string | null {
    const explicit = process.env.MUVAKT_TCPDUMP;
    if (explicit) {
      try {
        accessSync(explicit, constants.X_OK);
        return explicit;
      } catch {
        return null;
      }
    }
    return findExecutable('tcpdump');
  }

  start(onPacket: PacketHandler): Promise<void> {
    const o = this.opts;
    let helper: Helper;
    let spawned: ChildProcess | null = null;
    if (this.inherited !== undefined) {
      helper = this.inherited;
    } else {
      const bin = TcpdumpBackend.available();
      if (bin === null) {
        return Promise.reject(
          new CaptureBackendMissing(
            'live capture needs tcpdump (it runs libpcap for muvakt). Install it with: apt-get install tcpdump  (Debian/Ubuntu)  or  dnf install tcpdump  (RHEL/Fedora)',
          ),
        );
      }
      const args = ['-i', o.iface, '-n', '-U', '-w', '-', '-s', String(o.snaplen), '-B', String(o.bufferKiB), '--time-stamp-precision=nano'];
      if (!o.promiscuous) args.push('-p');
      if (o.filter) args.push(o.filter);
      const cmd = helperCommand(bin, args);
      const h = spawnedHelper(cmd.file, cmd.args);
      spawned = h.child;
      helper = h;
    }
    this.helper = helper;
    this.reader = new CaptureStreamReader(`tcpdump -i ${o.iface}`, onPacket);
    const reader = this.reader;
    helper.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
    return new Promise((resolve, reject) => {
      let started = false;
      spawned?.once('error', (e) => reject(e));
      helper.stderr.setEncoding('utf8');
      helper.stderr.on('data', (text: string) => {
        this.stderrTail = (this.stderrTail + text).slice(-4096);
        this.parseCounters(text);
        if (!started && /listening on /.test(this.stderrTail)) {
          started = true;
          resolve();
        }
      });
      void helper.exited.then((code) => {
        if (!started) reject(new Error(`tcpdump exited (code ${code}): ${this.stderrTail.trim().split('\n').pop() ?? ''}${permissionHint(this.stderrTail)}`));
      });
    });
  }

  requestStats(): void {
    this.helper?.signal('SIGUSR1');
  }

  async stop(): Promise<void> {
    const helper = this.helper;
    if (!helper) return;
    if (helper.running()) {
      const t0 = Date.now();
      await this.drain(STOP_DRAIN_MS);
      this.stats.drainMs = Date.now() - t0;
      // libpcap on Linux (TPACKET_V3) hands packets over in blocks that retire after up to
      // 1 s; a stop before that loses the last block although the kernel "received" it.
      await new Promise((resolve) => setTimeout(resolve, BLOCK_RETIRE_MS));
      // TERM, not INT: tcpdump handles both alike, but a watchdog a launcher started in the
      // background has INT ignored for good (POSIX shells ignore it for background jobs).
      helper.signal('SIGTERM');
    }
    await helper.exited;
    this.reader?.end();
  }

  /**
   * Before stopping, lets the analysis catch up with what the kernel already holds: the ring
   * buffer (256 MiB by default) can hold several seconds of traffic the analysis has yet to
   * read, and tcpdump drops it on exit. Waits until everything received when the stop was asked
   * for has been taken, or `limitMs`. On a link that stays busy, what arrives after the stop
   * request is not waited for.
   */
  private async drain(limitMs: number): Promise<void> {
    const helper = this.helper!;
    const until = Date.now() + limitMs;
    let target = -1;
    while (helper.running() && Date.now() < until) {
      this.requestStats();
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      const s = this.stats;
      if (target < 0) target = s.received - s.dropped;
      if ((s.captured ?? 0) >= target) return;
    }
  }

  /** tcpdump prints "N packets captured / received by filter / dropped by kernel". */
  private parseCounters(text: string): void {
    for (const m of text.matchAll(/(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)/g)) {
      const n = Number(m[1]);
      if (m[2] === 'captured') this.stats.captured = n;
      else if (m[2] === 'received by filter') this.stats.received = n;
      else if (m[2] === 'dropped by kernel') this.stats.dropped = n;
      else this.stats.ifDropped = n;
    }
  }
}
