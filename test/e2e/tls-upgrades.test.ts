import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent, MuvaktEvent } from '../../agent/events/types.js';
import { analyzeFiles } from '../support/analyze.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { findingsFor } from '../support/rules.js';

const ROOT = join(import.meta.dirname, '../..');
const SERVER = join(ROOT, 'fixtures/corpus/scripts/starttls_server.py');
type Ev = MuvaktEvent & Record<string, any>;

const PORTS = { smtp: 2525, imap: 1143, pop3: 1110, ftp: 2121, ldap: 1389 } as const;
type Proto = keyof typeof PORTS;
/** What each client asks for: TLS 1.2 (certificate visible), 1.3, 1.2 with a CBC suite, and 1.0 (weak). */
const CLIENT_ARGS: Record<Proto, string[]> = {
  smtp: ['-tls1_2'],
  imap: [],
  pop3: ['-tls1_2', '-cipher', 'AES256-SHA'],
  ftp: ['-tls1', '-cipher', 'AES128-SHA@SECLEVEL=0'],
  ldap: [], // ldapsearch -ZZ: OpenLDAP's client (GnuTLS or OpenSSL, as Debian builds it)
};
const MID_PORT = 8443;
const BIG_PORT = 9443;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tsharkFields(file: string, decodeAs: string[], filter: string, fields: string[]): string[][] {
  const args = ['-r', file, '-n', '-o', 'tcp.desegment_tcp_streams:TRUE'];
  for (const d of decodeAs) args.push('-d', d);
  args.push('-Y', filter, '-T', 'fields', '-E', 'separator=|');
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'));
}

/**
 * Real upgrades captured on a veth pair: openssl s_client -starttls smtp|imap|pop3|ftp against a
 * scripted server that speaks the cleartext part and then wraps the socket with Python's ssl
 * (system OpenSSL); an openssl s_server session trimmed with editcap to start at its first
 * application data (a mid-stream pickup); and an s_server whose certificate is over 16 KiB with
 * a subject over the name limit. Versions and suites agree with tshark on the same capture.
 */
