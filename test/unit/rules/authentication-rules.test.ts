/**
 * The authentication rules (rules/checks/authentication.ts) on crafted captures: hand-built
 * sessions go through the whole pipeline (reassembly, analyzers, event contract) and then the
 * rule engine, each rule with one capture that raises it and one that must not. The byte
 * builders reach cases real peers are not set up to show (SMB1 without extended security, other
 * protocols' login verdicts); Samba, xrdp, FreeRDP and OpenSSH themselves are in
 * test/e2e/smb-peers.test.ts, rdp-peers.test.ts and auth-peers.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { DEFAULT_CREDENTIAL_FINGERPRINTS } from '../../../protocols/default-credential-list.js';
import { defaultCredentialFingerprint, matchDefaultCredential } from '../../../protocols/default-credentials.js';
import { Direction } from '../../../protocols/stream.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { AUTH_FAILURES, SHORT_CONNECTIONS } from '../../../rules/checks/authentication.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';
import { renderList } from '../../../scripts/default-credentials.js';
import { runFrames, type TestFrame } from '../../support/frames.js';
import { ntlmAuthenticate, smb1LegacySessionSetup, smb1NegotiateRequest, smb1NegotiateResponse, smb2NegotiateRequest, smb2NegotiateResponse, smb2SessionSetup } from '../cleartext/smb-build.js';
import { associateAc, associateRq, releaseRp, releaseRq, userIdentity } from '../dicom/build.js';
import { connectionConfirm, connectionRequest, DO, IAC, PROTOCOL_HYBRID, PROTOCOL_RDP, PROTOCOL_SSL, rfbVersion, tcpSession, text, u32, u8, WILL } from '../remote/build.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const CLIENT = '10.77.40.20';
const DEVICE = '10.77.10.40';
const T0 = 1_795_000_000;

function policy(extra = ''): CompiledPolicy {
  const r = parsePolicy(
    `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: it, kind: clinical, cidrs: [10.77.40.0/24]}
${extra}`,
    'site.yaml',
  );
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

function analyze(frames: TestFrame[], extraPolicy = ''): { events: MuvaktEvent[]; findings: EngineFinding[] } {
  const { events } = runFrames(frames);
  const findings: EngineFinding[] = [];
  const engine = new RuleEngine(policy(extraPolicy), ALL_RULES, (f) => findings.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  return { events, findings };
}

const ids = (findings: EngineFinding[]) => findings.map((f) => f.rule.id);
const of = (findings: EngineFinding[], id: string) => findings.filter((f) => f.rule.id === id);

/** Everything the sensor would write about a capture: its events and its findings' evidence. */
const written = (r: { events: MuvaktEvent[]; findings: EngineFinding[] }) => JSON.stringify([r.events, r.findings.map((f) => [f.subject, f.evidence])]);

function smbSession(blob: Buffer, cport = 49152, t0 = T0): TestFrame[] {
  return tcpSession(CLIENT, DEVICE, cport, 445, [
    [TS, smb2NegotiateRequest([0x0202, 0x0210, 0x0300, 0x0311])],
    [TC, smb2NegotiateResponse(0x0311, true)],
    [TS, smb2SessionSetup(blob)],
  ], t0);
}

/** An SMB1 session whose setup carries the challenge responses itself (no NTLMSSP). */
const smb1LegacySession = (setup: Buffer) =>
  tcpSession(CLIENT, DEVICE, 49153, 445, [
    [TS, smb1NegotiateRequest(['PC NETWORK PROGRAM 1.0', 'LANMAN1.0', 'NT LM 0.12'])],
    [TC, smb1NegotiateResponse(2)],
    [TS, setup],
  ]);

