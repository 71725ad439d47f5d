import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
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
export const DEFAULT_LIVE_OPTIONS: Omit<LiveCaptureOptions, 'iface'> = { snaplen: 262144, bufferKiB: 65536, promiscuous: true };

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

/**
 * tcpdump as the capture helper: `tcpdump -U -w -` streams pcap with nanosecond timestamps
 * into our reader, reports kernel drops on SIGUSR1 and at exit, drops its root privileges
 * after opening the interface, and never transmits. It is the only process that needs
 * CAP_NET_RAW/CAP_NET_ADMIN: started as root it drops them itself; run unprivileged, muvakt
 * holds no capability and `MUVAKT_TCPDUMP` names a copy of tcpdump with file capabilities
 * (docs/deployment.md, "Least privilege"). It never outlives muvakt (`helperCommand`).
 */
export class TcpdumpBackend implements LiveCaptureBackend {
  readonly name = 'tcpdump';
  readonly stats: CaptureStats = { received: 0, dropped: 0, ifDropped: 0 };
  private child: ChildProcess | null = null;
  private reader: CaptureStreamReader | null = null;
  private exited: Promise<number | null> | null = null;
  private stderrTail = '';

  constructor(private readonly opts: LiveCaptureOptions) {}

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
    const bin = TcpdumpBackend.available();
    if (bin === null) {
      return Promise.reject(
        new CaptureBackendMissing(
          'live capture needs tcpdump (it runs libpcap for muvakt). Install it with: apt-get install tcpdump  (Debian/Ubuntu)  or  dnf install tcpdump  (RHEL/Fedora)',
        ),
      );
    }
    const o = this.opts;
    const args = ['-i', o.iface, '-n', '-U', '-w', '-', '-s', String(o.snaplen), '-B', String(o.bufferKiB), '--time-stamp-precision=nano'];
    if (!o.promiscuous) args.push('-p');
    if (o.filter) args.push(o.filter);
    const cmd = helperCommand(bin, args);
    const child = spawn(cmd.file, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.reader = new CaptureStreamReader(`tcpdump -i ${o.iface}`, onPacket);
    const reader = this.reader;
    const stdoutDone = new Promise<void>((resolve) => child.stdout!.once('end', resolve));
    child.stdout!.on('data', (chunk: Buffer) => reader.push(chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code) => stdoutDone.then(() => resolve(code))));
    return new Promise((resolve, reject) => {
      let started = false;
      child.once('error', (e) => reject(e));
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        this.stderrTail = (this.stderrTail + text).slice(-4096);
        this.parseCounters(text);
        if (!started && /listening on /.test(this.stderrTail)) {
          started = true;
          resolve();
        }
      });
      void this.exited!.then((code) => {
        if (!started) reject(new Error(`tcpdump exited (code ${code}): ${this.stderrTail.trim().split('\n').pop() ?? ''}`));
      });
    });
  }

  requestStats(): void {
    this.child?.kill('SIGUSR1');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    if (child.exitCode === null) {
      // libpcap on Linux (TPACKET_V3) hands packets over in blocks that retire after up to
      // 1 s; a SIGINT before that loses the last block although the kernel "received" it.
      await new Promise((resolve) => setTimeout(resolve, BLOCK_RETIRE_MS));
      child.kill('SIGINT');
    }
    await this.exited;
    this.reader?.end();
  }

  /** tcpdump prints "N packets captured / received by filter / dropped by kernel". */
  private parseCounters(text: string): void {
    for (const m of text.matchAll(/(\d+) packets? (received by filter|dropped by kernel|dropped by interface)/g)) {
      const n = Number(m[1]);
      if (m[2] === 'received by filter') this.stats.received = n;
      else if (m[2] === 'dropped by kernel') this.stats.dropped = n;
      else this.stats.ifDropped = n;
    }
  }
}
