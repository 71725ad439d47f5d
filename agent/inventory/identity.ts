/**
 * Identity resolution: which device an address (and, on flow and DHCP events, a MAC) belongs
 * to. One `Device` per MAC address, or per IP address where the MAC says nothing about the host.
 *
 * Keyed by IP (the MAC is *not* used) when:
 *  1. the address is external (zone kind `external`; without a policy: public, reserved or
 *     documentation space, see protocols/ip/address-class) — on a local segment an internet
 *     host's frames always carry the perimeter router's MAC (in the corpus `02:77:fe:00:00:01`);
 *  2. the MAC is a declared router/gateway (`routerMacs` option);
 *  3. the MAC was seen with more than `routerThreshold` (default 8) distinct IPv4 addresses
 *     within `routerWindowMs` (default 10 min) of event time: it is routing for others. The
 *     MAC is demoted: its device is flagged `router: true` (and keeps what it learnt so far),
 *     its addresses are released and each becomes an IP-keyed device with `via_mac`.
 *  4. the frame was routed: its VLAN belongs to another zone than the address's CIDR (with
 *     `vlanZoneOf`; corpus 20: 10.77.10.23 on VLAN 130 behind the office router leg);
 *  5. the address is already bound to another MAC and was seen there within `rebindAfterMs`
 *     (default 1 h): it is seen through a router, not moved (DHCP re-use after that moves it).
 * Only flow events carry MACs; protocol events (emitted before their flow ends) first create an
 * IP-keyed device, which is re-keyed to the MAC (or merged into the MAC's device) when the
 * flow event arrives.
 *
 * Every change of which device holds an address, or of which address records a device has,
 * is reported to the `IdentityListener` (the endpoint memo), and so is every change of a
 * device's seen-times made here.
 */
import { classifyAddress, isGroupOrUnspecified } from '../../protocols/ip/address-class.js';
import { isoMicroToMs } from '../events/format.js';
import type { EventFields as MuvaktEvent } from '../events/types.js';
import { addressOf, clean, newDevice, touchKept, type DeviceLists } from './device-record.js';
import { foldDevice } from './device-fold.js';
import type { IdentityListener } from './endpoint-memo.js';
import type { AddressRecord, Device, InventoryCounters, ZoneOf, ZoneRef } from './types.js';

export interface IdentityLimits {
  zoneOf: ZoneOf;
  vlanZoneOf: ((vlans: readonly number[]) => ZoneRef | null) | undefined;
  maxDevices: number;
  maxExternalDevices: number;
  maxAddresses: number;
  routerThreshold: number;
  routerWindowMs: number;
  rebindAfterMs: number;
  maxPendingNames: number;
}

/** Devices looked at per eviction before the oldest of them goes regardless (a flood of busy devices). */
const EVICTION_SCAN = 64;

/** Broadcast, multicast and unspecified addresses never become devices. */
function isNoDevice(ip: string): boolean {
  return isGroupOrUnspecified(classifyAddress(ip));
}

function isMulticastMac(mac: string): boolean {
  // The I/G bit is the low bit of the first octet, i.e. of its second hex digit ('0'–'9' and 'a'–'f' alternate parity alike).
  const c = mac.charCodeAt(1) | 0x20;
  return ((c >= 0x61 ? c - 0x57 : c - 0x30) & 1) === 1;
}

/** First and last seen of a device and of its address record, as touchAddress moves them. */
function touchSeen(d: Device, a: AddressRecord | undefined, ts: string): void {
  touchKept(d, d.last_seen, ts);
  if (a !== undefined) touchKept(a, a.last_seen, ts);
}

export class DeviceIdentity {
  readonly byId = new Map<string, Device>();
  private readonly ipIndex = new Map<string, Device>();
  readonly routerMacs = new Set<string>();
  /** `mac:<mac>` per MAC, built once: a fresh template string per event costs a flatten and a hash. */
  private readonly macKeys = new Map<string, string>();
  /** MAC → IPv4 → last seen (ms), for the router heuristic; transient. */
  private readonly macIps = new Map<string, Map<string, number>>();
  /** DNS names for addresses not (yet) in the inventory. */
  private readonly pendingNames = new Map<string, string[]>();
  private internalCount = 0;
  private externalCount = 0;
  /**
   * Set while the process is near its memory ceiling: no new device is made (counted in
   * `devices_shed`); the devices already known go on learning.
   */
  shedding = false;
  /** The last_seen a device had when eviction last passed it over: a device seen since then is spared once more. */
  private readonly reprieved = new WeakMap<Device, string>();