describe('SMB authentication', () => {
  it('SMB1 without extended security: 24-byte responses are NTLMv1, no name and no response a null session', () => {
    const v1 = analyze(smb1LegacySession(smb1LegacySessionSetup('biomed', 'HOSPITAL', 24, 24)));
    expect(of(v1.findings, 'smb-ntlmv1')[0].evidence).toMatchObject({ protocol: 'smb', dialect: 'NT LM 0.12', ntlm_domain: 'HOSPITAL' });
    expect(ids(v1.findings)).not.toContain('smb-anonymous-session');
    expect(written(v1)).not.toContain('biomed');
    const anon = analyze(smb1LegacySession(smb1LegacySessionSetup('', '', 1, 0)));
    expect(ids(anon.findings)).toContain('smb-anonymous-session');
    expect(ids(anon.findings)).not.toContain('smb-ntlmv1');
    const v2 = analyze(smb1LegacySession(smb1LegacySessionSetup('biomed', 'HOSPITAL', 24, 120)));
    expect(ids(v2.findings)).not.toContain('smb-ntlmv1');
  });

  it('smb-ntlmv1: a 24-byte NT response raises it; an NTLMv2 response does not', () => {
    const v1 = analyze(smbSession(ntlmAuthenticate('biomed', 'HOSPITAL', 24)));
    expect(of(v1.findings, 'smb-ntlmv1')).toHaveLength(1);
    expect(of(v1.findings, 'smb-ntlmv1')[0].evidence).toMatchObject({ protocol: 'smb', dialect: '3.1.1', ntlm_domain: 'HOSPITAL' });
    expect(written(v1)).not.toContain('biomed');
    const v2 = analyze(smbSession(ntlmAuthenticate('biomed', 'HOSPITAL', 300)));
    expect(ids(v2.findings)).not.toContain('smb-ntlmv1');
  });

  it('smb-anonymous-session: no user and no NT response raises it; a named login does not', () => {
    const anon = analyze(smbSession(ntlmAuthenticate('', '', 0)));
    expect(of(anon.findings, 'smb-anonymous-session')).toHaveLength(1);
    expect(of(anon.findings, 'smb-anonymous-session')[0].subject).toMatchObject({ src_ip: CLIENT, dst_ip: DEVICE, zone_src: 'it', zone_dst: 'mu' });
    const named = analyze(smbSession(ntlmAuthenticate('biomed', 'HOSPITAL', 300)));
    expect(ids(named.findings)).not.toContain('smb-anonymous-session');
  });
});

const sshSession = (client: string, server: string, cport = 50000, t0 = T0) =>
  tcpSession(CLIENT, DEVICE, cport, 22, [
    [TC, text(`${server}\r\n`)],
    [TS, text(`${client}\r\n`)],
  ], t0);

describe('SSH protocol version 1', () => {
  it('SSH-1.5 on both sides raises ssh-protocol-1', () => {
    const r = analyze(sshSession('SSH-1.5-OpenSSH_2.1.1', 'SSH-1.5-Cisco-1.25'));
    expect(of(r.findings, 'ssh-protocol-1')).toHaveLength(1);
    expect(of(r.findings, 'ssh-protocol-1')[0].evidence).toMatchObject({ protocol: 'ssh', protocol_version: '1.5' });
  });

  it('SSH-1.99 (a server that also speaks 2) with an SSH-2 client, and SSH-2 on both sides, do not', () => {
    expect(ids(analyze(sshSession('SSH-2.0-OpenSSH_9.2', 'SSH-1.99-OpenSSH_3.9')).findings)).not.toContain('ssh-protocol-1');
    expect(ids(analyze(sshSession('SSH-2.0-OpenSSH_9.2', 'SSH-2.0-OpenSSH_9.2')).findings)).not.toContain('ssh-protocol-1');
  });
});

const rdpSession = (requested: number, selected: number | undefined, cport = 51000) =>
  tcpSession(CLIENT, DEVICE, cport, 3389, [
    [TS, connectionRequest({ user: 'svc', requested })],
    [TC, connectionConfirm(selected === undefined ? {} : { selected })],
  ]);

describe('RDP without NLA', () => {
  it('standard RDP security (high) and TLS without CredSSP (medium) raise rdp-without-nla', () => {
    const std = of(analyze(rdpSession(PROTOCOL_RDP, undefined)).findings, 'rdp-without-nla');
    expect(std).toHaveLength(1);
    expect(std[0].severity).toBe('high');
    expect(std[0].evidence).toMatchObject({ security: 'standard-rdp-security', selected_protocol: 'rdp' });
    const tls = of(analyze(rdpSession(PROTOCOL_SSL | PROTOCOL_HYBRID, PROTOCOL_SSL)).findings, 'rdp-without-nla');
    expect(tls).toHaveLength(1);
    expect(tls[0].severity).toBe('medium');
    expect(tls[0].evidence).toMatchObject({ security: 'tls', requested_protocols: ['ssl', 'hybrid'] });
  });

  it('a session negotiated to CredSSP (hybrid) does not', () => {
    expect(ids(analyze(rdpSession(PROTOCOL_SSL | PROTOCOL_HYBRID, PROTOCOL_HYBRID)).findings)).not.toContain('rdp-without-nla');
  });
});

