import { ALL_RULES, dumpBaseline, loadBaseline, RuleEngine, type EngineFinding, type Rule } from '../rules/index.js';
import type { CompiledPolicy } from '../rules/policy/index.js';
import type { EventSink, MuvaktEvent } from './events/types.js';
import { SqliteStore, AlertWriter, type Alert, type AlertCandidate, type UpsertResult } from './store/index.js';

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

const SEVERITY_ORDER = { low: 1, medium: 2, high: 3, critical: 4 } as const;

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

  /**
   * Findings of one rule about one subject, merged until the next hand-over: a busy HL7 link
   * raises the same finding for every message, and only the count and the times change.
   */
  private readonly pending = new Map<string, { finding: EngineFinding; count: number; first: string }>();
  private readonly handOver: NodeJS.Timeout;

  constructor(
    private readonly inner: EventSink,
    policy: CompiledPolicy,
    readonly store: SqliteStore,
    onCommit?: (r: UpsertResult) => void,
  ) {
    this.writer = new AlertWriter(store, { onCommit });
    this.engine = new RuleEngine(policy, ALL_RULES, (f) => this.merge(f));
    // The baseline (what is normal on the medical segments) survives restarts in the store.
    const learned = store.kvGet<Parameters<typeof loadBaseline>[1]>('baseline');
    if (learned) loadBaseline(this.engine.ctx, learned);
    this.handOver = setInterval(() => this.drain(), 200);
    this.handOver.unref();
  }

  write(event: MuvaktEvent, flowSeq?: number): void {
    this.inner.write(event, flowSeq);
    this.engine.evaluate(event as Parameters<RuleEngine['evaluate']>[0]);
    if (this.pending.size >= 1000) this.drain();
  }

  flush(): void {
    this.inner.flush();
    this.drain();
    this.writer.flush();
  }

  close(): void {
    clearInterval(this.handOver);
    this.inner.close();
    this.drain();
    this.writer.flush();
    this.saveBaseline();
    this.writer.close();
  }

  /** Stores the learned baseline (also called periodically by a live sensor). */
  saveBaseline(): void {
    try {
      this.store.kvSet('baseline', dumpBaseline(this.engine.ctx));
    } catch {
      // Over the kv size limit: the baseline stays in memory for this run only.
    }
  }

  private merge(f: EngineFinding): void {
    const s = f.subject;
    // Zones follow from the addresses (and tags); the store keys on the full subject anyway.
    const key = s.device_id === undefined ? `${f.rule.id}|${s.src_ip}|${s.dst_ip}` : `${f.rule.id}|${s.src_ip}|${s.dst_ip}|${s.device_id}`;
    const p = this.pending.get(key);
    if (p === undefined) {
      this.pending.set(key, { finding: f, count: 1, first: f.ts });
      return;
    }
    p.count++;
    // The latest evidence and the highest severity win, as in the store.
    if (SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[p.finding.severity]) f.severity = p.finding.severity;
    p.finding = f;
    if (f.ts < p.first) p.first = f.ts;
  }

  private drain(): void {
    for (const p of this.pending.values()) {
      const c = candidateOf(p.finding);
      c.count = p.count;
      c.first_ts = p.first;
      this.writer.write(c);
    }
    this.pending.clear();
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
