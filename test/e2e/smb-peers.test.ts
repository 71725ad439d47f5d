import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineFinding } from '../../rules/index.js';
import { NetnsPair } from '../support/netns.js';
import { findingsFor } from '../support/rules.js';
import { tsharkFields } from '../support/tshark.js';

/**
 * Samba's passdb holds only Unix accounts: `daemon` is on every Debian system (base-passwd), so
 * the test adds no account to the machine. Its Unix password (none) is never used: Samba checks
 * the NT hash in the test's own passdb.
 */
const ACCOUNT = 'daemon';
const SHARE = 'scans';
const ids = (f: EngineFinding[]) => f.map((x) => x.rule.id);

/**
 * smbd from Debian's samba (4.17) in its own network namespace, with its own smb.conf, passdb,
 * state, lock, cache and pid directories in a temporary directory, and smbclient in the other
 * namespace, captured by tcpdump on the veth: what smb-ntlmv1 and smb-anonymous-session see from
 * the real thing (SMB 3.1.1, NTLMSSP inside SPNEGO).
 */
describe('Samba and smbclient: NTLMv1 logins and null sessions', () => {
  const pair = new NetnsPair('smbp');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-smbp-'));
  const password = randomBytes(12).toString('base64url');
  const pcap = (name: string) => join(tmp, `${name}.pcap`);
  const found: Record<'v2' | 'v1' | 'anonymous', EngineFinding[]> = { v2: [], v1: [], anonymous: [] };

  function serverConf(): string {
    // smbd serves the share as the account: it must get through the temporary directory to it.
    chmodSync(tmp, 0o711);
    const dir = (name: string) => {
      const d = join(tmp, name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    const conf = join(tmp, 'smb.conf');
    writeFileSync(
      conf,
      `[global]
  server role = standalone server
  workgroup = WARD
  netbios name = PACSSTORE
  interfaces = ${pair.ipB}
  bind interfaces only = yes
  smb ports = 445
  disable netbios = yes
  passdb backend = tdbsam:${join(dir('private'), 'passdb.tdb')}
  private dir = ${dir('private')}
  binddns dir = ${dir('bind-dns')}
  lock directory = ${dir('lock')}
  state directory = ${dir('state')}
  cache directory = ${dir('cache')}
  pid directory = ${dir('pid')}
  ncalrpc dir = ${dir('ncalrpc')}
  log file = ${join(dir('log'), 'log.%m')}
  # The old protocol has to be allowed for a client to get an NTLMv1 login through.
  ntlm auth = ntlmv1-permitted
  map to guest = never
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes

[${SHARE}]
  path = ${dir('share')}
  read only = yes
`,
    );
    return conf;
  }

  function clientConf(): string {
    const conf = join(tmp, 'client.conf');
    const state = join(tmp, 'client-state');
    mkdirSync(state, { recursive: true });
    // No Kerberos: with no realm it would only fall back to NTLMSSP after a try.
    writeFileSync(conf, `[global]\n  workgroup = WARD\n  client use kerberos = off\n  disable netbios = yes\n  cache directory = ${state}\n  lock directory = ${state}\n  state directory = ${state}\n  private dir = ${state}\n`);
    return conf;
  }

  /** smbclient in the client namespace; the password reaches it in its environment only. */
  function smbclient(conf: string, args: string[]) {
    return spawnSync('ip', ['netns', 'exec', pair.a, 'smbclient', '-s', conf, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PASSWD: password } });
  }

  async function session(name: keyof typeof found, conf: string, args: string[]): Promise<void> {
    const stop = await pair.capture(pcap(name), ['tcp', 'port', '445']);
    const r = smbclient(conf, args);
    await stop();
    expect(r.status, `smbclient ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    found[name] = await findingsFor([pcap(name)]);
  }

  beforeAll(async () => {
    NetnsPair.requireRoot();
    for (const bin of ['smbd', 'smbpasswd', 'smbclient', 'tshark']) {
      if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0) throw new Error(`${bin} is missing: apt-get install samba smbclient tshark`);
    }
    const conf = serverConf();
    const add = spawnSync('smbpasswd', ['-c', conf, '-s', '-a', ACCOUNT], { input: `${password}\n${password}\n`, encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`smbpasswd: ${add.stderr}`);
    pair.create();
    pair.spawn(pair.b, 'smbd', ['--foreground', '--no-process-group', '--debug-stdout', '--configfile', conf]);
    await pair.waitForListener(pair.b, 445, 20_000);

    const client = clientConf();
    const share = `//${pair.ipB}/${SHARE}`;
    await session('v2', client, [share, '-U', ACCOUNT, '-c', 'ls']);
    await session('v1', client, ['--option=client ntlmv2 auth=no', share, '-U', ACCOUNT, '-c', 'ls']);
    // -N as root: smbclient first tries the local user with no password, then a null session.
    await session('anonymous', client, ['-N', '-L', `//${pair.ipB}`]);
  }, 90_000);

  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * tshark's reading of each NTLMSSP AUTHENTICATE: user name and the NT response's length. For
   * an empty response tshark gives the field's 8-byte descriptor (length 0) instead.
   */
  const authenticates = (name: string) =>
    tsharkFields(pcap(name), ['ntlmssp.auth.username', 'ntlmssp.auth.ntresponse'], 'ntlmssp.messagetype == 3').map(([user, nt]) => {
      const hex = nt.replace(/:/g, '');
      return { user, ntBytes: hex.length === 16 && hex.startsWith('0000') ? 0 : hex.length / 2 };
    });

  it('the captures hold what tshark reads as an NTLMv2 login, an NTLMv1 login, and a refused login then a null session', () => {
    expect(authenticates('v2')).toEqual([{ user: ACCOUNT, ntBytes: expect.any(Number) }]);
    expect(authenticates('v2')[0].ntBytes).toBeGreaterThan(24);
    expect(authenticates('v1')).toEqual([{ user: ACCOUNT, ntBytes: 24 }]);
    expect(authenticates('anonymous')).toEqual([
      { user: 'root', ntBytes: 0 },
      { user: 'NULL', ntBytes: 0 },
    ]);
  });

  it('an NTLMv1 login that Samba lets through raises smb-ntlmv1; the NTLMv2 login does not', () => {
    const hit = found.v1.filter((f) => f.rule.id === 'smb-ntlmv1');
    expect(hit).toHaveLength(1);
    expect(hit[0].subject).toMatchObject({ src_ip: pair.ipA, dst_ip: pair.ipB });
    expect(hit[0].evidence).toMatchObject({ protocol: 'smb', dialect: '3.1.1', ntlm_domain: 'WARD', username_pseudonym: expect.stringMatching(/^username:/) });
    expect(ids(found.v2)).not.toContain('smb-ntlmv1');
  });

  it('smbclient -N, whose null session follows its refused login on the same connection, raises smb-anonymous-session; a named login does not', () => {
    const hit = found.anonymous.filter((f) => f.rule.id === 'smb-anonymous-session');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ protocol: 'smb', dialect: '3.1.1', anonymous: true });
    expect(ids(found.anonymous)).not.toContain('smb-ntlmv1');
    expect(ids(found.v2)).not.toContain('smb-anonymous-session');
    expect(ids(found.v1)).not.toContain('smb-anonymous-session');
  });

  it("Samba's NTLM VERSION field (6.1, build 0) is not taken for Windows 7", () => {
    for (const f of Object.values(found)) expect(ids(f)).not.toContain('end-of-life-software');
  });
});
