import type { AnalyzerEvent, EventOf, EventType, SensorEvent } from '../../protocols/events/index.js';
import type { CompiledPolicy, ZoneInfo } from '../policy/compiled.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Text in Norwegian (bokmål) and English. */
export interface Bilingual {
  nb: string;
  en: string;
}

/**
 * The events the rules read: the sensor's event union (protocols/events/), discriminated on
 * `type`. A rule sees the fields its event types declare and no others, so reading a field
 * an event does not have is a compile error, not a silent `undefined`.
 */
export type RuleEvent = SensorEvent;

/** Events that name the flow they came from. */
export type FlowBoundEvent = AnalyzerEvent;

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
  /**
   * The condition the rule reported is over (an expected flow seen again): the open alert of this
   * rule and subject is resolved by the sensor, and nothing new is raised.
   */
  resolves?: boolean;
}

export interface RuleContext {
  policy: CompiledPolicy;
  /** Zone of an address seen with these VLAN tags (cached). */
  zoneOf(ip: string, vlans?: readonly number[]): ZoneInfo;
}

/** Judges one event. */
export type RuleEvaluator<E extends RuleEvent = RuleEvent> = (event: E) => RuleFinding | RuleFinding[] | null;

/**
 * One rule: metadata for the alert, and a factory for its (possibly stateful) evaluator.
 * The engine hands an evaluator only the event types its rule lists.
 */
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
  events: readonly EventType[];
  create(ctx: RuleContext): RuleEvaluator;
}

/** A rule as written: its evaluator sees exactly the event types it lists. */
export interface TypedRule<T extends EventType> extends Omit<Rule, 'events' | 'create'> {
  events: readonly T[];
  create(ctx: RuleContext): RuleEvaluator<EventOf<T>>;
}

/**
 * Declares a rule typed by the events it reads (`events: ['tls.handshake']` gives its
 * evaluator a TlsHandshakeEvent), so a field the event does not declare is a compile error.
 */
export function defineRule<const T extends EventType>(rule: TypedRule<T>): Rule {
  // Sound because RuleEngine routes by `events`: an evaluator never sees another type.
  return { ...rule, create: (ctx) => rule.create(ctx) as RuleEvaluator };
}
