import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineFinding } from '../../rules/index.js';
import { SHORT_CONNECTIONS } from '../../rules/checks/authentication.js';
import { CompiledPolicy, parsePolicy } from '../../rules/policy/index.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { EXAMPLE_POLICY_FILE, findingsFor } from '../support/rules.js';

const ids = (f: EngineFinding[]) => f.map((x) => x.rule.id);
const SSH_OPTIONS = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR'];

function requireBins(bins: string[], packages: string): void {
  for (const bin of bins) {
    if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0) throw new Error(`${bin} is missing: apt-get install ${packages}`);
  }
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

/**
 * A server that says one SSH identification line and hangs up after the client's: enough for
 * the real OpenSSH client to give up on an SSH-1 server (it speaks only 2) or to start its key
 * exchange with an SSH-1.99 one. Debian's sshd speaks SSH-2 only (SSH-1 left OpenSSH in 7.6), so
 * an SSH-1 server can only be this stand-in.
 */
const BANNER_SERVER = `
const net = require('node:net');
const [port, banner] = process.argv.slice(2);
net.createServer((s) => {
  s.write(banner + '\\r\\n');
  s.once('data', () => setTimeout(() => s.destroy(), 50));
  s.on('error', () => {});
}).listen(Number(port), () => process.stderr.write('listening ' + port + '\\n'));
`;

/** The real OpenSSH client against SSH-1 and SSH-1.99 banner servers, captured with tcpdump on the veth. */
describe('SSH version 1, from the real OpenSSH client', () => {
  const pair = new NetnsPair('authp');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-authp-'));
  let ssh1: EngineFinding[] = [];
  let ssh199: EngineFinding[] = [];

  async function connect(file: string, port: number): Promise<EngineFinding[]> {
    const stop = await pair.capture(file, ['tcp', 'port', String(port)]);
    const r = spawnSync('ip', ['netns', 'exec', pair.a, 'ssh', ...SSH_OPTIONS, '-o', 'BatchMode=yes', '-p', String(port), `service@${pair.ipB}`, 'true'], { encoding: 'utf8', timeout: 15_000 });
    await stop();
    expect(r.status, r.stderr).not.toBe(0);
    return findingsFor([file]);
  }

  beforeAll(async () => {
    NetnsPair.requireRoot();
    requireBins(['ssh'], 'openssh-client');
    const server = join(tmp, 'banner-server.cjs');
    writeFileSync(server, BANNER_SERVER);
    pair.create();
    const s1 = pair.spawn(pair.b, process.execPath, [server, '22', 'SSH-1.5-Cisco-1.25']);
    const s199 = pair.spawn(pair.b, process.execPath, [server, '2222', 'SSH-1.99-OpenSSH_3.9p1']);
    await Promise.all([waitFor(s1.stderr!, /listening/), waitFor(s199.stderr!, /listening/)]);
    ssh1 = await connect(join(tmp, 'ssh1.pcap'), 22);
    ssh199 = await connect(join(tmp, 'ssh199.pcap'), 2222);
  }, 60_000);

  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('an SSH-1.5 server raises ssh-protocol-1; an SSH-1.99 server (which also speaks 2) does not', () => {
    const hit = ssh1.filter((f) => f.rule.id === 'ssh-protocol-1');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ protocol: 'ssh', protocol_version: '1.5', server_software: 'Cisco-1.25' });
    expect(ids(ssh199)).not.toContain('ssh-protocol-1');
  });
});

/**
 * Debian's sshd, started by the test with its own configuration and host key in a temporary
 * directory and listening only inside its namespace, and the real ssh client (sshpass types
 * the wrong passwords) in the other, captured by tcpdump on the veth. The sensor cannot see an
 * SSH login fail, so repeated-authentication-failures counts short connections: sshd's own log
 * says what really happened in each capture.
 */
