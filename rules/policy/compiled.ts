import { ipTextVersion } from '../../protocols/ip/ip-text.js';
import { classifyIpv6, isExternal } from '../../protocols/ip/address-class.js';
import { contains, parsePrefix, type Prefix } from './cidr.js';
import type { Policy, ZoneKind } from './schema.js';

/** EU member states plus Iceland, Liechtenstein and Norway. */
export const EEA_COUNTRIES: ReadonlySet<string> = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL',
  'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO',
]);

export interface ZoneInfo {
  /** Zone name, or `unknown` (internal address in no zone) or `external` (anything else). */
  name: string;
  kind: ZoneKind | 'unknown' | 'external';
}

export const UNKNOWN_ZONE: ZoneInfo = { name: 'unknown', kind: 'unknown' };
export const EXTERNAL_ZONE: ZoneInfo = { name: 'external', kind: 'external' };

interface RetiredDevice {
  name: string;
  retiredOn: string | undefined;
}

interface ZonePrefix {
  prefix: Prefix;
  zone: ZoneInfo;
}

/** An address in four words, parsed once per distinct text (events repeat a few addresses). */
const wordsCache = new Map<string, [number, number, number, number] | null>();
function words(ip: string): [number, number, number, number] | null {
  let w = wordsCache.get(ip);
  if (w === undefined) {
    w = ipTextVersion(ip) === 0 ? null : parsePrefix(ip)!.words;
    if (wordsCache.size >= 65_536) wordsCache.clear();
    wordsCache.set(ip, w);
  }
  return w;
}

interface FlowRule {
  from: ZoneInfo | Prefix | 'any';
  to: ZoneInfo | Prefix | 'any';
  apps: Set<string> | null;
  ports: Set<number> | null;
  encryptedRequired: boolean;
  index: number;
}

/** A flow the policy expects to see at least every `maxSilenceMs` (capture time). */
export interface ExpectedFlowRule {
  name: string;
  from: ZoneInfo | Prefix | 'any';
  to: ZoneInfo | Prefix | 'any';
  /** The endpoints as written in the policy (the alert's subject). */
  fromText: string;
  toText: string;
  apps: Set<string> | null;
  ports: Set<number> | null;
  maxSilenceMs: number;
}

export interface FlowQuery {
  srcIp: string;
  dstIp: string;
  srcZone: ZoneInfo;
  dstZone: ZoneInfo;
  app: string;
  dstPort: number;
  encrypted: boolean;
}

/**
 * The policy prepared for the rules: zone lookup by longest-prefix CIDR match (then VLAN),
 * allow-list matching, remote-access sources, countries. Built once per policy load.
 */
/**
 * Where encryption is required when the policy does not say: over networks the site does not
 * control (MU 4.6 "skal"), health and personal data between zones, and remote access (MU 4.7 "skal").
 */
export const DEFAULT_ENCRYPTION_REQUIRED_FOR: readonly string[] = ['external', 'cross-zone-phi', 'remote-access'];

/** Failed logins per client → server port, and the window they must fall in. */
export const DEFAULT_AUTH_FAILURES = { count: 5, windowSec: 300 } as const;
/** SSH/RDP connections per client → server port, each at most maxSec long, within windowSec. */
export const DEFAULT_SHORT_CONNECTIONS = { count: 10, windowSec: 60, maxSec: 10 } as const;

