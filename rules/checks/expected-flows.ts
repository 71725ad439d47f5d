import { EVENT_TYPES } from '../../protocols/events/event-types.js';
import type { EventType } from '../../protocols/events/index.js';
import type { ExpectedFlowRule } from '../policy/compiled.js';
import { defineRule, type Rule, type RuleContext, type RuleEvent, type RuleFinding } from '../engine/types.js';

/** Every event that tells the capture's time; the sensor's own reports carry wall-clock time, not capture time. */
const CLOCK_EVENTS = EVENT_TYPES.filter((t): t is Exclude<EventType, 'stats' | 'capture.error'> => t !== 'stats' && t !== 'capture.error');
/** Flows whose match against the expected flows is remembered (events of one flow repeat). */
const MAX_REMEMBERED_FLOWS = 4096;
/**
 * Applications whose analyzers tell whether the server answered (an association accepted or
 * refused, an HL7 acknowledgement): the client's own bytes name the app, so the connection
 * alone says nothing of a PACS or HL7 engine that has stopped answering.
 */
const JUDGED_BY_APP: ReadonlySet<string> = new Set(['dicom', 'hl7']);
/** UDP applications whose server never answers: the client sending is the flow. */
const ONE_WAY_UDP: ReadonlySet<string> = new Set(['syslog']);

/**
 * Whether the event shows the server side serving the flow. A connection the server never
 * accepted (an unanswered SYN, a refusal by RST, a datagram with no reply) is an attempt, not
 * the flow: a server that stops answering must not keep its expected flow alive.
 */
function served(e: RuleEvent): boolean {
  switch (e.type) {
    case 'flow':
      if (JUDGED_BY_APP.has(e.app)) return false;
      if (e.flow.proto === 'udp') return e.pkts_toclient > 0 || ONE_WAY_UDP.has(e.app);
      // TCP: the handshake completed, so the server's side accepted the connection.
      return e.state !== 'new' && e.pkts_toclient > 0;
    case 'dicom.association':
      // Incomplete: the request met silence. An abort is an answer when the server sent it or had
      // accepted the association first (a client giving up on a silent server aborts too).
      if (e.result === 'incomplete') return false;
      if (e.result === 'aborted') return e.abort?.direction === 'to_client' || e.presentation_contexts.some((c) => c.result !== undefined);
      return true;
    case 'hl7.message':
      return e.direction === 'to_client' || e.ack_code !== undefined;
    case 'hl7.undelivered':
      return false;
    default:
      // Anything else an analyzer read came inside a connection the server had accepted.
      return true;
  }
}

/** An event that closes the question for its connection: the connection ended, or a request in it went unanswered. */
function verdict(e: RuleEvent): boolean {
  return e.type === 'flow' || e.type === 'dicom.association' || e.type === 'hl7.undelivered';
}

/** What is remembered of one flow: the expected flows it matches, whether its server ever answered, whether it was counted as an attempt. */
interface FlowMemo {
  hit: number[];
  served: boolean;
  counted: boolean;
}

function subjectOf(ctx: RuleContext, x: ExpectedFlowRule) {
  const zone = (ep: ExpectedFlowRule['from'], text: string) => (ep === 'any' ? 'any' : 'name' in ep ? ep.name : ctx.zoneOf(text.split('/')[0]).name);
  return { src_ip: x.fromText, dst_ip: x.toText, zone_src: zone(x.from, x.fromText), zone_dst: zone(x.to, x.toText), device_id: `expected-flow:${x.name}` };
}

/**
 * A flow the policy declares must be seen (expected_flows: a backup, log forwarding, an HL7
 * feed, time sync) has been silent longer than its `max_silence_s`, in capture time, so a
 * capture analysed later is judged as it was recorded. Silence counts from the last time the
 * flow was seen, or from the first packet of the capture when it has not been seen at all. A
 * flow is seen when the server side answers (see `served`): one of its connections ends after
 * the server accepted it, or an analyzer reports an answer (a DICOM association the server
 * accepted or refused, an HL7 acknowledgement, a syslog record…). Connections the server left
 * unanswered are counted as attempts, so the alert can say the clients kept trying: the server
 * went silent, not the clients. Seeing the flow again resolves the alert.
 */
