import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/**
 * Two network namespaces joined by a veth pair, made and removed by the test. Addresses come
 * from TEST-NET-1 and live only inside the namespaces: nothing reaches another network.
 */
export class NetnsPair {
  readonly a: string;
  readonly b: string;
  readonly ifA: string;
  readonly ifB: string;
  readonly ipA = '192.0.2.1';
  readonly ipB = '192.0.2.2';
  private readonly children: ChildProcess[] = [];

  constructor(tag: string) {
    const id = `${tag}${process.pid % 100000}`;
    this.a = `mvk-a-${id}`;
    this.b = `mvk-b-${id}`;
    this.ifA = `mva${process.pid % 100000}`;
    this.ifB = `mvb${process.pid % 100000}`;
  }

  static requireRoot(): void {
    if (process.getuid?.() !== 0) throw new Error('this test creates network namespaces and must run as root (CI does)');
    for (const bin of ['ip', 'tcpdump']) {
      try {
        execFileSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' });
      } catch {
        throw new Error(`${bin} is missing: .ci/run installs it (apt-get install iproute2 tcpdump)`);
      }
    }
  }

  create(): void {
    this.destroy();
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    ip('netns', 'add', this.a);
    ip('netns', 'add', this.b);
    ip('link', 'add', this.ifA, 'netns', this.a, 'type', 'veth', 'peer', 'name', this.ifB, 'netns', this.b);
    for (const [ns, dev, addr] of [
      [this.a, this.ifA, this.ipA],
      [this.b, this.ifB, this.ipB],
    ]) {
      this.exec(ns, 'ip', 'link', 'set', 'lo', 'up');
      this.exec(ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', dev);
      this.exec(ns, 'ip', 'link', 'set', dev, 'up');
      // Wire-sized frames, as a SPAN port would show them.
      try {
        this.exec(ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off');
      } catch {
        // ethtool missing: larger frames are still valid captures
      }
    }
  }

  exec(ns: string, cmd: string, ...args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(c);
    return c;
  }

  /** Resolves once a socket in `ns` listens on TCP `port`. */
  async waitForListener(ns: string, port: number, timeoutMs = 10_000): Promise<void> {
    for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await new Promise((r) => setTimeout(r, 50))) {
      if (this.exec(ns, 'ss', '-Hltn', `sport = :${port}`).trim()) return;
    }
    throw new Error(`nothing listens on TCP ${port} in ${ns} after ${timeoutMs} ms`);
  }

  /**
   * tcpdump on the first namespace's end of the veth, writing `file`; resolves once it captures.
   * The returned stop() lets the last packets in, stops it and waits until the file is complete.
   */
  async capture(file: string, filter: string[]): Promise<() => Promise<void>> {
    // Immediate mode: without it the kernel hands packets over in blocks, and a block not yet
    // full when tcpdump is stopped (a short session) never reaches the file.
    const cap = this.spawn(this.a, 'tcpdump', ['-i', this.ifA, '-n', '-U', '--immediate-mode', '-w', file, ...filter]);
    await waitFor(cap.stderr!, /listening on/);
    return async () => {
      await new Promise((r) => setTimeout(r, 500));
      if (cap.exitCode !== null || cap.signalCode !== null) throw new Error(`tcpdump writing ${file} ended early`);
      const exited = new Promise((r) => cap.once('exit', r));
      cap.kill('SIGINT');
      await exited;
    };
  }

  destroy(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of [this.a, this.b]) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
        for (const p of pids) process.kill(Number(p), 'SIGKILL');
      } catch {
        // namespace absent
      }
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}

/** Resolves with the accumulated text once `pattern` appears on the stream. */
export function waitFor(stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got: ${text.slice(-500)}`)), timeoutMs);
    stream.on('data', (d: Buffer) => {
      text += d.toString();
      if (pattern.test(text)) {
        clearTimeout(t);
        resolve(text);
      }
    });
  });
}
