import type { ZoneInfo } from '../policy/compiled.js';
import { classifyAddress, isGroupOrUnspecified } from '../../protocols/ip/address-class.js';
import { isMedical } from '../engine/helpers.js';
import type { EventOf, FlowEvent } from '../../protocols/events/index.js';
import { defineRule, type AlertSubject, type FlowBoundEvent, type Rule, type RuleContext, type RuleEvaluator, type RuleFinding } from '../engine/types.js';

/**
 * Baseline and change (MU 5.2.2, MU 5.1.2 #8, MU annex #10/#11/#13/#14; GUIDE-MAP G14, G15).
 *
 * During a learning period (capture time: first event + `learning_s`) the baseline records each
 * medical-zone device, its peers by app and service port, the AE titles it uses, and its longest
 * gap between activities. Afterwards it is frozen, and the rules below report changes against it.
 * Only capture time (event `ts`, flow `start`/`end`) is used, never the wall clock, so a replay
 * gives the same result. One state per rule engine (keyed by its context), shared by the rules.
 */

export interface BaselineOptions {
  /** Length of the learning period in seconds (default 24 h). */
  learning_s: number;
  /** Shortest silence that is reported, in seconds (default 15 min). */
  silent_floor_s: number;
  /** A device is silent after max(learned longest gap × this, floor). */
  silent_gap_factor: number;
  /** Fan-out: this many distinct destinations (ip:port) from one medical device… */
  fan_out_count: number;
  /** …within this many seconds. */
  fan_out_window_s: number;
  /** Caps that bound memory. */
  max_devices: number;
  max_peers_per_device: number;
  max_ae_titles: number;
}

export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = {
  learning_s: 86_400,
  silent_floor_s: 900,
  silent_gap_factor: 3,
  fan_out_count: 20,
  fan_out_window_s: 60,
  max_devices: 20_000,
  max_peers_per_device: 256,
  max_ae_titles: 20_000,
};

/** A MAC seen with more addresses than this is a router's: devices behind it are keyed by IP. */
const ROUTER_MAC_IPS = 4;

interface Device {
  first: number;
  last: number;
  ips: Set<string>;
  peers: Set<string>;
  /** Peers that did not fit under the cap (counted, not remembered). */
  peers_dropped: number;
  max_gap: number;
}

interface Subject {
  key: string;
  ip: string;
  mac?: string;
  zone: ZoneInfo;
}

export interface BaselineJSON {
  version: 1;
  options: BaselineOptions;
  learn_until: number | null;
  devices: [string, { first: number; last: number; ips: string[]; peers: string[]; peers_dropped: number; max_gap: number }][];
  ae_owners: [string, string[]][];
  mac_ips: [string, string[]][];
  dropped: { devices: number; ae_titles: number };
}

/** The learned baseline: pure, serialisable, bounded. Times are ms since the epoch (capture time). */
export class BaselineState {
  options: BaselineOptions;
  /** End of learning (capture time), set by the first event seen. */
  learnUntil: number | null = null;
  readonly devices = new Map<string, Device>();
  /** Calling/called AE title → the device keys that used it during learning. */
  readonly aeOwners = new Map<string, Set<string>>();
  /** MAC → addresses seen with it (router detection), bounded per MAC. */
  readonly macIps = new Map<string, Set<string>>();
  /** IP → device key (lookup for events that carry no MAC). Rebuilt from devices. */
  readonly ipIndex = new Map<string, string>();
  dropped = { devices: 0, ae_titles: 0 };

  // Run-time state, not persisted.
  /** Last capture time any event was seen, and since when monitoring has been continuous. */
  lastEventAt: number | null = null;
  observedSince: number | null = null;
  readonly lastSeen = new Map<string, number>();
  readonly reported = new Set<string>();
  readonly silentReported = new Set<string>();
  lastSilentCheck = -Infinity;

  constructor(options: Partial<BaselineOptions> = {}) {
    this.options = { ...DEFAULT_BASELINE_OPTIONS, ...options };
  }

  learning(t: number): boolean {
    return this.learnUntil === null || t < this.learnUntil;
  }