describe('repeated SSH login failures against a real sshd', () => {
  const pair = new NetnsPair('sshp');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-sshp-'));
  const pcap = (name: string) => join(tmp, `${name}.pcap`);
  let sshdLog = '';
  const log: Record<string, string> = {};
  const found: Record<string, EngineFinding[]> = {};
  let quickLogins: string;

  const keyFile = (name: string) => join(tmp, name);
  const keygen = (name: string) => spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', keyFile(name)], { stdio: 'ignore' });

  /** A password guess for an account sshd does not have; the password is in sshpass's environment only. */
  const guess = () =>
    spawnSync('ip', ['netns', 'exec', pair.a, 'sshpass', '-e', 'ssh', ...SSH_OPTIONS, '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1', `admin@${pair.ipB}`, 'true'], {
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, SSHPASS: randomBytes(9).toString('base64url') },
    });

  /** A key login that runs `command`; resolves with ssh's exit status. */
  const login = (command: string) => exited(pair.spawn(pair.a, 'ssh', [...SSH_OPTIONS, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', keyFile('authorised'), `root@${pair.ipB}`, command]));

  /** Runs `traffic` under a capture and keeps the findings and what sshd logged meanwhile. */
  async function scenario(name: string, traffic: () => Promise<void>): Promise<void> {
    const from = sshdLog.length;
    const stop = await pair.capture(pcap(name), ['tcp', 'port', '22']);
    await traffic();
    await stop();
    log[name] = sshdLog.slice(from);
    found[name] = await findingsFor([pcap(name)]);
  }

  beforeAll(async () => {
    NetnsPair.requireRoot();
    requireBins(['sshd', 'ssh', 'ssh-keygen', 'sshpass'], 'openssh-server openssh-client sshpass');
    // sshd's privilege separation directory is compiled in; Debian's service makes it at start.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    for (const k of ['host', 'authorised']) keygen(k);
    copyFileSync(`${keyFile('authorised')}.pub`, join(tmp, 'authorized_keys'));
    const config = join(tmp, 'sshd_config');
    writeFileSync(
      config,
      [
        `ListenAddress ${pair.ipB}:22`,
        `HostKey ${keyFile('host')}`,
        'PidFile none',
        'UsePAM no',
        // The keys live under /tmp, which is writable by all: modes cannot pass the strict check.
        'StrictModes no',
        `AuthorizedKeysFile ${join(tmp, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        // Room for every parallel login at once (the default starts refusing at 10).
        'MaxStartups 50',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const test = spawnSync('/usr/sbin/sshd', ['-t', '-f', config], { encoding: 'utf8' });
    if (test.status !== 0) throw new Error(`sshd -t: ${test.stderr}`);
    pair.create();
    const sshd = pair.spawn(pair.b, '/usr/sbin/sshd', ['-D', '-e', '-f', config]);
    sshd.stderr!.on('data', (d: Buffer) => (sshdLog += d.toString()));
    await pair.waitForListener(pair.b, 22);

    await scenario('guessing', async () => {
      for (let i = 0; i < SHORT_CONNECTIONS.count; i++) expect(guess().status).not.toBe(0);
    });
    // One failure, then as many logins that stay: sessions held past the short-connection limit.
    await scenario('sessions', async () => {
      expect(guess().status).not.toBe(0);
      const held = await Promise.all(Array.from({ length: SHORT_CONNECTIONS.count }, () => login(`sleep ${SHORT_CONNECTIONS.maxSec + 1}`)));
      expect(held).toEqual(held.map(() => 0));
    });
    await scenario('quick-logins', async () => {
      for (let i = 0; i < SHORT_CONNECTIONS.count; i++) expect(await login('true')).toBe(0);
    });
    const yaml = readFileSync(EXAMPLE_POLICY_FILE, 'utf8');
    quickLogins = yaml.replace('automation_clients: []', `automation_clients: [${pair.ipA}/32]`);
    expect(quickLogins).not.toBe(yaml);
  }, 90_000);

  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, 'g'))?.length ?? 0;

  it(`sshd refused ${SHORT_CONNECTIONS.count} password guesses in one capture; in the other it refused one and let ${SHORT_CONNECTIONS.count} key logins in`, () => {
    expect(count(log.guessing, /Failed password for invalid user admin/)).toBe(SHORT_CONNECTIONS.count);
    expect(count(log.guessing, /Accepted /)).toBe(0);
    expect(count(log.sessions, /Failed password/)).toBe(1);
    expect(count(log.sessions, /Accepted publickey for root/)).toBe(SHORT_CONNECTIONS.count);
  });

  it(`${SHORT_CONNECTIONS.count} refused password guesses raise repeated-authentication-failures`, () => {
    const hit = found.guessing.filter((f) => f.rule.id === 'repeated-authentication-failures');
    expect(hit).toHaveLength(1);
    expect(hit[0].subject).toMatchObject({ src_ip: pair.ipA, dst_ip: pair.ipB });
    expect(hit[0].evidence).toMatchObject({ protocol: 'ssh', signal: 'short-connections', dst_port: 22, count: SHORT_CONNECTIONS.count });
  });

  it('one refused guess among logins whose sessions stay does not', () => {
    expect(ids(found.sessions)).not.toContain('repeated-authentication-failures');
    // The sessions were seen: the SSH remote-access rule judged each of them.
    expect(found.sessions.find((f) => f.rule.id === 'remote-access-session')?.evidence).toMatchObject({ protocol: 'ssh' });
  });

  it('quick successful logins look like guessing on the wire: they raise it too, unless the client is listed as automation', async () => {
    expect(count(log['quick-logins'], /Accepted publickey for root/)).toBe(SHORT_CONNECTIONS.count);
    expect(ids(found['quick-logins'])).toContain('repeated-authentication-failures');
    const parsed = parsePolicy(quickLogins, 'automation.yaml');
    if (!parsed.ok) throw new Error(parsed.errors.map(String).join('\n'));
    expect(ids(await findingsFor([pcap('quick-logins')], new CompiledPolicy(parsed.policy)))).not.toContain('repeated-authentication-failures');
  });
});
