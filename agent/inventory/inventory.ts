/**
 * The passive device inventory (GUIDE-MAP G11; MU 4.6, MU 5.2.1 "Få oversikt"):
 * consumes the event stream and keeps one `Device` per MAC address, or per IP address where
 * the MAC says nothing about the host.
 *
 * Identity heuristic (where a MAC is *not* used and the device is keyed by IP):
 *  1. the address is external (zone kind `external`; without a policy: not RFC 1918/6598,
 *     link-local, loopback or ULA) — on a local segment an internet host's frames always
 *     carry the perimeter router's MAC (in the corpus `02:77:fe:00:00:01`);
 *  2. the MAC is a declared router/gateway (`routerMacs` option);
 *  3. the MAC was seen with more than `routerThreshold` (default 8) distinct IPv4 addresses
 *     within `routerWindowMs` (default 10 min) of event time: it is routing for others. The
 *     MAC is demoted: its device is flagged `router: true` (and keeps what it learnt so far),
 *     its addresses are released and each becomes an IP-keyed device with `via_mac`.
 *  4. the frame was routed: its VLAN belongs to another zone than the address's CIDR (with
 *     `vlanZoneOf`; corpus 20: 10.77.10.23 on VLAN 130 behind the office router leg);
 *  5. the address is already bound to another MAC and was seen there within `rebindAfterMs`
 *     (default 1 h): it is seen through a router, not moved (DHCP re-use after that moves it). Only flow events carry MACs; protocol events
 *  (emitted before their flow ends) first create an IP-keyed device, which is re-keyed to the
 *  MAC (or merged into the MAC's device) when the flow event arrives.
 *
 * Bounds: at most `maxDevices` internal and `maxExternalDevices` external devices (new ones
 * beyond that are counted in `counters`), per-device lists capped at `maxList` (peers per app at
 * `maxPeersPerApp`) with a per-list `dropped` counter, and pending DNS names capped.
 */
import type { EventFields as MuvaktEvent } from '../events/types.js';
import { isoMicroToMs } from '../events/format.js';
import type {
  AddressRecord,
  ServiceRecord,
  UsedService,
  DatasetDevice,
  Device,
  DicomCounters,
  InventoryCounters,
  NameSource,
  SoftwareSource,
  ZoneOf,
  ZoneRef,
} from './types.js';

export interface InventoryOptions {
  /** Zone of an address (`CompiledPolicy.zoneOf`); default: `unknown` for private, `external` for public. */
  zoneOf?: ZoneOf;
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

const MWL_FIND = '1.2.840.10008.5.1.4.31';
const QR_PREFIX = '1.2.840.10008.5.1.4.1.2.';
const MAX_TEXT = 128;

export function isPrivateAddress(ip: string): boolean {
  if (ip.includes(':')) {
    const l = ip.toLowerCase();
    if (l === '::1' || l === '::') return true;
    if (l.startsWith('::ffff:')) return isPrivateAddress(l.slice(7));
    const h = parseInt(l.split(':')[0] || '0', 16);
    return (h & 0xfe00) === 0xfc00 || (h & 0xffc0) === 0xfe80;
  }
  // Called for both ends of every event: read the first two octets in place, no split.
  let a = 0;
  let b = 0;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0) return true;
      dots++;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      digits++;
      if (dots === 0) a = a * 10 + (c - 0x30);
      else if (dots === 1) b = b * 10 + (c - 0x30);
    } else {
      return true; // not a dotted quad: nothing to call external
    }
  }
  if (dots !== 3 || digits === 0) return true;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
}

/** Broadcast, multicast and unspecified addresses never become devices. */
export function isUnroutable(ip: string): boolean {
  // Both ends of every event come through here: read the first octet in place.
  let a = 0;
  for (let i = 0; i < ip.length && i < 4; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) return (a >= 224 && a <= 239) || ip === '0.0.0.0' || ip === '255.255.255.255';
    if (c < 0x30 || c > 0x39) break; // a colon or a hex letter: IPv6
    a = a * 10 + (c - 0x30);
  }
  if (!ip.includes(':')) return false;
  return ip === '::' || ((ip.charCodeAt(0) | 0x20) === 0x66 && (ip.charCodeAt(1) | 0x20) === 0x66);
}

function isMulticastMac(mac: string): boolean {
  // The I/G bit is the low bit of the first octet, i.e. of its second hex digit ('0'–'9' and 'a'–'f' alternate parity alike).
  const c = mac.charCodeAt(1) | 0x20;
  return ((c >= 0x61 ? c - 0x57 : c - 0x30) & 1) === 1;
}

const UNKNOWN_ZONE: ZoneRef = Object.freeze({ name: 'unknown', kind: 'unknown' });
const EXTERNAL_ZONE: ZoneRef = Object.freeze({ name: 'external', kind: 'external' });
const NO_VLANS: readonly number[] = Object.freeze([]);

/** The device is keyed by this MAC (as a flow event writes it), internal and not a router. */
function ownsMac(d: Device, mac: unknown): boolean {
  return d.keyed_by === 'mac' && !d.external && !d.router && typeof mac === 'string' && d.mac === mac;
}

function sameVlans(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Moves a record's first/last seen to include `ts`, given its last_seen as `kept` (the caller's
 * copy, so that the old string need not be read). first_seen ≤ last_seen and capture time mostly
 * moves forward, so first_seen is read only for a time before the last. Returns the new last_seen.
 */
function touchKept(r: { first_seen: string; last_seen: string }, kept: string, ts: string): string {
  if (ts > kept) {
    r.last_seen = ts;
    return ts;
  }
  if (ts !== kept && ts < r.first_seen) r.first_seen = ts;
  return kept;
}

/** A device's record of one address (undefined if it has none for it). */
function addressOf(d: Device, ip: string): AddressRecord | undefined {
  for (let i = 0; i < d.addresses.length; i++) if (d.addresses[i].ip === ip) return d.addresses[i];
  return undefined;
}

