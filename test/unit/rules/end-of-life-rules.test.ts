/**
 * End-of-support software: the table's matcher over real-looking strings (and ones that must not
 * match), and the rule on crafted HTTP and SMB sessions through the pipeline: raised after the
 * maker's date, quiet before it, quiet for supported versions. No corpus capture carries an old
 * Server header or an NTLM VERSION field, so the sessions are built here.
 */
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { evidenceDocument, renderMarkdown, type EvidenceBundle } from '../../../agent/inventory/evidence.js';
import { Inventory, deviceDetail } from '../../../agent/inventory/index.js';
import { Direction } from '../../../protocols/stream.js';
import { END_OF_SUPPORT, endedBy, matchSoftware, matchSshBanner, matchWindowsVersion } from '../../../rules/end-of-support.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';
import { runFrames, type TestFrame } from '../../support/frames.js';
import { ntlmAuthenticate, ntlmChallenge, smb2NegotiateRequest, smb2NegotiateResponse, smb2SessionSetup, smb2SessionSetupResponse } from '../cleartext/smb-build.js';
import { tcpSession, text } from '../remote/build.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const CLIENT = '10.77.40.20';
const DEVICE = '10.77.10.40';
const OFFICE_SERVER = '10.77.40.80';
/** Seconds since the epoch of an ISO time. */
const at = (iso: string) => Date.parse(iso) / 1000;
const NOW = at('2026-12-01T10:00:00Z');