export class CompiledPolicy {
  readonly site: string;
  private readonly zonePrefixes: ZonePrefix[];
  private readonly vlanZones = new Map<number, ZoneInfo>();
  private readonly zonesByName = new Map<string, ZoneInfo>();
  private readonly flows: FlowRule[];
  readonly expectedFlows: ExpectedFlowRule[];
  readonly jumpHosts: Prefix[];
  readonly vendors: { name: string; contractEnd: string | undefined; prefixes: Prefix[]; windows: { days: Set<string> | null; from: number; to: number }[] }[];
  /** The site's time zone (IANA), in which vendor windows are read. */
  readonly timeZone: string;
  // Made at first use: the first Intl.DateTimeFormat of a process loads ICU's time zones
  // (~20 ms), which a run whose rules never ask the site's day or hour need not wait for.
  private siteClockFormat: Intl.DateTimeFormat | null = null;
  private siteDayFormat: Intl.DateTimeFormat | null = null;
  readonly allowedCountries: ReadonlySet<string>;
  readonly allowedDestinations: Prefix[];
  readonly minTls: number;
  readonly encryptionRequiredFor: ReadonlySet<string>;
  readonly hl7AckTimeoutSec: number;
  readonly hl7Ports: ReadonlySet<number>;
  readonly dicomPorts: ReadonlySet<number>;
  readonly retentionDays: number;
  readonly sharedSecretDevices: number;
  readonly authFailures: { count: number; windowSec: number };
  readonly shortConnections: { count: number; windowSec: number; maxSec: number };
  private readonly automationClients: Prefix[];
  private readonly retiredByMac = new Map<string, RetiredDevice>();
  private readonly retiredByAddress: { prefix: Prefix; device: RetiredDevice }[];

  constructor(readonly policy: Policy) {
    this.site = policy.site;
    const prefixes: ZonePrefix[] = [];
    for (const z of policy.zones) {
      const info: ZoneInfo = { name: z.name, kind: z.kind };
      this.zonesByName.set(z.name, info);
      for (const v of z.vlans ?? []) this.vlanZones.set(v, info);
      for (const c of z.cidrs ?? []) prefixes.push({ prefix: parsePrefix(c)!, zone: info });
    }
    // Longest prefix first, so the first hit is the most specific.
    this.zonePrefixes = prefixes.sort((a, b) => b.prefix.bits - a.prefix.bits);
    const endpoint = (v: string): ZoneInfo | Prefix | 'any' => {
      if (v === 'any') return 'any';
      if (v === 'external') return EXTERNAL_ZONE;
      return this.zonesByName.get(v) ?? parsePrefix(v)!;
    };
    this.flows = (policy.allowed_flows ?? []).map((f, index) => ({
      from: endpoint(f.from),
      to: endpoint(f.to),
      apps: f.apps ? new Set(f.apps) : null,
      ports: f.ports ? new Set(f.ports) : null,
      encryptedRequired: f.encrypted === 'required',
      index,
    }));
    this.expectedFlows = (policy.expected_flows ?? []).map((f) => ({
      name: f.name,
      from: endpoint(f.from),
      to: endpoint(f.to),
      fromText: f.from,
      toText: f.to,
      apps: f.apps ? new Set(f.apps) : null,
      ports: f.ports ? new Set(f.ports) : null,
      maxSilenceMs: f.max_silence_s * 1000,
    }));
    this.jumpHosts = (policy.remote_access?.jump_hosts ?? []).map((h) => parsePrefix(h)!);
    this.vendors = (policy.remote_access?.vendors ?? []).map((v) => ({
      name: v.name,
      contractEnd: v.contract_end,
      prefixes: v.cidrs.map((c) => parsePrefix(c)!),
      windows: (v.windows ?? []).map((w) => ({ days: w.days ? new Set(w.days) : null, from: clock(w.from), to: clock(w.to) })),
    }));
    this.timeZone = policy.time_zone ?? 'Europe/Oslo';
    // en-CA formats a date as YYYY-MM-DD, which compares as text in calendar order.
    const countries = policy.external?.allowed_countries ?? 'EEA';
    this.allowedCountries = countries === 'EEA' ? EEA_COUNTRIES : new Set(countries);
    this.allowedDestinations = (policy.external?.allowed_destinations ?? []).map((c) => parsePrefix(c)!);
    this.minTls = Number(policy.encryption?.min_tls ?? '1.2');
    // Where the site requires encryption; read by cleartext-to-external (external), phi-cleartext
    // (cross-zone-phi), remote-access-unencrypted (remote-access) and flow-not-allowed (cross-zone).
    this.encryptionRequiredFor = new Set(policy.encryption?.require_for ?? DEFAULT_ENCRYPTION_REQUIRED_FOR);
    this.hl7AckTimeoutSec = policy.hl7?.ack_timeout_s ?? 30;
    this.hl7Ports = new Set(policy.hl7?.ports ?? [2575]);
    this.dicomPorts = new Set(policy.dicom?.ports ?? [104, 2761, 2762, 11112]);
    this.retentionDays = policy.retention_days ?? 180;
    this.sharedSecretDevices = policy.shared_secret_devices ?? 3;
    const auth = policy.authentication ?? {};
    this.authFailures = { count: auth.failures ?? DEFAULT_AUTH_FAILURES.count, windowSec: auth.failures_window_s ?? DEFAULT_AUTH_FAILURES.windowSec };
    this.shortConnections = {
      count: auth.short_connections ?? DEFAULT_SHORT_CONNECTIONS.count,
      windowSec: auth.short_connections_window_s ?? DEFAULT_SHORT_CONNECTIONS.windowSec,
      maxSec: auth.short_connection_max_s ?? DEFAULT_SHORT_CONNECTIONS.maxSec,
    };
    this.automationClients = (auth.automation_clients ?? []).map((c) => parsePrefix(c)!);
    this.retiredByAddress = [];
    for (const d of policy.retired_devices ?? []) {
      const device: RetiredDevice = { name: d.name, retiredOn: d.retired_on };
      for (const m of d.macs ?? []) this.retiredByMac.set(m.toLowerCase(), device);
      for (const a of d.addresses ?? []) this.retiredByAddress.push({ prefix: parsePrefix(a)!, device });
    }
  }

