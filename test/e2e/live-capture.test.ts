import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent, MuvaktEvent } from '../../agent/events/types.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { tsharkConversations } from '../support/tshark.js';
import { readEventsFile } from '../support/event-schemas.js';
import { writeConcurrentFlows } from '../bench/concurrent-flows.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const PORT = '11112';

describe('live capture on a veth pair with real dcmtk peers', () => {
  const pair = new NetnsPair('live');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-live-'));

  beforeAll(() => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    pair.create();
    execFileSync('python3', [join(ROOT, 'fixtures/corpus/scripts/mkdicom.py'), '--modality', 'CT', '--rows', '128', '--cols', '128', '--name', 'TEST^LIVE', '--pid', '12345678', '--out', join(tmp, 'ct.dcm')], { stdio: 'pipe' });
  });
  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reports the flows the peers made, with kernel drop counters, and exits 0 on SIGTERM', async () => {
    const scp = pair.spawn(pair.b, 'storescp', ['-aet', 'PACS_E2E', '-od', tmp, PORT]);
    for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${PORT}`).trim(); i++) await new Promise((r) => setTimeout(r, 50));
    // A reference capture of the same interface, taken by tcpdump itself.
    const ref = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-w', join(tmp, 'ref.pcap'), 'tcp port ' + PORT]);
    await waitFor(ref.stderr!, /listening on/);
    const events = join(tmp, 'events.ndjson');
    const alertsFile = join(tmp, 'alerts.ndjson');
    const policy = join(tmp, 'policy.yaml');
    writeFileSync(policy, `site: live\nzones:\n  - {name: ct, kind: medical, cidrs: [${pair.ipA}/32]}\n  - {name: pacs, kind: server, cidrs: [${pair.ipB}/32]}\nallowed_flows:\n  - {from: ct, to: pacs, apps: [dicom]}\ndicom: {ports: [${PORT}]}\n`);
    // A SIEM stand-in on the sensor namespace's loopback: keeps what arrives over syslog/TCP.
    const siemLog = join(tmp, 'siem.log');
    writeFileSync(join(tmp, 'siem.py'), `import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("127.0.0.1",6514));s.listen(1)\nc,_=s.accept()\nf=open(${JSON.stringify(siemLog)},"ab")\nwhile True:\n  d=c.recv(65536)\n  if not d: break\n  f.write(d);f.flush()\n`);
    pair.spawn(pair.a, 'python3', [join(tmp, 'siem.py')]);
    for (let i = 0; i < 100 && !pair.exec(pair.a, 'ss', '-Hltn', 'sport = :6514').trim(); i++) await new Promise((r) => setTimeout(r, 50));
    const sensor = pair.spawn(pair.a, process.execPath, [CLI, 'run', '--interface', pair.ifA, '--events', events, '--stats-interval', '1', '--filter', 'tcp port ' + PORT, '--buffer-mb', '8', '--policy', policy, '--db', join(tmp, 'live.db'), '--alerts', alertsFile, '--syslog', '127.0.0.1:6514', '--syslog-spool', join(tmp, 'spool')]);
    let sensorErr = '';
    sensor.stderr!.on('data', (d: Buffer) => (sensorErr += d.toString()));
    await waitFor(sensor.stderr!, /capture started/);

    pair.exec(pair.a, 'echoscu', '-aet', 'CT_E2E', '-aec', 'PACS_E2E', pair.ipB, PORT);
    pair.exec(pair.a, 'storescu', '-aet', 'CT_E2E', '-aec', 'PACS_E2E', pair.ipB, PORT, join(tmp, 'ct.dcm'));
    pair.exec(pair.a, 'echoscu', '-aet', 'CT_E2E', '-aec', 'PACS_E2E', pair.ipB, PORT);
    await new Promise((r) => setTimeout(r, 1500));

    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    sensor.kill('SIGTERM');
    expect(await exited, sensorErr).toBe(0);
    ref.kill('SIGINT');
    await new Promise((resolve) => ref.once('exit', resolve));
    scp.kill('SIGTERM');

    const all = readEventsFile(events) as MuvaktEvent[];
    const flows = all.filter((e): e is FlowEvent => e.type === 'flow');
    const stats = all.filter((e) => e.type === 'stats');
    expect(flows).toHaveLength(3);
    for (const f of flows) {
      expect(f.flow).toMatchObject({ src_ip: pair.ipA, dst_ip: pair.ipB, dst_port: Number(PORT), proto: 'tcp', vlan: [] });
      expect(f.state).toBe('closed');
      expect(f.midstream).toBeUndefined();
      expect(f.app).toBe('dicom');
    }
    // What the peers did, as the DICOM analyzer saw it live.
    const assocs = all.filter((e) => e.type === 'dicom.association') as (MuvaktEvent & Record<string, unknown>)[];
    expect(assocs.map((a) => [a.calling_ae, a.called_ae, a.result])).toEqual(Array(3).fill(['CT_E2E', 'PACS_E2E', 'released']));
    const commands = all.filter((e) => e.type === 'dicom.dimse').map((e) => e.command);
    expect(commands).toEqual(['C-ECHO-RQ', 'C-ECHO-RSP', 'C-STORE-RQ', 'C-STORE-RSP', 'C-ECHO-RQ', 'C-ECHO-RSP']);
    // Same flows, packets and bytes as tshark finds in tcpdump's own capture.
    const convs = tsharkConversations(join(tmp, 'ref.pcap'));
    expect(convs).toHaveLength(3);
    for (const c of convs) {
      const f = flows.find((x) => x.flow.src_port === (c.a === pair.ipA ? c.aPort : c.bPort))!;
      expect(f, `flow for ${c.a}:${c.aPort}`).toBeDefined();
      const [up, down] = c.a === pair.ipA ? [c.framesAtoB, c.framesBtoA] : [c.framesBtoA, c.framesAtoB];
      expect([f.pkts_toserver, f.pkts_toclient]).toEqual([up, down]);
    }
    // Kernel counters came through: nothing dropped, everything received was analysed.
    expect(stats.length).toBeGreaterThan(0);
    const last = stats[stats.length - 1] as MuvaktEvent & { capture: { dropped: number; received: number }; packets: number };
    expect(last.capture.dropped).toBe(0);
    expect(last.packets).toBe(flows.reduce((a, f) => a + f.pkts_toserver + f.pkts_toclient, 0));
    expect(last.capture.received).toBeGreaterThanOrEqual(last.packets);
    // The flow history written at shutdown holds every byte of the three flows, ct → pacs, with patient data seen.
    const db = new Database(join(tmp, 'live.db'), { readonly: true });
    const hist = db.prepare("SELECT sum(bytes) AS bytes, sum(phi_flows) AS phi FROM flow_history WHERE zone_src = 'ct' AND zone_dst = 'pacs' AND app = 'dicom'").get() as { bytes: number; phi: number };
    db.close();
    expect(hist.bytes).toBe(flows.reduce((n, f) => n + Number(f.bytes_toserver) + Number(f.bytes_toclient), 0));
    expect(hist.phi).toBeGreaterThan(0);
    // Judged live: the stored CT image crossed zones in cleartext with patient fields.
    const alerts = readFileSync(alertsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(alerts.map((a) => a.rule_id)).toContain('dicom-cleartext-phi');
    expect(JSON.stringify(alerts)).not.toContain('TEST^LIVE');
    // The same alerts reached the SIEM as RFC 5424 syslog (octet-counted frames).
    const siem = readFileSync(siemLog, 'utf8');
    expect(siem).toMatch(/^\d+ <\d+>1 \S+ \S+ muvakt /);
    for (const a of alerts) expect(siem).toContain(`rule="${a.rule_id}"`);
    expect(siem).not.toContain('TEST^LIVE');
  });

  it('on a stop, analyses what the kernel already received before it exits', async () => {
    // 60,000 new connections replayed at full speed: more than the analysis takes in the time
    // the replay lasts, so the kernel buffer still holds packets when the stop comes.
    const burst = join(tmp, 'burst.pcap');
    writeConcurrentFlows(burst, 60_000);
    const sensor = pair.spawn(pair.b, process.execPath, [CLI, 'run', '--interface', pair.ifB, '--policy', join(ROOT, 'deploy/policy.example.yaml'), '--db', join(tmp, 'burst.db'), '--stats-interval', '60']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(sensor.stderr!, /capture started/);
    pair.exec(pair.a, 'tcpreplay', '-i', pair.ifA, '--topspeed', burst);
    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    sensor.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    const stopped = err
      .split('\n')
      .filter((l) => l.includes('capture stopped'))
      .map((l) => JSON.parse(l) as { received: number; dropped: number; captured: number; unread: number; packets: number })
      .pop();
    expect(stopped, err).toBeDefined();
    // Every packet the kernel kept was taken and analysed; none was left in the buffer.
    expect(stopped!.received).toBeGreaterThanOrEqual(200_000);
    expect(stopped!.unread).toBe(0);
    expect(stopped!.captured).toBe(stopped!.received - stopped!.dropped);
    expect(stopped!.packets).toBe(stopped!.captured);
  }, 90_000);

  it('says exactly what to install when the capture backend is missing', () => {
    let out = '';
    let code = 0;
    try {
      execFileSync(process.execPath, [CLI, 'run', '--interface', 'lo'], { env: { ...process.env, PATH: '/nonexistent', MUVAKT_TCPDUMP: '/nonexistent/tcpdump' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { status: number; stderr: string };
      code = err.status;
      out = err.stderr;
    }
    expect(code).toBe(1);
    expect(out).toMatch(/apt-get install tcpdump/);
  });

  it('names the interface when it cannot be opened', () => {
    let out = '';
    try {
      execFileSync(process.execPath, [CLI, 'run', '--interface', 'nosuchif0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      out = (e as { stderr: string }).stderr;
    }
    expect(out).toMatch(/cannot capture on nosuchif0/);
  });
});