const challenge = Buffer.alloc(16, 0x11);
const response = Buffer.alloc(16, 0x22);

/** An RFB 3.8 session whose VNC authentication succeeds or fails. */
const vncLogin = (ok: boolean, cport: number, t0: number) =>
  tcpSession(CLIENT, DEVICE, cport, 5900, [
    [TC, rfbVersion('003.008')],
    [TS, rfbVersion('003.008')],
    [TC, u8(1, 2)],
    [TS, u8(2)],
    [TC, challenge],
    [TS, response],
    [TC, ok ? u32(0) : Buffer.concat([u32(1, 20), text('Authentication failed')])],
  ], t0);

describe('repeated authentication failures', () => {
  it(`${AUTH_FAILURES.count} failed VNC logins within ${AUTH_FAILURES.windowSec} s raise it; one fewer, or successes, do not`, () => {
    const failures = (n: number, spacing: number, ok = false) => Array.from({ length: n }, (_, i) => vncLogin(ok, 52000 + i, T0 + i * spacing)).flat();
    const hit = of(analyze(failures(AUTH_FAILURES.count, 10)).findings, 'repeated-authentication-failures');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ protocol: 'vnc', signal: 'auth-result', count: AUTH_FAILURES.count, window_seconds: AUTH_FAILURES.windowSec });
    expect(ids(analyze(failures(AUTH_FAILURES.count - 1, 10)).findings)).not.toContain('repeated-authentication-failures');
    expect(ids(analyze(failures(AUTH_FAILURES.count, 10, true)).findings)).not.toContain('repeated-authentication-failures');
    // The same number spread beyond the window.
    expect(ids(analyze(failures(AUTH_FAILURES.count, AUTH_FAILURES.windowSec)).findings)).not.toContain('repeated-authentication-failures');
  });

  it(`SSH: ${SHORT_CONNECTIONS.count} short connections to port 22 within ${SHORT_CONNECTIONS.windowSec} s raise it (the observable proxy); fewer, or spread out, do not`, () => {
    const sessions = (n: number, spacing: number) => Array.from({ length: n }, (_, i) => sshSession('SSH-2.0-libssh_0.9.6', 'SSH-2.0-OpenSSH_9.2', 53000 + i, T0 + i * spacing)).flat();
    const hit = of(analyze(sessions(SHORT_CONNECTIONS.count, 2)).findings, 'repeated-authentication-failures');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ protocol: 'ssh', signal: 'short-connections', dst_port: 22 });
    expect(hit[0].subject).toMatchObject({ src_ip: CLIENT, dst_ip: DEVICE });
    expect(ids(analyze(sessions(SHORT_CONNECTIONS.count - 1, 2)).findings)).not.toContain('repeated-authentication-failures');
    expect(ids(analyze(sessions(SHORT_CONNECTIONS.count, 30)).findings)).not.toContain('repeated-authentication-failures');
  });

  it('the policy sets the thresholds and names automation clients, whose short connections do not count', () => {
    const sessions = (n: number) => Array.from({ length: n }, (_, i) => sshSession('SSH-2.0-libssh_0.9.6', 'SSH-2.0-OpenSSH_9.2', 53000 + i, T0 + i * 2)).flat();
    expect(ids(analyze(sessions(3), 'authentication: {short_connections: 3}\n').findings)).toContain('repeated-authentication-failures');
    expect(ids(analyze(sessions(SHORT_CONNECTIONS.count), `authentication: {automation_clients: [${CLIENT}/32]}\n`).findings)).not.toContain('repeated-authentication-failures');
    const vnc = Array.from({ length: 2 }, (_, i) => vncLogin(false, 52000 + i, T0 + i)).flat();
    expect(ids(analyze(vnc, 'authentication: {failures: 2, failures_window_s: 10}\n').findings)).toContain('repeated-authentication-failures');
  });

  it('FTP: failed logins the server refuses (530) count, within one connection too', () => {
    const ftp = (refused: number, ok: boolean) => {
      const steps: [Direction, Buffer][] = [[TC, text('220 FTP server ready\r\n')]];
      for (let i = 0; i < refused; i++) steps.push([TS, text('USER service\r\n')], [TC, text('331 Password required\r\n')], [TS, text(`PASS guess-${i}\r\n`)], [TC, text('530 Login incorrect\r\n')]);
      if (ok) steps.push([TS, text('USER service\r\n')], [TC, text('331 Password required\r\n')], [TS, text('PASS right-one\r\n')], [TC, text('230 Logged in\r\n')]);
      return tcpSession(CLIENT, DEVICE, 56000, 21, steps);
    };
    const r = analyze(ftp(AUTH_FAILURES.count, false));
    const hit = of(r.findings, 'repeated-authentication-failures');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ protocol: 'ftp', signal: 'auth-result' });
    expect(written(r)).not.toContain('guess-');
    expect(ids(analyze(ftp(AUTH_FAILURES.count - 1, true)).findings)).not.toContain('repeated-authentication-failures');
  });

  it('Telnet: every password after the first in a session followed a refusal', () => {
    const telnet = (attempts: number, cport: number) => {
      const steps: [Direction, Buffer][] = [
        [TC, u8(IAC, DO, 24, IAC, WILL, 1, IAC, WILL, 3)],
        [TS, u8(IAC, WILL, 24, IAC, DO, 1, IAC, DO, 3)],
        [TC, text('login: ')],
      ];
      for (let i = 0; i < attempts; i++) steps.push([TS, text('admin\r\n')], [TC, text('Password: ')], [TS, text(`guess-${i}\r\n`)], [TC, text(i + 1 < attempts ? '\r\nLogin incorrect\r\nlogin: ' : '\r\n$ ')]);
      return tcpSession(CLIENT, DEVICE, cport, 23, steps);
    };
    const r = analyze(telnet(AUTH_FAILURES.count + 1, 57000));
    expect(r.events.find((e) => e.type === 'remote_access')).toMatchObject({ protocol: 'telnet', login_attempts: AUTH_FAILURES.count + 1 });
    expect(of(r.findings, 'repeated-authentication-failures')[0].evidence).toMatchObject({ protocol: 'telnet', signal: 'login-attempts' });
    expect(written(r)).not.toContain('guess-');
    expect(ids(analyze(telnet(AUTH_FAILURES.count, 57001)).findings)).not.toContain('repeated-authentication-failures');
  });

  it('keeps bounded state: many client → server pairs, each below the threshold, raise nothing', () => {
    const engine = new RuleEngine(policy(), ALL_RULES.filter((r) => r.id === 'repeated-authentication-failures'), () => {
      throw new Error('no pair reached the threshold');
    });
    for (let i = 0; i < 30_000; i++) {
      engine.evaluate({
        ts: new Date((T0 + i) * 1000).toISOString(),
        type: 'remote_access',
        protocol: 'vnc',
        encrypted: false,
        initiator: 'client',
        detection: 'content',
        weak: true,
        auth_result: 'failed',
        flow: { id: String(i), vlan: [], src_ip: `10.77.${40 + (i % 3)}.${i % 250}`, src_port: 40000, dst_ip: `10.77.10.${i % 200}`, dst_port: 5900, proto: 'tcp', app: 'vnc' },
      });
    }
  });
});