  /** A client the site declares as automation: its many short SSH/RDP connections are expected. */
  isAutomationClient(ip: string): boolean {
    return inAny(this.automationClients, ip);
  }

  /** Whether any device is listed as retired (so the rule can skip every flow when none is). */
  get hasRetiredDevices(): boolean {
    return this.retiredByMac.size > 0 || this.retiredByAddress.length > 0;
  }

  /** The retired device a MAC or an address belongs to, if it had been retired by `at` (site time). */
  retiredDevice(mac: string | undefined, ip: string, at: Date): { name: string; by: 'mac' | 'address' } | null {
    let device = mac ? this.retiredByMac.get(mac.toLowerCase()) : undefined;
    let by: 'mac' | 'address' = 'mac';
    if (!device) {
      device = this.retiredByAddress.find((r) => inAny([r.prefix], ip))?.device;
      by = 'address';
    }
    if (!device) return null;
    if (device.retiredOn !== undefined && this.siteDate(at) < device.retiredOn) return null;
    return { name: device.name, by };
  }

  /** Calendar day (YYYY-MM-DD) at `at` in the site's time zone. */
  siteDate(at: Date): string {
    return (this.siteDayFormat ??= new Intl.DateTimeFormat('en-CA', { timeZone: this.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })).format(at);
  }

  zone(name: string): ZoneInfo | undefined {
    return this.zonesByName.get(name);
  }

  get zones(): ZoneInfo[] {
    return [...this.zonesByName.values()];
  }

  /**
   * The zone of an address seen with these VLAN tags: the longest CIDR match, else the zone
   * of the innermost VLAN tag (a trunk's customer VLAN), else unknown/external by address.
   */
  zoneOf(ip: string, vlans: readonly number[] = []): ZoneInfo {
    const key = vlans.length === 0 ? ip : `${ip}|${vlans.join(',')}`;
    let z = this.zoneCache.get(key);
    if (z === undefined) {
      z = this.lookupZone(ip, vlans);
      if (this.zoneCache.size >= 65_536) this.zoneCache.clear();
      this.zoneCache.set(key, z);
    }
    return z;
  }

  private readonly zoneCache = new Map<string, ZoneInfo>();

  private lookupZone(ip: string, vlans: readonly number[]): ZoneInfo {
    const w = words(ip);
    if (w === null) return UNKNOWN_ZONE;
    for (const zp of this.zonePrefixes) if (contains(zp.prefix, w[0], w[1], w[2], w[3])) return zp.zone;
    for (let i = vlans.length - 1; i >= 0; i--) {
      const z = this.vlanZones.get(vlans[i]);
      if (z) return z;
    }
    // No zone claims it: internal space is unknown, the rest (documentation ranges included:
    // the corpus' internet peers are rewritten into them) external.
    return isExternal(classifyIpv6(w[0], w[1], w[2], w[3])) ? EXTERNAL_ZONE : UNKNOWN_ZONE;
  }

