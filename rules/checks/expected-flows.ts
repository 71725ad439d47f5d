import { EVENT_TYPES, type EventType } from '../../protocols/events/index.js';
import type { ExpectedFlowRule } from '../policy/compiled.js';
import { defineRule, type Rule, type RuleContext, type RuleFinding } from '../engine/types.js';

/** Every event that tells the capture's time; the sensor's own reports carry wall-clock time, not capture time. */
const CLOCK_EVENTS = EVENT_TYPES.filter((t): t is Exclude<EventType, 'stats' | 'capture.error'> => t !== 'stats' && t !== 'capture.error');
/** Flows whose match against the expected flows is remembered (events of one flow repeat). */
const MAX_REMEMBERED_FLOWS = 4096;

function subjectOf(ctx: RuleContext, x: ExpectedFlowRule) {
  const zone = (ep: ExpectedFlowRule['from'], text: string) => (ep === 'any' ? 'any' : 'name' in ep ? ep.name : ctx.zoneOf(text.split('/')[0]).name);
  return { src_ip: x.fromText, dst_ip: x.toText, zone_src: zone(x.from, x.fromText), zone_dst: zone(x.to, x.toText), device_id: `expected-flow:${x.name}` };
}

/**
 * A flow the policy declares must be seen (expected_flows: a backup, log forwarding, an HL7
 * feed, time sync) has been silent longer than its `max_silence_s`, in capture time, so a
 * capture analysed later is judged as it was recorded. Silence counts from the last time the
 * flow was seen, or from the first packet of the capture when it has not been seen at all. A
 * flow is seen when one of its connections ends or an analyzer reports on it (an HL7 message,
 * a DICOM association, a syslog record…). Seeing it again resolves the alert.
 */
export const expectedFlowMissing = defineRule({
  id: 'expected-flow-missing',
  title: { nb: 'Forventet trafikk mangler', en: 'Expected flow missing' },
  recommendation: {
    nb: 'En flyt policyen sier skal finnes (sikkerhetskopi, logging, HL7-strøm, tidssynkronisering) er ikke sett innen avtalt tid. Manglende sikkerhetskopi, manglende hendelsesregistrering og nedetid på sentral infrastruktur er uønskede hendelser for medisinsk utstyr. Finn ut om tjenesten eller nettet har stoppet, og få flyten i gang igjen.',
    en: 'A flow the policy says must exist (backup, logging, an HL7 feed, time sync) has not been seen within the agreed time. Missing backup, missing event logging and downtime of central infrastructure are undesired events for medical devices. Find out whether the service or the network has stopped, and get the flow going again.',
  },
  severity: 'medium',
  guide_refs: ['MU annex #7', 'MU annex #9', 'MU annex #11'],
  requirements: ['G14'],
  events: CLOCK_EVENTS,
  create: (ctx) => {
    const expected = ctx.policy.expectedFlows;
    if (expected.length === 0) return () => null;
    const lastSeen: (number | null)[] = expected.map(() => null);
    const missing: boolean[] = expected.map(() => false);
    const matches = new Map<string, number[]>();
    let startMs = -1;
    let nowMs = -1;
    let checkedSecond = '';
    return (e): RuleFinding[] | null => {
      const out: RuleFinding[] = [];
      // The clock moves once per capture second: the silence check costs nothing per packet-rate event.
      const second = e.ts.slice(0, 19);
      let ms = Number.NaN;
      let tick = false;
      if (second !== checkedSecond) {
        ms = Date.parse(e.ts);
        if (Number.isFinite(ms)) {
          checkedSecond = second;
          if (startMs < 0) startMs = ms;
          if (ms > nowMs) nowMs = ms;
          tick = true;
        }
      }
      const f = 'flow' in e ? e.flow : undefined;
      if (f !== undefined) {
        let hit = matches.get(f.id);
        if (hit === undefined || e.type === 'flow') {
          const src = ctx.zoneOf(f.src_ip, f.vlan);
          const dst = ctx.zoneOf(f.dst_ip, f.vlan);
          hit = [];
          for (let i = 0; i < expected.length; i++) {
            if (ctx.policy.matchesExpected(i, { srcIp: f.src_ip, dstIp: f.dst_ip, srcZone: src, dstZone: dst, app: f.app, dstPort: f.dst_port })) hit.push(i);
          }
          // The end of a flow is its last event: nothing to remember it for.
          if (e.type === 'flow') matches.delete(f.id);
          else {
            if (matches.size >= MAX_REMEMBERED_FLOWS) matches.clear();
            matches.set(f.id, hit);
          }
        }
        if (hit.length > 0 && Number.isNaN(ms)) ms = Date.parse(e.ts);
        for (const i of hit) {
          if (Number.isFinite(ms)) lastSeen[i] = Math.max(lastSeen[i] ?? ms, ms);
          if (missing[i]) {
            missing[i] = false;
            out.push({ subject: subjectOf(ctx, expected[i]), evidence: { expected_flow: expected[i].name, seen_again: e.ts }, ts: e.ts, resolves: true });
          }
        }
      }
      if (tick) {
        for (let i = 0; i < expected.length; i++) {
          if (missing[i]) continue;
          const since = lastSeen[i] ?? startMs;
          const silentMs = nowMs - since;
          if (silentMs <= expected[i].maxSilenceMs) continue;
          missing[i] = true;
          const x = expected[i];
          out.push({
            subject: subjectOf(ctx, x),
            evidence: {
              expected_flow: x.name,
              apps: x.apps ? [...x.apps] : undefined,
              ports: x.ports ? [...x.ports] : undefined,
              max_silence_s: x.maxSilenceMs / 1000,
              silent_s: Math.floor(silentMs / 1000),
              last_seen: lastSeen[i] === null ? null : new Date(lastSeen[i]!).toISOString(),
              never_seen: lastSeen[i] === null,
            },
            ts: new Date(nowMs).toISOString(),
          });
        }
      }
      return out.length > 0 ? out : null;
    };
  },
});

export const expectedFlowRules: Rule[] = [expectedFlowMissing];
