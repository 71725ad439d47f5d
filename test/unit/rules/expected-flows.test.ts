import { describe, expect, it } from 'vitest';
import { AlertingSink } from '../../../agent/alerts.js';
import { SqliteStore } from '../../../agent/store/index.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { expectedFlowMissing } from '../../../rules/checks/expected-flows.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';
import { MemorySink } from '../../support/memory-sink.js';

const POLICY = `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: servers, kind: server, cidrs: [10.77.20.0/24]}
expected_flows:
  - {name: Time sync, from: mu, to: 10.77.20.5, apps: [ntp], max_silence_s: 600}
  - {name: Backup, from: servers, to: 10.77.20.9/32, ports: [445], max_silence_s: 3600}
`;

function policy(yaml = POLICY): CompiledPolicy {
  const r = parsePolicy(yaml, 'site.yaml');
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

const T0 = Date.parse('2026-01-05T08:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('Z', '000Z');
let n = 0;
/** The end of a flow at `s` seconds after T0. */
function flow(s: number, src: string, dst: string, app: string, dport: number): RuleEvent {
  return {
    ts: at(s),
    type: 'flow',
    flow: { id: `f${++n}`, vlan: [], src_ip: src, src_port: 40000, dst_ip: dst, dst_port: dport, proto: app === 'ntp' ? 'udp' : 'tcp', app },
    app,
    state: 'closed',
    reason: 'closed',
    pkts_toserver: 1,
    pkts_toclient: 1,
    bytes_toserver: 90,
    bytes_toclient: 90,
    start: at(s),
    end: at(s),
    encrypted: false,
    ip_version: 4,
  } as RuleEvent;
}
const ntp = (s: number) => flow(s, '10.77.10.21', '10.77.20.5', 'ntp', 123);
const other = (s: number) => flow(s, '10.77.10.21', '10.77.20.7', 'dicom', 104);

describe('expected-flow-missing', () => {
  it('raises once when an expected flow is silent past its limit in capture time, and says when it is seen again', () => {
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(), ALL_RULES, (f) => found.push(f));
    const mine = () => found.filter((f) => f.rule.id === 'expected-flow-missing');
    engine.evaluate(ntp(0));
    engine.evaluate(other(300));
    engine.evaluate(other(600)); // exactly the limit: not yet
    expect(mine()).toEqual([]);
    engine.evaluate(other(601));
    expect(mine()).toHaveLength(1);
    expect(mine()[0].subject).toEqual({ src_ip: 'mu', dst_ip: '10.77.20.5', zone_src: 'mu', zone_dst: 'servers', device_id: 'expected-flow:Time sync' });
    expect(mine()[0].evidence).toMatchObject({ expected_flow: 'Time sync', max_silence_s: 600, silent_s: 601, never_seen: false, apps: ['ntp'] });
    expect(mine()[0].resolves).toBeUndefined();
    engine.evaluate(other(900));
    expect(mine()).toHaveLength(1); // one alert per silence, not one per event
    engine.evaluate(ntp(1000));
    expect(mine()).toHaveLength(2);
    expect(mine()[1]).toMatchObject({ resolves: true, subject: mine()[0].subject, ts: at(1000) });
    expect(engine.findings.get('expected-flow-missing')).toBe(1); // a resolution is not a finding
    // The backup, never seen: counted from the first event, raised after its hour.
    const backup = () => mine().filter((f) => f.evidence.expected_flow === 'Backup');
    engine.evaluate(other(3600));
    expect(backup()).toEqual([]);
    engine.evaluate(other(3601));
    expect(backup()).toHaveLength(1);
    expect(backup()[0].evidence).toMatchObject({ never_seen: true, last_seen: null, ports: [445] });
    expect(backup()[0].subject).toMatchObject({ src_ip: 'servers', dst_ip: '10.77.20.9/32', zone_dst: 'servers' });
  });

  it('is judged on capture time only: the sensor’s own reports and a capture shorter than the limit raise nothing', () => {
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(), ALL_RULES, (f) => found.push(f));
    engine.evaluate(other(0));
    engine.evaluate({ ts: '2030-01-01T00:00:00.000000Z', type: 'capture.error', source: 'x.pcap', reason: 'truncated' } as RuleEvent);
    engine.evaluate(other(500));
    expect(found.filter((f) => f.rule.id === 'expected-flow-missing')).toEqual([]);
  });

  it('the policy refuses unknown zones and apps and a name used twice, located', () => {
    const r = parsePolicy(
      `site: T
zones: [{name: mu, kind: medical, cidrs: [10.0.0.0/24]}]
expected_flows:
  - {name: A, from: mu, to: nowhere, max_silence_s: 60}
  - {name: A, from: mu, to: any, apps: [ntpp], max_silence_s: 60}
  - {name: B, from: mu, to: any, max_silence_s: 0}
`,
      'site.yaml',
    );
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors.map(String).join('\n');
    expect(errors).toMatch(/expected_flows\[0\]\.to: unknown zone "nowhere"/);
    expect(errors).toMatch(/expected_flows\[1\]\.apps\[0\]: unknown app "ntpp"/);
    expect(errors).toMatch(/expected_flows\[2\]\.max_silence_s/);
  });

  it('through the alerting sink: the alert is stored, and resolved by the sensor when the flow comes back', async () => {
    const store = SqliteStore.open(':memory:', { now: () => T0 });
    const sink = await AlertingSink.create(new MemorySink(), policy(), store);
    sink.write(ntp(0) as never);
    sink.write(other(700) as never);
    sink.flush();
    await sink.writer.flush();
    const open = (await store.listAlerts({ rule_id: 'expected-flow-missing' })).items;
    expect(open.map((a) => [a.status, a.evidence.expected_flow])).toEqual([['open', 'Time sync']]);
    sink.write(ntp(800) as never);
    await sink.finish();
    const a = await store.getAlert(open[0].id);
    expect(a?.status).toBe('resolved');
    expect(a?.history.at(-1)).toMatchObject({ actor: 'muvakt', action: 'resolve' });
    expect(a?.history.at(-1)?.comment).toContain('seen again');
    await store.close();
  });
});