describe('TLS after STARTTLS, mid-stream and with a certificate over 16 KiB, from real peers', () => {
  const pair = new NetnsPair('tlsup');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-tlsup-'));
  const pcap = join(tmp, 'upgrades.pcap');
  const midFull = join(tmp, 'mid-full.pcap');
  const midTrimmed = join(tmp, 'mid.pcap');
  let events: Ev[] = [];
  let flows: FlowEvent[] = [];
  let midEvents: Ev[] = [];
  let midFlows: FlowEvent[] = [];
  let midFirstFrame = 0;

  beforeAll(async () => {
    NetnsPair.requireRoot();
    for (const bin of ['openssl', 'tshark', 'editcap', 'ldapsearch']) {
      if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`${bin} is missing: .ci/run installs openssl, tshark and ldap-utils`);
    }
    const key = join(tmp, 'k.pem');
    const cert = join(tmp, 'c.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/O=Test Hospital/CN=mail.test.example'], { stdio: 'pipe' });
    // Over 16 KiB: 700 DNS names; a subject of 40 OUs of 60 characters (over the 2048 kept).
    const bigKey = join(tmp, 'bk.pem');
    const bigCert = join(tmp, 'bc.pem');
    const sans = Array.from({ length: 700 }, (_, i) => `DNS:host-${String(i).padStart(4, '0')}.imaging.test.example`).join(',');
    const ous = Array.from({ length: 40 }, (_, i) => `/OU=${String(i).padStart(2, '0')}${'x'.repeat(58)}`).join('');
    writeFileSync(join(tmp, 'san.cnf'), `[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=${sans}\n`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', bigKey, '-out', bigCert, '-days', '30', '-subj', `/O=Test Hospital${ous}/CN=big.test.example`, '-config', join(tmp, 'san.cnf'), '-extensions', 'ext'], { stdio: 'pipe' });

    pair.create();
    const args = ['--cert', cert, '--key', key];
    for (const [p, port] of Object.entries(PORTS)) args.push(`--${p}`, String(port));
    pair.spawn(pair.b, '/usr/bin/python3', [SERVER, ...args]);
    pair.spawn(pair.b, 'openssl', ['s_server', '-quiet', '-accept', String(MID_PORT), '-cert', cert, '-key', key, '-tls1', '-cipher', 'AES128-SHA@SECLEVEL=0', '-www']);
    pair.spawn(pair.b, 'openssl', ['s_server', '-quiet', '-accept', String(BIG_PORT), '-cert', bigCert, '-key', bigKey, '-tls1_2', '-www']);
    for (const port of [...Object.values(PORTS), MID_PORT, BIG_PORT]) {
      for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${port}`).trim(); i++) await sleep(50);
    }
    const cap = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-w', pcap, 'tcp', 'and', 'not', 'port', String(MID_PORT)]);
    const capMid = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-w', midFull, 'tcp', 'port', String(MID_PORT)]);
    await Promise.all([waitFor(cap.stderr!, /listening on/), waitFor(capMid.stderr!, /listening on/)]);

    for (const [p, port] of Object.entries(PORTS) as [Proto, number][]) {
      if (p === 'ldap') {
        // The scripted server stops speaking LDAP after the handshake: the search itself fails.
        spawnSync('ip', ['netns', 'exec', pair.a, 'ldapsearch', '-ZZ', '-x', '-H', `ldap://${pair.ipB}:${port}`, '-b', '', '-s', 'base'], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, LDAPTLS_REQCERT: 'never' } });
        continue;
      }
      const r = spawnSync('ip', ['netns', 'exec', pair.a, 'openssl', 's_client', '-starttls', p, '-connect', `${pair.ipB}:${port}`, ...CLIENT_ARGS[p]], { input: '', encoding: 'utf8', timeout: 15_000 });
      expect(r.stdout, `${p}: ${r.stderr}`).toMatch(/Cipher is /);
    }
    const get = 'GET / HTTP/1.0\r\n\r\n';
    const mid = spawnSync('ip', ['netns', 'exec', pair.a, 'openssl', 's_client', '-connect', `${pair.ipB}:${MID_PORT}`, '-tls1', '-cipher', 'AES128-SHA@SECLEVEL=0', '-ign_eof'], { input: get, encoding: 'utf8', timeout: 15_000 });
    expect(mid.stdout).toMatch(/HTTP\/1\.0 200/);
    const big = spawnSync('ip', ['netns', 'exec', pair.a, 'openssl', 's_client', '-connect', `${pair.ipB}:${BIG_PORT}`, '-ign_eof'], { input: get, encoding: 'utf8', timeout: 15_000, maxBuffer: 16 * 1024 * 1024 });
    expect(big.stdout).toMatch(/HTTP\/1\.0 200/);
    await sleep(1500);
    cap.kill('SIGINT');
    capMid.kill('SIGINT');
    await Promise.all([new Promise((r) => cap.once('exit', r)), new Promise((r) => capMid.once('exit', r))]);

    // The mid-stream pickup: drop everything before the session's first application data.
    const appFrames = tsharkFields(midFull, [`tcp.port==${MID_PORT},tls`], 'tls.record.content_type == 23', ['frame.number']);
    midFirstFrame = Number(appFrames[0][0]);
    execFileSync('editcap', ['-r', midFull, midTrimmed, `${midFirstFrame}-1000000`]);

    const r = await analyzeFiles([pcap]);
    expect(r.error).toBeUndefined();
    events = r.events as Ev[];
    flows = r.flows;
    const m = await analyzeFiles([midTrimmed]);
    expect(m.error).toBeUndefined();
    midEvents = m.events as Ev[];
    midFlows = m.flows;
  }, 90_000);

  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  const handshakeOn = (port: number) => events.filter((e) => e.type === 'tls.handshake' && e.flow?.dst_port === port);

  it('each upgraded flow keeps its protocol, is encrypted, and has one tls.handshake labelled the same', () => {
    for (const [p, port] of Object.entries(PORTS) as [Proto, number][]) {
      const flow = flows.filter((f) => f.flow.dst_port === port);
      expect(flow, p).toHaveLength(1);
      expect(flow[0]).toMatchObject({ app: p, encrypted: true });
      const hs = handshakeOn(port);
      expect(hs, p).toHaveLength(1);
      expect(hs[0].flow!.app).toBe(p);
      expect(hs[0]).toMatchObject({ negotiated: true, encrypted: true });
      // The cleartext part is still reported: the upgrade was accepted.
      if (p === 'ldap') continue; // LDAP has no cleartext event of its own
      const clear = events.find((e) => e.type === p && e.flow?.dst_port === port);
      expect(clear, p).toMatchObject(p === 'ftp' ? { auth_tls: true } : { starttls: true });
    }
  });

  it('version and suite agree with tshark told the cleartext protocol', () => {
    for (const [p, port] of Object.entries(PORTS) as [Proto, number][]) {
      const rows = tsharkFields(pcap, [`tcp.port==${port},${p === 'pop3' ? 'pop' : p}`], `tcp.port == ${port} && tls.handshake.type == 2`, ['tls.handshake.version', 'tls.handshake.ciphersuite', 'tls.handshake.extensions.supported_version']);
      expect(rows, p).toHaveLength(1);
      const [legacy, suite, selected] = rows[0];
      const hs = handshakeOn(port)[0];
      expect(hs.cipher_suite_id, p).toBe('0x' + Number(suite).toString(16).padStart(4, '0'));
      const v = Number(selected || legacy);
      expect(hs.version, p).toBe({ 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3' }[v]);
    }
    expect(handshakeOn(PORTS.smtp)[0].certificate).toMatchObject({ subject: 'O=Test Hospital, CN=mail.test.example', self_signed: true });
    expect(handshakeOn(PORTS.imap)[0].version).toBe('TLS 1.3');
    expect(handshakeOn(PORTS.ftp)[0]).toMatchObject({ version: 'TLS 1.0', cipher_suite: 'TLS_RSA_WITH_AES_128_CBC_SHA', weak: true });
  });

  it('the encryption rule fires on the upgraded TLS 1.0 FTP session', async () => {
    const findings = await findingsFor([pcap]);
    // Only the FTP session is weak (TLS 1.0); SMTP, POP3 (1.2), IMAP, LDAP (1.3) and the big certificate's (1.2) are not.
    const weak = findings.filter((f) => f.rule.id === 'tls-weak-version');
    expect(weak).toHaveLength(1);
    expect(weak[0].evidence).toMatchObject({ version: 'TLS 1.0', cipher_suite: 'TLS_RSA_WITH_AES_128_CBC_SHA', reasons: ['deprecated-version'] });
  });

  it('a certificate over 16 KiB, split across records and segments, is read whole; its long subject is cut with a marker', () => {
    const hs = handshakeOn(BIG_PORT);
    expect(hs).toHaveLength(1);
    const rows = tsharkFields(pcap, [`tcp.port==${BIG_PORT},tls`], `tcp.port == ${BIG_PORT} && tls.handshake.type == 11`, ['tls.handshake.certificate_length', 'tls.record.length']);
    expect(rows).toHaveLength(1);
    // Over 2^14 bytes: no single record can carry it (RFC 5246 §6.2.1).
    expect(Number(rows[0][0].split(',')[0])).toBeGreaterThan(16384);
    const cert = hs[0].certificate;
    expect(hs[0].certificate_truncated).toBeUndefined();
    expect(cert.chain_length).toBe(1);
    expect(cert.subject_truncated).toBe(true);
    expect(cert.subject.startsWith('O=Test Hospital, OU=00xxx')).toBe(true);
    expect(cert.subject.endsWith(', …')).toBe(true);
    expect(cert.subject.length).toBeLessThanOrEqual(2048);
    expect(cert.subject).toMatch(/, OU=\d\dx{58}, …$/); // cut after a whole attribute
    expect(cert.issuer_truncated).toBe(true);
  });

  it('a TLS session picked up at its first application data is tls, encrypted, with a mid-stream handshake event', () => {
    expect(midFirstFrame).toBeGreaterThan(5);
    expect(midFlows).toHaveLength(1);
    expect(midFlows[0]).toMatchObject({ app: 'tls', encrypted: true, midstream: true });
    const hs = midEvents.filter((e) => e.type === 'tls.handshake');
    expect(hs).toHaveLength(1);
    expect(hs[0]).toMatchObject({ midstream: true, record_version: 'TLS 1.0', version: 'TLS 1.0', negotiated: false, weak: true, weak_reasons: ['deprecated-version'] });
    const tsharkVersions = tsharkFields(midTrimmed, [`tcp.port==${MID_PORT},tls`], 'tls.record.content_type == 23', ['tls.record.version']);
    expect(new Set(tsharkVersions.map((r) => r[0].split(',')[0]))).toEqual(new Set(['0x0301']));
  });
});
