import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../agent/events/types.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { readEventsFile } from '../support/event-schemas.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const SCRIPTS = join(ROOT, 'fixtures/corpus/scripts');
const DICOM_PORT = '4242';
const HL7_PORT = '6661';
const HL7_SILENT_PORT = '6662';
type Ev = MuvaktEvent & Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Real dcmtk and python3-hl7 peers on ports no analyzer is told about, captured by tcpdump on
 * a veth pair, analysed by the CLI: recognition is by content, and the decode agrees with
 * tshark's DICOM dissector (told the port) on the same capture.
 */
describe('real peers on odd ports, analysed from a capture', () => {
  const pair = new NetnsPair('peers');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-peers-'));
  let events: Ev[] = [];
  const pcap = join(tmp, 'peers.pcap');

  beforeAll(async () => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    for (const bin of ['storescp', 'storescu', 'echoscu', 'mllp_send']) {
      if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`${bin} is missing: .ci/run installs dcmtk and python3-hl7`);
    }
    pair.create();
    execFileSync('python3', [join(SCRIPTS, 'mkdicom.py'), '--modality', 'MR', '--rows', '64', '--cols', '64', '--name', 'PEER^TEST', '--pid', '14078521210', '--out', join(tmp, 'mr.dcm')], { stdio: 'pipe' });
    execFileSync('/usr/bin/python3', [join(SCRIPTS, 'hl7msgs.py'), join(tmp, 'msgs.hl7'), 'adt_a01', 'oru_r01:2', 'orm_o01', '--fnr', '14078521210', '--ctl-prefix', 'ODD', '--ctl-start', '1'], { stdio: 'pipe' });
    execFileSync('/usr/bin/python3', [join(SCRIPTS, 'hl7msgs.py'), join(tmp, 'one.hl7'), 'adt_a08', '--fnr', '14078521210', '--ctl-prefix', 'SIL', '--ctl-start', '1'], { stdio: 'pipe' });
    writeFileSync(join(tmp, 'silent.py'), 'import socket,time\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("0.0.0.0",' + HL7_SILENT_PORT + '));s.listen(5)\nc,_=s.accept()\nwhile c.recv(65536): pass\n');

    pair.spawn(pair.b, 'storescp', ['-aet', 'PACS_ODD', '-od', tmp, DICOM_PORT]);
    pair.spawn(pair.b, '/usr/bin/python3', [join(SCRIPTS, 'mllp_server.py'), '--port', HL7_PORT, '--acks', 'AA,AE,AR,AA', '--app', 'RIS', '--facility', 'RAD']);
    pair.spawn(pair.b, '/usr/bin/python3', [join(tmp, 'silent.py')]);
    for (const port of [DICOM_PORT, HL7_PORT, HL7_SILENT_PORT]) {
      for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${port}`).trim(); i++) await sleep(50);
    }
    const cap = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-w', pcap, 'tcp']);
    await waitFor(cap.stderr!, /listening on/);

    const dcm = ['-aet', 'MR_ODD', '-aec', 'PACS_ODD', pair.ipB, DICOM_PORT];
    pair.exec(pair.a, 'echoscu', ...dcm);
    pair.exec(pair.a, 'storescu', '-usr', 'techuser', '-pwd', 'S3cret!pw', ...dcm, join(tmp, 'mr.dcm'));
    pair.exec(pair.a, 'storescu', '--abort', ...dcm, join(tmp, 'mr.dcm'));
    pair.exec(pair.a, 'mllp_send', '--loose', '-f', join(tmp, 'msgs.hl7'), '-p', HL7_PORT, pair.ipB);
    // The silent receiver never acknowledges: mllp_send waits; stop it after 2 s.
    const silent = pair.spawn(pair.a, 'mllp_send', ['--loose', '-f', join(tmp, 'one.hl7'), '-p', HL7_SILENT_PORT, pair.ipB]);
    await sleep(2000);
    // More traffic after the silence, so capture time passes the policy's ACK timeout (1 s).
    pair.exec(pair.a, 'echoscu', ...dcm);
    silent.kill('SIGTERM');
    // libpcap hands packets over in blocks that retire after up to 1 s: let the last one go out.
    await sleep(1500);
    cap.kill('SIGINT');
    await new Promise((r) => cap.once('exit', r));

    const out = join(tmp, 'events.ndjson');
    const r = spawnSync(process.execPath, [CLI, 'analyze', pcap, '--events', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    events = readEventsFile(out) as unknown as Ev[];
  }, 60_000);
  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('recognises DICOM on 4242 and HL7 on 6661/6662 by content', () => {
    const apps = events.filter((e) => e.type === 'flow').map((e) => [e.flow!.dst_port, e.app]);
    expect(apps.filter(([p]) => p === 4242).every(([, a]) => a === 'dicom')).toBe(true);
    expect(apps.filter(([p]) => p === 4242)).toHaveLength(4);
    expect(apps.filter(([p]) => p === 6661 || p === 6662).map(([, a]) => a)).toEqual(['hl7', 'hl7']);
  });

  it('DICOM associations and DIMSE commands equal tshark -d tcp.port==4242,dicom', () => {
    const fields = ['tcp.stream', 'dicom.assoc.ae.calling', 'dicom.assoc.ae.called', 'dicom.userinfo.user_identify.type', 'dicom.pdu.type'];
    const ts = execFileSync('tshark', ['-n', '-r', pcap, '-d', `tcp.port==${DICOM_PORT},dicom`, '-Y', 'dicom.pdu.type == 1', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const assoc = events.filter((e) => e.type === 'dicom.association');
    expect(assoc.map((a) => [a.calling_ae, a.called_ae])).toEqual(ts.map((t) => [t[1].trim(), t[2].trim()]));
    expect(assoc.map((a) => a.user_identity?.type ?? '')).toEqual(ts.map((t) => (t[3] ? Number(t[3]) : '')));
    expect(assoc.map((a) => a.result)).toEqual(['released', 'released', 'aborted', 'released']);
    // DIMSE commands as tshark's info column names them, in capture order.
    const info = execFileSync('tshark', ['-n', '-r', pcap, '-d', `tcp.port==${DICOM_PORT},dicom`, '-Y', 'dicom', '-T', 'fields', '-e', '_ws.col.Info'], { encoding: 'utf8' });
    const tsharkCommands = [...info.matchAll(/\b([CN]-[A-Z]+-(?:RQ|RSP))\b/g)].map((m) => m[1]);
    const ours = events.filter((e) => e.type === 'dicom.dimse').map((e) => e.command);
    expect(ours).toEqual(['C-ECHO-RQ', 'C-ECHO-RSP', 'C-STORE-RQ', 'C-STORE-RSP', 'C-STORE-RQ', 'C-STORE-RSP', 'C-ECHO-RQ', 'C-ECHO-RSP']);
    expect(ours).toEqual(tsharkCommands);
  });

  it('HL7: every message, its ACK code, the negative ones and the unanswered one', () => {
    const msgs = events.filter((e) => e.type === 'hl7.message' && !e.acknowledgment);
    expect(msgs.map((m) => [m.control_id, m.ack_code ?? null])).toEqual([
      ['ODD000001', 'AA'],
      ['ODD000002', 'AE'],
      ['ODD000003', 'AR'],
      ['ODD000004', 'AA'],
      ['SIL000001', null],
    ]);
    const und = events.filter((e) => e.type === 'hl7.undelivered');
    expect(und.map((u) => [u.control_id, u.reason])).toEqual([
      ['ODD000002', 'negative-ack'],
      ['ODD000003', 'negative-ack'],
      ['SIL000001', 'connection-closed'],
    ]);
  });

  it('the rules judge it: undelivered HL7 (silent receiver), negative ACKs, DICOM identity password', () => {
    const policy = join(tmp, 'policy.yaml');
    writeFileSync(
      policy,
      [
        'site: e2e',
        'zones:',
        `  - {name: modality, kind: medical, cidrs: [${pair.ipA}/32]}`,
        `  - {name: servers, kind: server, cidrs: [${pair.ipB}/32]}`,
        'allowed_flows:',
        '  - {from: modality, to: servers, apps: [dicom, hl7]}',
        `dicom: {ports: [${DICOM_PORT}]}`,
        `hl7: {ports: [${HL7_PORT}, ${HL7_SILENT_PORT}], ack_timeout_s: 1}`,
        '',
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [CLI, 'analyze', pcap, '--policy', policy, '--alerts', '-', '--quiet'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const alerts = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const by = (id: string) => alerts.filter((a) => a.rule_id === id);
    expect(by('hl7-message-undelivered').map((a) => [a.evidence.reason, a.count])).toEqual([['ack-timeout', 1]]);
    expect(by('hl7-negative-ack').reduce((n: number, a: { count: number }) => n + a.count, 0)).toBe(2);
    expect(by('dicom-user-identity-cleartext-password')).toHaveLength(1);
    expect(by('dicom-association-aborted')).toHaveLength(1);
    expect(by('flow-not-allowed')).toEqual([]);
    expect(r.stdout).not.toContain('S3cret!pw');
  });

  it('no password, username or patient value comes out', () => {
    const text = JSON.stringify(events);
    for (const s of ['S3cret!pw', 'techuser', 'PEER^TEST', '14078521210', 'NORDMANN']) expect(text).not.toContain(s);
  });
});
