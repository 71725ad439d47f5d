import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../agent/events/types.js';
import { readEventsFile } from '../support/event-schemas.js';
import { NetnsPair, waitFor } from '../support/netns.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const SCRIPTS = join(ROOT, 'fixtures/corpus/scripts');
const PORT = 2121;
const TLS_PORT = 2990;
const PASSWORD = 'Opplast#2026';
type Ev = MuvaktEvent & Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * FTP data connections from real peers: pyftpdlib (python3-pyftpdlib) in one namespace, Python's
 * ftplib in the other uploading a file with a planted fødselsnummer once per way of opening a
 * data connection (PASV, EPSV, PORT, EPRT), and once over explicit FTPS (AUTH TLS, PROT P).
 * tcpdump captures; `muvakt analyze` reads the capture: each data flow is ftp-data with its
 * control flow's id, the cleartext uploads give a phi.observed and the phi-cleartext alert by
 * kind only, the FTPS upload is TLS, and the number appears in no output.
 */
describe('FTP data connections from pyftpdlib and ftplib', () => {
  const pair = new NetnsPair('ftpdata');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-ftpdata-'));
  const pcap = join(tmp, 'ftp.pcap');
  const eventsFile = join(tmp, 'events.ndjson');
  const alertsFile = join(tmp, 'alerts.ndjson');
  let fnr = '';
  let events: Ev[] = [];
  let output = '';

  beforeAll(async () => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    if (spawnSync('/usr/bin/python3', ['-c', 'import pyftpdlib, OpenSSL']).status !== 0) throw new Error('pyftpdlib/pyOpenSSL missing: .ci/run installs python3-pyftpdlib python3-openssl');
    fnr = execFileSync('/usr/bin/python3', [join(SCRIPTS, 'fnr.py'), '17091979', '210'], { encoding: 'utf8' }).trim();
    const home = join(tmp, 'home');
    mkdirSync(home);
    const upload = join(tmp, 'pasientliste.csv');
    writeFileSync(upload, `id;navn;avdeling\n${fnr};Test Testesen;Radiologi\n`);
    const key = join(tmp, 'k.pem');
    const cert = join(tmp, 'c.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', '/O=Test Hospital/CN=ftp.test.example'], { stdio: 'pipe' });
    // The example policy with the two test addresses in its MU and clinical-servers zones.
    const policy = readFileSync(join(ROOT, 'deploy/policy.example.yaml'), 'utf8')
      .replace('cidrs: [10.77.10.0/24', `cidrs: ["${pair.ipA}/32", 10.77.10.0/24`)
      .replace('cidrs: [10.77.20.0/24', `cidrs: ["${pair.ipB}/32", 10.77.20.0/24`);
    const policyFile = join(tmp, 'policy.yaml');
    writeFileSync(policyFile, policy);

    pair.create();
    const common = ['--address', pair.ipB, '--home', home, '--user', 'biomed', '--password', PASSWORD];
    const plain = pair.spawn(pair.b, '/usr/bin/python3', [join(SCRIPTS, 'ftp_server.py'), ...common, '--port', String(PORT), '--passive', '30000-30049']);
    const tls = pair.spawn(pair.b, '/usr/bin/python3', [join(SCRIPTS, 'ftp_server.py'), ...common, '--port', String(TLS_PORT), '--passive', '30050-30099', '--cert', cert, '--key', key]);
    await Promise.all([waitFor(plain.stdout!, /listening/), waitFor(tls.stdout!, /listening/)]);
    const cap = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-w', pcap, 'tcp']);
    await waitFor(cap.stderr!, /listening on/);
    const run = (extra: string[], port: number) => {
      const r = spawnSync('ip', ['netns', 'exec', pair.a, '/usr/bin/python3', join(SCRIPTS, 'ftp_upload.py'), pair.ipB, String(port), 'biomed', PASSWORD, upload, ...extra], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(run([], PORT)).toMatch(/ok PASV[\s\S]*ok EPSV[\s\S]*ok PORT[\s\S]*ok EPRT/);
    expect(run(['--tls'], TLS_PORT)).toMatch(/ok tls/);
    await sleep(1000);
    cap.kill('SIGINT');
    await new Promise((r) => cap.once('exit', r));
    // The server really got the file five times.
    for (const f of ['pasv.csv', 'epsv.csv', 'port.csv', 'eprt.csv', 'tls.csv']) expect(readFileSync(join(home, f), 'utf8')).toContain(fnr);

    const r = spawnSync(process.execPath, [CLI, 'analyze', pcap, '--policy', policyFile, '--events', eventsFile, '--alerts', alertsFile], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(r.status, r.stderr).toBe(0);
    events = readEventsFile(eventsFile) as unknown as Ev[];
    output = [r.stdout, r.stderr, readFileSync(eventsFile, 'utf8'), readFileSync(alertsFile, 'utf8')].join('\n');
  }, 120_000);

  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  const flows = () => events.filter((e) => e.type === 'flow');

  it('each cleartext upload is an ftp-data flow carrying its control flow’s id, one per data-connection command', () => {
    const controls = flows().filter((f) => f.app === 'ftp' && f.flow.dst_port === PORT);
    expect(controls).toHaveLength(4);
    const data = flows().filter((f) => f.app === 'ftp-data' && f.encrypted === false);
    // STOR only: ftplib opens no data connection for anything else.
    expect(data).toHaveLength(4);
    const controlIds = new Set(controls.map((c) => c.flow.id));
    expect(new Set(data.map((d) => d.flow.control_flow_id))).toEqual(controlIds);
    // Passive: the client connects to the server's passive port; active: the server connects to the client.
    const passive = data.filter((d) => d.flow.src_ip === pair.ipA);
    const active = data.filter((d) => d.flow.src_ip === pair.ipB);
    expect(passive).toHaveLength(2);
    expect(active).toHaveLength(2);
    for (const d of passive) expect(d.flow.dst_port).toBeGreaterThanOrEqual(30000);
  });

  it('the planted fødselsnummer in each cleartext upload is a phi.observed by kind, and the phi-cleartext alert fires', () => {
    const phi = events.filter((e) => e.type === 'phi.observed');
    const onData = phi.filter((p) => p.flow.app === 'ftp-data');
    expect(onData).toHaveLength(4);
    for (const p of onData) {
      expect(p).toMatchObject({ protocol: 'ftp-data', kinds: ['fodselsnummer'], count: 1 });
      expect(p.flow.control_flow_id).toMatch(/^[0-9a-f]{16}$/);
    }
    const alerts = readFileSync(alertsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const cleartext = alerts.filter((a) => (a.rule_id ?? a.rule?.id) === 'phi-cleartext');
    expect(cleartext.length).toBeGreaterThanOrEqual(1);
  });

  it('the FTPS upload is ftp-data over TLS, with its handshake labelled ftp-data, and nothing on it is called cleartext', () => {
    const control = flows().filter((f) => f.flow.dst_port === TLS_PORT);
    expect(control).toHaveLength(1);
    expect(control[0]).toMatchObject({ app: 'ftp', encrypted: true });
    const data = flows().filter((f) => f.flow.control_flow_id === control[0].flow.id);
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ app: 'ftp-data', encrypted: true });
    const onData = events.filter((e) => e.type !== 'flow' && e.flow?.id === data[0].flow.id);
    expect(onData.map((e) => e.type)).toEqual(['tls.handshake']);
    expect(onData[0].flow).toMatchObject({ app: 'ftp-data', control_flow_id: control[0].flow.id });
  });

  it('every event of a flow carries the flow’s app', () => {
    const app = new Map(flows().map((f) => [f.flow.id, f.app]));
    for (const e of events) if (e.type !== 'flow' && e.flow) expect(e.flow.app, e.type).toBe(app.get(e.flow.id));
  });

  it('the planted number and the password appear in no output', () => {
    expect(output.length).toBeGreaterThan(1000);
    expect(output).not.toContain(fnr);
    expect(output).not.toContain(PASSWORD);
  });
});