export const expectedFlowMissing = defineRule({
  id: 'expected-flow-missing',
  title: { nb: 'Forventet trafikk mangler', en: 'Expected flow missing' },
  recommendation: {
    nb: 'En flyt policyen sier skal finnes (sikkerhetskopi, logging, HL7-strøm, tidssynkronisering) er ikke sett innen avtalt tid. Har klientene koblet til uten å få svar (unanswered_attempts i bevisene), er det serveren som har sluttet å svare. Manglende sikkerhetskopi, manglende hendelsesregistrering og manglende tilgjengelighet ved nedetid på sentral infrastruktur er blant MU-veilederens eksempler på uønskede hendelser, og leverandørveilederen sier at logging med varsling når en melding ikke kommer fram til mottakeren, bør vurderes. Finn ut om tjenesten eller nettet har stoppet, og få flyten i gang igjen.',
    en: 'A flow the policy says must exist (backup, logging, an HL7 feed, time sync) has not been seen within the agreed time. If clients connected and got no answer (unanswered_attempts in the evidence), it is the server that has stopped answering. Missing backup, missing event logging and unavailability while central infrastructure is down are among the MU guide’s examples of unwanted events, and the supplier guide says logging with an alert when a message does not reach its recipient should be considered. Find out whether the service or the network has stopped, and get the flow going again.',
  },
  severity: 'medium',
  guide_refs: ['MU annex #7', 'MU annex #9', 'MU annex #11', 'LEV 6.4'],
  requirements: ['G14'],
  events: CLOCK_EVENTS,
  create: (ctx) => {
    const expected = ctx.policy.expectedFlows;
    if (expected.length === 0) return () => null;
    const lastSeen: (number | null)[] = expected.map(() => null);
    const missing: boolean[] = expected.map(() => false);
    // Connections to it since it was last served, and when the last of them ended.
    const attempts: number[] = expected.map(() => 0);
    const lastAttempt: (number | null)[] = expected.map(() => null);
    const matches = new Map<string, FlowMemo>();
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
        let memo = matches.get(f.id);
        if (memo === undefined || e.type === 'flow') {
          const src = ctx.zoneOf(f.src_ip, f.vlan);
          const dst = ctx.zoneOf(f.dst_ip, f.vlan);
          const hit: number[] = [];
          for (let i = 0; i < expected.length; i++) {
            if (ctx.policy.matchesExpected(i, { srcIp: f.src_ip, dstIp: f.dst_ip, srcZone: src, dstZone: dst, app: f.app, dstPort: f.dst_port })) hit.push(i);
          }
          memo = { hit, served: memo?.served ?? false, counted: memo?.counted ?? false };
          // The end of a flow is its last event: nothing to remember it for.
          if (e.type === 'flow') matches.delete(f.id);
          else {
            if (matches.size >= MAX_REMEMBERED_FLOWS) matches.clear();
            matches.set(f.id, memo);
          }
        }
        if (memo.hit.length > 0) {
          if (Number.isNaN(ms)) ms = Date.parse(e.ts);
          // Each event is judged on its own: an HL7 engine that acknowledged the first messages
          // of a long connection and then went quiet is not kept alive by its early answers.
          const answered = served(e);
          if (answered) memo.served = true;
          // The connection ended, or a request in it went unanswered, without an answer from the
          // server: an attempt, not the flow; counted once per connection. The end of a DICOM or
          // HL7 connection the server did answer is neither.
          const attempt = !answered && !memo.counted && verdict(e) && !(e.type === 'flow' && memo.served);
          if (attempt) memo.counted = true;
          for (const i of memo.hit) {
            if (!answered) {
              if (attempt) {
                attempts[i]++;
                if (Number.isFinite(ms)) lastAttempt[i] = Math.max(lastAttempt[i] ?? ms, ms);
              }
              continue;
            }
            if (Number.isFinite(ms)) lastSeen[i] = Math.max(lastSeen[i] ?? ms, ms);
            attempts[i] = 0;
            lastAttempt[i] = null;
            if (missing[i]) {
              missing[i] = false;
              out.push({ subject: subjectOf(ctx, expected[i]), evidence: { expected_flow: expected[i].name, seen_again: e.ts }, ts: e.ts, resolves: true });
            }
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
              // Clients kept connecting and the server did not answer: the server side went silent.
              unanswered_attempts: attempts[i],
              last_attempt: lastAttempt[i] === null ? undefined : new Date(lastAttempt[i]!).toISOString(),
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
