import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineFinding } from '../../rules/index.js';
import { SHORT_CONNECTIONS } from '../../rules/checks/authentication.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { findingsFor } from '../support/rules.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A server that says one SSH identification line and hangs up after the client's: enough for
 * the real OpenSSH client to give up on an SSH-1 server (it speaks only 2) or to start its key
 * exchange with an SSH-1.99 one. Debian here has no sshd, smbd or xrdp to run instead.
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

const SSH1_PORT = 22;
const SSH199_PORT = 2222;

/**
 * The real OpenSSH client against SSH-1 and SSH-1.99 servers in a pair of network namespaces,
 * captured with tcpdump on the veth: what ssh-protocol-1 and the short-connection proxy of
 * repeated-authentication-failures see from real peers.
 */
describe('SSH version 1 and repeated short SSH connections, from the real OpenSSH client', () => {
  const pair = new NetnsPair('authp');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-authp-'));
  const ssh1Pcap = join(tmp, 'ssh1.pcap');
  const quietPcap = join(tmp, 'ssh199.pcap');
  let ssh1: EngineFinding[] = [];
  let quiet: EngineFinding[] = [];

  const connect = (port: number) =>
    spawnSync('ip', ['netns', 'exec', pair.a, 'ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-p', String(port), `service@${pair.ipB}`, 'true'], {
      encoding: 'utf8',
      timeout: 15_000,
    });

  async function capture(file: string, port: number, connections: number): Promise<void> {
    const cap = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-w', file, 'tcp', 'port', String(port)]);
    await waitFor(cap.stderr!, /listening on/);
    for (let i = 0; i < connections; i++) {
      const r = connect(port);
      expect(r.status, r.stderr).not.toBe(0);
    }
    await sleep(1000);
    cap.kill('SIGINT');
    await new Promise((r) => cap.once('exit', r));
  }

  beforeAll(async () => {
    NetnsPair.requireRoot();
    if (spawnSync('sh', ['-c', 'command -v ssh']).status !== 0) throw new Error('ssh is missing: apt-get install openssh-client');
    const server = join(tmp, 'banner-server.cjs');
    writeFileSync(server, BANNER_SERVER);
    pair.create();
    const s1 = pair.spawn(pair.b, process.execPath, [server, String(SSH1_PORT), 'SSH-1.5-Cisco-1.25']);
    const s199 = pair.spawn(pair.b, process.execPath, [server, String(SSH199_PORT), 'SSH-1.99-OpenSSH_3.9p1']);
    await Promise.all([waitFor(s1.stderr!, /listening/), waitFor(s199.stderr!, /listening/)]);

    await capture(ssh1Pcap, SSH1_PORT, SHORT_CONNECTIONS.count);
    await capture(quietPcap, SSH199_PORT, 3);
    ssh1 = await findingsFor([ssh1Pcap]);
    quiet = await findingsFor([quietPcap]);
  }, 120_000);

  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('an SSH-1.5 server raises ssh-protocol-1; an SSH-1.99 server (which also speaks 2) does not', () => {
    const hit = ssh1.filter((f) => f.rule.id === 'ssh-protocol-1');
    expect(hit.length).toBeGreaterThan(0);
    expect(hit[0].evidence).toMatchObject({ protocol: 'ssh', protocol_version: '1.5', server_software: 'Cisco-1.25' });
    expect(quiet.map((f) => f.rule.id)).not.toContain('ssh-protocol-1');
  });

  it(`${SHORT_CONNECTIONS.count} short connections from one client to port 22 raise repeated-authentication-failures; 3 do not`, () => {
    const hit = ssh1.filter((f) => f.rule.id === 'repeated-authentication-failures');
    expect(hit).toHaveLength(1);
    expect(hit[0].subject).toMatchObject({ src_ip: pair.ipA, dst_ip: pair.ipB });
    expect(hit[0].evidence).toMatchObject({ protocol: 'ssh', signal: 'short-connections', dst_port: 22 });
    expect(quiet.map((f) => f.rule.id)).not.toContain('repeated-authentication-failures');
  });
});