/** First and last seen of a device and of its address record, as touchAddress moves them. */
function touchSeen(d: Device, a: AddressRecord | undefined, ts: string): void {
  touchKept(d, d.last_seen, ts);
  if (a !== undefined) touchKept(a, a.last_seen, ts);
}

export const defaultZoneOf: ZoneOf = (ip) => (isPrivateAddress(ip) ? UNKNOWN_ZONE : EXTERNAL_ZONE);

/** Printable, bounded text from the wire; empty when nothing usable is left. */
export function clean(v: unknown): string {
  if (typeof v !== 'string') return '';
  if (isCleanAlready(v)) return v;
  return v.replace(/[^\x20-\x7e\u00a0-\u024f]/g, '').trim().slice(0, MAX_TEXT);
}

/** Most values (app names, countries, user agents) are short printable ASCII: keep them as they are. */
function isCleanAlready(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > MAX_TEXT) return n === 0;
  if (v.charCodeAt(0) === 0x20 || v.charCodeAt(n - 1) === 0x20) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function zeroCounters(): DicomCounters {
  return { echo: 0, store: 0, mwl_find: 0, qr_find: 0, qr_move: 0, qr_get: 0, other: 0 };
}

function newDevice(id: string, keyedBy: 'mac' | 'ip', mac: string | null, ts: string): Device {
  return {
    id,
    keyed_by: keyedBy,
    mac,
    via_mac: null,
    external: false,
    router: false,
    vendor: null,
    addresses: [],
    vlans: [],
    zone: { name: 'unknown', kind: 'unknown' },
    names: [],
    software: [],
    dicom: { calling_aes: [], called_aes: [], implementations: [], datasets: [], issued: zeroCounters(), answered: zeroCounters(), stores_forwarded: 0, stores_retrieved: 0, phi_fields: [] },
    hl7: { applications: [], addressed_as: [], equipment_ids: [], message_types_sent: [], sent: 0, received: 0, acks_sent: 0, phi_fields: [] },
    services_offered: [],
    services_used: [],
    peers: {},
    remote_access: [],
    external_peers: [],
    countries: [],
    phi: { protocols: [], kinds: [], sent: 0, received: 0, sent_external: 0 },
    credentials_cleartext: { protocols: [], as_client: 0, as_server: 0 },
    tls: { contacted_names: [], weak_as_server: 0, weak_as_client: 0, versions: [] },
    events: 0,
    first_seen: ts,
    last_seen: ts,
    dropped: {},
  };
}

function str(e: MuvaktEvent, k: string): string {
  return clean(e[k]);
}

