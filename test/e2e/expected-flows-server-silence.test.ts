/**
 * Server-side silence of an expected flow, from real peers: DCMTK's storescp is the PACS in one
 * network namespace, echoscu the modality in the other, tcpdump captures the veth. In one capture
 * the PACS answers every association; in the other it answers twice, then hangs (SIGSTOP: the
 * kernel still accepts the connections, the association requests meet silence), then dies (the
 * next connections are refused by RST) while the modality keeps trying. `muvakt analyze` under a
 * policy that expects the images flow every 2 s of capture time must raise expected-flow-missing
 * with the unanswered attempts for the second capture only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsPair } from '../support/netns.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const PORT = '104';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Alert {
  rule_id: string;
  evidence: Record<string, unknown>;
}

describe('expected flows: a PACS that stops answering, from real DCMTK peers', () => {
  const pair = new NetnsPair('silent');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-server-silence-'));
  const policy = join(tmp, 'policy.yaml');

  /** One C-ECHO from the modality; a refused or timed-out association is an answer too (false). */
  const echo = () => spawnSync('ip', ['netns', 'exec', pair.a, 'echoscu', '-to', '1', '-ta', '1', '-aet', 'MODALITY', '-aec', 'PACS', pair.ipB, PORT], { stdio: 'ignore' }).status === 0;

  async function record(name: string, scenario: (pacs: number) => Promise<void>): Promise<string> {
    const scp = pair.spawn(pair.b, 'storescp', ['-aet', 'PACS', PORT]);
    await pair.waitForListener(pair.b, Number(PORT));
    const file = join(tmp, `${name}.pcap`);
    const stop = await pair.capture(file, ['tcp', 'port', PORT]);
    await scenario(scp.pid!);
    await stop();
    scp.kill('SIGKILL');
    await new Promise((r) => (scp.exitCode !== null || scp.signalCode !== null ? r(null) : scp.once('exit', r)));
    return file;
  }

  function alerts(pcap: string): Alert[] {
    const out = join(tmp, `${pcap.split('/').pop()}.alerts.ndjson`);
    const r = spawnSync(process.execPath, [CLI, 'analyze', pcap, '--policy', policy, '--alerts', out, '--quiet'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert).filter((a) => a.rule_id === 'expected-flow-missing');
  }

  let answered = '';
  let silenced = '';
  beforeAll(async () => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    for (const bin of ['storescp', 'echoscu']) {
      if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`${bin} is missing: .ci/run installs dcmtk`);
    }
    writeFileSync(
      policy,
      `site: Server silence
zones:
  - {name: MU, kind: medical, cidrs: ["${pair.ipA}/32"]}
  - {name: PACS, kind: server, cidrs: ["${pair.ipB}/32"]}
allowed_flows:
  - {from: MU, to: PACS, apps: [dicom]}
expected_flows:
  - {name: Images to PACS, from: MU, to: PACS, apps: [dicom], ports: [${PORT}], max_silence_s: 2}
`,
    );
    pair.create();
    // The PACS answers an echo every half second for about 4.5 s.
    answered = await record('answered', async () => {
      for (let i = 0; i < 9; i++) {
        expect(echo()).toBe(true);
        await sleep(500);
      }
    });
    // Two answered echoes, then a hung PACS (three requests time out after 1 s each), then none
    // at all (two connections refused): about 5 s, the last answer near the start.
    silenced = await record('silenced', async (pacs) => {
      expect(echo()).toBe(true);
      await sleep(300);
      expect(echo()).toBe(true);
      process.kill(pacs, 'SIGSTOP');
      for (let i = 0; i < 3; i++) expect(echo()).toBe(false);
      process.kill(pacs, 'SIGKILL');
      await sleep(200);
      for (let i = 0; i < 2; i++) {
        expect(echo()).toBe(false);
        await sleep(400);
      }
    });
  }, 60_000);
  afterAll(() => {
    pair.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a PACS that keeps answering keeps the expected flow alive: no alert', () => {
    expect(alerts(answered)).toEqual([]);
  });

  it('a PACS that hangs, then refuses, raises expected-flow-missing with the attempts it left unanswered', () => {
    const found = alerts(silenced);
    expect(found).toHaveLength(1);
    const ev = found[0].evidence;
    expect(ev).toMatchObject({ expected_flow: 'Images to PACS', never_seen: false, max_silence_s: 2 });
    // The hung association requests (and the refused connections, when they ended before the
    // alert was raised) are attempts: the clients kept trying, the server went silent.
    expect(ev.unanswered_attempts as number).toBeGreaterThanOrEqual(1);
    expect(Date.parse(String(ev.last_attempt))).toBeGreaterThan(Date.parse(String(ev.last_seen)));
  });
});
