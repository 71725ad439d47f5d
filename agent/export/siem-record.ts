/**
 * The facts about an alert that go to a SIEM, in every format (RFC 5424, CEF, ECS): the same
 * PHI-free content the store and the API hold, built from a whitelist. From the evidence only
 * the flow's own facts are taken (flow id, transport, application, ports), each checked for
 * its shape: an AE title, a host name or any other evidence value never leaves this way.
 */
import type { Alert, Severity } from '../store/index.js';

/** The forms alerts take on the way to a SIEM (docs/alerts.md). */
export type SiemFormat = 'rfc5424' | 'cef' | 'ecs';
export const SIEM_FORMATS: readonly SiemFormat[] = ['rfc5424', 'cef', 'ecs'];

/** Why an alert is sent: it is new, or it came back after being resolved. */
export type AlertChange = 'new' | 'reopened';

export interface SiemRecord {
  id: string;
  rule: string;
  /** The English title of the rule. */
  title: string;
  severity: Severity;
  status: string;
  change: AlertChange;
  src: string;
  dst: string;
  zone_src: string;
  zone_dst: string;
  src_port?: number;
  dst_port?: number;
  /** Transport: tcp or udp. */
  proto?: string;
  /** Application protocol as muvakt names it (dicom, hl7, https, rdp, …). */
  app?: string;
  flow_id?: string;
  guide_refs: string[];
  first_seen: string;
  last_seen: string;
  count: number;
  /**
   * The sensor that sent it (--sensor, FormatOptions.sensor). Absent where no name is set; the
   * formats then fall back to the host name.
   */
  sensor?: string;
}

const APP = /^[a-z0-9][a-z0-9_.+-]{0,31}$/i;
const FLOW_ID = /^[0-9a-f]{8,32}$/i;
const PROTO = /^(tcp|udp|icmp|sctp)$/;

function port(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
}

function text(v: unknown, re: RegExp): string | undefined {
  return typeof v === 'string' && re.test(v) ? v : undefined;
}

/** The whitelisted SIEM facts of one alert. */
export function siemRecord(a: Alert, change: AlertChange, sensor?: string): SiemRecord {
  const s = a.subject;
  const ev = (a.evidence ?? {}) as Record<string, unknown>;
  const r: SiemRecord = {
    id: String(a.id),
    rule: String(a.rule_id),
    title: String(a.title),
    severity: a.severity,
    status: String(a.status),
    change,
    src: String(s.src_ip),
    dst: String(s.dst_ip),
    zone_src: String(s.zone_src),
    zone_dst: String(s.zone_dst),
    guide_refs: Array.isArray(a.guide_refs) ? a.guide_refs.map(String) : [],
    first_seen: String(a.first_seen),
    last_seen: String(a.last_seen),
    count: Number(a.count),
  };
  const sp = port(ev.src_port);
  const dp = port(ev.dst_port) ?? port(ev.service_port);
  const proto = text(ev.proto, PROTO);
  const app = text(ev.app, APP) ?? text(ev.peer_app, APP);
  const flow = text(ev.flow_id, FLOW_ID);
  if (sp !== undefined) r.src_port = sp;
  if (dp !== undefined) r.dst_port = dp;
  if (proto !== undefined) r.proto = proto;
  if (app !== undefined) r.app = app;
  if (flow !== undefined) r.flow_id = flow;
  if (sensor !== undefined && sensor !== '') r.sensor = sensor;
  return r;
}

/**
 * RFC 5424 limits MSGID to 32 printable characters. A rule id that fits is its own MSGID; the
 * longer ones have a fixed abbreviation here (documented in docs/alerts.md, and the full rule id
 * is always in the `rule` SD-PARAM). A rule id that is longer and not listed (a future rule)
 * keeps its first 23 characters, "~" and 8 hex digits of a hash of the whole id — stable, and
 * the `rule` SD-PARAM says which rule it was. The unit tests hold every shipped rule to a
 * unique MSGID that maps back to it.
 */
export const MSGID_ABBREVIATIONS: Readonly<Record<string, string>> = {
  'dicom-user-identity-cleartext-password': 'dicom-user-identity-cleartext-pw',
  'vendor-onward-session-outside-window': 'vendor-onward-outside-window',
};

export const MSGID_MAX = 32;

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function msgidOf(ruleId: string): string {
  const id = ruleId.replace(/[^\x21-\x7e]/g, '');
  if (id === '') return '-';
  const abbr = MSGID_ABBREVIATIONS[id];
  if (abbr !== undefined) return abbr;
  return id.length <= MSGID_MAX ? id : `${id.slice(0, 23)}~${fnv1a(id)}`;
}

/** The rule id of a MSGID, given the rule ids one knows (a SIEM's lookup table does the same). */
export function ruleOfMsgid(msgid: string, ruleIds: Iterable<string>): string | undefined {
  for (const id of ruleIds) if (msgidOf(id) === msgid) return id;
  return undefined;
}

/** ms since the epoch of an ISO time, or undefined. */
export function epochMs(iso: string): number | undefined {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
