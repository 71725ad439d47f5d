import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleEngine, type EngineFinding, type RuleEvent } from '../../rules/index.js';
import { CompiledPolicy } from '../../rules/policy/index.js';
import { baselineOf, baselineRules, BaselineState, dumpBaseline, loadBaseline, type BaselineOptions } from '../../rules/checks/baseline.js';
import { analyzeFiles } from '../support/analyze.js';
import { eth, ipv4, tcp } from '../support/packet-builder.js';
import { writePcap } from '../support/pcap-writer.js';
import { examplePolicy } from '../support/rules.js';

const B = (f: string) => join(import.meta.dirname, '../../fixtures/baseline', f);
const IDS = baselineRules.map((r) => r.id);
/** Learning ends 120 s after the first event (learn.pcap spans 113 s); silence floor 10 min. */
const OPTS: Partial<BaselineOptions> = { learning_s: 120, silent_floor_s: 600 };

function policy(opts: Partial<BaselineOptions> = OPTS): CompiledPolicy {
  return new CompiledPolicy({ ...examplePolicy().policy, baseline: opts } as CompiledPolicy['policy']);
}

async function run(files: string[], opts = OPTS, engineHook?: (e: RuleEngine) => void): Promise<{ found: EngineFinding[]; engine: RuleEngine }> {
  const found: EngineFinding[] = [];
  const engine = new RuleEngine(policy(opts), baselineRules, (f) => found.push(f));
  engineHook?.(engine);
  for (const f of files) {
    // One analysis per file, one engine: as a sensor that keeps running across captures.
    const { events } = await analyzeFiles([f]);
    for (const e of events) engine.evaluate(e as RuleEvent);
  }
  expect(Object.fromEntries(engine.errors)).toEqual({});
  return { found, engine };
}

const ids = (fs: EngineFinding[]) => fs.map((f) => f.rule.id).sort();

/** A SYN sweep from CT_SCANNER01 (its address and MAC) over 30 ports of the PACS, none answered. */
function scanPcap(startSec: number): string {
  const frames = [];
  for (let i = 0; i < 30; i++) {
    const data = eth(ipv4('10.77.10.21', '10.77.20.10', 6, tcp({ sport: 40000 + i, dport: 1 + i * 7, seq: 1000 + i, flags: 'S' })), 0x0800, { src: '02:77:0a:00:00:15', dst: '02:77:14:00:00:0a' });
    frames.push({ sec: startSec + Math.floor(i / 10), nsec: i * 1000, data, origLen: data.length });
  }
  const dir = mkdtempSync(join(tmpdir(), 'muvakt-baseline-'));
  const p = join(dir, 'scan.pcap');
  writeFileSync(p, writePcap(frames, 1));
  return p;
}
const T0 = Date.parse('2026-11-23T13:38:41Z') / 1000;

describe('baseline and change', () => {
  it('the learning capture alone raises nothing', async () => {
    expect(ids((await run([B('learn.pcap')])).found)).toEqual([]);
  });

  it('replaying the learning capture raises none of the baseline alerts', async () => {
    expect(ids((await run([B('learn.pcap'), B('replay_same.pcap')])).found)).toEqual([]);
  });

  const cases: [string, string, Record<string, unknown>][] = [
    ['replay_new_device.pcap', 'baseline-new-device', { device: 'mac:02:77:0a:00:00:3c', device_ip: '10.77.10.60' }],
    ['replay_new_peer.pcap', 'baseline-new-peer', { peer_ip: '10.77.20.11', peer_app: 'dicom', service_port: 104, direction: 'outgoing' }],
    ['replay_ae_spoofing.pcap', 'dicom-ae-spoofing', { ae_title: 'CT_SCANNER01', role: 'calling', seen_from: '10.77.10.23', learned_ips: ['10.77.10.21'] }],
    ['replay_silent.pcap', 'device-silent', { device: 'mac:02:77:0a:00:00:17', device_ips: ['10.77.10.23'] }],
  ];
  for (const [file, rule, evidence] of cases) {
    it(`${file} raises exactly ${rule}`, async () => {
      const { found } = await run([B('learn.pcap'), B(file)]);
      expect(ids(found)).toEqual([rule]);
      expect(found[0]!.evidence).toMatchObject(evidence);
    });
  }

  it('a SYN sweep from a medical device raises only medical-fan-out, after and during learning', async () => {
    const after = await run([B('learn.pcap'), scanPcap(T0 + 300)]);
    expect(ids(after.found)).toEqual(['medical-fan-out']);
    expect(after.found[0]!.evidence).toMatchObject({ device_ip: '10.77.10.21', distinct_destinations: 20, distinct_hosts: 1 });
    const during = await run([scanPcap(T0)]);
    expect(ids(during.found)).toEqual(['medical-fan-out']);
  });

  it('the baseline persists: a restarted engine with the stored baseline still knows the devices', async () => {
    const { engine } = await run([B('learn.pcap')]);
    const json = dumpBaseline(engine.ctx);
    const st = BaselineState.fromJSON(json);
    expect(st.devices.size).toBe(2);
    expect([...st.aeOwners.keys()]).toContain('calling|CT_SCANNER01');
    expect(JSON.stringify(st.toJSON())).toBe(json);
    // New process: load the baseline, then only the replays (learning already over).
    const restarted = await run([B('replay_ae_spoofing.pcap')], OPTS, (e) => loadBaseline(e.ctx, json));
    expect(ids(restarted.found)).toEqual(['dicom-ae-spoofing']);
    const same = await run([B('replay_same.pcap')], OPTS, (e) => loadBaseline(e.ctx, json));
    expect(ids(same.found)).toEqual([]);
    expect(baselineOf(same.engine.ctx).learnUntil).toBe(st.learnUntil);
  });

  it('is bounded', () => {
    const st = new BaselineState({ max_devices: 3, learning_s: 10 });
    st.tick(0);
    for (let i = 0; i < 10; i++) st.activity(`ip:10.0.0.${i}`, `10.0.0.${i}`, i, i);
    expect(st.devices.size).toBe(3);
    expect(st.dropped.devices).toBe(7);
  });
});
