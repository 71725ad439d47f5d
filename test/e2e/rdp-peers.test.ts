import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineFinding } from '../../rules/index.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { findingsFor } from '../support/rules.js';
import { tsharkFields } from '../support/tshark.js';

/** xrdp reads its RSA keys for standard RDP security from this fixed path (the package makes them). */
const XRDP_RSA_KEYS = '/etc/xrdp/rsakeys.ini';
const PORT = { rdp: 3389, tls: 3390, nla: 3391 } as const;
type Server = keyof typeof PORT;
const USER = 'clinician';

/** An xrdp.ini of our own: no session manager is needed, the negotiation is over before its login screen. */
function xrdpIni(tmp: string, name: Server, securityLayer: 'rdp' | 'negotiate', cert: string, key: string): string {
  const file = join(tmp, `xrdp-${name}.ini`);
  writeFileSync(
    file,
    `[Globals]
ini_version=1
fork=false
port=${PORT[name]}
use_vsock=false
security_layer=${securityLayer}
crypt_level=high
certificate=${cert}
key_file=${key}
ssl_protocols=TLSv1.2, TLSv1.3
max_bpp=32

[Logging]
LogFile=${join(tmp, `xrdp-${name}.log`)}
LogLevel=INFO
EnableSyslog=false
EnableConsole=false

[Channels]
rdpdr=false
rdpsnd=false
drdynvc=false
cliprdr=false
rail=false
xrdpvr=false

[Xorg]
name=Xorg
lib=libxup.so
username=ask
password=ask
ip=127.0.0.1
port=-1
code=20
`,
  );
  return file;
}

/**
 * Real RDP servers in a network namespace and the real FreeRDP client (xfreerdp +auth-only) in
 * the other, captured by tcpdump on the veth: xrdp with standard RDP security, xrdp negotiating
 * (xrdp has no CredSSP, so it answers a client that offers NLA with TLS alone), and FreeRDP's
 * shadow server with NLA only, checking the login against an NTLM SAM file. Both servers and
 * the client want an X display: one Xvfb serves them all.
 */