  /** Called with every event's capture time, before anything else. */
  tick(t: number): void {
    if (this.learnUntil === null) this.learnUntil = t + this.options.learning_s * 1000;
    // Nothing at all heard for longer than the floor: the sensor was not listening (restart,
    // capture gap), so nobody's silence in that time can be judged.
    if (this.lastEventAt === null || t - this.lastEventAt > this.options.silent_floor_s * 1000) this.observedSince = t;
    if (this.lastEventAt === null || t > this.lastEventAt) this.lastEventAt = t;
  }

  keyFor(ip: string, mac: string | undefined): string {
    if (mac && mac !== '00:00:00:00:00:00') {
      let ips = this.macIps.get(mac);
      if (!ips) {
        if (this.macIps.size >= this.options.max_devices * 2) this.macIps.delete(this.macIps.keys().next().value as string);
        this.macIps.set(mac, (ips = new Set()));
      }
      if (ips.size <= ROUTER_MAC_IPS) ips.add(ip);
      if (ips.size <= ROUTER_MAC_IPS) return `mac:${mac}`;
    }
    return this.ipIndex.get(ip) ?? `ip:${ip}`;
  }

  isKnown(key: string, ip: string): boolean {
    return this.devices.has(key) || this.ipIndex.has(ip);
  }

  /** A known device was alive at `t` (run-time only). */
  seen(key: string, t: number): void {
    const prev = this.lastSeen.get(key);
    if (prev === undefined || t > prev) this.lastSeen.set(key, t);
    this.silentReported.delete(key);
  }

  /** Records activity of a device over [start, end]; learns it during the learning period. */
  activity(key: string, ip: string, start: number, end: number): Device | undefined {
    const prev = this.lastSeen.get(key);
    if (prev === undefined || end > prev) {
      if (this.lastSeen.size >= this.options.max_devices * 2 && prev === undefined) this.lastSeen.delete(this.lastSeen.keys().next().value as string);
      this.lastSeen.set(key, end);
    }
    this.silentReported.delete(key);
    let d = this.devices.get(key);
    if (!this.learning(start)) return d;
    if (!d) {
      if (this.devices.size >= this.options.max_devices) {
        this.dropped.devices++;
        return undefined;
      }
      d = { first: start, last: end, ips: new Set(), peers: new Set(), peers_dropped: 0, max_gap: 0 };
      this.devices.set(key, d);
    } else {
      // A gap counts only if the sensor was listening throughout it.
      if (start > d.last && this.observedSince !== null && d.last >= this.observedSince) d.max_gap = Math.max(d.max_gap, start - d.last);
      if (end > d.last) d.last = end;
    }
    if (d.ips.size < 16) d.ips.add(ip);
    this.ipIndex.set(ip, key);
    return d;
  }

  learnPeer(d: Device, peer: string): void {
    if (d.peers.has(peer)) return;
    if (d.peers.size >= this.options.max_peers_per_device) d.peers_dropped++;
    else d.peers.add(peer);
  }

  learnAe(ae: string, key: string): void {
    let owners = this.aeOwners.get(ae);
    if (!owners) {
      if (this.aeOwners.size >= this.options.max_ae_titles) {
        this.dropped.ae_titles++;
        return;
      }
      this.aeOwners.set(ae, (owners = new Set()));
    }
    if (owners.size < 16) owners.add(key);
  }

  /** Reports a key once per run (bounded). */
  once(key: string): boolean {
    if (this.reported.has(key)) return false;
    if (this.reported.size >= 100_000) this.reported.clear();
    this.reported.add(key);
    return true;
  }

  toJSON(): BaselineJSON {
    return {
      version: 1,
      options: this.options,
      learn_until: this.learnUntil,
      devices: [...this.devices].map(([k, d]) => [k, { first: d.first, last: d.last, ips: [...d.ips], peers: [...d.peers], peers_dropped: d.peers_dropped, max_gap: d.max_gap }]),
      ae_owners: [...this.aeOwners].map(([ae, o]) => [ae, [...o]]),
      mac_ips: [...this.macIps].map(([m, s]) => [m, [...s]]),
      dropped: { ...this.dropped },
    };
  }

