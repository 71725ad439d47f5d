/**
 * DICOMweb against a real PACS: Orthanc with its DICOMweb plugin (Debian's orthanc and
 * orthanc-dicomweb) in a network namespace over plain HTTP. curl stores an object made by dcmtk
 * (STOW-RS), searches for it by patient (QIDO-RS) and retrieves it and its metadata (WADO-RS),
 * captured by tcpdump; `muvakt analyze --policy` must report the dicomweb events and the
 * cleartext DICOM alert. The same QIDO-RS search with its DICOM JSON answer over HTTPS
 * (`openssl s_server -WWW`: Debian's Orthanc 1.10 resets TLS connections) must give nothing of
 * DICOMweb. The planted name, fødselsnummer and UIDs are nowhere: not in the events, the
 * alerts or the store file.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../agent/events/types.js';
import { readEventsFile } from '../support/event-schemas.js';
import { NetnsPair, waitFor } from '../support/netns.js';
import { dicomFile, FNR, INSTANCE_UID, multipart, PLANTED, qidoJson, SERIES_UID, STUDY_UID } from '../unit/dicomweb/build.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
const HTTP_PORT = 8042;
const HTTPS_PORT = 8043;
type Ev = MuvaktEvent & Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function orthancConfig(dir: string, port: number): string {
  const storage = join(dir, `db-${port}`);
  mkdirSync(storage, { recursive: true });
  const file = join(dir, `orthanc-${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      Name: `muvakt-e2e-${port}`,
      StorageDirectory: storage,
      IndexDirectory: storage,
      HttpPort: port,
      DicomServerEnabled: false,
      RemoteAccessAllowed: true,
      AuthenticationEnabled: false,
      // Bodies as sent on a PACS link without compression: the sensor does not inflate.
      HttpCompressionEnabled: false,
      Plugins: [PLUGIN],
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
    }),
  );
  return file;
}

describe('DICOMweb with Orthanc, analysed from a capture', () => {
  const pair = new NetnsPair('dweb');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-dicomweb-'));
  const pcap = join(tmp, 'dicomweb.pcap');
  const store = join(tmp, 'store.db');
  let events: Ev[] = [];
  let alerts: Record<string, any>[] = [];
  let outputs = '';
  const tlsPeers: ChildProcess[] = [];

  beforeAll(async () => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    for (const bin of ['Orthanc', 'dump2dcm', 'curl', 'openssl']) {
      if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`]).status !== 0) throw new Error(`${bin} is missing: .ci/run installs orthanc, orthanc-dicomweb, dcmtk, curl and openssl`);
    }
    if (!existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: .ci/run installs orthanc-dicomweb`);
    pair.create();

    // Orthanc's HTTPS wants the certificate and key in one PEM file.
    const key = join(tmp, 'key.pem');
    const crt = join(tmp, 'crt.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=pacs.e2e'], { stdio: 'pipe' });

    const o = pair.spawn(pair.b, '/usr/sbin/Orthanc', [orthancConfig(tmp, HTTP_PORT)]);
    o.stdout!.resume();
    o.stderr!.resume();
    // The HTTPS peer serves a QIDO-RS answer with the planted values from files under its cwd.
    const www = join(tmp, 'www');
    mkdirSync(join(www, 'dicom-web'), { recursive: true });
    writeFileSync(join(www, 'dicom-web', 'studies'), qidoJson());
    const tlsPeer = spawn('ip', ['netns', 'exec', pair.b, 'openssl', 's_server', '-quiet', '-WWW', '-accept', String(HTTPS_PORT), '-cert', crt, '-key', key], { cwd: www, stdio: ['pipe', 'ignore', 'ignore'] });
    tlsPeers.push(tlsPeer);
    for (const port of [HTTP_PORT, HTTPS_PORT]) {
      // Both peers listen inside namespace b.
      for (let i = 0; i < 200 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${port}`).trim(); i++) await sleep(50);
      if (!pair.exec(pair.b, 'ss', '-Hltn', `sport = :${port}`).trim()) throw new Error(`Orthanc did not listen on ${port}`);
    }

    const obj = dicomFile({ pixelBytes: 64 * 256 });
    const boundary = 'muvakt-e2e-boundary';
    writeFileSync(join(tmp, 'stow.body'), multipart([{ type: 'application/dicom', body: obj }], boundary));

    const cap = pair.spawn(pair.a, 'tcpdump', ['-i', pair.ifA, '-n', '-U', '-s', '0', '-w', pcap, 'tcp']);
    await waitFor(cap.stderr!, /listening on/);

    const curl = (...args: string[]) => pair.exec(pair.a, 'curl', '-sS', '-k', '--fail', '-o', '/dev/null', '-w', '%{http_code}', ...args);
    {
      const base = `http://${pair.ipB}:${HTTP_PORT}/dicom-web`;
      expect(
        curl('-X', 'POST', '-H', `Content-Type: multipart/related; type="application/dicom"; boundary=${boundary}`, '-H', 'Accept: application/dicom+json', '--data-binary', `@${join(tmp, 'stow.body')}`, `${base}/studies`),
      ).toBe('200');
      expect(curl('-H', 'Accept: application/dicom+json', `${base}/studies?PatientID=${FNR}&includefield=all`)).toBe('200');
      expect(curl('-H', 'Accept: multipart/related; type="application/dicom"', `${base}/studies/${STUDY_UID}/series/${SERIES_UID}/instances/${INSTANCE_UID}`)).toBe('200');
      expect(curl('-H', 'Accept: application/dicom+json', `${base}/studies/${STUDY_UID}/metadata`)).toBe('200');
    }
    expect(curl('-H', 'Accept: application/dicom+json', `https://${pair.ipB}:${HTTPS_PORT}/dicom-web/studies?PatientID=${FNR}`)).toBe('200');
    // libpcap hands packets over in blocks that retire after up to 1 s: let the last one go out.
    await sleep(1500);
    cap.kill('SIGINT');
    await new Promise((r) => cap.once('exit', r));

    const policy = join(tmp, 'policy.yaml');
    writeFileSync(
      policy,
      ['site: e2e', 'zones:', `  - {name: viewers, kind: clinical, cidrs: [${pair.ipA}/32]}`, `  - {name: pacs, kind: server, cidrs: [${pair.ipB}/32]}`, 'allowed_flows:', '  - {from: viewers, to: pacs, apps: [http, tls]}', ''].join('\n'),
    );
    const out = join(tmp, 'events.ndjson');
    const r = spawnSync(process.execPath, [CLI, 'analyze', pcap, '--policy', policy, '--db', store, '--events', out, '--alerts', '-', '--quiet'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    events = readEventsFile(out) as unknown as Ev[];
    alerts = r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    outputs = readFileSync(out, 'latin1') + r.stdout + r.stderr + readFileSync(store).toString('latin1');
  }, 120_000);

  afterAll(() => {
    for (const p of tlsPeers) if (p.exitCode === null) p.kill('SIGKILL');
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  const dicomweb = () => events.filter((e) => e.type === 'dicomweb.request');

  it('every plain-HTTP exchange is a dicomweb.request on a dicomweb flow, with the service and level', () => {
    const dw = dicomweb();
    expect(dw.every((e) => e.flow.dst_port === HTTP_PORT && e.flow.app === 'dicomweb')).toBe(true);
    expect(dw.map((e) => [e.service, e.level, e.resource ?? null, e.status])).toEqual([
      ['stow', 'study', null, 200],
      ['qido', 'study', null, 200],
      ['wado', 'instance', null, 200],
      ['wado', 'study', 'metadata', 200],
    ]);
    expect(dw.map((e) => e.url)).toEqual(['/dicom-web/studies', '/dicom-web/studies', '/dicom-web/studies/{id}/series/{id}/instances/{id}', '/dicom-web/studies/{id}/metadata']);
    const flows = events.filter((e) => e.type === 'flow' && e.flow.dst_port === HTTP_PORT);
    expect(flows.length).toBeGreaterThan(0);
    expect(flows.every((f) => f.app === 'dicomweb' && f.encrypted === false)).toBe(true);
  });

  it('the patient elements by name, from the query, the stored object, the retrieved object and the JSON', () => {
    const [stow, qido, wado, meta] = dicomweb();
    expect(stow.phi_sources).toEqual(['request']);
    expect(stow.phi_fields).toEqual(expect.arrayContaining(['PatientName', 'PatientID', 'PatientBirthDate']));
    expect(stow.request_body).toMatchObject({ media_type: 'multipart/related', parts: 1, inspected_objects: 1 });
    expect(qido.query_keys).toEqual(['PatientID']);
    expect(qido.phi_sources).toEqual(expect.arrayContaining(['query', 'response']));
    expect(qido.phi_fields).toEqual(expect.arrayContaining(['PatientID', 'PatientName']));
    expect(wado.response_body).toMatchObject({ media_type: 'multipart/related', inspected_objects: 1, truncated: false });
    expect(wado.response_body.bytes_skipped).toBeGreaterThan(64 * 256 - 1024);
    expect(wado.phi_fields).toEqual(expect.arrayContaining(['PatientName', 'PatientID', 'PatientBirthDate']));
    expect(meta.response_body).toMatchObject({ media_type: 'application/dicom+json', inspected_objects: 1 });
    expect(meta.phi_fields).toEqual(expect.arrayContaining(['PatientName', 'PatientID']));
    for (const e of [stow, qido, wado, meta]) expect(e.patient_ids.map((p: { kind: string }) => p.kind)).toEqual(['fodselsnummer']);
    expect(new Set(dicomweb().map((e) => e.patient_ids[0].pseudonym)).size).toBe(1);
  });

  it('dicom-cleartext-phi fires for the plain-HTTP flows and not for HTTPS', () => {
    const hits = alerts.filter((a) => a.rule_id === 'dicom-cleartext-phi');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((a) => a.evidence.dst_port === HTTP_PORT || a.evidence.dicomweb_service !== undefined)).toBe(true);
    const tlsFlows = events.filter((e) => e.flow?.dst_port === HTTPS_PORT);
    expect(tlsFlows.filter((e) => e.type === 'flow').every((f) => f.app === 'tls' && f.encrypted === true)).toBe(true);
    expect(tlsFlows.some((e) => e.type === 'dicomweb.request' || e.type === 'phi.observed')).toBe(false);
    const tlsFlowIds = new Set(tlsFlows.map((e) => e.flow.id));
    expect(alerts.filter((a) => a.rule_id === 'dicom-cleartext-phi' && tlsFlowIds.has(a.evidence.flow_id))).toEqual([]);
  });

  it('the planted values are nowhere: events, alerts, store', () => {
    expect(outputs.length).toBeGreaterThan(0);
    for (const v of PLANTED) expect(outputs.includes(v), v).toBe(false);
  });
});