  /** The allow-list entry that permits this flow, or null. */
  allowedFlow(q: FlowQuery): { index: number; encryptedRequired: boolean } | null {
    const sw = words(q.srcIp);
    const dw = words(q.dstIp);
    const match = (ep: FlowRule['from'], zone: ZoneInfo, w: typeof sw) =>
      ep === 'any' || ('name' in ep ? ep.name === zone.name : w !== null && contains(ep, w[0], w[1], w[2], w[3]));
    for (const f of this.flows) {
      if (!match(f.from, q.srcZone, sw) || !match(f.to, q.dstZone, dw)) continue;
      if (f.apps && !appAllowed(f.apps, q.app) && !(f.ports && f.ports.has(q.dstPort))) continue;
      if (!f.apps && f.ports && !f.ports.has(q.dstPort)) continue;
      return { index: f.index, encryptedRequired: f.encryptedRequired };
    }
    return null;
  }

  /** Whether a flow is one the policy expects to see (`expected_flows[index]`). */
  matchesExpected(index: number, q: Omit<FlowQuery, 'encrypted'>): boolean {
    const f = this.expectedFlows[index];
    const sw = words(q.srcIp);
    const dw = words(q.dstIp);
    const match = (ep: ExpectedFlowRule['from'], zone: ZoneInfo, w: typeof sw) =>
      ep === 'any' || ('name' in ep ? ep.name === zone.name : w !== null && contains(ep, w[0], w[1], w[2], w[3]));
    if (!match(f.from, q.srcZone, sw) || !match(f.to, q.dstZone, dw)) return false;
    if (f.apps && !appAllowed(f.apps, q.app) && !(f.ports && f.ports.has(q.dstPort))) return false;
    return !(!f.apps && f.ports && !f.ports.has(q.dstPort));
  }

  isJumpHost(ip: string): boolean {
    return inAny(this.jumpHosts, ip);
  }

  /** The declared vendor an external address belongs to, and whether `at` is inside its window (site time). */
  vendorOf(ip: string, at: Date): { name: string; inWindow: boolean; contractEnded?: string } | null {
    for (const v of this.vendors) {
      if (!inAny(v.prefixes, ip)) continue;
      // The contract's last day still counts: it has ended only from the next day, site time.
      if (v.contractEnd !== undefined && this.siteDate(at) > v.contractEnd) return { name: v.name, inWindow: false, contractEnded: v.contractEnd };
      if (v.windows.length === 0) return { name: v.name, inWindow: true };
      const { day, minute } = this.siteTime(at);
      const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7];
      const inWindow = v.windows.some((w) =>
        w.from < w.to
          ? (!w.days || w.days.has(day)) && minute >= w.from && minute < w.to
          : // Past midnight: the evening part belongs to today's start, the morning part to yesterday's.
            ((!w.days || w.days.has(day)) && minute >= w.from) || ((!w.days || w.days.has(yesterday)) && minute < w.to),
      );
      return { name: v.name, inWindow };
    }
    return null;
  }

  /** Weekday and minute of the day at `at` in the site's time zone. */
  siteTime(at: Date): { day: string; minute: number } {
    let day = 'mon';
    let hour = 0;
    let minute = 0;
    this.siteClockFormat ??= new Intl.DateTimeFormat('en-GB', { timeZone: this.timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    for (const p of this.siteClockFormat.formatToParts(at)) {
      if (p.type === 'weekday') day = p.value.slice(0, 3).toLowerCase();
      else if (p.type === 'hour') hour = Number(p.value);
      else if (p.type === 'minute') minute = Number(p.value);
    }
    return { day, minute: hour * 60 + minute };
  }

  isAllowedDestination(ip: string): boolean {
    return inAny(this.allowedDestinations, ip);
  }
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function clock(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function inAny(prefixes: Prefix[], ip: string): boolean {
  const w = words(ip);
  return w !== null && prefixes.some((p) => contains(p, w[0], w[1], w[2], w[3]));
}

/** An app allowed by a list: `http` also allows `dicomweb`, which is HTTP the sensor learned more about. */
function appAllowed(apps: ReadonlySet<string>, app: string): boolean {
  return apps.has(app) || (app === 'dicomweb' && apps.has('http'));
}
