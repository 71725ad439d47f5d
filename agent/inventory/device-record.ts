/**
 * The device record's building blocks, shared by identity resolution (which creates, merges
 * and times devices) and fact extraction (which fills their lists): a fresh record, bounded
 * lists with a `dropped` counter per list, seen-times, and text cleaned off the wire.
 */
import type { AddressRecord, Device, DicomCounters, NameSource, SoftwareSource } from './types.js';

const MAX_TEXT = 128;

/** Shared empty result of strList: most lists on most events are empty. */
const NO_STRINGS = Object.freeze([]) as readonly string[] as string[];

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

/** The cleaned, non-empty strings of a list from an event. */
export function strList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) return NO_STRINGS;
  const out: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const s = clean(v[i]);
    if (s !== '') out.push(s);
  }
  return out;
}

function zeroCounters(): DicomCounters {
  return { echo: 0, store: 0, mwl_find: 0, qr_find: 0, qr_move: 0, qr_get: 0, other: 0 };
}

export function newDevice(id: string, keyedBy: 'mac' | 'ip', mac: string | null, ts: string): Device {
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

/**
 * Moves a record's first/last seen to include `ts`, given its last_seen as `kept` (the caller's
 * copy, so that the old string need not be read). first_seen ≤ last_seen and capture time mostly
 * moves forward, so first_seen is read only for a time before the last. Returns the new last_seen.
 */
export function touchKept(r: { first_seen: string; last_seen: string }, kept: string, ts: string): string {
  if (ts > kept) {
    r.last_seen = ts;
    return ts;
  }
  if (ts !== kept && ts < r.first_seen) r.first_seen = ts;
  return kept;
}

/** A device's record of one address (undefined if it has none for it). */
export function addressOf(d: Device, ip: string): AddressRecord | undefined {
  for (let i = 0; i < d.addresses.length; i++) if (d.addresses[i].ip === ip) return d.addresses[i];
  return undefined;
}

/** The device's lists, each capped, with what did not fit counted per list in `dropped`. */
export class DeviceLists {
  constructor(
    readonly maxList: number,
    private readonly maxPeers: number,
  ) {}

  drop(d: Device, list: string): void {
    d.dropped[list] = (d.dropped[list] ?? 0) + 1;
  }

  add<T>(d: Device, list: T[], v: T, name: string, cap = this.maxList): void {
    if (v === '' || list.includes(v)) return;
    if (list.length >= cap) this.drop(d, name);
    else list.push(v);
  }

  addName(d: Device, name: string, source: NameSource): void {
    const n = clean(name).toLowerCase().replace(/\.$/, '');
    if (n === '' || d.names.some((x) => x.name === n && x.source === source)) return;
    if (d.names.length >= this.maxList) this.drop(d, 'names');
    else d.names.push({ name: n, source });
  }

  addSoftware(d: Device, value: string, source: SoftwareSource): void {
    const v = clean(value);
    if (v === '' || d.software.some((x) => x.value === v && x.source === source)) return;
    if (d.software.length >= this.maxList) this.drop(d, 'software');
    else d.software.push({ source, value: v });
  }

  addPeer(d: Device, app: string, ip: string): void {
    let list = d.peers[app];
    if (list === undefined) {
      if (Object.keys(d.peers).length >= this.maxList) return this.drop(d, 'peer_apps');
      list = d.peers[app] = [];
    }
    this.add(d, list, ip, 'peers', this.maxPeers);
  }
}
