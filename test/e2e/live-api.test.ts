import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsPair, waitFor } from '../support/netns.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const PORT = '11112';
const API = '127.0.0.1:18470';
const VIEWER = 'viewer-token-for-the-live-api-test';
const METRICS = 'metrics-token-for-the-live-api-test';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `run --listen`: capture in a worker thread, the API on the main thread, inside a namespace
 * (the API listens on that namespace's loopback; the test asks through `ip netns exec curl`).
 */
describe('run --listen: the API and live metrics beside the capture', () => {
  const pair = new NetnsPair('api');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-live-api-'));
  beforeAll(() => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    pair.create();
  });
  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('serves alerts and counters while capturing, and stops cleanly', async () => {
    const policy = join(tmp, 'policy.yaml');
    writeFileSync(policy, `site: live\nzones:\n  - {name: ct, kind: medical, cidrs: [${pair.ipA}/32]}\n  - {name: office, kind: office, cidrs: [${pair.ipB}/32]}\ndicom: {ports: [${PORT}]}\n`);
    const auth = join(tmp, 'auth.yaml');
    writeFileSync(auth, `tokens:\n  - {name: soc, role: viewer, sha256: ${sha(VIEWER)}}\nmetrics_token_sha256: ${sha(METRICS)}\n`);
    const scp = pair.spawn(pair.b, 'storescp', ['-aet', 'PACS_E2E', '-od', tmp, PORT]);
    for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${PORT}`).trim(); i++) await sleep(50);
    const sensor = pair.spawn(pair.a, process.execPath, [CLI, 'run', '--interface', pair.ifA, '--filter', `tcp port ${PORT}`, '--policy', policy, '--db', join(tmp, 'live.db'), '--listen', API, '--auth', auth, '--buffer-mb', '8']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(sensor.stderr!, /API listening beside the capture/, 20_000);

    // Not allowed by the policy (no flows allowed at all): the C-ECHO crosses zones.
    pair.exec(pair.a, 'echoscu', '-aet', 'CT_E2E', '-aec', 'PACS_E2E', pair.ipB, PORT);
    let alerts: { items: { rule_id: string }[] } = { items: [] };
    for (let i = 0; i < 40 && !alerts.items.some((a) => a.rule_id === 'flow-not-allowed'); i++) {
      await sleep(500);
      alerts = JSON.parse(pair.exec(pair.a, 'curl', '-s', '-H', `Authorization: Bearer ${VIEWER}`, `http://${API}/api/v1/alerts`));
    }
    expect(alerts.items.map((a) => a.rule_id)).toContain('flow-not-allowed');
    const metrics = pair.exec(pair.a, 'curl', '-s', '-H', `Authorization: Bearer ${METRICS}`, `http://${API}/metrics`);
    expect(metrics).toMatch(/^muvakt_packets_total \d+/m);
    expect(Number(/^muvakt_packets_total (\d+)/m.exec(metrics)![1])).toBeGreaterThan(10);
    expect(metrics).toMatch(/muvakt_dicom_associations_total\{result="released"\} 1/);
    expect(pair.exec(pair.a, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${API}/readyz`)).toBe('200');
    expect(pair.exec(pair.a, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${API}/api/v1/alerts`)).toBe('401');

    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    sensor.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    expect(err).toMatch(/packets\s+\d+/);
    scp.kill('SIGTERM');
  });

  it('answers the zone matrix from the store, with a connection still open counted while it lasts', async () => {
    const port = '11113';
    const policy = join(tmp, 'policy-flows.yaml');
    writeFileSync(policy, `site: live\nzones:\n  - {name: ct, kind: medical, cidrs: [${pair.ipA}/32]}\n  - {name: pacs, kind: server, cidrs: [${pair.ipB}/32]}\n`);
    const auth = join(tmp, 'auth-flows.yaml');
    writeFileSync(auth, `tokens:\n  - {name: soc, role: viewer, sha256: ${sha(VIEWER)}}\nmetrics_token_sha256: ${sha(METRICS)}\n`);
    // A peer that swallows what it gets, and a client that keeps one connection open, sending a line every 100 ms.
    writeFileSync(join(tmp, 'sink.py'), `import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("${pair.ipB}",${port}));s.listen(1)\nc,_=s.accept()\nwhile c.recv(65536): pass\n`);
    writeFileSync(join(tmp, 'talk.py'), `import socket,time\nc=socket.create_connection(("${pair.ipB}",${port}))\nfor i in range(300):\n  c.sendall(b"x"*200+b"\\n");time.sleep(0.1)\n`);
    const peer = pair.spawn(pair.b, 'python3', [join(tmp, 'sink.py')]);
    for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${port}`).trim(); i++) await sleep(50);
    const sensor = pair.spawn(pair.a, process.execPath, [CLI, 'run', '--interface', pair.ifA, '--filter', `tcp port ${port}`, '--policy', policy, '--db', join(tmp, 'flows.db'), '--listen', API, '--auth', auth, '--buffer-mb', '8', '--flow-history-interval', '1']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(sensor.stderr!, /API listening beside the capture/, 20_000);
    const talker = pair.spawn(pair.a, 'python3', [join(tmp, 'talk.py')]);
    let talking = true;
    talker.once('exit', () => (talking = false));

    type Summary = { items: { zone_src: string; zone_dst: string; app: string; bytes: number; flows: number }[] };
    const ask = () => JSON.parse(pair.exec(pair.a, 'curl', '-s', '-H', `Authorization: Bearer ${VIEWER}`, `http://${API}/api/v1/flows/summary`)) as Summary;
    let first: Summary = { items: [] };
    for (let i = 0; i < 40 && first.items.length === 0; i++) {
      await sleep(500);
      first = ask();
    }
    const cell = () => first.items.find((i) => i.zone_src === 'ct' && i.zone_dst === 'pacs');
    expect(cell(), JSON.stringify(first)).toBeDefined();
    expect(talking).toBe(true); // the connection has not ended: it was counted while open
    const before = cell()!.bytes;
    await sleep(2500);
    first = ask();
    expect(cell()!.bytes).toBeGreaterThan(before); // and it keeps growing with each write
    expect(talking).toBe(true);
    const metrics = pair.exec(pair.a, 'curl', '-s', '-H', `Authorization: Bearer ${METRICS}`, `http://${API}/metrics`);
    expect(metrics).toMatch(/^muvakt_flow_history_pending_rows \d+$/m);
    expect(metrics).toMatch(/^muvakt_flow_history_write_errors_total 0$/m);
    expect(metrics).toMatch(/^muvakt_flow_history_dropped_flows_total 0$/m);
    expect(metrics).toMatch(/^muvakt_flow_history_peer_dropped_flows_total 0$/m);

    talker.kill('SIGTERM');
    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    sensor.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    peer.kill('SIGTERM');
  });

  it('serves the remote-access session log while a session is open (ongoing, bytes so far), then with its end', async () => {
    const port = '11114';
    const policy = join(tmp, 'policy-sessions.yaml');
    writeFileSync(policy, `site: live\nzones:\n  - {name: it, kind: clinical, cidrs: [${pair.ipA}/32]}\n  - {name: ct, kind: medical, cidrs: [${pair.ipB}/32]}\n`);
    const auth = join(tmp, 'auth-sessions.yaml');
    writeFileSync(auth, `tokens:\n  - {name: soc, role: viewer, sha256: ${sha(VIEWER)}}\nmetrics_token_sha256: ${sha(METRICS)}\n`);
    // An SSH server's and client's identification strings, then the client keeps writing for a while and closes.
    writeFileSync(join(tmp, 'sshd.py'), `import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("${pair.ipB}",${port}));s.listen(1)\nc,_=s.accept()\nc.sendall(b"SSH-2.0-OpenSSH_9.6\\r\\n")\nwhile c.recv(65536): pass\nc.close()\n`);
    writeFileSync(join(tmp, 'ssh.py'), `import socket,time\nc=socket.create_connection(("${pair.ipB}",${port}))\nc.sendall(b"SSH-2.0-OpenSSH_9.6\\r\\n")\nfor i in range(60):\n  c.sendall(b"x"*200);time.sleep(0.1)\nc.close()\n`);
    const peer = pair.spawn(pair.b, 'python3', [join(tmp, 'sshd.py')]);
    for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${port}`).trim(); i++) await sleep(50);
    const sensor = pair.spawn(pair.a, process.execPath, [CLI, 'run', '--interface', pair.ifA, '--filter', `tcp port ${port}`, '--policy', policy, '--db', join(tmp, 'sessions.db'), '--listen', API, '--auth', auth, '--buffer-mb', '8', '--flow-history-interval', '1', '--sensor', 'live-a']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(sensor.stderr!, /API listening beside the capture/, 20_000);
    const client = pair.spawn(pair.a, 'python3', [join(tmp, 'ssh.py')]);
    let open = true;
    client.once('exit', () => (open = false));

    type Page = { items: { protocol: string; ongoing: boolean; end: string | null; sensor: string; bytes_toserver: number; src_ip: string; dst_ip: string; zone_dst: string }[] };
    const ask = () => JSON.parse(pair.exec(pair.a, 'curl', '-s', '-H', `Authorization: Bearer ${VIEWER}`, `http://${API}/api/v1/remote-sessions`)) as Page;
    let page: Page = { items: [] };
    for (let i = 0; i < 40 && page.items.length === 0; i++) {
      await sleep(250);
      page = ask();
    }
    expect(page.items, JSON.stringify(page)).toHaveLength(1);
    expect(open).toBe(true);
    expect(page.items[0]).toMatchObject({ protocol: 'ssh', ongoing: true, end: null, sensor: 'live-a', src_ip: pair.ipA, dst_ip: pair.ipB, zone_dst: 'ct' });
    const before = page.items[0].bytes_toserver;
    await sleep(1500);
    expect(ask().items[0].bytes_toserver).toBeGreaterThan(before); // the open session's bytes so far, written every interval
    const metrics = pair.exec(pair.a, 'curl', '-s', '-H', `Authorization: Bearer ${METRICS}`, `http://${API}/metrics`);
    expect(metrics).toMatch(/^muvakt_remote_sessions_open 1$/m);
    expect(metrics).toMatch(/^muvakt_remote_sessions_write_errors_total 0$/m);
    // The client closes: the session gets its end.
    for (let i = 0; i < 100 && open; i++) await sleep(100);
    let ended = ask();
    for (let i = 0; i < 40 && ended.items[0].ongoing; i++) {
      await sleep(250);
      ended = ask();
    }
    expect(ended.items[0].ongoing, JSON.stringify(ended)).toBe(false);
    expect(ended.items[0].bytes_toserver).toBeGreaterThan(12_000);

    const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    sensor.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    peer.kill('SIGTERM');
  });

  it('stops the capture and exits 1 with a clear message when the API cannot listen', async () => {
    const policy = join(tmp, 'policy-listen.yaml');
    writeFileSync(policy, `site: live\nzones:\n  - {name: ct, kind: medical, cidrs: [${pair.ipA}/32]}\n`);
    // An address no interface of the namespace has: the bind fails, whatever else runs on the host.
    const where = '192.0.2.77:18471';
    const sensor = pair.spawn(pair.a, process.execPath, [CLI, 'run', '--interface', pair.ifA, '--policy', policy, '--db', join(tmp, 'listen.db'), '--listen', where, '--allow-plain-http', '--buffer-mb', '8']);
    let err = '';
    sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => sensor.once('exit', resolve));
    expect(code, err).toBe(1);
    expect(err).toContain(`muvakt: cannot listen on ${where}: EADDRNOTAVAIL`);
    // The capture had started in its worker: it was stopped cleanly, with its summary.
    expect(err).toMatch(/packets\s+\d+/);
    expect(existsSync(join(tmp, 'listen.db'))).toBe(true);
  });
});
