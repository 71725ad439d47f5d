/**
 * The passive device inventory (GUIDE-MAP G11; MU 4.6, MU 5.2.1 "Få oversikt"): consumes the
 * event stream and keeps one `Device` per host. Three parts, one job each:
 *  - identity.ts — which device an address (and a MAC) belongs to: create, merge, re-key,
 *    demote routers, DHCP;
 *  - facts.ts — what each event type tells about the devices at its two ends;
 *  - endpoint-memo.ts — what the last events established, so the next like them skips the
 *    work; identity tells it of every change (IdentityListener), so it invalidates itself.
 * This class wires them and decides, per event, whether the memo's devices stand.
 *
 * Bounds: at most `maxDevices` internal devices (beyond that the least recently seen is evicted)
 * and `maxExternalDevices` external ones (new ones beyond that are refused), both counted in
 * `counters`, per-device lists capped at `maxList` (peers per app at
 * `maxPeersPerApp`) with a per-list `dropped` counter, and pending DNS names capped.
 */
import { classifyAddress, isExternal } from '../../protocols/ip/address-class.js';
import type { EventFields as MuvaktEvent } from '../events/types.js';
import { isoMicroToMs } from '../events/format.js';
import { DeviceLists } from './device-record.js';
import { EndpointMemo, NO_LISTENER } from './endpoint-memo.js';
import { DeviceFacts } from './facts.js';
import { DeviceIdentity } from './identity.js';
import type { Device, InventoryCounters, ZoneOf, ZoneRef } from './types.js';

export { clean } from './device-record.js';

export interface InventoryOptions {
  /** Zone of an address (`CompiledPolicy.zoneOf`); default: `unknown` for internal space, `external` for the rest (see address-class). */
  zoneOf?: ZoneOf;
  /** Internal devices held (default DEFAULT_MAX_DEVICES). */
  maxDevices?: number;
  maxExternalDevices?: number;
  maxList?: number;
  maxPeersPerApp?: number;
  maxAddresses?: number;
  routerMacs?: Iterable<string>;
  routerThreshold?: number;
  routerWindowMs?: number;
  /** An address bound to one MAC moves to another MAC only after this long unseen (default 1 h). */
  rebindAfterMs?: number;
  /** Zone of a VLAN stack alone (see `policyZones`); enables the routed-frame rule. */
  vlanZoneOf?: (vlans: readonly number[]) => ZoneRef | null;
  maxPendingNames?: number;
  /**
   * Reuse what the last events established (default true): the two devices of the last
   * protocol event for the next event between the same endpoints, and the service entries and
   * header facts of the last flow and HTTP exchange between the same devices. Off only to check
   * that these shortcuts change nothing.
   */
  reuseEndpoints?: boolean;
}

/** About 4 KB each with their indexes (docs/performance.md, "Memory budget"). */
export const DEFAULT_MAX_DEVICES = 50_000;

const UNKNOWN_ZONE: ZoneRef = Object.freeze({ name: 'unknown', kind: 'unknown' });
const EXTERNAL_ZONE: ZoneRef = Object.freeze({ name: 'external', kind: 'external' });
const NO_VLANS: readonly number[] = Object.freeze([]);

/** Without a policy: external for public, reserved and documentation space, unknown for the rest (see address-class). */
export const defaultZoneOf: ZoneOf = (ip) => (isExternal(classifyAddress(ip)) ? EXTERNAL_ZONE : UNKNOWN_ZONE);

export interface InventoryState {
  version: 1;
  devices: Device[];
  counters: InventoryCounters;
  router_macs: string[];
}

export class Inventory {
  readonly counters: InventoryCounters = { events: 0, devices_dropped: 0, external_devices_dropped: 0, devices_evicted: 0, devices_shed: 0, merged: 0, routers: 0, pending_names_dropped: 0 };
  private readonly identity: DeviceIdentity;
  private readonly facts: DeviceFacts;
  /** Null when `reuseEndpoints` is off: every event takes the full path. */
  private readonly memo: EndpointMemo | null;

  constructor(opts: InventoryOptions = {}) {
    const lists = new DeviceLists(opts.maxList ?? 32, opts.maxPeersPerApp ?? 64);
    this.memo = (opts.reuseEndpoints ?? true) ? new EndpointMemo() : null;
    this.identity = new DeviceIdentity(
      {
        zoneOf: opts.zoneOf ?? defaultZoneOf,
        vlanZoneOf: opts.vlanZoneOf,
        maxDevices: opts.maxDevices ?? DEFAULT_MAX_DEVICES,
        maxExternalDevices: opts.maxExternalDevices ?? 10_000,
        maxAddresses: opts.maxAddresses ?? 16,
        routerThreshold: opts.routerThreshold ?? 8,
        routerWindowMs: opts.routerWindowMs ?? 10 * 60_000,
        rebindAfterMs: opts.rebindAfterMs ?? 3_600_000,
        maxPendingNames: opts.maxPendingNames ?? 10_000,
      },
      lists,
      this.counters,
      this.memo ?? NO_LISTENER,
    );
    this.facts = new DeviceFacts(lists, this.identity, this.memo);
    for (const m of opts.routerMacs ?? []) this.identity.routerMacs.add(m.toLowerCase());
  }

