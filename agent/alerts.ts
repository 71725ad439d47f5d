import { ALL_RULES, dumpBaseline, loadBaseline, RuleEngine, type EngineFinding, type Rule } from '../rules/index.js';
import type { CompiledPolicy } from '../rules/policy/index.js';
import type { EventSink, MuvaktEvent } from './events/types.js';
import type { SpoolGate } from './store/spool-gate.js';
import { AlertWriter, alertId, SYSTEM_ACTOR, type Alert, type AlertCandidate, type Store, type UpsertResult } from './store/index.js';

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
 * also judged by the rule engine; findings are batched into the store by the writer, off the
 * packet path (the writer commits every 250 ms or 500 alerts). `close()` ends the event chain;
 * `finish()` then commits the last alerts and saves the baseline.
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

  private closed = false;
  /** Resolutions the rules asked for, in order, each after the alerts handed over before it are committed. */
  private resolutions: Promise<void> = Promise.resolve();

  /** The sink with the baseline (what is normal on the medical segments) the store kept from earlier runs. */
  static async create(
    inner: EventSink,
    policy: CompiledPolicy,
    store: Store,
    onCommit?: (r: UpsertResult) => void,
    onError?: (e: Error) => void,
    gate?: SpoolGate,
  ): Promise<AlertingSink> {
    const learned = await store.kvGet<Parameters<typeof loadBaseline>[1]>('baseline');
    return new AlertingSink(inner, policy, store, learned, onCommit, onError, gate);
  }

  private constructor(
    private readonly inner: EventSink,
    policy: CompiledPolicy,
    readonly store: Store,
    learned: Parameters<typeof loadBaseline>[1] | undefined,
    onCommit?: (r: UpsertResult) => void,
    private readonly onError?: (e: Error) => void,
    gate?: SpoolGate,
  ) {
    this.writer = new AlertWriter(store, { onCommit, onError, gate });
    this.engine = new RuleEngine(policy, ALL_RULES, (f) => this.merge(f));
    if (learned) loadBaseline(this.engine.ctx, learned);
    this.handOver = setInterval(() => this.drain(), 200);
    this.handOver.unref();
  }

  write(event: MuvaktEvent, flowSeq?: number): void {
    this.inner.write(event, flowSeq);
    this.engine.evaluate(event as Parameters<RuleEngine['evaluate']>[0]);
    if (this.pending.size >= 1000) this.drain();
  }

  /** Hands merged findings to the writer and starts a commit (failures reach the writer's onError). */
  flush(): void {
    this.inner.flush();
    this.drain();
    this.writer.committed().catch(() => {});
  }

  /** Ends the event chain: no more findings. The last commit is `finish()`'s. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.handOver);
    this.inner.close();
    this.drain();
  }

  /**
   * The rule says its condition is over: once the alert it raised is committed, the sensor
   * resolves it (if it is still open or acknowledged; a history row by `muvakt` says why).
   */
  private resolveLater(f: EngineFinding): void {
    this.drain();
    const id = alertId(f.rule.id, f.subject);
    const why = typeof f.evidence.expected_flow === 'string' ? `seen again at ${f.ts}` : `condition over at ${f.ts}`;
    this.resolutions = this.resolutions
      .then(async () => {
        await this.writer.flush();
        const a = await this.store.getAlert(id);
        if (a !== null && a.status !== 'resolved') await this.store.resolve(id, SYSTEM_ACTOR, why);
      })
      .catch((e: Error) => this.onError?.(e));
  }

  /** Closes the chain, commits the last alerts and saves the baseline (rejects if the commit fails). */
  async finish(): Promise<void> {
    this.close();
    await this.writer.flush();
    await this.resolutions;
    await this.saveBaseline();
    await this.writer.close();
  }

  /** Stores the learned baseline (also called periodically by a live sensor). */
  async saveBaseline(): Promise<void> {
    try {
      await this.store.kvSet('baseline', dumpBaseline(this.engine.ctx));
    } catch {
      // Over the kv size limit: the baseline stays in memory for this run only.
    }
  }

  private merge(f: EngineFinding): void {
    if (f.resolves === true) {
      this.resolveLater(f);
      return;
    }
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
  async allAlerts(): Promise<Alert[]> {
    const out: Alert[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.listAlerts({ limit: 500, cursor, sort: 'last_seen' });
      out.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }
}