describe('expected-flow-missing: the server side must answer', () => {
  const SILENCE_POLICY = `site: Test
zones:
  - {name: mu, kind: medical, cidrs: [10.77.10.0/24]}
  - {name: servers, kind: server, cidrs: [10.77.20.0/24]}
expected_flows:
  - {name: Images, from: mu, to: 10.77.20.7, apps: [dicom], ports: [104], max_silence_s: 60}
  - {name: Logs, from: mu, to: 10.77.20.5, apps: [syslog], max_silence_s: 60}
  - {name: Time, from: mu, to: 10.77.20.6, apps: [ntp], max_silence_s: 60}
`;
  /** The end of a connection with what came back from the server. */
  const ended = (s: number, dst: string, app: string, dport: number, state: string, toclient: number, proto = 'tcp'): RuleEvent => {
    const e = flow(s, '10.77.10.21', dst, app, dport) as RuleEvent & Record<string, unknown>;
    Object.assign(e, { state, pkts_toclient: toclient, bytes_toclient: toclient * 60 });
    (e.flow as Record<string, unknown>).proto = proto;
    return e;
  };
  /** A DICOM association ending on the flow `id`, as the analyzer reports it. */
  const association = (s: number, id: string, result: string, extra: Record<string, unknown> = {}): RuleEvent =>
    ({ ts: at(s), type: 'dicom.association', flow: { id, vlan: [], src_ip: '10.77.10.21', src_port: 40000, dst_ip: '10.77.20.7', dst_port: 104, proto: 'tcp', app: 'dicom' }, result, presentation_contexts: [], ...extra }) as unknown as RuleEvent;
  const idOf = (e: RuleEvent) => (e as { flow: { id: string } }).flow.id;

  it('unanswered, refused and hung connections are attempts, not the flow; the alert counts them; an answer resolves it', () => {
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(SILENCE_POLICY), [expectedFlowMissing], (f) => found.push(f));
    const of = (name: string) => found.filter((f) => f.evidence.expected_flow === name);
    // 0 s: an association the PACS accepted; the logs (one-way syslog) and time (answered) flow.
    const ok = ended(0, '10.77.20.7', 'dicom', 104, 'closed', 8);
    engine.evaluate(association(0, idOf(ok), 'released'));
    engine.evaluate(ok);
    engine.evaluate(ended(0, '10.77.20.5', 'syslog', 514, 'new', 0, 'udp'));
    engine.evaluate(ended(0, '10.77.20.6', 'ntp', 123, 'established', 1, 'udp'));
    // The PACS stops answering: a SYN left unanswered, a SYN refused by RST (the app is not known
    // yet: the port matches), an association request met by silence on an accepted connection,
    // and one the modality aborts after waiting.
    engine.evaluate(ended(10, '10.77.20.7', 'unknown', 104, 'new', 0));
    engine.evaluate(ended(20, '10.77.20.7', 'unknown', 104, 'new', 1));
    const hung = ended(30, '10.77.20.7', 'dicom', 104, 'closed', 3);
    engine.evaluate(association(30, idOf(hung), 'incomplete'));
    engine.evaluate(hung); // the same connection: counted once
    // The modality gives up on a silent PACS and aborts: its own abort is no answer.
    const gaveUp = ended(35, '10.77.20.7', 'dicom', 104, 'closed', 3);
    engine.evaluate(association(35, idOf(gaveUp), 'aborted', { abort: { source: 0, source_name: 'service-user', reason: 0, reason_name: 'not-specified', direction: 'to_server' } }));
    engine.evaluate(gaveUp);
    // The logs keep coming without a reply (syslog never gets one); a time request goes unanswered.
    engine.evaluate(ended(40, '10.77.20.5', 'syslog', 514, 'new', 0, 'udp'));
    engine.evaluate(ended(45, '10.77.20.6', 'ntp', 123, 'new', 0, 'udp'));
    engine.evaluate(ended(61, '10.77.20.5', 'syslog', 514, 'new', 0, 'udp'));
    expect(of('Logs')).toEqual([]);
    expect(of('Images')).toHaveLength(1);
    expect(of('Images')[0].evidence).toMatchObject({ never_seen: false, last_seen: new Date(T0).toISOString(), unanswered_attempts: 4, last_attempt: new Date(T0 + 35_000).toISOString() });
    expect(of('Time')[0].evidence).toMatchObject({ unanswered_attempts: 1, last_attempt: new Date(T0 + 45_000).toISOString() });
    // The PACS answers again: an accepted association resolves it.
    const back = ended(70, '10.77.20.7', 'dicom', 104, 'closed', 8);
    engine.evaluate(association(70, idOf(back), 'accepted'));
    expect(of('Images').at(-1)).toMatchObject({ resolves: true, ts: at(70) });
  });

  it('an HL7 engine is served by its acknowledgements: messages it leaves unanswered are attempts', () => {
    const yaml = `${SILENCE_POLICY}  - {name: Orders, from: mu, to: 10.77.20.8, apps: [hl7], ports: [2575], max_silence_s: 60}\n`;
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(yaml), [expectedFlowMissing], (f) => found.push(f));
    const orders = () => found.filter((f) => f.evidence.expected_flow === 'Orders');
    const hl7 = (s: number, id: string, type: string, extra: Record<string, unknown>): RuleEvent =>
      ({ ts: at(s), type, flow: { id, vlan: [], src_ip: '10.77.10.21', src_port: 40001, dst_ip: '10.77.20.8', dst_port: 2575, proto: 'tcp', app: 'hl7' }, ...extra }) as unknown as RuleEvent;
    // One long connection: an order acknowledged at 0 s, then two the engine never answers.
    engine.evaluate(hl7(0, 'h1', 'hl7.message', { direction: 'to_server', ack_code: 'AA' }));
    engine.evaluate(hl7(0, 'h1', 'hl7.message', { direction: 'to_client' }));
    engine.evaluate(hl7(20, 'h1', 'hl7.message', { direction: 'to_server' }));
    engine.evaluate(hl7(50, 'h1', 'hl7.undelivered', { direction: 'to_server', reason: 'ack-timeout' }));
    // The connection closes (counted once already); on a new one a message goes unanswered as well.
    const close = ended(55, '10.77.20.8', 'hl7', 2575, 'closed', 2);
    (close as unknown as { flow: { id: string } }).flow.id = 'h1';
    engine.evaluate(close);
    engine.evaluate(hl7(56, 'h3', 'hl7.message', { direction: 'to_server' }));
    engine.evaluate(hl7(61, 'h3', 'hl7.undelivered', { direction: 'to_server', reason: 'ack-timeout' }));
    expect(orders()).toHaveLength(1);
    // The first connection counts once (its unanswered message, not its end), then the second.
    expect(orders()[0].evidence).toMatchObject({ never_seen: false, unanswered_attempts: 2, last_attempt: new Date(T0 + 61_000).toISOString() });
    engine.evaluate(hl7(70, 'h3', 'hl7.message', { direction: 'to_client' }));
    expect(orders().at(-1)).toMatchObject({ resolves: true });
  });

  it('a server that answers every connection raises nothing, however often it is asked', () => {
    const found: EngineFinding[] = [];
    const engine = new RuleEngine(policy(SILENCE_POLICY), [expectedFlowMissing], (f) => found.push(f));
    for (let s = 0; s <= 300; s += 30) {
      const c = ended(s, '10.77.20.7', 'dicom', 104, 'closed', 8);
      engine.evaluate(association(s, idOf(c), 'released'));
      engine.evaluate(c);
      engine.evaluate(ended(s, '10.77.20.5', 'syslog', 514, 'new', 0, 'udp'));
      engine.evaluate(ended(s, '10.77.20.6', 'ntp', 123, 'established', 1, 'udp'));
    }
    expect(found).toEqual([]);
  });
});