function policy(): CompiledPolicy {
  const r = parsePolicy(
    `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: it, kind: clinical, cidrs: [10.77.40.0/24]}
`,
    'site.yaml',
  );
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

function analyze(frames: TestFrame[]): { events: MuvaktEvent[]; findings: EngineFinding[] } {
  const { events } = runFrames(frames);
  const findings: EngineFinding[] = [];
  const engine = new RuleEngine(policy(), ALL_RULES, (f) => findings.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  return { events, findings };
}
const eol = (f: EngineFinding[]) => f.filter((x) => x.rule.id === 'end-of-life-software');

function http(server: string, serverHeader: string, t0 = NOW, userAgent = 'curl/8.5.0'): TestFrame[] {
  return tcpSession(CLIENT, server, 50000, 80, [
    [TS, text(`GET /status HTTP/1.1\r\nHost: device\r\nUser-Agent: ${userAgent}\r\n\r\n`)],
    [TC, text(`HTTP/1.1 200 OK\r\nServer: ${serverHeader}\r\nContent-Length: 2\r\n\r\nok`)],
  ], t0);
}

function smb(serverVersion: [number, number, number] | undefined, clientVersion: [number, number, number] | undefined, t0 = NOW): TestFrame[] {
  return tcpSession(CLIENT, DEVICE, 49152, 445, [
    [TS, smb2NegotiateRequest([0x0202, 0x0210])],
    [TC, smb2NegotiateResponse(0x0210, true)],
    [TC, smb2SessionSetupResponse(ntlmChallenge(serverVersion))],
    [TS, smb2SessionSetup(ntlmAuthenticate('biomed', 'HOSPITAL', 300, clientVersion))],
  ], t0);
}

describe('the end-of-support table', () => {
  it('every row has a date, a source and the day it was checked', () => {
    expect(END_OF_SUPPORT.length).toBeGreaterThan(20);
    for (const r of END_OF_SUPPORT) {
      expect(r.end_of_support, r.product).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.checked, r.product).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.source.name, r.product).not.toBe('');
      expect(r.source.url, r.product).toMatch(/^https:\/\//);
    }
  });
});

describe('matchSoftware', () => {
  const names = (s: string) => matchSoftware(s).map((m) => `${m.row.product} ${m.version_seen} ${m.row.end_of_support}`);

  it('finds every ended product in an HTTP Server header, with the version it carried', () => {
    expect(names('Apache/2.2.15 (CentOS) OpenSSL/1.0.2k-fips PHP/5.4.16')).toEqual(['Apache httpd 2.2.15 2017-12-31', 'OpenSSL 1.0.2k 2019-12-31', 'PHP 5.4.16 2015-09-03']);
    expect(names('Apache/2.4.6 (Red Hat Enterprise Linux) OpenSSL/1.0.2k-fips mod_jk/1.2.46')).toEqual(['OpenSSL 1.0.2k 2019-12-31']);
    expect(names('Apache/2.4.41 (Win64) OpenSSL/1.1.1c PHP/7.3.10')).toEqual(['OpenSSL 1.1.1c 2023-09-11', 'PHP 7.3.10 2021-12-06']);
    expect(names('Microsoft-IIS/7.5')).toEqual(['Windows 7 / Windows Server 2008 R2 (IIS 7.5) 7.5 2020-01-14']);
    expect(names('Microsoft-IIS/6.0')).toEqual(['Windows Server 2003 (IIS 6.0) 6.0 2015-07-14']);
    expect(names('Microsoft-IIS/8.5')).toEqual(['Windows 8.1 / Windows Server 2012 R2 (IIS 8.5) 8.5 2023-10-10']);
    expect(names('Apache/2.0.52 (Red Hat) mod_ssl/2.0.52 OpenSSL/0.9.7a')).toEqual([]);
    expect(names('Apache/2.2.3 (CentOS)')).toEqual(['Apache httpd 2.2.3 2017-12-31']);
  });

  it('matches nothing for supported versions, other products or look-alikes', () => {
    for (const s of [
      'Apache/2.4.58 (Ubuntu)',
      'Apache/2.4.62 (Debian) OpenSSL/3.0.13',
      'nginx/1.22.1',
      'nginx/1.18.0 (Ubuntu)',
      'Microsoft-IIS/10.0',
      'Microsoft-HTTPAPI/2.0',
      'DeviceHTTP/1.2 Python/3.11.2',
      'Apache-Coyote/1.1',
      'Apache/2.22',
      'OpenSSL/1.0.20',
      'OpenSSL/1.1',
      'PHP/8.2.12',
      'lighttpd/1.4.35',
      'MyApache/2.2.15',
      '',
    ]) expect(matchSoftware(s), s).toEqual([]);
  });
});

describe('matchWindowsVersion', () => {
  it('maps NTLM major.minor.build to the Windows that reports it', () => {
    expect(matchWindowsVersion('5.1.2600')?.row.product).toBe('Windows XP');
    expect(matchWindowsVersion('5.2.3790')?.row.end_of_support).toBe('2015-07-14');
    expect(matchWindowsVersion('6.1.7601')?.row).toMatchObject({ product: 'Windows 7 / Windows Server 2008 R2', end_of_support: '2020-01-14' });
    expect(matchWindowsVersion('6.3.9600')?.row.end_of_support).toBe('2023-10-10');
    expect(matchWindowsVersion('10.0.19045')?.row).toMatchObject({ product: 'Windows 10', end_of_support: '2025-10-14' });
    expect(matchWindowsVersion('6.1.7601')?.version_seen).toBe('6.1.7601');
  });

  it('leaves out supported builds and builds shared with long-term editions', () => {
    // Server 2016 / LTSB 2016, Server 2019 / LTSC 2019, LTSC 2021, Server 2022, Windows 11.
    for (const v of ['10.0.14393', '10.0.17763', '10.0.19044', '10.0.20348', '10.0.22631', '10.0.26100', '10.0', 'x.y', '6.1.7601.1']) expect(matchWindowsVersion(v), v).toBeNull();
  });

  it('has ended only from the day after the last day of support', () => {
    const w7 = matchWindowsVersion('6.1.7601')!;
    expect(endedBy(w7, '2019-06-01T12:00:00Z')).toBe(false);
    expect(endedBy(w7, '2020-01-14T23:59:59Z')).toBe(false);
    expect(endedBy(w7, '2020-01-15T00:00:00Z')).toBe(true);
    expect(endedBy(w7, 'not a time')).toBe(false);
  });
});

describe('end-of-life-software', () => {
  it('an old Server header raises it on the server, naming product, version, date and source only', () => {
    const r = analyze(http(DEVICE, 'Apache/2.2.15 (CentOS) OpenSSL/1.0.2k-fips'));
    const hit = eol(r.findings);
    expect(hit).toHaveLength(1);
    expect(hit[0].severity).toBe('high');
    expect(hit[0].subject).toMatchObject({ src_ip: DEVICE, dst_ip: '', zone_src: 'mu' });
    expect(hit[0].evidence.end_of_support).toEqual([
      { product: 'Apache httpd', version: '2.2.15', end_of_support: '2017-12-31', source: 'Apache HTTP Server Project: 2.2 end-of-life announcement', source_url: 'https://httpd.apache.org/', seen_in: 'http-server' },
      { product: 'OpenSSL', version: '1.0.2k', end_of_support: '2019-12-31', source: 'OpenSSL release strategy', source_url: 'https://www.openssl.org/policies/releasestrat.html', seen_in: 'http-server' },
    ]);
    expect(JSON.stringify(hit[0].evidence)).not.toContain('CentOS');
  });

  it('outside a medical zone it keeps the default severity', () => {
    const hit = eol(analyze(http(OFFICE_SERVER, 'Microsoft-IIS/7.5')).findings);
    expect(hit).toHaveLength(1);
    expect(hit[0].severity).toBe('medium');
  });

  it('a capture from before the end of support does not raise it', () => {
    expect(eol(analyze(http(DEVICE, 'Microsoft-IIS/7.5', at('2019-06-03T08:00:00Z'))).findings)).toEqual([]);
    expect(eol(analyze(http(DEVICE, 'Microsoft-IIS/7.5', at('2020-01-15T08:00:00Z'))).findings)).toHaveLength(1);
  });

  it('supported servers do not raise it', () => {
    expect(eol(analyze(http(DEVICE, 'Apache/2.4.58 (Ubuntu) OpenSSL/3.0.13')).findings)).toEqual([]);
    expect(eol(analyze(http(DEVICE, 'Microsoft-IIS/10.0')).findings)).toEqual([]);
  });

  it('a browser on Windows 7 raises it on the client', () => {
    const hit = eol(analyze(http(OFFICE_SERVER, 'nginx/1.22.1', NOW, 'Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0')).findings);
    expect(hit).toHaveLength(1);
    expect(hit[0].subject.src_ip).toBe(CLIENT);
    expect(hit[0].evidence.end_of_support).toMatchObject([{ product: 'Windows 7 / Windows Server 2008 R2', version: '6.1', seen_in: 'http-user-agent' }]);
    expect(eol(analyze(http(OFFICE_SERVER, 'nginx/1.22.1', NOW, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36')).findings)).toEqual([]);
  });

  it('SMB: the NTLM VERSION of server and client is read, and an ended Windows raises it on its device', () => {
    const r = analyze(smb([6, 1, 7601], [5, 1, 2600]));
    const ev = r.events.find((e) => e.type === 'smb')!;
    expect(ev).toMatchObject({ server_os_version: '6.1.7601', client_os_version: '5.1.2600' });
    const hit = eol(r.findings);
    expect(hit.map((f) => [f.subject.src_ip, (f.evidence.end_of_support as { product: string }[])[0].product])).toEqual([
      [DEVICE, 'Windows 7 / Windows Server 2008 R2'],
      [CLIENT, 'Windows XP'],
    ]);
    expect(hit[0].evidence.end_of_support).toMatchObject([{ version: '6.1.7601', end_of_support: '2020-01-14', seen_in: 'smb-ntlm' }]);
  });

  it('SMB: supported Windows, or no VERSION field, does not raise it', () => {
    const r = analyze(smb([10, 0, 20348], [10, 0, 19044]));
    expect(r.events.find((e) => e.type === 'smb')).toMatchObject({ server_os_version: '10.0.20348', client_os_version: '10.0.19044' });
    expect(eol(r.findings)).toEqual([]);
    const none = analyze(smb(undefined, undefined));
    const ev = none.events.find((e) => e.type === 'smb')!;
    expect(ev.server_os_version).toBeUndefined();
    expect(ev.client_os_version).toBeUndefined();
    expect(eol(none.findings)).toEqual([]);
  });

  it("Samba's VERSION (6.1 with build 0, whatever it runs on) is no Windows version and does not raise it", () => {
    const r = analyze(smb([6, 1, 0], [6, 1, 0]));
    const ev = r.events.find((e) => e.type === 'smb')!;
    expect(ev).toMatchObject({ dialect: '2.1', username_pseudonym: expect.any(String) });
    expect(ev.server_os_version).toBeUndefined();
    expect(ev.client_os_version).toBeUndefined();
    expect(eol(r.findings)).toEqual([]);
  });

  it('a Windows 7 SMB server captured in 2019 does not raise it', () => {
    expect(eol(analyze(smb([6, 1, 7601], undefined, at('2019-03-01T09:00:00Z'))).findings)).toEqual([]);
  });
});

/** An SSH session whose two sides send these identification strings. */
function ssh(server: string, serverBanner: string, clientBanner = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10', t0 = NOW): TestFrame[] {
  return tcpSession(CLIENT, server, 50022, 22, [
    [TC, text(`${serverBanner}\r\n`)],
    [TS, text(`${clientBanner}\r\n`)],
  ], t0);
}

describe('SSH banners: the Debian release a package revision names', () => {
  it('reads the release of a stable update, Debian 6 by its squeeze suffix', () => {
    expect(matchSshBanner('SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7').map((m) => [m.row.product, m.version_seen, m.row.end_of_support])).toEqual([['Debian', '9', '2022-06-30']]);
    expect(matchSshBanner('SSH-2.0-OpenSSH_5.5p1 Debian-6+squeeze5').map((m) => m.version_seen)).toEqual(['6']);
    expect(matchSshBanner('SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3').map((m) => m.row.end_of_support)).toEqual(['2026-08-31']);
  });

  it('matches nothing without a Debian stable update, or for other systems', () => {
    for (const b of ['SSH-2.0-OpenSSH_8.4p1 Debian-5', 'SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5', 'SSH-2.0-OpenSSH_7.4', 'SSH-2.0-dropbear_2019.78', 'SSH-2.0-OpenSSH_for_Windows_8.1', 'SSH-2.0-OpenSSH_7.4p1 Debian-10+deb99u7']) {
      expect(matchSshBanner(b), b).toEqual([]);
    }
  });

  it('a server on Debian 9 raises end-of-life-software on the server; its Debian 12 client does not', () => {
    const found = eol(analyze(ssh(DEVICE, 'SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7')).findings);
    expect(found).toHaveLength(1);
    expect(found[0].subject).toMatchObject({ src_ip: DEVICE, dst_ip: '' });
    expect(found[0].evidence).toMatchObject({ device_ip: DEVICE, end_of_support: [{ product: 'Debian', version: '9', end_of_support: '2022-06-30', seen_in: 'ssh' }] });
    // Neither banner is copied into the evidence.
    expect(JSON.stringify(found[0].evidence)).not.toContain('OpenSSH');
  });

  it('Debian 11 before its end of long-term support, Debian 12, and an Ubuntu server do not raise it', () => {
    expect(eol(analyze(ssh(DEVICE, 'SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3', undefined, at('2026-08-31T20:00:00Z'))).findings)).toEqual([]);
    expect(eol(analyze(ssh(DEVICE, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10')).findings)).toEqual([]);
    expect(eol(analyze(ssh(DEVICE, 'SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5')).findings)).toEqual([]);
  });
});

describe('the inventory shows end-of-support software', () => {
  const inventoryOf = (...captures: TestFrame[][]) => {
    const inv = new Inventory({ maxDevices: 1000 });
    for (const frames of captures) for (const e of runFrames(frames).events) inv.observe(e);
    return inv;
  };

  it('the device detail lists it, the exposure rank counts it, the evidence bundle prints it', () => {
    const inv = inventoryOf(http(DEVICE, 'Apache/2.2.15 (CentOS) OpenSSL/1.0.2k-fips'), smb([6, 1, 7601], [10, 0, 19044], NOW + 60));
    const d = deviceDetail(inv, DEVICE)!;
    expect(d.software).toContainEqual({ source: 'smb-ntlm', value: '6.1.7601' });
    expect(d.end_of_support).toEqual([
      { product: 'Apache httpd', version: '2.2.15', end_of_support: '2017-12-31', source: 'Apache HTTP Server Project: 2.2 end-of-life announcement', seen_in: 'http-server' },
      { product: 'OpenSSL', version: '1.0.2k', end_of_support: '2019-12-31', source: 'OpenSSL release strategy', seen_in: 'http-server' },
      { product: 'Windows 7 / Windows Server 2008 R2', version: '6.1.7601', end_of_support: '2020-01-14', source: 'Microsoft Lifecycle: Windows 7, Windows Server 2008 R2', seen_in: 'smb-ntlm' },
    ]);
    const reason = d.exposure.reasons.find((r) => r.fact.startsWith('software past its end of support'));
    expect(reason).toMatchObject({ points: 8, guide_ref: 'LEV 8, MU 4.6' });
    expect(reason!.fact).not.toContain('CentOS');
    const bundle: EvidenceBundle = { kind: 'muvakt.evidence', version: 1, generated_at: '2026-12-01T12:00:00.000Z', provenance: { muvakt_version: '0.1.0', sensors: [], runs: [], observation_window: { from: '2026-11-30T08:00:00.000Z', to: '2026-12-01T08:00:00.000Z' } }, device: d, alerts: [], risk_acceptances: [], summary: { alerts: 0, open_alerts: 0, highest_open_severity: null, guide_refs: [] } };
    expect(renderMarkdown(evidenceDocument(bundle))).toContain('Windows 7 / Windows Server 2008 R2 6.1.7601: 2020-01-14 (Microsoft Lifecycle: Windows 7, Windows Server 2008 R2)');
    // The client runs LTSC 2021: supported, so not listed.
    expect(deviceDetail(inv, CLIENT)!.end_of_support).toEqual([]);
  });

  it('a device last seen before the date has nothing listed', () => {
    const d = deviceDetail(inventoryOf(http(DEVICE, 'Microsoft-IIS/7.5', at('2019-06-03T08:00:00Z'))), DEVICE)!;
    expect(d.software).toContainEqual({ source: 'http-server', value: 'Microsoft-IIS/7.5' });
    expect(d.end_of_support).toEqual([]);
    expect(d.exposure.reasons.some((r) => r.fact.includes('end of support'))).toBe(false);
  });
});
