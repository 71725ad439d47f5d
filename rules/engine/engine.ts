import { CompiledPolicy, type ZoneInfo } from '../policy/compiled.js';
import type { Rule, RuleContext, RuleEvaluator, RuleEvent, RuleFinding, Severity } from './types.js';

export interface EngineFinding extends RuleFinding {
  rule: Rule;
  severity: Severity;
}

/**
 * Runs the rules over the event stream (Zeek's split: analyzers report facts, this judges them
 * against the site policy). Events are routed by type to the rules that read them; a rule that
 * throws is counted and skipped, never allowed to stop the sensor.
 */
export class RuleEngine {
  private readonly byType = new Map<string, { rule: Rule; evaluate: RuleEvaluator }[]>();
  private readonly zoneCache = new Map<string, ZoneInfo>();
  readonly findings = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly ctx: RuleContext;

  constructor(
    readonly policy: CompiledPolicy,
    readonly rules: readonly Rule[],
    private readonly onFinding: (f: EngineFinding) => void,
  ) {
    this.ctx = {
      policy,
      zoneOf: (ip, vlans = []) => {
        // Events repeat the same few addresses: cache the lookups (bounded).
        const key = vlans.length ? `${ip}|${vlans.join(',')}` : ip;
        let z = this.zoneCache.get(key);
        if (z === undefined) {
          if (this.zoneCache.size >= 65_536) this.zoneCache.clear();
          z = policy.zoneOf(ip, vlans);
          this.zoneCache.set(key, z);
        }
        return z;
      },
    };
    for (const rule of rules) {
      const evaluate = rule.create(this.ctx);
      for (const t of rule.events) {
        let list = this.byType.get(t);
        if (!list) this.byType.set(t, (list = []));
        list.push({ rule, evaluate });
      }
    }
  }

  evaluate(event: RuleEvent): void {
    const list = this.byType.get(event.type);
    if (!list) return;
    for (const { rule, evaluate } of list) {
      let out: RuleFinding | RuleFinding[] | null;
      try {
        out = evaluate(event);
      } catch {
        this.errors.set(rule.id, (this.errors.get(rule.id) ?? 0) + 1);
        continue;
      }
      if (out === null) continue;
      for (const f of Array.isArray(out) ? out : [out]) {
        if (f.resolves !== true) this.findings.set(rule.id, (this.findings.get(rule.id) ?? 0) + 1);
        // Completed in place (findings may build their evidence lazily; a copy would lose that).
        const ef = f as EngineFinding;
        ef.rule = rule;
        if (!ef.severity) ef.severity = rule.severity;
        this.onFinding(ef);
      }
    }
  }
}
