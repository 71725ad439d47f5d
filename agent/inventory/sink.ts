import type { CompiledPolicy } from '../../rules/policy/index.js';
import type { EventSink, FlowRef, MuvaktEvent } from '../events/types.js';
import type { Alert, AlertStore, DeviceRow } from '../store/index.js';
import { alertCountsFrom } from './classification.js';
import { classify, detail, policyZones, summarize } from './index.js';
import { Inventory } from './inventory.js';

/** Event types that repeat the same facts many times per connection. */
const REPETITIVE = new Set(['hl7.message', 'dicom.dimse', 'http', 'syslog', 'snmp', 'dns', 'phi.observed']);
const PER_FLOW_SAMPLE = 16;
/** Flows whose sample counts are kept (about 60 bytes each). */
const MAX_TRACKED_FLOWS = 50_000;

/**
 * Feeds every event to the device inventory on its way to the next sink, and writes the
 * devices — classified and ranked against the open alerts — to the store.
 */
export class InventorySink implements EventSink {
  readonly inventory: Inventory;

  constructor(
    private readonly inner: EventSink,
    private readonly policy: CompiledPolicy | null,
  ) {
    this.inventory = new Inventory(policy ? policyZones(policy) : {});
  }

  /** Events of a high-volume type already given to the inventory, per flow. */
  private readonly perFlow = new Map<string, number>();
  /**
   * The last flow's count, found by identity: more than half the events follow one of the same
   * connection (an HL7 message and its PHI, a DIMSE and its association), and a map lookup on
   * the hot path costs cache misses, not instructions.
   */
  private lastRef: FlowRef | undefined = undefined;
  private lastCount = 0;

  write(event: MuvaktEvent): void {
    this.inner.write(event);
    const ref = event.flow;
    // Counts are not removed when a flow ends (flow ids are unique: they include the start
    // time); the map is cleared whole at its cap instead, which costs a live connection at
    // most another PER_FLOW_SAMPLE events. A delete per flow end would be one more lookup in
    // cold memory for every flow.
    if (ref !== undefined && event.type !== 'flow') {
      if (REPETITIVE.has(event.type)) {
        // A busy HL7 link or PACS repeats the same identities message after message: the first
        // few per connection tell the inventory everything (and keep its cost off the hot path).
        const n = ref === this.lastRef ? this.lastCount : (this.perFlow.get(ref.id) ?? 0);
        this.lastRef = ref;
        this.lastCount = n;
        if (n >= PER_FLOW_SAMPLE) return;
        if (this.perFlow.size >= MAX_TRACKED_FLOWS) this.perFlow.clear();
        this.perFlow.set(ref.id, n + 1);
        this.lastCount = n + 1;
      }
    }
    this.inventory.observe(event as Parameters<Inventory['observe']>[0]);
  }

  flush(): void {
    this.inner.flush();
  }

  close(): void {
    this.inner.close();
  }

  /** Classifies every device (open alerts weigh in the exposure rank) and saves it. */
  save(store: AlertStore, openAlerts: Alert[]): number {
    const alertCounts = alertCountsFrom(openAlerts.filter((a) => a.status !== 'resolved'));
    const policy = this.policy;
    const opts = {
      alertCounts,
      lookup: (ip: string) => this.inventory.byIp(ip),
      isVendor: policy ? (ip: string) => policy.vendorOf(ip, new Date()) !== null : undefined,
    };
    const rows: DeviceRow[] = [];
    for (const d of this.inventory.devices()) {
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
    return store.saveDevices(rows);
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
