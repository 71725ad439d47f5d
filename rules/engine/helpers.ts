import type { ZoneInfo } from '../policy/compiled.js';
import type { AlertSubject, FlowBoundEvent, RuleContext, RuleFinding, Severity } from './types.js';

/** The zones of an event's two endpoints. */
export function zonesOf(ctx: RuleContext, e: FlowBoundEvent): { src: ZoneInfo; dst: ZoneInfo } {
  const f = e.flow;
  return { src: ctx.zoneOf(f.src_ip, f.vlan), dst: ctx.zoneOf(f.dst_ip, f.vlan) };
}

export function subjectOf(e: FlowBoundEvent, z: { src: ZoneInfo; dst: ZoneInfo }, device?: string): AlertSubject {
  const s: AlertSubject = { src_ip: e.flow.src_ip, dst_ip: e.flow.dst_ip, zone_src: z.src.name, zone_dst: z.dst.name };
  if (device) s.device_id = device;
  return s;
}

/** The protocol facts every finding about a flow carries. */
export function flowEvidence(e: FlowBoundEvent): Record<string, unknown> {
  const f = e.flow;
  return { flow_id: f.id, app: f.app, proto: f.proto, src_port: f.src_port, dst_port: f.dst_port, vlan: f.vlan };
}

/**
 * A finding about a flow whose evidence is put together only when someone reads it: a busy
 * link raises the same finding thousands of times, and the alert keeps only the latest.
 */
class FlowFinding implements RuleFinding {
  severity?: Severity;
  private built: Record<string, unknown> | null = null;
  constructor(
    readonly subject: AlertSubject,
    private readonly event: FlowBoundEvent,
    private readonly extra: Record<string, unknown>,
    readonly ts: string,
    severity: Severity | undefined,
  ) {
    if (severity) this.severity = severity;
  }
  get evidence(): Record<string, unknown> {
    return (this.built ??= { ...flowEvidence(this.event), ...this.extra });
  }
}

export function finding(e: FlowBoundEvent, z: { src: ZoneInfo; dst: ZoneInfo }, evidence: Record<string, unknown>, severity?: Severity): RuleFinding {
  return new FlowFinding(subjectOf(e, z), e, evidence, e.ts, severity);
}

export function isExternal(z: ZoneInfo): boolean {
  return z.kind === 'external';
}

export function isMedical(z: ZoneInfo): boolean {
  return z.kind === 'medical';
}

/**
 * How far patient data travelled: within its zone (low), to another zone the policy allows
 * (medium), to a zone it does not allow or to an unzoned address (high), across networks the
 * hospital does not control (critical).
 */
export function reachSeverity(ctx: RuleContext, e: FlowBoundEvent, z: { src: ZoneInfo; dst: ZoneInfo }): Severity {
  if (isExternal(z.src) || isExternal(z.dst)) return 'critical';
  if (z.src.name === z.dst.name) return 'low';
  const f = e.flow;
  const allowed = ctx.policy.allowedFlow({ srcIp: f.src_ip, dstIp: f.dst_ip, srcZone: z.src, dstZone: z.dst, app: f.app, dstPort: f.dst_port, encrypted: false });
  return allowed ? 'medium' : 'high';
}

/** Counts events per key in a sliding window (bursts of rejections, aborts…), bounded in keys. */
export class BurstCounter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Records one event at `ts` and returns how many fell inside the window. */
  add(key: string, ts: string): number {
    const t = Date.parse(ts);
    let list = this.hits.get(key);
    if (!list) {
      if (this.hits.size >= this.maxKeys) this.hits.delete(this.hits.keys().next().value as string);
      list = [];
      this.hits.set(key, list);
    }
    list.push(t);
    while (list.length > 0 && t - list[0] > this.windowMs) list.shift();
    if (list.length > 1000) list.splice(0, list.length - 1000);
    return list.length;
  }
}
