import { ALL_RULES, RuleEngine, type EngineFinding, type Rule } from '../rules/index.js';
import { CompiledPolicy, loadPolicy } from '../rules/policy/index.js';
import { UsageError } from './cli/args.js';
import type { EventSink, MuvaktEvent } from './events/types.js';
import { AlertStore, AlertWriter, type Alert, type AlertCandidate, type UpsertResult } from './store/index.js';

/** Loads and compiles a policy file, or stops with every located error (exit 2). */
export function policyFromFile(file: string): CompiledPolicy {
  const r = loadPolicy(file);
  if (!r.ok) throw new UsageError(`invalid policy:\n${r.errors.map((e) => `  ${e.toString()}`).join('\n')}`);
  return new CompiledPolicy(r.policy);
}

export function candidateOf(f: EngineFinding): AlertCandidate {
  return {
    rule_id: f.rule.id,
    title: f.rule.title.en,
    severity: f.severity,
    guide_refs: f.rule.guide_refs,
    subject: f.subject,
    evidence: f.evidence,
    recommendation: f.rule.recommendation.en,
    ts: f.ts,
  };
}

const RULES_BY_ID = new Map<string, Rule>(ALL_RULES.map((r) => [r.id, r]));

/** The alert as written to NDJSON: the contract shape plus the rule's bokmål texts. */
export function alertForExport(a: Alert): Alert & { title_nb?: string; recommendation_nb?: string } {
  const r = RULES_BY_ID.get(a.rule_id);
  return r ? { ...a, title_nb: r.title.nb, recommendation_nb: r.recommendation.nb } : a;
}

/**
 * Events → rules → alerts. Wraps the event sink: every event still goes where it went, and is
 * also judged by the rule engine; findings are batched into the SQLite store by the writer,
 * off the packet path (the writer commits every 250 ms or 500 alerts).
 */
export class AlertingSink implements EventSink {
  readonly engine: RuleEngine;
  readonly writer: AlertWriter;

  constructor(
    private readonly inner: EventSink,
    policy: CompiledPolicy,
    readonly store: AlertStore,
    onCommit?: (r: UpsertResult) => void,
  ) {
    this.writer = new AlertWriter(store, { onCommit });
    this.engine = new RuleEngine(policy, ALL_RULES, (f) => this.writer.write(candidateOf(f)));
  }

  write(event: MuvaktEvent): void {
    this.inner.write(event);
    this.engine.evaluate(event as Parameters<RuleEngine['evaluate']>[0]);
  }

  flush(): void {
    this.inner.flush();
    this.writer.flush();
  }

  close(): void {
    this.inner.close();
    this.writer.flush();
    this.writer.close();
  }

  /** Every alert in the store, most recent first (for the end-of-run export and summary). */
  allAlerts(): Alert[] {
    const out: Alert[] = [];
    let cursor: string | undefined;
    do {
      const page = this.store.listAlerts({ limit: 500, cursor, sort: 'last_seen' });
      out.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }
}