  /** Restores a baseline; `options` given here (the current policy) win over the stored ones. */
  static fromJSON(json: BaselineJSON | string, options: Partial<BaselineOptions> = {}): BaselineState {
    const j = (typeof json === 'string' ? JSON.parse(json) : json) as BaselineJSON;
    if (j.version !== 1) throw new Error(`baseline: unsupported version ${String(j.version)}`);
    const s = new BaselineState({ ...j.options, ...options });
    s.learnUntil = j.learn_until;
    for (const [k, d] of j.devices) {
      s.devices.set(k, { first: d.first, last: d.last, ips: new Set(d.ips), peers: new Set(d.peers), peers_dropped: d.peers_dropped, max_gap: d.max_gap });
      for (const ip of d.ips) s.ipIndex.set(ip, k);
      s.lastSeen.set(k, d.last);
    }
    for (const [ae, o] of j.ae_owners) s.aeOwners.set(ae, new Set(o));
    for (const [m, ips] of j.mac_ips) s.macIps.set(m, new Set(ips));
    s.dropped = { ...j.dropped };
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// One state per engine, shared by the rules, fed once per event.

interface Shared {
  state: BaselineState;
  /** The last event fed into the state (each rule's evaluator sees the same event object). */
  fed: BaselineEvent | null;
  fan: Map<string, { list: { t: number; dst: string }[]; head: number; counts: Map<string, number> }>;
  /** Flow id of the last non-flow event taken (see changesOf). */
  aliveFlow?: string;
}

const SHARED = new WeakMap<RuleContext, Shared>();

/** Options from the policy's optional `baseline:` section (docs/policy.md). */
function policyOptions(ctx: RuleContext): Partial<BaselineOptions> {
  const raw = (ctx.policy.policy as unknown as { baseline?: Partial<BaselineOptions> }).baseline;
  return raw && typeof raw === 'object' ? raw : {};
}

function shared(ctx: RuleContext): Shared {
  let s = SHARED.get(ctx);
  if (!s) SHARED.set(ctx, (s = { state: new BaselineState(policyOptions(ctx)), fed: null, fan: new Map() }));
  return s;
}

/** The baseline of an engine (`engine.ctx`). */
export function baselineOf(ctx: RuleContext): BaselineState {
  return shared(ctx).state;
}

/** Restores a persisted baseline (e.g. `store.kvGet('baseline')`) before the first event. */
export function loadBaseline(ctx: RuleContext, json: string | BaselineJSON): void {
  shared(ctx).state = BaselineState.fromJSON(json, policyOptions(ctx));
}

/** The baseline to persist (e.g. `store.kvSet('baseline', dumpBaseline(engine.ctx))`). */
export function dumpBaseline(ctx: RuleContext): string {
  return JSON.stringify(shared(ctx).state.toJSON());
}

/**
 * Event time in ms. Events carry `YYYY-MM-DDTHH:MM:SS.ffffffZ` and come in bursts from the
 * same second: the second is parsed once, the fraction read digit by digit.
 */
let msSecondText = '';
let msSecondValue = NaN;
function ms(ts: unknown): number {
  if (typeof ts !== 'string') return NaN;
  if (ts.length === 27 && ts.charCodeAt(19) === 0x2e && ts.charCodeAt(26) === 0x5a) {
    if (!ts.startsWith(msSecondText) || msSecondText === '') {
      msSecondText = ts.slice(0, 19);
      msSecondValue = Date.parse(`${msSecondText}Z`);
    }
    let frac = 0;
    for (let i = 20; i < 23; i++) frac = frac * 10 + (ts.charCodeAt(i) - 0x30);
    return msSecondValue + frac;
  }
  return Date.parse(ts);
}

/** A medical endpoint of a flow. */
function medicalEndpoints(ctx: RuleContext, st: BaselineState, e: FlowEvent): { client?: Subject; server?: Subject } {
  const f = e.flow;
  const out: { client?: Subject; server?: Subject } = {};
  const zc = ctx.zoneOf(f.src_ip, f.vlan);
  if (isMedical(zc)) {
    const mac = e.client_mac;
    out.client = { key: st.keyFor(f.src_ip, mac), ip: f.src_ip, zone: zc, ...(mac ? { mac } : {}) };
  }
  const zs = ctx.zoneOf(f.dst_ip, f.vlan);
  if (isMedical(zs) && !isGroupOrUnspecified(classifyAddress(f.dst_ip))) {
    const mac = e.server_mac;
    out.server = { key: st.keyFor(f.dst_ip, mac), ip: f.dst_ip, zone: zs, ...(mac ? { mac } : {}) };
  }
  return out;
}

/**
 * Was this a conversation? A TCP SYN to nowhere, or refused with a reset, shows neither a device
 * at the far end nor a peer the device uses (scans are the fan-out rule's). Other protocols
 * (syslog, SNMP traps) are one-way by nature and count.
 */
function conversation(e: FlowEvent): boolean {
  if (e.flow.proto !== 'tcp') return true;
  const back = e.pkts_toclient;
  const st = e.tcp_state;
  if (back === 0 || st === 'syn_sent' || st === 'syn_received') return false;
  return st !== 'reset' || back >= 2;
}

/** The peer as learned: direction, the other address, app and the service port. */
function peerKeys(e: FlowEvent): { client: string; server: string } {
  const f = e.flow;
  return { client: `to|${f.dst_ip}|${f.app}|${f.dst_port}|${f.proto}`, server: `from|${f.src_ip}|${f.app}|${f.dst_port}|${f.proto}` };
}

interface Change {
  kind: 'new-device' | 'new-peer' | 'ae-spoofing' | 'silent' | 'fan-out';
  finding: RuleFinding;
}

function subjectFor(e: FlowBoundEvent, ctx: RuleContext, device?: string): AlertSubject {
  const f = e.flow;
  const s: AlertSubject = { src_ip: f.src_ip, dst_ip: f.dst_ip, zone_src: ctx.zoneOf(f.src_ip, f.vlan).name, zone_dst: ctx.zoneOf(f.dst_ip, f.vlan).name };
  if (device) s.device_id = device;
  return s;
}

function flowFacts(e: FlowBoundEvent): Record<string, unknown> {
  const f = e.flow;
  return { flow_id: f.id, app: f.app, proto: f.proto, src_port: f.src_port, dst_port: f.dst_port, vlan: f.vlan };
}

/**
 * Feeds one event into the state and returns the changes it shows. Called by each baseline
 * rule; the first call per event does the work and caches the result for the others.
 */
const CHANGES = new WeakMap<BaselineEvent, Change[]>();

const NO_CHANGES: Change[] = [];

function changesOf(ctx: RuleContext, e: BaselineEvent): Change[] {
  const sh = shared(ctx);
  const cached = CHANGES.get(e);
  if (cached && sh.fed === e) return cached;
  if (e.type !== 'flow' && e.type !== 'dicom.association') {
    // Other events only show their endpoints alive: a busy link repeats that message after
    // message, so consecutive events of one connection are taken once.
    const id = e.flow.id;
    if (id === sh.aliveFlow) return NO_CHANGES;
    sh.aliveFlow = id;
  }
  const out: Change[] = [];
  sh.fed = e;
  CHANGES.set(e, out);
  const st = sh.state;
  const now = ms(e.ts);
  if (Number.isNaN(now)) return out;
  st.tick(now);
  const learning = st.learning(now);

  if (e.type === 'flow') {
    const start = ms(e.start);
    const end = ms(e.end);
    const t0 = Number.isNaN(start) ? now : start;
    const t1 = Number.isNaN(end) ? now : end;
    const { client, server } = medicalEndpoints(ctx, st, e);
    const peers = peerKeys(e);
    const talked = conversation(e);
    const sides: [Subject | undefined, string][] = [
      [client, peers.client],
      [server, peers.server],
    ];
    for (const [dev, peer] of sides) {
      if (!dev) continue;
      if (!talked) {
        // The client was active; the attempt teaches and reports nothing else.
        if (dev === client && st.isKnown(dev.key, dev.ip)) st.seen(st.ipIndex.get(dev.ip) ?? dev.key, t1);
        continue;
      }
      const known = st.isKnown(dev.key, dev.ip);
      const d = st.activity(dev.key, dev.ip, t0, t1);
      if (st.learning(t0)) {
        if (d) st.learnPeer(d, peer);
        continue;
      }
      if (!known) {
        if (st.once(`dev|${dev.key}`)) {
          out.push({ kind: 'new-device', finding: { subject: subjectFor(e, ctx, dev.key), ts: e.ts, evidence: { ...flowFacts(e), device: dev.key, device_ip: dev.ip, mac: dev.mac, zone: dev.zone.name, learned_until: new Date(st.learnUntil!).toISOString() } } });
        }
        continue;
      }
      const learned = st.devices.get(dev.key) ?? st.devices.get(st.ipIndex.get(dev.ip) ?? '');
      if (learned && !learned.peers.has(peer) && learned.peers_dropped === 0 && st.once(`peer|${dev.key}|${peer}`)) {
        const [dir, ip, app, port] = peer.split('|');
        out.push({ kind: 'new-peer', finding: { subject: subjectFor(e, ctx, dev.key), ts: e.ts, severity: ctx.zoneOf(ip!, e.flow.vlan).kind === 'external' ? 'high' : undefined, evidence: { ...flowFacts(e), device: dev.key, device_ip: dev.ip, direction: dir === 'to' ? 'outgoing' : 'incoming', peer_ip: ip, peer_zone: ctx.zoneOf(ip!, e.flow.vlan).name, peer_app: app, service_port: Number(port), learned_peers: learned.peers.size } } as RuleFinding });
      }
    }
    // Fan-out: distinct destinations from one medical client in a sliding window (no learning).
    if (client) {
      const dst = `${e.flow.dst_ip}:${e.flow.dst_port}`;
      let win = sh.fan.get(client.key);
      if (!win) {
        if (sh.fan.size >= st.options.max_devices) sh.fan.delete(sh.fan.keys().next().value as string);
        sh.fan.set(client.key, (win = { list: [], head: 0, counts: new Map() }));
      }
      // A sliding window with a count per destination kept as it slides: a busy client (2,000
      // connections a minute to one server) costs O(1) per flow, not a set rebuilt each time.
      const w = st.options.fan_out_window_s * 1000;
      const list = win.list;
      list.push({ t: t0, dst });
      win.counts.set(dst, (win.counts.get(dst) ?? 0) + 1);
      while (win.head < list.length && t0 - list[win.head]!.t > w) {
        const old = list[win.head++]!.dst;
        const n = win.counts.get(old)! - 1;
        if (n === 0) win.counts.delete(old);
        else win.counts.set(old, n);
      }
      if (win.head > 1024 && win.head * 2 > list.length) {
        list.splice(0, win.head);
        win.head = 0;
      }
      if (win.counts.size >= st.options.fan_out_count) {
        const dsts = new Set(win.counts.keys());
        const hosts = new Set([...dsts].map((d) => d.slice(0, d.lastIndexOf(':'))));
        const ports = new Set([...dsts].map((d) => d.slice(d.lastIndexOf(':') + 1)));
        out.push({ kind: 'fan-out', finding: { subject: subjectFor(e, ctx, client.key), ts: e.ts, severity: dsts.size >= 4 * st.options.fan_out_count ? 'critical' : undefined, evidence: { ...flowFacts(e), device: client.key, device_ip: client.ip, distinct_destinations: dsts.size, distinct_hosts: hosts.size, distinct_ports: ports.size, window_s: st.options.fan_out_window_s, sample: [...dsts].slice(0, 10) } } as RuleFinding });
        // One finding per window's worth of destinations.
        list.length = 0;
        win.head = 0;
        win.counts.clear();
      }
    }
  }

  if (e.type !== 'flow') {
    // Any other event shows a known device alive (it may precede the flow's own event).
    for (const ip of [e.flow.src_ip, e.flow.dst_ip]) {
      const key = st.ipIndex.get(ip);
      if (key) st.seen(key, now);
    }
  }

  if (e.type === 'dicom.association') {
    const f = e.flow;
    const ends: [string, string, 'calling' | 'called'][] = [
      [e.calling_ae, f.src_ip, 'calling'],
      [e.called_ae, f.dst_ip, 'called'],
    ];
    for (const [aeRaw, ip, role] of ends) {
      if (!aeRaw) continue;
      const ae = `${role}|${aeRaw.trim()}`;
      const key = st.ipIndex.get(ip) ?? `ip:${ip}`;
      if (learning) {
        st.learnAe(ae, key);
        st.learnAe(ae, `ip:${ip}`);
        continue;
      }
      const owners = st.aeOwners.get(ae);
      if (!owners || owners.has(key) || owners.has(`ip:${ip}`)) continue;
      if (!st.once(`ae|${ae}|${ip}`)) continue;
      const learnedIps = [...owners].filter((o) => o.startsWith('ip:')).map((o) => o.slice(3));
      out.push({ kind: 'ae-spoofing', finding: { subject: subjectFor(e, ctx, key), ts: e.ts, severity: role === 'called' ? 'critical' : undefined, evidence: { ...flowFacts(e), ae_title: aeRaw.trim(), role, seen_from: ip, seen_device: key, learned_devices: [...owners].filter((o) => !o.startsWith('ip:')), learned_ips: learnedIps, calling_ae: e.calling_ae, called_ae: e.called_ae } } as RuleFinding });
    }
  }

  // Silence: checked at most every 10 s of capture time, after this event's activity is counted.
  if (!learning && now - st.lastSilentCheck >= 10_000) {
    st.lastSilentCheck = now;
    for (const [key, d] of st.devices) {
      if (st.silentReported.has(key)) continue;
      const last = Math.max(st.lastSeen.get(key) ?? d.last, st.observedSince ?? now);
      const limit = Math.max(d.max_gap * st.options.silent_gap_factor, st.options.silent_floor_s * 1000);
      if (now - last <= limit) continue;
      st.silentReported.add(key);
      const ip = [...d.ips][0] ?? '';
      const zone = ctx.zoneOf(ip).name;
      out.push({ kind: 'silent', finding: { subject: { src_ip: ip, dst_ip: '', zone_src: zone, zone_dst: '', device_id: key }, ts: e.ts, evidence: { device: key, device_ips: [...d.ips], last_seen: new Date(st.lastSeen.get(key) ?? d.last).toISOString(), silent_s: Math.round((now - (st.lastSeen.get(key) ?? d.last)) / 1000), limit_s: Math.round(limit / 1000), learned_max_gap_s: Math.round(d.max_gap / 1000) } } });
    }
  }
  return out;
}

function evaluatorFor(kind: Change['kind']): (ctx: RuleContext) => RuleEvaluator<BaselineEvent> {
  return (ctx) => (e) => {
    const found = changesOf(ctx, e)
      .filter((c) => c.kind === kind)
      .map((c) => c.finding);
    return found.length === 0 ? null : found;
  };
}

/** Every baseline rule reads every event type that carries time or activity. */
const EVENTS = ['flow', 'dicom.association', 'dicom.dimse', 'hl7.message', 'tls.handshake', 'remote_access', 'http', 'dns', 'dhcp', 'syslog', 'snmp'] as const;
type BaselineEvent = EventOf<(typeof EVENTS)[number]>;

const CHANGE_TEXT = {
  nb: 'Etter IEC 80001, slik MU-veilederen beskriver den, skal en endring i MU-nettet (for eksempel nytt utstyr) ha en endringsforespørsel, risikovurderes og følges opp etterpå. Avklar om endringen er kjent; er den det, godkjenn den og lær inn normalbildet på nytt.',
  en: 'Under IEC 80001, as the MU guide describes it, a change to the medical-device network (a new device, for example) shall have a change request, be risk-assessed and be followed up afterwards. Find out whether the change is known; if it is, approve it and relearn the baseline.',
};

export const baselineNewDevice = defineRule({
  id: 'baseline-new-device',
  title: { nb: 'Ny enhet i MU-sonen', en: 'New device in a medical-device zone' },
  recommendation: CHANGE_TEXT,
  severity: 'medium',
  guide_refs: ['MU 5.2.2', 'MU 5.1.2 #8', 'MU 5.2.1'],
  requirements: ['G15'],
  events: EVENTS,
  create: evaluatorFor('new-device'),
});

export const baselineNewPeer = defineRule({
  id: 'baseline-new-peer',
  title: { nb: 'Medisinsk utstyr har en ny motpart eller tjeneste', en: 'Medical device talks to a new peer or application' },
  recommendation: CHANGE_TEXT,
  severity: 'medium',
  guide_refs: ['MU 5.2.2', 'MU 5.1.2 #8', 'MU 4.6'],
  requirements: ['G15', 'G14'],
  events: EVENTS,
  create: evaluatorFor('new-peer'),
});

export const dicomAeSpoofing = defineRule({
  id: 'dicom-ae-spoofing',
  title: { nb: 'DICOM AE-tittel brukt fra en annen enhet enn før', en: 'DICOM AE title used from a different device than before' },
  recommendation: {
    nb: 'AE-titler er ingen autentisering. Kontroller om utstyret er byttet ut eller flyttet; ellers kan noen utgi seg for å være det. Begrens hvem som kan koble til (adresse og AE-tittel). Leverandørveilederen anbefaler autentisering på integrasjonsgrensesnitt; for DICOM kan det være TLS med klientsertifikat.',
    en: 'AE titles are not authentication. Check whether the device was replaced or moved; otherwise someone may be impersonating it. Restrict who may connect (address and AE title). The supplier guide recommends authentication on integration interfaces; for DICOM that can be TLS with client certificates.',
  },
  severity: 'high',
  guide_refs: ['MU 5.1.2 #5', 'LEV 6.4'],
  requirements: ['G14', 'G15'],
  events: EVENTS,
  create: evaluatorFor('ae-spoofing'),
});

export const deviceSilent = defineRule({
  id: 'device-silent',
  title: { nb: 'Medisinsk utstyr har vært stille lenger enn vanlig', en: 'Medical device silent for longer than usual' },
  recommendation: {
    nb: 'Kontroller at utstyret er i drift og på nettet. Utilgjengelig utstyr kan skyldes en lokal feil, nedetid i nettet eller et angrep; følg virksomhetens rutiner for nedetid.',
    en: 'Check that the device is running and on the network. Unavailability can come from a local fault, network downtime or an attack; follow the organisation’s downtime procedures.',
  },
  severity: 'medium',
  guide_refs: ['MU 1.1', 'MU annex #10', 'MU annex #11'],
  requirements: ['G14'],
  events: EVENTS,
  create: evaluatorFor('silent'),
});

export const medicalFanOut = defineRule({
  id: 'medical-fan-out',
  title: { nb: 'Medisinsk utstyr kontakter mange mål på kort tid (skanning)', en: 'Medical device contacts many destinations in a short time (scanning)' },
  recommendation: {
    nb: 'Utstyret kan være kompromittert og brukes som springbrett videre inn i nettet. Isoler det etter virksomhetens rutiner for sikkerhetshendelser, varsle produsenten straks, og stram inn segmenteringen.',
    en: 'The device may be compromised and used as a foothold further into the network. Isolate it per the organisation’s security-incident procedures, tell the manufacturer at once, and tighten segmentation.',
  },
  severity: 'high',
  guide_refs: ['MU annex #13', 'MU annex #14', 'MU 1.1', 'MU 3.7'],
  requirements: ['G14'],
  events: EVENTS,
  create: evaluatorFor('fan-out'),
});

export const baselineRules: Rule[] = [baselineNewDevice, baselineNewPeer, dicomAeSpoofing, deviceSilent, medicalFanOut];
