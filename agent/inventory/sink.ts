import type { CompiledPolicy } from '../../rules/policy/index.js';
import type { EventSink, MuvaktEvent } from '../events/types.js';
import type { Alert, DeviceRow, Store } from '../store/index.js';
import { alertCountsFrom } from './classification.js';
import { classify, detail, policyZones, summarize } from './index.js';
import { Inventory } from './inventory.js';

/** Event types that repeat the same facts many times per connection. */
const REPETITIVE = new Set(['hl7.message', 'dicom.dimse', 'http', 'syslog', 'snmp', 'dns', 'phi.observed']);
/** Analyzer events per connection given to the inventory whatever their kind (a message and its PHI count as two). */
const PER_FLOW_SAMPLE = 32;

/**
 * Feeds every event to the device inventory on its way to the next sink, and writes the
 * devices — classified and ranked against the open alerts — to the store.
 */
export class InventorySink implements EventSink {
  readonly inventory: Inventory;

  constructor(
    private readonly inner: EventSink,
    private readonly policy: CompiledPolicy | null,
    opts: { maxDevices?: number } = {},
  ) {
    this.inventory = new Inventory({ ...(policy ? policyZones(policy) : {}), ...opts });
  }

  write(event: MuvaktEvent, flowSeq?: number): void {
    this.inner.write(event, flowSeq);
    // A busy HL7 link or PACS repeats the same identities message after message: the first
    // events of a connection tell the inventory everything, later ones of the repetitive
    // kinds are left out (the pipeline numbers each connection's events, so this needs no
    // table of its own: a lookup per event in cold memory cost more than the sampling saved).
    if (flowSeq !== undefined && flowSeq > PER_FLOW_SAMPLE && REPETITIVE.has(event.type)) return;
    this.inventory.observe(event as Parameters<Inventory['observe']>[0]);
  }

  flush(): void {
    this.inner.flush();
  }

  close(): void {
    this.inner.close();
  }

  /**
   * Classifies every device (open alerts weigh in the exposure rank) and saves it, `batch`
   * devices a write: each device's row (its summary and detail, several KB) is garbage once
   * written, so a full inventory never exists twice in memory. A store behind the spool gate
   * takes one batch (the gate keeps only the latest device save).
   */
  async save(store: Pick<Store, 'saveDevices'>, openAlerts: Alert[], batch = Infinity, afterBatch?: () => void): Promise<number> {
    const alertCounts = alertCountsFrom(openAlerts.filter((a) => a.status !== 'resolved'));
    const policy = this.policy;
    const opts = {
      alertCounts,
      lookup: (ip: string) => this.inventory.byIp(ip),
      isVendor: policy ? (ip: string) => policy.vendorOf(ip, new Date()) !== null : undefined,
    };
    let rows: DeviceRow[] = [];
    let saved = 0;
    for (const d of this.inventory.devices()) {
      if (rows.length >= batch) {
        saved += await store.saveDevices(rows);
        rows = [];
        afterBatch?.();
      }
      const c = classify(d, opts);
      const s = summarize(d, c);
      rows.push({
        id: d.id,
        zone: s.zone,
        role: s.role,
        score: c.exposure.score,
        level: c.exposure.level,
        firstSeenMs: Date.parse(s.first_seen) || 0,
        lastSeenMs: Date.parse(s.last_seen) || 0,
        summary: s,
        detail: detail(d, c),
      });
    }
    return saved + (await store.saveDevices(rows));
  }

  /** Devices by zone and role, for the end-of-run summary. */
  counts(): { byZone: Map<string, number>; byRole: Map<string, number>; total: number } {
    const byZone = new Map<string, number>();
    const byRole = new Map<string, number>();
    let total = 0;
    for (const d of this.inventory.devices()) {
      total++;
      byZone.set(d.zone.name, (byZone.get(d.zone.name) ?? 0) + 1);
      const role = classify(d, { lookup: (ip) => this.inventory.byIp(ip) }).role;
      byRole.set(role, (byRole.get(role) ?? 0) + 1);
    }
    return { byZone, byRole, total };
  }
}