  /** Near the memory ceiling: no new devices (counted in `counters.devices_shed`). */
  set shedding(on: boolean) {
    this.identity.shedding = on;
  }

  get size(): number {
    return this.identity.byId.size;
  }

  devices(): IterableIterator<Device> {
    return this.identity.byId.values();
  }

  get(id: string): Device | undefined {
    return this.identity.byId.get(id);
  }

  /** The device currently holding this address. */
  byIp(ip: string): Device | undefined {
    return this.identity.byIp(ip);
  }

  isRouterMac(mac: string): boolean {
    return this.identity.routerMacs.has(mac.toLowerCase());
  }

  /** Events whose devices came from the memo (not in the state: for tests and profiling). */
  get endpointReuses(): number {
    return this.memo === null ? 0 : this.memo.reuses;
  }

  observe(e: MuvaktEvent): void {
    this.counters.events++;
    if (e.type === 'dhcp') {
      const d = this.identity.dhcpDevice(e);
      if (d !== null) this.facts.observeDhcp(e, d);
      return;
    }
    const f = e.flow;
    if (f === undefined || typeof f.src_ip !== 'string') return;
    const ts = typeof e.ts === 'string' ? e.ts : '';
    const isFlow = e.type === 'flow';
    const vlans = f.vlan ?? NO_VLANS;
    const memo = this.memo;
    let client: Device | null;
    let server: Device | null;
    if (memo !== null && memo.holds(f.src_ip, f.dst_ip, vlans) && (!isFlow || this.flowKeepsDevices(memo, e, ts))) {
      // The same two endpoints as the last protocol event (most often the same connection, or
      // the next of a burst between the same hosts), and no device or address has changed
      // since: their devices and address records are known, only their times move.
      client = memo.client;
      server = memo.server;
      memo.touch(ts);
    } else {
      const identity = this.identity;
      client = identity.resolve(f.src_ip, isFlow ? (e.client_mac as string | undefined) : undefined, vlans, ts);
      server = identity.resolve(f.dst_ip, isFlow ? (e.server_mac as string | undefined) : undefined, vlans, ts);
      // Only protocol events fill the memo: a flow event resolves with its MACs (and, when
      // routed, without the VLAN), and any change of identity it makes empties the memo.
      // (A connection from a device to itself is not remembered: its two kept times would be one.)
      if (memo !== null && !isFlow && (client !== server || client === null)) memo.remember(f.src_ip, f.dst_ip, vlans, client, server);
    }
    if (client) client.events++;
    if (server && server !== client) server.events++;
    this.facts.observe(e, client, server);
  }

  observeAll(events: Iterable<MuvaktEvent>): this {
    for (const e of events) this.observe(e);
    return this;
  }

  /**
   * Whether a flow event between the remembered endpoints would resolve to the remembered
   * devices: both are keyed by exactly the MACs it carries, internal, and not routers. The
   * router heuristic still hears of each MAC/address pair; should that demote a MAC, the memo
   * is emptied and the event takes the full path.
   */
  private flowKeepsDevices(memo: EndpointMemo, e: MuvaktEvent, ts: string): boolean {
    const c = memo.client;
    const s = memo.server;
    const identity = this.identity;
    if (c === null || s === null || !identity.ownsMac(c, e.client_mac) || !identity.ownsMac(s, e.server_mac)) return false;
    const now = isoMicroToMs(ts) || 0;
    if (memo.notedWithinASecond(now)) return true;
    identity.noteMacIp(c.mac!, memo.rememberedSrc, ts);
    identity.noteMacIp(s.mac!, memo.rememberedDst, ts);
    if (!memo.stillValid) return false;
    memo.noted(now);
    return true;
  }

  toJSON(): InventoryState {
    return { version: 1, devices: [...this.identity.byId.values()], counters: { ...this.counters }, router_macs: [...this.identity.routerMacs] };
  }

  static fromJSON(state: InventoryState, opts: InventoryOptions = {}): Inventory {
    if (state?.version !== 1 || !Array.isArray(state.devices)) throw new Error('inventory state: expected version 1');
    const inv = new Inventory({ ...opts, routerMacs: [...(opts.routerMacs ?? []), ...(state.router_macs ?? [])] });
    Object.assign(inv.counters, state.counters);
    for (const raw of state.devices) inv.identity.restore(structuredClone(raw));
    return inv;
  }
}