function strList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) return NO_STRINGS;
  const out: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const s = clean(v[i]);
    if (s !== '') out.push(s);
  }
  return out;
}
/** "a^b", or whichever of them is not empty. */
function joinNonEmpty(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a}^${b}`;
}

/** Shared empty result of strList: most lists on most events are empty. */
const NO_STRINGS = Object.freeze([]) as readonly string[] as string[];

function dimseKind(command: string, sop: string): keyof DicomCounters {
  if (command.startsWith('C-ECHO')) return 'echo';
  if (command.startsWith('C-STORE')) return 'store';
  if (command.startsWith('C-FIND')) return sop === MWL_FIND ? 'mwl_find' : sop.startsWith(QR_PREFIX) ? 'qr_find' : 'other';
  if (command.startsWith('C-MOVE')) return 'qr_move';
  if (command.startsWith('C-GET')) return 'qr_get';
  return 'other';
}

export interface InventoryState {
  version: 1;
  devices: Device[];
  counters: InventoryCounters;
  router_macs: string[];
}

export class Inventory {
  readonly counters: InventoryCounters = { events: 0, devices_dropped: 0, external_devices_dropped: 0, merged: 0, routers: 0, pending_names_dropped: 0 };
  private readonly byId = new Map<string, Device>();
  private readonly ipIndex = new Map<string, Device>();
  private readonly routerMacs = new Set<string>();
  /** `mac:<mac>` per MAC, built once: a fresh template string per event costs a flatten and a hash. */
  private readonly macKeys = new Map<string, string>();
  /** MAC → IPv4 → last seen (ms), for the router heuristic; transient. */
  private readonly macIps = new Map<string, Map<string, number>>();
  /** DNS names for addresses not (yet) in the inventory. */
  private readonly pendingNames = new Map<string, string[]>();
  private internalCount = 0;
  private externalCount = 0;
  private readonly zoneOf: ZoneOf;
  private readonly maxDevices: number;
  private readonly maxExternal: number;
  private readonly maxList: number;
  private readonly maxPeers: number;
  private readonly maxAddresses: number;
  private readonly routerThreshold: number;
  private readonly routerWindowMs: number;
  private readonly maxPending: number;
  private readonly rebindAfterMs: number;
  private readonly vlanZoneOf: ((vlans: readonly number[]) => ZoneRef | null) | undefined;
  private readonly reuseEndpoints: boolean;
  /**
   * Bumped by everything that changes which device holds an address or which address records
   * a device has (create, remove, merge, re-key, demote, a new or evicted address). The
   * endpoint cache below is valid only while it stands still.
   */
  private epoch = 0;
  /** Events whose devices came from the endpoint cache (not in the state: for tests and profiling). */
  endpointReuses = 0;
  private lastSrc = '';
  private lastDst = '';
  private lastVlans: readonly number[] = NO_VLANS;
  private lastEpoch = -1;
  private lastClient: Device | null = null;
  private lastServer: Device | null = null;
  private lastClientAddress: AddressRecord | undefined = undefined;
  private lastServerAddress: AddressRecord | undefined = undefined;
  /**
   * Their last_seen values as they stand: comparing with these (read when the entry was filled,
   * kept in step since) spares a load of four old strings per event. Anything else that moves a
   * cached device's times (touchAddress, DHCP, merge) invalidates the entry.
   */
  private lastClientSeen = '';
  private lastServerSeen = '';
  private lastClientAddressSeen = '';
  private lastServerAddressSeen = '';
  /** The pair of devices whose MACs flowKeepsDevices last reported to the router heuristic, and when. */
  private notedClient: Device | null = null;
  private notedServer: Device | null = null;
  private notedSrc = '';
  private notedDst = '';
  private notedMs = 0;
  /** The devices, service and entries of the last flow event (see onFlow). */
  private readonly lastFlowFacts: {
    client: Device | null;
    server: Device | null;
    app: string;
    proto: string;
    port: number;
    srcIp: string;
    dstIp: string;
    offered: ServiceRecord | null;
    used: UsedService | null;
  } = { client: null, server: null, app: '', proto: '', port: -1, srcIp: '', dstIp: '', offered: null, used: null };
  /** The devices and header values of the last `http` event (see observe). */
  private readonly lastHttp: { client: Device | null; server: Device | null; ua: unknown; sv: unknown; hn: unknown } = {
    client: null,
    server: null,
    ua: undefined,
    sv: undefined,
    hn: undefined,
  };

  constructor(opts: InventoryOptions = {}) {
    this.zoneOf = opts.zoneOf ?? defaultZoneOf;
    this.maxDevices = opts.maxDevices ?? 100_000;
    this.maxExternal = opts.maxExternalDevices ?? 10_000;
    this.maxList = opts.maxList ?? 32;
    this.maxPeers = opts.maxPeersPerApp ?? 64;
    this.maxAddresses = opts.maxAddresses ?? 16;
    this.routerThreshold = opts.routerThreshold ?? 8;
    this.routerWindowMs = opts.routerWindowMs ?? 10 * 60_000;
    this.maxPending = opts.maxPendingNames ?? 10_000;
    this.rebindAfterMs = opts.rebindAfterMs ?? 3_600_000;
    this.vlanZoneOf = opts.vlanZoneOf;
    this.reuseEndpoints = opts.reuseEndpoints ?? true;
    for (const m of opts.routerMacs ?? []) this.routerMacs.add(m.toLowerCase());
  }

  get size(): number {
    return this.byId.size;
  }

  devices(): IterableIterator<Device> {
    return this.byId.values();
  }

  get(id: string): Device | undefined {
    return this.byId.get(id);
  }

  /** The device currently holding this address. */
  byIp(ip: string): Device | undefined {
    return this.ipIndex.get(ip);
  }

  isRouterMac(mac: string): boolean {
    return this.routerMacs.has(mac.toLowerCase());
  }

  // ------------------------------------------------------------------ identity

  private isExternal(zone: ZoneRef): boolean {
    return zone.kind === 'external';
  }

  private create(keyedBy: 'mac' | 'ip', key: string, mac: string | null, external: boolean, ts: string): Device | null {
    if (external ? this.externalCount >= this.maxExternal : this.internalCount >= this.maxDevices) {
      if (external) this.counters.external_devices_dropped++;
      else this.counters.devices_dropped++;
      return null;
    }
    const d = newDevice(`${keyedBy}:${key}`, keyedBy, mac, ts);
    this.epoch++;
    d.external = external;
    this.byId.set(d.id, d);
    if (external) this.externalCount++;
    else this.internalCount++;
    return d;
  }

  private remove(d: Device): void {
    this.epoch++;
    if (this.byId.delete(d.id)) {
      if (d.external) this.externalCount--;
      else this.internalCount--;
    }
  }

  /** The device for an endpoint of an event; null for unroutable addresses or when full. */
  private resolve(ip: string, mac: string | undefined, vlans: readonly number[], ts: string): Device | null {
    if (ip === '' || isUnroutable(ip)) return null;
    const zone = this.zoneOf(ip, vlans);
    const external = this.isExternal(zone);
    const m = mac ? mac.toLowerCase() : undefined;
    // Broadcast/multicast frames (a directed broadcast, mDNS…) are nobody's device.
    if (m !== undefined && isMulticastMac(m)) return null;
    const prev = this.ipIndex.get(ip);
    let d: Device | null | undefined;
    let useMac = m !== undefined && !external && !this.routerMacs.has(m);
    if (useMac && this.noteMacIp(m!, ip, ts)) useMac = false;
    // Seen on another zone's VLAN than its address belongs to: the frame was routed.
    let routed = false;
    if (!external && this.vlanZoneOf !== undefined && vlans.length > 0 && zone.kind !== 'unknown') {
      const vz = this.vlanZoneOf(vlans);
      routed = vz !== null && vz.name !== zone.name;
    }
    if (routed) useMac = false;
    if (useMac && prev !== undefined && prev.keyed_by === 'mac' && prev.mac !== m && !prev.router) {
      // Bound to another MAC recently: seen through a router, not moved.
      const a = prev.addresses.find((x) => x.ip === ip);
      if (a !== undefined && (isoMicroToMs(ts) || 0) - (isoMicroToMs(a.last_seen) || 0) < this.rebindAfterMs) useMac = false;
    }
    if (useMac) {
      d = this.byId.get(this.macKey(m!));
      if (d === undefined) {
        if (prev !== undefined && prev.keyed_by === 'ip' && !prev.external) {
          // Learnt the MAC of a device first seen in a protocol event: re-key it.
          this.epoch++;
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
      this.epoch++;
    }
    // A frame that reached it through a router says nothing about its own VLAN.
    this.touchAddress(d, ip, ts, routed || (m !== undefined && !useMac && !external) ? [] : vlans, zone);
    return d;
  }

  /**
   * Whether a flow event between the cached endpoints would resolve to the cached devices: both
   * are keyed by exactly the MACs it carries, internal, and not routers. The router heuristic
   * still hears of each MAC/address pair; should that demote a MAC, the epoch moves and the
   * event takes the full path.
   */
  private flowKeepsDevices(e: MuvaktEvent, ts: string): boolean {
    const c = this.lastClient;
    const s = this.lastServer;
    if (c === null || s === null || !ownsMac(c, e.client_mac) || !ownsMac(s, e.server_mac)) return false;
    if (this.routerMacs.size > 0 && (this.routerMacs.has(c.mac!) || this.routerMacs.has(s.mac!))) return false;
    // The router heuristic counts addresses per MAC over minutes: telling it again of the
    // same two pairs within a second changes nothing it could conclude.
    const now = isoMicroToMs(ts) || 0;
    if (c === this.notedClient && s === this.notedServer && this.lastSrc === this.notedSrc && this.lastDst === this.notedDst && now >= this.notedMs && now - this.notedMs < 1000) return true;
    const epoch = this.epoch;
    this.noteMacIp(c.mac!, this.lastSrc, ts);
    this.noteMacIp(s.mac!, this.lastDst, ts);
    if (this.epoch !== epoch) return false;
    this.notedClient = c;
    this.notedServer = s;
    this.notedSrc = this.lastSrc;
    this.notedDst = this.lastDst;
    this.notedMs = now;
    return true;
  }

  /**
   * touchSeen for the cached devices and addresses, against the kept last_seen values: a later
   * time is only stored; first_seen is read only for a time before the last one (out of order).
   */
  private touchCached(ts: string): void {
    if (this.lastClient !== null) this.lastClientSeen = touchKept(this.lastClient, this.lastClientSeen, ts);
    if (this.lastServer !== null) this.lastServerSeen = touchKept(this.lastServer, this.lastServerSeen, ts);
    if (this.lastClientAddress !== undefined) this.lastClientAddressSeen = touchKept(this.lastClientAddress, this.lastClientAddressSeen, ts);
    if (this.lastServerAddress !== undefined) this.lastServerAddressSeen = touchKept(this.lastServerAddress, this.lastServerAddressSeen, ts);
  }


  private macKey(mac: string): string {
    let k = this.macKeys.get(mac);
    if (k === undefined) {
      if (this.macKeys.size >= 4 * this.maxDevices) this.macKeys.clear();
      k = `mac:${mac}`;
      this.macKeys.set(mac, k);
    }
    return k;
  }

  /** Records MAC↔IPv4 for the router heuristic; true when the MAC is (now) a router's. */
  private noteMacIp(mac: string, ip: string, ts: string): boolean {
    if (ip.includes(':')) return false;
    const now = isoMicroToMs(ts) || 0;
    let seen = this.macIps.get(mac);
    if (seen === undefined) {
      seen = new Map();
      this.macIps.set(mac, seen);
      if (this.macIps.size > this.maxDevices) {
        const oldest = this.macIps.keys().next().value;
        if (oldest !== undefined) this.macIps.delete(oldest);
      }
    }
    seen.set(ip, now);
    if (seen.size <= this.routerThreshold) return false;
    for (const [a, t] of seen) if (now - t > this.routerWindowMs) seen.delete(a);
    if (seen.size <= this.routerThreshold) return false;
    this.demote(mac);
    return true;
  }

  /** The MAC routes for others: flag its device, release its addresses to per-IP devices. */
  private demote(mac: string): void {
    this.epoch++;
    this.routerMacs.add(mac);
    this.macIps.delete(mac);
    this.counters.routers++;
    const d = this.byId.get(`mac:${mac}`);
    if (d === undefined) return;
    d.router = true;
    for (const a of d.addresses) if (this.ipIndex.get(a.ip) === d) this.ipIndex.delete(a.ip);
  }

  private touchAddress(d: Device, ip: string, ts: string, vlans: readonly number[], zone: ZoneRef): void {
    // The endpoint cache keeps these devices' times: it is refilled, not bypassed.
    if (d === this.lastClient || d === this.lastServer) this.lastEpoch = -1;
    const a = addressOf(d, ip);
    touchSeen(d, a, ts);
    if (!a) {
      if (d.addresses.length >= this.maxAddresses) {
        // Drop the stalest address record; the history is bounded.
        let oldest = 0;
        for (let i = 1; i < d.addresses.length; i++) if (d.addresses[i].last_seen < d.addresses[oldest].last_seen) oldest = i;
        d.addresses.splice(oldest, 1);
        this.drop(d, 'addresses');
      }
      d.addresses.push({ ip, version: ip.includes(':') ? 6 : 4, first_seen: ts, last_seen: ts });
      this.epoch++;
      const pending = this.pendingNames.get(ip);
      if (pending) {
        for (const n of pending) this.addName(d, n, 'dns');
        this.pendingNames.delete(ip);
      }
    }
    for (let i = 0; i < vlans.length; i++) this.add(d, d.vlans, vlans[i], 'vlans');
    // Replaced only when it changes: a fresh object per event would be garbage, or worse, promoted.
    if ((d.zone.kind === 'unknown' || (zone.kind !== 'unknown' && ip.indexOf(':') < 0)) && (d.zone.name !== zone.name || d.zone.kind !== zone.kind)) {
      d.zone = { name: zone.name, kind: zone.kind };
    }
  }

  private drop(d: Device, list: string): void {
    d.dropped[list] = (d.dropped[list] ?? 0) + 1;
  }

  private add<T>(d: Device, list: T[], v: T, name: string, cap = this.maxList): void {
    if (v === '' || list.includes(v)) return;
    if (list.length >= cap) this.drop(d, name);
    else list.push(v);
  }

  private addName(d: Device, name: string, source: NameSource): void {
    const n = clean(name).toLowerCase().replace(/\.$/, '');
    if (n === '' || d.names.some((x) => x.name === n && x.source === source)) return;
    if (d.names.length >= this.maxList) this.drop(d, 'names');
    else d.names.push({ name: n, source });
  }

  private addSoftware(d: Device, value: string, source: SoftwareSource): void {
    const v = clean(value);
    if (v === '' || d.software.some((x) => x.value === v && x.source === source)) return;
    if (d.software.length >= this.maxList) this.drop(d, 'software');
    else d.software.push({ source, value: v });
  }

  private addPeer(d: Device, app: string, ip: string): void {
    let list = d.peers[app];
    if (list === undefined) {
      if (Object.keys(d.peers).length >= this.maxList) return this.drop(d, 'peer_apps');
      list = d.peers[app] = [];
    }
    this.add(d, list, ip, 'peers', this.maxPeers);
  }

  // ------------------------------------------------------------------ events

  observe(e: MuvaktEvent): void {
    this.counters.events++;
    if (e.type === 'dhcp') return this.onDhcp(e);
    const f = e.flow;
    if (f === undefined || typeof f.src_ip !== 'string') return;
    const ts = typeof e.ts === 'string' ? e.ts : '';
    const isFlow = e.type === 'flow';
    const vlans = f.vlan ?? NO_VLANS;
    let client: Device | null;
    let server: Device | null;
    const sameEndpoints = this.reuseEndpoints && this.epoch === this.lastEpoch && f.src_ip === this.lastSrc && f.dst_ip === this.lastDst && sameVlans(vlans, this.lastVlans);
    if (sameEndpoints && (!isFlow || this.flowKeepsDevices(e, ts))) {
      // The same two endpoints as the last protocol event (most often the same connection, or
      // the next of a burst between the same hosts), and no device or address has changed
      // since: their devices and address records are known, only their times move.
      client = this.lastClient;
      server = this.lastServer;
      this.touchCached(ts);
      this.endpointReuses++;
    } else {
      client = this.resolve(f.src_ip, isFlow ? (e.client_mac as string | undefined) : undefined, vlans, ts);
      server = this.resolve(f.dst_ip, isFlow ? (e.server_mac as string | undefined) : undefined, vlans, ts);
      // Only protocol events fill the cache: a flow event resolves with its MACs (and, when
      // routed, without the VLAN), and any change of identity it makes bumps the epoch.
      // (A connection from a device to itself is not cached: its two kept times would be one.)
      if (!isFlow && (client !== server || client === null)) {
        this.lastSrc = f.src_ip;
        this.lastDst = f.dst_ip;
        this.lastVlans = vlans;
        this.lastEpoch = this.epoch;
        this.lastClient = client;
        this.lastServer = server;
        this.lastClientAddress = client === null ? undefined : addressOf(client, f.src_ip);
        this.lastServerAddress = server === null ? undefined : addressOf(server, f.dst_ip);
        this.lastClientSeen = client === null ? '' : client.last_seen;
        this.lastServerSeen = server === null ? '' : server.last_seen;
        this.lastClientAddressSeen = this.lastClientAddress === undefined ? '' : this.lastClientAddress.last_seen;
        this.lastServerAddressSeen = this.lastServerAddress === undefined ? '' : this.lastServerAddress.last_seen;
      }
    }
    if (client) client.events++;
    if (server && server !== client) server.events++;
    switch (e.type) {
      case 'flow':
        return this.onFlow(e, client, server);
      case 'dicom.association':
        return this.onAssociation(e, client, server);
      case 'dicom.dimse':
        return this.onDimse(e, client, server);
      case 'hl7.message':
        return this.onHl7(e, client, server);
      case 'tls.handshake':
        return this.onTls(e, client, server);
      case 'remote_access':
        return this.onRemote(e, client, server);
      case 'credential.cleartext': {
        const p = str(e, 'protocol');
        if (client) {
          client.credentials_cleartext.as_client++;
          this.add(client, client.credentials_cleartext.protocols, p, 'credential_protocols');
        }
        if (server) {
          server.credentials_cleartext.as_server++;
          this.add(server, server.credentials_cleartext.protocols, p, 'credential_protocols');
        }
        return;
      }
      case 'phi.observed':
        return this.onPhi(e, client, server);
      case 'http': {
        // Connection after connection between the same two devices repeats the same agent,
        // server and host: what the last exchange between them added need not be added again.
        const ua = e.http_user_agent;
        const sv = e.http_server;
        const hn = e.hostname;
        const m = this.lastHttp;
        if (this.reuseEndpoints && m.client === client && m.server === server && m.ua === ua && m.sv === sv && m.hn === hn) return;
        m.client = client;
        m.server = server;
        m.ua = ua;
        m.sv = sv;
        m.hn = hn;
        if (client) this.addSoftware(client, clean(ua), 'http-user-agent');
        if (server) {
          this.addSoftware(server, clean(sv), 'http-server');
          const host = clean(hn).replace(/:\d+$/, '');
          if (host !== '' && !/^[\d.]+$/.test(host) && !host.includes(':')) {
            if (server.external && client) this.add(client, client.tls.contacted_names, host.toLowerCase(), 'contacted_names');
            else this.addName(server, host, 'http-host');
          }
        }
        return;
      }
      case 'dns':
        return this.onDns(e);
      case 'syslog':
        if (client) this.addName(client, str(e, 'hostname'), 'syslog');
        return;
      default:
        return;
    }
  }

  observeAll(events: Iterable<MuvaktEvent>): this {
    for (const e of events) this.observe(e);
    return this;
  }

  private onFlow(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const f = e.flow!;
    const app = clean(e.app) || f.app || 'unknown';
    if (client && !client.vendor && client.keyed_by === 'mac') client.vendor = clean(e.client_vendor) || null;
    if (server && !server.vendor && server.keyed_by === 'mac') server.vendor = clean(e.server_vendor) || null;
    // A service is offered when it answered, or (one-way UDP: syslog, SNMP traps) when the
    // analyzers recognised its protocol.
    const answered = e.state !== 'new' || Number(e.pkts_toclient) > 0 || (f.proto === 'udp' && app !== 'unknown');
    // The next connection of a burst between the same two internal devices, to the same
    // service: only the counts move (peers are known, nothing external to record).
    const m = this.lastFlowFacts;
    if (
      this.reuseEndpoints &&
      m.client === client &&
      m.server === server &&
      client !== null &&
      server !== null &&
      client !== server &&
      !client.external &&
      !server.external &&
      m.app === app &&
      m.proto === f.proto &&
      m.port === f.dst_port &&
      m.srcIp === f.src_ip &&
      m.dstIp === f.dst_ip &&
      m.offered !== null &&
      m.used !== null &&
      m.offered.app === app
    ) {
      if (answered) m.offered.count++;
      m.used.count++;
      return;
    }
    let offered: ServiceRecord | null = null;
    let used: UsedService | null = null;
    if (server && answered) {
      const s = server.services_offered.find((x) => x.proto === f.proto && x.port === f.dst_port);
      if (s) {
        s.count++;
        if (s.app === 'unknown' && app !== 'unknown') s.app = app;
        offered = s;
      } else if (server.services_offered.length >= this.maxList) this.drop(server, 'services_offered');
      else server.services_offered.push((offered = { proto: f.proto, port: f.dst_port, app, count: 1 }));
    }
    if (client) {
      const u = client.services_used.find((x) => x.app === app);
      if (u) {
        u.count++;
        used = u;
      } else if (client.services_used.length >= this.maxList) this.drop(client, 'services_used');
      else client.services_used.push((used = { app, count: 1 }));
    }
    m.client = client;
    m.server = server;
    m.app = app;
    m.proto = f.proto;
    m.port = f.dst_port;
    m.srcIp = f.src_ip;
    m.dstIp = f.dst_ip;
    m.offered = offered;
    m.used = used;
    if (client && server && client !== server) {
      this.addPeer(client, app, f.dst_ip);
      this.addPeer(server, app, f.src_ip);
      this.external(client, server, f.dst_ip, clean(e.dst_country), 'outbound', app);
      this.external(server, client, f.src_ip, clean(e.src_country), 'inbound', app);
    }
  }

  private external(d: Device, peer: Device, peerIp: string, country: string, direction: 'inbound' | 'outbound', app: string): void {
    if (!peer.external || d.external) return;
    let p = d.external_peers.find((x) => x.ip === peerIp && x.direction === direction);
    if (!p) {
      if (d.external_peers.length >= this.maxList) return this.drop(d, 'external_peers');
      p = { ip: peerIp, direction, apps: [], count: 0 };
      if (country) p.country = country;
      d.external_peers.push(p);
    }
    p.count++;
    this.add(d, p.apps, app, 'external_peer_apps', 8);
    if (country) this.add(d, d.countries, country, 'countries');
  }

  private onAssociation(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const rejected = e.result === 'rejected';
    if (client) {
      this.add(client, client.dicom.calling_aes, str(e, 'calling_ae'), 'calling_aes');
      this.implementation(client, str(e, 'implementation_class_uid'), str(e, 'implementation_version'));
    }
    if (server && !rejected) {
      this.add(server, server.dicom.called_aes, str(e, 'called_ae'), 'called_aes');
      this.implementation(server, str(e, 'acceptor_implementation_class_uid'), str(e, 'acceptor_implementation_version'));
    }
  }

  private implementation(d: Device, uid: string, version: string): void {
    if (uid === '' && version === '') return;
    if (d.dicom.implementations.some((x) => x.class_uid === uid && x.version === version)) return;
    if (d.dicom.implementations.length >= 8) return this.drop(d, 'implementations');
    d.dicom.implementations.push({ class_uid: uid, version });
  }

  private onDimse(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const command = str(e, 'command');
    if (!command.endsWith('-RQ')) return;
    const toServer = e.direction !== 'to_client';
    const requester = toServer ? client : server;
    const responder = toServer ? server : client;
    // The SOP class only tells C-FIND kinds apart; cleaning a UID per echo would be wasted.
    const kind = dimseKind(command, command.startsWith('C-FIND') ? str(e, 'sop_class_uid') : '');
    // A C-STORE sent by the association acceptor is a sub-operation (C-GET) or forwarding: it
    // does not make the sender a modality nor the receiver an archive.
    const subOp = kind === 'store' && !toServer;
    if (requester) {
      if (subOp) requester.dicom.stores_forwarded++;
      else requester.dicom.issued[kind]++;
      for (const fld of strList(e.phi_fields)) this.add(requester, requester.dicom.phi_fields, fld, 'dicom_phi_fields');
      const dev = e.device;
      if (kind === 'store' && dev !== null && typeof dev === 'object') {
        const o = dev as Record<string, unknown>;
        const rec: Omit<DatasetDevice, 'count'> = {
          modality: clean(o.modality),
          manufacturer: clean(o.manufacturer),
          model: clean(o.model ?? o.model_name),
          software_versions: clean(Array.isArray(o.software_versions) ? o.software_versions.join('\\') : o.software_versions),
          station_name: clean(o.station_name),
          via: toServer ? 'store-scu' : 'sub-op',
        };
        const same = requester.dicom.datasets.find(
          (x) => x.modality === rec.modality && x.manufacturer === rec.manufacturer && x.model === rec.model && x.software_versions === rec.software_versions && x.station_name === rec.station_name && x.via === rec.via,
        );
        if (same) same.count++;
        else if (requester.dicom.datasets.length >= this.maxList) this.drop(requester, 'datasets');
        else requester.dicom.datasets.push({ ...rec, count: 1 });
      }
    }
    if (responder) {
      if (subOp) responder.dicom.stores_retrieved++;
      else responder.dicom.answered[kind]++;
      if (kind === 'store') for (const fld of strList(e.phi_fields)) this.add(responder, responder.dicom.phi_fields, fld, 'dicom_phi_fields');
    }
  }

  private onHl7(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const toServer = e.direction !== 'to_client';
    const sender = toServer ? client : server;
    const receiver = toServer ? server : client;
    const app = joinNonEmpty(str(e, 'sending_application'), str(e, 'sending_facility'));
    const to = joinNonEmpty(str(e, 'receiving_application'), str(e, 'receiving_facility'));
    const type = str(e, 'message_type');
    const ack = type.startsWith('ACK') || e.acknowledgment !== undefined;
    if (sender) {
      this.add(sender, sender.hl7.applications, app, 'hl7_applications');
      for (const id of strList(e.equipment_ids)) this.add(sender, sender.hl7.equipment_ids, id, 'equipment_ids');
      for (const fld of strList(e.phi_fields)) this.add(sender, sender.hl7.phi_fields, fld, 'hl7_phi_fields');
      if (ack) sender.hl7.acks_sent++;
      else {
        sender.hl7.sent++;
        this.add(sender, sender.hl7.message_types_sent, type, 'message_types');
      }
    }
    if (receiver) {
      this.add(receiver, receiver.hl7.addressed_as, to, 'hl7_addressed_as');
      if (!ack) {
        receiver.hl7.received++;
        for (const fld of strList(e.phi_fields)) this.add(receiver, receiver.hl7.phi_fields, fld, 'hl7_phi_fields');
      }
    }
  }

  private onTls(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const sni = str(e, 'sni');
    const weak = e.weak === true;
    const version = str(e, 'version');
    if (server) {
      if (sni !== '' && !server.external) this.addName(server, sni, 'tls-sni');
      const cert = e.certificate as { subject?: unknown; san?: unknown } | undefined;
      const cn = clean(cert?.subject).match(/CN=([^,]+)/);
      if (cn && !server.external) this.addName(server, cn[1], 'tls-cert');
      for (const n of strList(cert?.san)) if (!server.external) this.addName(server, n.replace(/^DNS:/, ''), 'tls-cert');
      if (weak) server.tls.weak_as_server++;
      this.add(server, server.tls.versions, version, 'tls_versions', 8);
    }
    if (client) {
      if (sni !== '') this.add(client, client.tls.contacted_names, sni.toLowerCase(), 'contacted_names');
      if (weak) client.tls.weak_as_client++;
      this.add(client, client.tls.versions, version, 'tls_versions', 8);
    }
  }

  private onRemote(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const f = e.flow!;
    const protocol = str(e, 'protocol') || f.app;
    const encrypted = e.encrypted === true;
    const ts = e.ts;
    const src: SoftwareSource = protocol === 'ssh' ? 'ssh' : protocol === 'vnc' ? 'vnc' : protocol === 'telnet' ? 'telnet' : protocol === 'rdp' ? 'rdp' : 'remote-banner';
    if (server) this.addSoftware(server, str(e, 'server_banner'), src);
    if (client && protocol === 'ssh') this.addSoftware(client, str(e, 'client_banner'), src);
    const rec = (d: Device, peer: Device | null, peerIp: string, direction: 'inbound' | 'outbound') => {
      let r = d.remote_access.find((x) => x.protocol === protocol && x.direction === direction && x.peer === peerIp);
      if (!r) {
        if (d.remote_access.length >= this.maxList) return this.drop(d, 'remote_access');
        r = { protocol, direction, peer: peerIp, peer_external: peer?.external ?? false, peer_zone: peer?.zone.name ?? 'unknown', encrypted, count: 0, first_seen: ts, last_seen: ts };
        d.remote_access.push(r);
      }
      r.count++;
      if (!encrypted) r.encrypted = false;
      if (ts > r.last_seen) r.last_seen = ts;
    };
    if (server) rec(server, client, f.src_ip, 'inbound');
    if (client) rec(client, server, f.dst_ip, 'outbound');
  }

  private onPhi(e: MuvaktEvent, client: Device | null, server: Device | null): void {
    const toServer = e.direction !== 'to_client';
    const sender = toServer ? client : server;
    const receiver = toServer ? server : client;
    const protocol = str(e, 'protocol') || e.flow!.app;
    const kinds = strList(e.kinds);
    for (const d of [sender, receiver]) {
      if (!d) continue;
      this.add(d, d.phi.protocols, protocol, 'phi_protocols');
      for (const k of kinds) this.add(d, d.phi.kinds, k, 'phi_kinds');
    }
    if (sender) {
      sender.phi.sent++;
      if (receiver?.external) sender.phi.sent_external++;
    }
    if (receiver) receiver.phi.received++;
  }

  private onDns(e: MuvaktEvent): void {
    if (e.dns_type !== 'response' || !Array.isArray(e.answers)) return;
    const qname = str(e, 'rrname');
    for (const a of e.answers as { rrname?: unknown; rrtype?: unknown; rdata?: unknown }[]) {
      if (a.rrtype !== 'A' && a.rrtype !== 'AAAA') continue;
      const ip = clean(a.rdata);
      if (ip === '') continue;
      const names = [qname, clean(a.rrname)].filter((n, i, arr) => n !== '' && arr.indexOf(n) === i);
      const d = this.ipIndex.get(ip);
      if (d) {
        for (const n of names) this.addName(d, n, 'dns');
        continue;
      }
      let pend = this.pendingNames.get(ip);
      if (!pend) {
        if (this.pendingNames.size >= this.maxPending) {
          this.counters.pending_names_dropped++;
          continue;
        }
        pend = [];
        this.pendingNames.set(ip, pend);
      }
      for (const n of names) if (!pend.includes(n) && pend.length < 8) pend.push(n);
    }
  }

  private onDhcp(e: MuvaktEvent): void {
    // DHCP moves devices and their times outside observe's endpoint cache.
    this.epoch++;
    const mac = str(e, 'client_mac').toLowerCase();
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) || this.routerMacs.has(mac)) return;
    const ts = typeof e.ts === 'string' ? e.ts : '';
    const ip = str(e, 'assigned_ip') || str(e, 'requested_ip');
    const vlans = e.flow?.vlan ?? [];
    let d: Device | null | undefined;
    if (ip !== '' && !isUnroutable(ip) && e.dhcp_type !== 'nak' && e.dhcp_type !== 'decline' && e.dhcp_type !== 'release') {
      d = this.resolve(ip, mac, vlans, ts);
    } else {
      d = this.byId.get(`mac:${mac}`) ?? this.create('mac', mac, mac, false, ts);
      if (d) {
        if (ts > d.last_seen) d.last_seen = ts;
        for (const v of vlans) this.add(d, d.vlans, v, 'vlans');
      }
    }
    if (!d) return;
    d.events++;
    this.addName(d, str(e, 'hostname'), 'dhcp');
    this.addSoftware(d, str(e, 'vendor_class'), 'dhcp-vendor-class');
  }

  // ------------------------------------------------------------------ merge, persistence

  /** Folds an IP-keyed device into the MAC-keyed device of the same host. */
  private merge(into: Device, from: Device): void {
    this.counters.merged++;
    this.remove(from);
    for (const a of from.addresses) {
      if (this.ipIndex.get(a.ip) === from) this.ipIndex.set(a.ip, into);
      const have = into.addresses.find((x) => x.ip === a.ip);
      if (have) {
        if (a.first_seen < have.first_seen) have.first_seen = a.first_seen;
        if (a.last_seen > have.last_seen) have.last_seen = a.last_seen;
      } else if (into.addresses.length < this.maxAddresses) into.addresses.push(a);
      else this.drop(into, 'addresses');
    }
    if (from.first_seen < into.first_seen) into.first_seen = from.first_seen;
    if (from.last_seen > into.last_seen) into.last_seen = from.last_seen;
    into.events += from.events;
    const lists = <T>(a: T[], b: T[], name: string, key: (x: T) => string = (x) => JSON.stringify(x)) => {
      const seen = new Set(a.map(key));
      for (const x of b) if (!seen.has(key(x))) (a.length < this.maxList ? a.push(x) : this.drop(into, name));
    };
    lists(into.vlans, from.vlans, 'vlans');
    lists(into.names, from.names, 'names');
    lists(into.software, from.software, 'software');
    const dI = into.dicom;
    const dF = from.dicom;
    lists(dI.calling_aes, dF.calling_aes, 'calling_aes');
    lists(dI.called_aes, dF.called_aes, 'called_aes');
    lists(dI.implementations, dF.implementations, 'implementations');
    lists(dI.phi_fields, dF.phi_fields, 'dicom_phi_fields');
    for (const ds of dF.datasets) {
      const same = dI.datasets.find((x) => JSON.stringify({ ...x, count: 0 }) === JSON.stringify({ ...ds, count: 0 }));
      if (same) same.count += ds.count;
      else lists(dI.datasets, [ds], 'datasets');
    }
    for (const k of Object.keys(dI.issued) as (keyof DicomCounters)[]) {
      dI.issued[k] += dF.issued[k];
      dI.answered[k] += dF.answered[k];
    }
    dI.stores_forwarded += dF.stores_forwarded;
    dI.stores_retrieved += dF.stores_retrieved;
    const hI = into.hl7;
    const hF = from.hl7;
    lists(hI.applications, hF.applications, 'hl7_applications');
    lists(hI.addressed_as, hF.addressed_as, 'hl7_addressed_as');
    lists(hI.equipment_ids, hF.equipment_ids, 'equipment_ids');
    lists(hI.message_types_sent, hF.message_types_sent, 'message_types');
    lists(hI.phi_fields, hF.phi_fields, 'hl7_phi_fields');
    hI.sent += hF.sent;
    hI.received += hF.received;
    hI.acks_sent += hF.acks_sent;
    for (const s of from.services_offered) {
      const have = into.services_offered.find((x) => x.proto === s.proto && x.port === s.port);
      if (have) have.count += s.count;
      else lists(into.services_offered, [s], 'services_offered');
    }
    for (const s of from.services_used) {
      const have = into.services_used.find((x) => x.app === s.app);
      if (have) have.count += s.count;
      else lists(into.services_used, [s], 'services_used');
    }
    for (const [app, ips] of Object.entries(from.peers)) for (const ip of ips) this.addPeer(into, app, ip);
    for (const r of from.remote_access) {
      const have = into.remote_access.find((x) => x.protocol === r.protocol && x.direction === r.direction && x.peer === r.peer);
      if (have) {
        have.count += r.count;
        have.encrypted &&= r.encrypted;
        if (r.first_seen < have.first_seen) have.first_seen = r.first_seen;
        if (r.last_seen > have.last_seen) have.last_seen = r.last_seen;
      } else lists(into.remote_access, [r], 'remote_access');
    }
    for (const p of from.external_peers) {
      const have = into.external_peers.find((x) => x.ip === p.ip && x.direction === p.direction);
      if (have) {
        have.count += p.count;
        for (const a of p.apps) this.add(into, have.apps, a, 'external_peer_apps', 8);
      } else lists(into.external_peers, [p], 'external_peers');
    }
    lists(into.countries, from.countries, 'countries');
    lists(into.phi.protocols, from.phi.protocols, 'phi_protocols');
    lists(into.phi.kinds, from.phi.kinds, 'phi_kinds');
    into.phi.sent += from.phi.sent;
    into.phi.received += from.phi.received;
    into.phi.sent_external += from.phi.sent_external;
    lists(into.credentials_cleartext.protocols, from.credentials_cleartext.protocols, 'credential_protocols');
    into.credentials_cleartext.as_client += from.credentials_cleartext.as_client;
    into.credentials_cleartext.as_server += from.credentials_cleartext.as_server;
    lists(into.tls.contacted_names, from.tls.contacted_names, 'contacted_names');
    lists(into.tls.versions, from.tls.versions, 'tls_versions');
    into.tls.weak_as_client += from.tls.weak_as_client;
    into.tls.weak_as_server += from.tls.weak_as_server;
    for (const [k, n] of Object.entries(from.dropped)) into.dropped[k] = (into.dropped[k] ?? 0) + n;
    if (into.zone.kind === 'unknown') into.zone = from.zone;
  }

  toJSON(): InventoryState {
    return { version: 1, devices: [...this.byId.values()], counters: { ...this.counters }, router_macs: [...this.routerMacs] };
  }

  static fromJSON(state: InventoryState, opts: InventoryOptions = {}): Inventory {
    if (state?.version !== 1 || !Array.isArray(state.devices)) throw new Error('inventory state: expected version 1');
    const inv = new Inventory({ ...opts, routerMacs: [...(opts.routerMacs ?? []), ...(state.router_macs ?? [])] });
    Object.assign(inv.counters, state.counters);
    for (const raw of state.devices) {
      const d = structuredClone(raw);
      if (d.external ? inv.externalCount >= inv.maxExternal : inv.internalCount >= inv.maxDevices) continue;
      inv.byId.set(d.id, d);
      if (d.external) inv.externalCount++;
      else inv.internalCount++;
      if (d.router) continue;
      for (const a of d.addresses) {
        const cur = inv.ipIndex.get(a.ip);
        if (cur === undefined || cur.addresses.find((x) => x.ip === a.ip)!.last_seen < a.last_seen) inv.ipIndex.set(a.ip, d);
      }
    }
    return inv;
  }
}