describe('RDP security from xrdp, the FreeRDP shadow server and xfreerdp', () => {
  const pair = new NetnsPair('rdpp');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-rdpp-'));
  const password = randomBytes(12).toString('base64url');
  const pcap = (name: Server) => join(tmp, `${name}.pcap`);
  const found: Record<Server, EngineFinding[]> = { rdp: [], tls: [], nla: [] };
  const clientStatus: Partial<Record<Server, number | null>> = {};
  let env: NodeJS.ProcessEnv = {};
  let xvfb: ChildProcess | undefined;

  beforeAll(async () => {
    NetnsPair.requireRoot();
    for (const bin of ['xrdp', 'xfreerdp', 'freerdp-shadow-cli', 'winpr-hash', 'Xvfb', 'openssl', 'tshark']) {
      if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0) {
        throw new Error(`${bin} is missing: apt-get install xrdp freerdp2-x11 freerdp2-shadow-x11 winpr-utils xvfb openssl tshark`);
      }
    }
    if (!existsSync(XRDP_RSA_KEYS)) throw new Error(`${XRDP_RSA_KEYS} is missing: the xrdp package makes it (xrdp-keygen xrdp auto)`);
    const cert = join(tmp, 'cert.pem');
    const key = join(tmp, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=rdp.test'], { stdio: 'ignore' });
    // user:domain:LM hash:NT hash::: — the shadow server's whole account database.
    const sam = join(tmp, 'sam');
    writeFileSync(sam, execFileSync('winpr-hash', ['-u', USER, '-p', password, '-f', 'sam'], { encoding: 'utf8' }));

    pair.create();
    xvfb = pair.spawn(pair.b, 'Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '1024x768x24']);
    const display = (await waitFor(xvfb.stdout!, /^\d+\n/)).trim();
    // FreeRDP keeps certificates and known hosts under $HOME: the temporary directory, not root's.
    env = { ...process.env, DISPLAY: `:${display}`, HOME: tmp };
    pair.spawn(pair.b, 'xrdp', ['--nodaemon', '--config', xrdpIni(tmp, 'rdp', 'rdp', cert, key)]);
    pair.spawn(pair.b, 'xrdp', ['--nodaemon', '--config', xrdpIni(tmp, 'tls', 'negotiate', cert, key)]);
    pair.spawn(pair.b, 'env', [`DISPLAY=:${display}`, `HOME=${tmp}`, 'freerdp-shadow-cli', `/port:${PORT.nla}`, '/sec:nla', `/sam-file:${sam}`]);
    for (const port of Object.values(PORT)) await pair.waitForListener(pair.b, port, 20_000);

    for (const name of Object.keys(PORT) as Server[]) {
      const stop = await pair.capture(pcap(name), ['tcp', 'port', String(PORT[name])]);
      const r = spawnSync('ip', ['netns', 'exec', pair.a, 'xfreerdp', `/v:${pair.ipB}:${PORT[name]}`, `/u:${USER}`, `/p:${password}`, '/cert:ignore', '+auth-only'], { encoding: 'utf8', timeout: 30_000, env });
      clientStatus[name] = r.status;
      await stop();
      found[name] = await findingsFor([pcap(name)]);
    }
  }, 90_000);

  afterAll(async () => {
    // Asked to stop, Xvfb removes its lock file and socket under /tmp; killed, it would leave them.
    if (xvfb && xvfb.exitCode === null && xvfb.signalCode === null) {
      const exited = new Promise((r) => xvfb!.once('exit', r));
      xvfb.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    }
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** tshark's reading of the negotiation: the protocols the client offered and the one the server chose. */
  const negotiation = (name: Server) => {
    const rows = tsharkFields(pcap(name), ['rdp.negReq.requestedProtocols', 'rdp.negReq.selectedProtocol'], 'rdp.neg_type', [`tcp.port==${PORT[name]},tpkt`]);
    return { requested: rows[0]?.[0], selected: rows[1]?.[1] };
  };

  it('the client offers TLS and CredSSP everywhere; tshark reads standard RDP security, TLS and CredSSP chosen', () => {
    expect(negotiation('rdp')).toEqual({ requested: '0x00000003', selected: '0x00000000' });
    expect(negotiation('tls')).toEqual({ requested: '0x00000003', selected: '0x00000001' });
    expect(negotiation('nla')).toEqual({ requested: '0x00000003', selected: '0x00000002' });
    // +auth-only exits 0 only when the login was checked: CredSSP ran against the SAM file.
    expect(clientStatus.nla).toBe(0);
  });

  it('xrdp with security_layer=rdp raises rdp-without-nla, high: standard RDP security', () => {
    const hit = found.rdp.filter((f) => f.rule.id === 'rdp-without-nla');
    expect(hit).toHaveLength(1);
    expect(hit[0].severity).toBe('high');
    expect(hit[0].subject).toMatchObject({ src_ip: pair.ipA, dst_ip: pair.ipB });
    expect(hit[0].evidence).toMatchObject({ protocol: 'rdp', security: 'standard-rdp-security', requested_protocols: ['ssl', 'hybrid'], selected_protocol: 'rdp' });
  });

  it('xrdp negotiating, with no CredSSP to offer, raises rdp-without-nla, medium: TLS alone', () => {
    const hit = found.tls.filter((f) => f.rule.id === 'rdp-without-nla');
    expect(hit).toHaveLength(1);
    expect(hit[0].severity).toBe('medium');
    expect(hit[0].evidence).toMatchObject({ protocol: 'rdp', security: 'tls', requested_protocols: ['ssl', 'hybrid'], selected_protocol: 'ssl' });
  });

  it('the FreeRDP shadow server with NLA does not raise it', () => {
    expect(found.nla.map((f) => f.rule.id)).not.toContain('rdp-without-nla');
    // The session was seen and judged: the remote-access rules did fire on it.
    expect(found.nla.find((f) => f.rule.id === 'remote-access-session')?.evidence).toMatchObject({ protocol: 'rdp', security: 'nla', encrypted: true });
  });
});