/** HTTP Basic over cleartext, as a device's web interface sees it. */
const basicLogin = (user: string, password: string) =>
  tcpSession(CLIENT, DEVICE, 54000, 80, [
    [TS, text(`GET / HTTP/1.1\r\nHost: device\r\nAuthorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}\r\n\r\n`)],
    [TC, text('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
  ]);

const dicomLogin = (user: string, passcode: string) =>
  tcpSession(CLIENT, DEVICE, 55000, 104, [
    [TS, associateRq({ user: [userIdentity(2, user, passcode)] })],
    [TC, associateAc()],
    [TS, releaseRq()],
    [TC, releaseRp()],
  ]);

describe('default vendor credentials', () => {
  it('the shipped list holds fingerprints only, and each published default matches by user and password together', () => {
    for (const e of DEFAULT_CREDENTIAL_FINGERPRINTS) {
      expect(e.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(Object.keys(e).sort()).toEqual(['fingerprint', 'product', 'vendor']);
    }
    expect(matchDefaultCredential('ubnt', 'ubnt')).toBe('Ubiquiti UniFi and airOS devices');
    expect(matchDefaultCredential('admin', 'ubnt')).toBeUndefined();
    expect(matchDefaultCredential('ubnt', 'ubnt2')).toBeUndefined();
  });

  it('the script adds an entry as a fingerprint and keeps the file’s head', () => {
    const head = '/** list */\nexport const DEFAULT_CREDENTIAL_FINGERPRINTS: readonly DefaultCredentialEntry[] = [\n];\n';
    const out = renderList(head, [{ fingerprint: defaultCredentialFingerprint('svc', 'not-a-real-default'), vendor: "O'Vendor", product: 'Modality' }]);
    expect(out.startsWith('/** list */\n')).toBe(true);
    expect(out).toContain("vendor: 'O\\'Vendor', product: 'Modality' },");
    expect(out).not.toContain('not-a-real-default');
  });

  it('HTTP Basic with a published default raises default-vendor-credential naming the product, never the password', () => {
    const r = analyze(basicLogin('ubnt', 'ubnt'));
    const hit = of(r.findings, 'default-vendor-credential');
    expect(hit).toHaveLength(1);
    expect(hit[0].evidence).toMatchObject({ protocol: 'http', kind: 'basic-auth', default_credential: 'Ubiquiti UniFi and airOS devices' });
    expect(written(r).toLowerCase()).not.toContain('ubnt');
    expect(written(r)).not.toContain(Buffer.from('ubnt:ubnt').toString('base64'));
  });

  it('a password that is no published default does not', () => {
    const r = analyze(basicLogin('biomed', 'Kx9-unlisted'));
    expect(ids(r.findings)).toContain('cleartext-credentials');
    expect(ids(r.findings)).not.toContain('default-vendor-credential');
  });
});

describe('DICOM user identity passwords as credential.cleartext', () => {
  it('a username and passcode give one credential event (kind dicom-user-identity) and one alert of the DICOM rule, not cleartext-credentials', () => {
    const passcode = 'Kx9-dicom-passcode';
    const r = analyze(dicomLogin('modality-user', passcode));
    const creds = r.events.filter((e) => e.type === 'credential.cleartext');
    expect(creds).toHaveLength(1);
    expect(creds[0]).toMatchObject({ protocol: 'dicom', kind: 'dicom-user-identity', secret_fingerprint: expect.stringMatching(/^secret:[0-9a-f]{16}$/) });
    // The same pseudonym as the association it came with.
    const assoc = r.events.find((e) => e.type === 'dicom.association')!;
    expect(creds[0].username_pseudonym).toBe(assoc.user_identity?.username_pseudonym);
    expect(of(r.findings, 'dicom-user-identity-cleartext-password')).toHaveLength(1);
    expect(ids(r.findings)).not.toContain('cleartext-credentials');
    expect(ids(r.findings)).not.toContain('default-vendor-credential');
    expect(written(r)).not.toContain(passcode);
    expect(written(r)).not.toContain('modality-user');
  });

  it('a published default as DICOM user identity raises default-vendor-credential too', () => {
    const r = analyze(dicomLogin('ubnt', 'ubnt'));
    expect(of(r.findings, 'default-vendor-credential')[0].evidence).toMatchObject({ protocol: 'dicom', kind: 'dicom-user-identity', default_credential: 'Ubiquiti UniFi and airOS devices' });
    expect(written(r).toLowerCase()).not.toContain('ubnt');
  });

  it('a username-only identity makes no credential event', () => {
    const r = analyze(
      tcpSession(CLIENT, DEVICE, 55001, 104, [
        [TS, associateRq({ user: [userIdentity(1, 'modality-user')] })],
        [TC, associateAc()],
      ]),
    );
    expect(r.events.filter((e) => e.type === 'credential.cleartext')).toEqual([]);
    expect(ids(r.findings)).not.toContain('dicom-user-identity-cleartext-password');
  });
});
