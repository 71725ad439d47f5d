/**
 * The remote-access analyzers in the pipeline: the corpus captures, compared with MANIFEST's
 * expected findings and tshark's ground truth; RDP and TeamViewer from hand-built sessions on
 * ports that are not theirs; the planted credentials in no event of any capture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { Direction } from '../../../protocols/stream.js';
import { analyzeFiles } from '../../support/analyze.js';
import { runFrames } from '../../support/frames.js';
import { connectionConfirm, connectionRequest, PROTOCOL_HYBRID, PROTOCOL_SSL, tcpSession } from './build.js';
import { CORPUS, leaks, manifest, pseudonymize, remoteRegistry } from './support.js';

const byType = (events: MuvaktEvent[], type: string) => events.filter((e) => e.type === type);

interface Truth {
  flows: { client: [string, number]; server: [string, number]; protocols: string[]; ssh?: Record<string, string[]> }[];
}
const truth = (name: string) => JSON.parse(readFileSync(join(CORPUS, name.replace(/\.pcapn?g?$/, '.json')), 'utf8')) as Truth;

const CASES = [
  { file: '10_telnet_login.pcap', protocol: 'telnet', encrypted: false, credentials: ['telnet/password'] },
  { file: '13_ssh_session.pcap', protocol: 'ssh', encrypted: true, credentials: [] },
  { file: '14_vnc_from_external.pcap', protocol: 'vnc', encrypted: false, credentials: ['vnc/vnc-auth'] },
];

describe('remote access in the corpus', () => {
  it.each(CASES)('$file: one remote_access ($protocol, encrypted $encrypted), as MANIFEST expects', async ({ file, protocol, encrypted, credentials }) => {
    const { events, flows, error } = await analyzeFiles([join(CORPUS, file)], { registry: remoteRegistry() });
    expect(error).toBeUndefined();
    const m = manifest.captures.find((c) => c.file === file)!;
    expect(m.expected_findings.some((f) => f.startsWith(`remote-access-${protocol}`))).toBe(true);

    const ra = byType(events, 'remote_access');
    expect(ra).toHaveLength(1);
    expect(ra[0]).toMatchObject({ protocol, encrypted, initiator: 'client', flow: { app: protocol } });
    expect(ra[0].initiator_inferred).toBeUndefined();
    // The initiator is the flow's src: the client tshark saw.
    const t = truth(file).flows[0];
    expect(ra[0].flow).toMatchObject({ src_ip: t.client[0], src_port: t.client[1], dst_ip: t.server[0], dst_port: t.server[1] });
    expect(t.protocols).toContain(protocol);
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ app: protocol, encrypted });

    const creds = byType(events, 'credential.cleartext');
    expect(creds.map((c) => `${c.protocol}/${c.kind}`)).toEqual(credentials);
    if (m.must_not_raise.includes('cleartext-credentials')) expect(creds).toEqual([]);
    if (m.expected_findings.some((f) => f.startsWith('cleartext-credentials'))) expect(creds.length).toBeGreaterThan(0);
    expect(leaks(events)).toEqual([]);
  });

  it('13: the banners equal tshark’s', async () => {
    const { events } = await analyzeFiles([join(CORPUS, '13_ssh_session.pcap')], { registry: remoteRegistry() });
    const ra = byType(events, 'remote_access')[0];
    expect(new Set([ra.client_banner, ra.server_banner])).toEqual(new Set(truth('13_ssh_session.pcap').flows[0].ssh!['ssh.protocol']));
  });

  it('10: the credential names biomed only as a pseudonym', async () => {
    const { events } = await analyzeFiles([join(CORPUS, '10_telnet_login.pcap')], { registry: remoteRegistry() });
    expect(byType(events, 'credential.cleartext')[0]).toMatchObject({
      flow: { app: 'telnet', dst_port: 23 },
      username_pseudonym: pseudonymize('username', 'biomed'),
      secret_fingerprint: pseudonymize('secret', 'Biomed#2024'),
    });
  });

  it('no other corpus capture yields remote access, and no capture leaks a planted secret', async () => {
    const files = readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f));
    expect(files.length).toBeGreaterThan(25);
    for (const f of files) {
      const { events } = await analyzeFiles([join(CORPUS, f)], { registry: remoteRegistry() });
      const want = CASES.find((c) => c.file === f);
      expect(byType(events, 'remote_access').map((e) => e.protocol), f).toEqual(want ? [want.protocol] : []);
      expect(leaks(events), f).toEqual([]);
    }
  });
});

describe('remote access recognised by content on other ports', () => {
  it('RDP on 13389: one event, NLA selected, username pseudonymised', () => {
    const frames = tcpSession('10.77.90.10', '10.77.10.60', 50123, 13389, [
      [Direction.ToServer, connectionRequest({ user: 'vendor01', requested: PROTOCOL_SSL | PROTOCOL_HYBRID })],
      [Direction.ToClient, connectionConfirm({ selected: PROTOCOL_HYBRID })],
      [Direction.ToServer, Buffer.from('16030100c4010000c00303', 'hex')],
    ]);
    const { events, flows } = runFrames(frames, { registry: remoteRegistry() });
    const ra = byType(events, 'remote_access');
    expect(ra).toHaveLength(1);
    expect(ra[0]).toMatchObject({
      protocol: 'rdp',
      encrypted: true,
      security: 'nla',
      requested_protocols: ['ssl', 'hybrid'],
      selected_protocol: 'hybrid',
      username_pseudonym: pseudonymize('username', 'vendor01'),
      flow: { app: 'rdp', src_ip: '10.77.90.10', dst_port: 13389 },
    });
    expect(flows[0]).toMatchObject({ app: 'rdp', encrypted: true });
    expect(JSON.stringify(events)).not.toContain('vendor01');
  });

  it('RDP with standard security: the flow is not encrypted', () => {
    const frames = tcpSession('10.77.90.10', '10.77.10.60', 50124, 3389, [
      [Direction.ToServer, connectionRequest({ user: 'x', requested: 0 })],
      [Direction.ToClient, connectionConfirm({ selected: 0 })],
    ]);
    const { events, flows } = runFrames(frames, { registry: remoteRegistry() });
    expect(byType(events, 'remote_access')).toEqual([expect.objectContaining({ protocol: 'rdp', encrypted: false, weak: true })]);
    expect(flows[0]).toMatchObject({ app: 'rdp', encrypted: false });
  });

  it('TeamViewer on 443', () => {
    const hdr = (cmd: number) => Buffer.concat([Buffer.from([0x17, 0x24, cmd, 0x20, 0x00]), Buffer.alloc(32, 1)]);
    const frames = tcpSession('10.77.10.23', '203.0.113.80', 50200, 443, [
      [Direction.ToServer, hdr(10)],
      [Direction.ToClient, hdr(36)],
    ]);
    const { events, flows } = runFrames(frames, { registry: remoteRegistry() });
    expect(byType(events, 'remote_access')).toEqual([expect.objectContaining({ protocol: 'teamviewer', encrypted: true, client_command: 'identify' })]);
    expect(flows[0].app).toBe('teamviewer');
  });
});