  constructor(
    private readonly limits: IdentityLimits,
    private readonly lists: DeviceLists,
    private readonly counters: InventoryCounters,
    private readonly listener: IdentityListener,
  ) {}

  /** The device currently holding this address. */
  byIp(ip: string): Device | undefined {
    return this.ipIndex.get(ip);
  }

  /** Restores a saved device (see Inventory.fromJSON); false when the bounds leave no room. */
  restore(d: Device): boolean {
    if (d.external ? this.externalCount >= this.limits.maxExternalDevices : this.internalCount >= this.limits.maxDevices) return false;
    this.byId.set(d.id, d);
    if (d.external) this.externalCount++;
    else this.internalCount++;
    if (d.router) return true;
    for (const a of d.addresses) {
      const cur = this.ipIndex.get(a.ip);
      if (cur === undefined || addressOf(cur, a.ip)!.last_seen < a.last_seen) this.ipIndex.set(a.ip, d);
    }
    this.listener.identityChanged();
    return true;
  }

  private create(keyedBy: 'mac' | 'ip', key: string, mac: string | null, external: boolean, ts: string): Device | null {
    if (this.shedding) {
      this.counters.devices_shed++;
      return null;
    }
    // External addresses are anyone's to spoof: a full external table refuses new ones rather
    // than let them push out what is known. A full internal table makes room (see evictOne).
    if (external ? this.externalCount >= this.limits.maxExternalDevices : this.internalCount >= this.limits.maxDevices && !this.evictOne()) {
      if (external) this.counters.external_devices_dropped++;
      else this.counters.devices_dropped++;
      return null;
    }
    const d = newDevice(`${keyedBy}:${key}`, keyedBy, mac, ts);
    this.listener.identityChanged();
    d.external = external;
    this.byId.set(d.id, d);
    if (external) this.externalCount++;
    else this.internalCount++;
    return d;
  }

  /**
   * Evicts one internal device, least recently seen first by second chance (CLOCK): the oldest
   * entry goes unless it was seen since it was made or last passed over, in which case it moves
   * to the back. No per-event bookkeeping: a flood of one-flow addresses evicts one another,
   * while devices that keep talking stay. What was saved to the store stays there.
   */
  private evictOne(): boolean {
    let fallback: Device | undefined;
    for (let i = 0; i < EVICTION_SCAN; i++) {
      const d = this.byId.values().next().value;
      if (d === undefined) break;
      if (!d.external && d.last_seen <= (this.reprieved.get(d) ?? d.first_seen)) {
        this.evict(d);
        return true;
      }
      this.byId.delete(d.id);
      this.byId.set(d.id, d);
      if (!d.external) {
        this.reprieved.set(d, d.last_seen);
        fallback ??= d;
      }
    }
    if (fallback === undefined) return false;
    this.evict(fallback);
    return true;
  }

  private evict(d: Device): void {
    this.remove(d);
    for (const a of d.addresses) if (this.ipIndex.get(a.ip) === d) this.ipIndex.delete(a.ip);
    if (d.mac !== null) this.macIps.delete(d.mac);
    this.counters.devices_evicted++;
  }

  private remove(d: Device): void {
    this.listener.identityChanged();
    if (this.byId.delete(d.id)) {
      if (d.external) this.externalCount--;
      else this.internalCount--;
    }
  }

