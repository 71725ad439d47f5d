import type { CompiledPolicy, ZoneInfo } from '../policy/compiled.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Text in Norwegian (bokmål) and English. */
export interface Bilingual {
  nb: string;
  en: string;
}

/**
 * The event contract as the rules see it (docs/events.md): structural, so rules do
 * not depend on the agent's modules. Every field an analyzer adds is reachable by name.
 */
export interface RuleEvent {
  ts: string;
  type: string;
  flow?: {
    id: string;
    vlan: number[];
    src_ip: string;
    src_port: number;
    dst_ip: string;
    dst_port: number;
    proto: string;
    app: string;
  };
  [field: string]: unknown;
}

export interface AlertSubject {
  src_ip: string;
  dst_ip: string;
  zone_src: string;
  zone_dst: string;
  device_id?: string;
}

/** What a rule found. Evidence is PHI-free by construction: addresses, zones, protocol facts, pseudonyms. */
export interface RuleFinding {
  subject: AlertSubject;
  evidence: Record<string, unknown>;
  /** Overrides the rule's default severity (e.g. higher when data leaves the hospital). */
  severity?: Severity;
  ts: string;
}

export interface RuleContext {
  policy: CompiledPolicy;
  /** Zone of an address seen with these VLAN tags (cached). */
  zoneOf(ip: string, vlans?: readonly number[]): ZoneInfo;
}

export type RuleEvaluator = (event: RuleEvent) => RuleFinding | RuleFinding[] | null;

/** One rule: metadata for the alert, and a factory for its (possibly stateful) evaluator. */
export interface Rule {
  id: string;
  title: Bilingual;
  recommendation: Bilingual;
  severity: Severity;
  /** Sections of the guides the rule enforces, e.g. ["MU 4.7", "MU annex #16"]. */
  guide_refs: string[];
  /** The GUIDE-MAP requirement ids (G1…G15) it covers. */
  requirements: string[];
  /** Event types it reads. */
  events: string[];
  create(ctx: RuleContext): RuleEvaluator;
}