  /** The device for an endpoint of an event; null for broadcast/multicast/unspecified addresses or when full. */
  resolve(ip: string, mac: string | undefined, vlans: readonly number[], ts: string): Device | null {
    if (ip === '' || isNoDevice(ip)) return null;
    const zone = this.limits.zoneOf(ip, vlans);
    const external = zone.kind === 'external';
    const m = mac ? mac.toLowerCase() : undefined;
    // Broadcast/multicast frames (a directed broadcast, mDNS…) are nobody's device.
    if (m !== undefined && isMulticastMac(m)) return null;
    const prev = this.ipIndex.get(ip);
    let d: Device | null | undefined;
    let useMac = m !== undefined && !external && !this.routerMacs.has(m);
    if (useMac && this.noteMacIp(m!, ip, ts)) useMac = false;
    // Seen on another zone's VLAN than its address belongs to: the frame was routed.
    let routed = false;
    const vlanZoneOf = this.limits.vlanZoneOf;
    if (!external && vlanZoneOf !== undefined && vlans.length > 0 && zone.kind !== 'unknown') {
      const vz = vlanZoneOf(vlans);
      routed = vz !== null && vz.name !== zone.name;
    }
    if (routed) useMac = false;
    // A frame of another network's host carries the gateway's MAC: the gateway is a device of its
    // own, listed with role router (it holds none of those addresses).
    if (m !== undefined && (external || routed || this.routerMacs.has(m))) this.noteRouter(m, ts);
    if (useMac && prev !== undefined && prev.keyed_by === 'mac' && prev.mac !== m && !prev.router) {
      // Bound to another MAC recently: seen through a router, not moved.
      const a = addressOf(prev, ip);
      if (a !== undefined && (isoMicroToMs(ts) || 0) - (isoMicroToMs(a.last_seen) || 0) < this.limits.rebindAfterMs) useMac = false;
    }
    if (useMac) {
      d = this.byId.get(this.macKey(m!));
      if (d === undefined) {
        if (prev !== undefined && prev.keyed_by === 'ip' && !prev.external) {
          // Learnt the MAC of a device first seen in a protocol event: re-key it.
          this.listener.identityChanged();
          this.byId.delete(prev.id);
          prev.id = `mac:${m!}`;
          prev.keyed_by = 'mac';
          prev.mac = m!;
          prev.via_mac = null;
          this.byId.set(prev.id, prev);
          d = prev;
        } else {
          d = this.create('mac', m!, m!, false, ts);
        }
      } else if (prev !== undefined && prev !== d && prev.keyed_by === 'ip' && !prev.external) {
        this.merge(d, prev);
      }
    } else {
      d = prev;
      if (d === undefined || (external && !d.external)) {
        d = this.create('ip', ip, null, external, ts);
      }
      if (d && d.keyed_by === 'ip' && m !== undefined && d.via_mac === null) d.via_mac = m;
    }
    if (!d) return null;
    if (prev !== d) {
      this.ipIndex.set(ip, d);
      this.listener.identityChanged();
    }
    // A frame that reached it through a router says nothing about its own VLAN.
    this.touchAddress(d, ip, ts, routed || (m !== undefined && !useMac && !external) ? [] : vlans, zone);
    return d;
  }

  /** The device is keyed by exactly this MAC (as a flow event writes it), internal, and not a router's. */
  ownsMac(d: Device, mac: unknown): boolean {
    return d.keyed_by === 'mac' && !d.external && !d.router && typeof mac === 'string' && d.mac === mac && (this.routerMacs.size === 0 || !this.routerMacs.has(mac));
  }

  private macKey(mac: string): string {
    let k = this.macKeys.get(mac);
    if (k === undefined) {
      if (this.macKeys.size >= 4 * this.limits.maxDevices) this.macKeys.clear();
      k = `mac:${mac}`;
      this.macKeys.set(mac, k);
    }
    return k;
  }

  /** Records MAC↔IPv4 for the router heuristic; true when the MAC is (now) a router's. */
  noteMacIp(mac: string, ip: string, ts: string): boolean {
    if (ip.includes(':')) return false;
    const now = isoMicroToMs(ts) || 0;
    let seen = this.macIps.get(mac);
    if (seen === undefined) {
      seen = new Map();
      this.macIps.set(mac, seen);
      if (this.macIps.size > this.limits.maxDevices) {
        const oldest = this.macIps.keys().next().value;
        if (oldest !== undefined) this.macIps.delete(oldest);
      }
    }
    seen.set(ip, now);
    if (seen.size <= this.limits.routerThreshold) return false;
    for (const [a, t] of seen) if (now - t > this.limits.routerWindowMs) seen.delete(a);
    if (seen.size <= this.limits.routerThreshold) return false;
    this.demote(mac);
    return true;
  }

  /** The MAC routes for others: flag its device, release its addresses to per-IP devices. */
  private demote(mac: string): void {
    this.listener.identityChanged();
    this.routerMacs.add(mac);
    this.macIps.delete(mac);
    this.counters.routers++;
    const d = this.byId.get(`mac:${mac}`);
    if (d === undefined) return;
    d.router = true;
    for (const a of d.addresses) if (this.ipIndex.get(a.ip) === d) this.ipIndex.delete(a.ip);
  }

  /** The router device of a gateway MAC: created once, then only its last sighting moves. */
  private noteRouter(mac: string, ts: string): void {
    if (isMulticastMac(mac)) return;
    const k = this.macKey(mac);
    let d = this.byId.get(k);
    if (d === undefined) {
      const made = this.create('mac', mac, mac, false, ts);
      if (made === null) return;
      d = made;
      d.router = true;
      if (!this.routerMacs.has(mac)) {
        this.routerMacs.add(mac);
        this.counters.routers++;
      }
    } else if (!d.router) {
      // A MAC an internal device holds as its own: one frame of an outside host is no proof that
      // it routes (the heuristic on address counts decides that).
      return;
    }
    if (d.last_seen < ts) d.last_seen = ts;
  }

  private touchAddress(d: Device, ip: string, ts: string, vlans: readonly number[], zone: ZoneRef): void {
    this.listener.timesMoved(d);
    const a = addressOf(d, ip);
    touchSeen(d, a, ts);
    const lists = this.lists;
    if (!a) {
      if (d.addresses.length >= this.limits.maxAddresses) {
        // Drop the stalest address record; the history is bounded.
        let oldest = 0;
        for (let i = 1; i < d.addresses.length; i++) if (d.addresses[i].last_seen < d.addresses[oldest].last_seen) oldest = i;
        d.addresses.splice(oldest, 1);
        lists.drop(d, 'addresses');
      }
      d.addresses.push({ ip, version: ip.includes(':') ? 6 : 4, first_seen: ts, last_seen: ts });
      this.listener.identityChanged();
      const pending = this.pendingNames.get(ip);
      if (pending) {
        for (const n of pending) lists.addName(d, n, 'dns');
        this.pendingNames.delete(ip);
      }
    }
    for (let i = 0; i < vlans.length; i++) lists.add(d, d.vlans, vlans[i], 'vlans');
    // Replaced only when it changes: a fresh object per event would be garbage, or worse, promoted.
    if ((d.zone.kind === 'unknown' || (zone.kind !== 'unknown' && ip.indexOf(':') < 0)) && (d.zone.name !== zone.name || d.zone.kind !== zone.kind)) {
      d.zone = { name: zone.name, kind: zone.kind };
    }
  }

  /** Keeps DNS names for an address no device holds yet; they go to the device that first takes it. */
  holdNames(ip: string, names: readonly string[]): void {
    let pend = this.pendingNames.get(ip);
    if (!pend) {
      if (this.pendingNames.size >= this.limits.maxPendingNames) {
        this.counters.pending_names_dropped++;
        return;
      }
      pend = [];
      this.pendingNames.set(ip, pend);
    }
    for (const n of names) if (!pend.includes(n) && pend.length < 8) pend.push(n);
  }

  /** The device a DHCP message is about: by the address it assigns or requests, else by the client MAC alone. */
  dhcpDevice(e: MuvaktEvent): Device | null {
    const mac = clean(e.client_mac).toLowerCase();
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) || this.routerMacs.has(mac)) return null;
    const ts = typeof e.ts === 'string' ? e.ts : '';
    const ip = clean(e.assigned_ip) || clean(e.requested_ip);
    const vlans = e.flow?.vlan ?? [];
    if (ip !== '' && !isNoDevice(ip) && e.dhcp_type !== 'nak' && e.dhcp_type !== 'decline' && e.dhcp_type !== 'release') {
      return this.resolve(ip, mac, vlans, ts);
    }
    const d = this.byId.get(`mac:${mac}`) ?? this.create('mac', mac, mac, false, ts);
    if (d) {
      if (ts > d.last_seen) {
        d.last_seen = ts;
        this.listener.timesMoved(d);
      }
      for (const v of vlans) this.lists.add(d, d.vlans, v, 'vlans');
    }
    return d;
  }

  /** Folds an IP-keyed device into the MAC-keyed device of the same host. */
  private merge(into: Device, from: Device): void {
    this.counters.merged++;
    this.remove(from);
    for (const a of from.addresses) {
      if (this.ipIndex.get(a.ip) === from) this.ipIndex.set(a.ip, into);
      const have = addressOf(into, a.ip);
      if (have) {
        if (a.first_seen < have.first_seen) have.first_seen = a.first_seen;
        if (a.last_seen > have.last_seen) have.last_seen = a.last_seen;
      } else if (into.addresses.length < this.limits.maxAddresses) into.addresses.push(a);
      else this.lists.drop(into, 'addresses');
    }
    if (from.first_seen < into.first_seen) into.first_seen = from.first_seen;
    if (from.last_seen > into.last_seen) into.last_seen = from.last_seen;
    foldDevice(into, from, this.lists);
  }
}
