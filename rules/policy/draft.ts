/**
 * A site policy drafted from what a sensor saw: zones from the subnets (or VLANs) its devices
 * live in and the roles they play, allowed flows from the services one zone used in another,
 * jump hosts and vendors from the remote-access paths. It is a starting point for the network
 * team, not a verdict: every line carries a comment that says what it rests on, and what a draft
 * cannot know (vendor windows, which external destinations are agreed) is left for them to fill
 * in. Commercial sensors derive "virtual zones" from a learned baseline in the same spirit.
 *
 * Pure: device records in, YAML text out. The caller reads the store.
 */
import { classifyAddress, isExternal, isGroupOrUnspecified } from '../../protocols/ip/address-class.js';
import { KNOWN_APPS } from './load.js';
import type { ZONE_KINDS } from './schema.js';

type ZoneKind = (typeof ZONE_KINDS)[number];

/** What a draft needs of one inventory device (the store's device detail has these fields). */
export interface DraftDevice {
  id: string;
  role: string;
  external: boolean;
  router?: boolean;
  addresses: readonly { ip: string }[];
  vlans: readonly number[];
  /** The zone the store recorded (from the policy it was analysed with), if any. */
  zone?: { name: string; kind: string };
  services_offered: readonly { proto: string; port: number; app: string }[];
  peers: Readonly<Record<string, readonly string[]>>;
  remote_access: readonly { protocol: string; direction: 'inbound' | 'outbound'; peer: string; peer_external: boolean }[];
  external_peers: readonly { ip: string; direction: 'inbound' | 'outbound'; apps: readonly string[] }[];
}

export interface DraftOptions {
  site: string;
  /** What the draft was made from, for its header (e.g. the store's location without a password). */
  source: string;
  /** ISO time the draft was made. */
  now: string;
}

export interface DraftZone {
  name: string;
  kind: ZoneKind;
  cidrs: string[];
  vlans: number[];
  devices: number;
  roles: string[];
  /** Why the zone is there and why it has this kind. */
  basis: string;
}

export interface DraftFlow {
  from: string;
  to: string;
  apps: string[];
  ports: number[];
  /** Client → server address pairs seen, as evidence (a few). */
  seen: string[];
  pairs: number;
  answered: boolean;
}

export interface PolicyDraft {
  zones: DraftZone[];
  flows: DraftFlow[];
  jumpHosts: { ip: string; basis: string }[];
  vendors: { cidr: string; basis: string }[];
  externalDestinations: { ip: string; basis: string }[];
  yaml: string;
}

/** Roles that make a subnet a medical zone; servers next; people's machines last. */
const MEDICAL_ROLES = new Set(['modality']);
const SERVER_ROLES = new Set(['pacs', 'worklist', 'hl7-engine', 'hl7-sender', 'infrastructure']);
const CLINICAL_ROLES = new Set(['viewer', 'workstation']);
const STORE_ZONES_NOT_KEPT = new Set(['unknown', 'external']);
const ZONE_KIND_SET: ReadonlySet<string> = new Set(['medical', 'clinical', 'server', 'office', 'remote-access', 'dmz', 'guest']);
const MAX_SEEN = 3;

/** The /24 of an IPv4 address or the /64 of an IPv6 one, as a CIDR. */
export function subnetOf(ip: string): string {
  if (ip.includes(':')) {
    const groups = expandIpv6(ip);
    // The /64's four leading groups, trailing zero groups folded into the "::" that follows.
    const head = groups.slice(0, 4);
    while (head.length > 0 && head[head.length - 1] === 0) head.pop();
    return `${head.map((g) => g.toString(16)).join(':')}::/64`;
  }
  const p = ip.split('.');
  return `${p[0]}.${p[1]}.${p[2]}.0/24`;
}

function expandIpv6(ip: string): number[] {
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16) || 0);
}

function hostCidr(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'zone';
}

function kindFromRoles(roles: ReadonlySet<string>): { kind: ZoneKind; why: string } {
  const has = (set: ReadonlySet<string>) => [...roles].filter((r) => set.has(r));
  if (has(MEDICAL_ROLES).length > 0) return { kind: 'medical', why: `holds ${has(MEDICAL_ROLES).join(', ')}` };
  if (has(SERVER_ROLES).length > 0) return { kind: 'server', why: `holds ${has(SERVER_ROLES).join(', ')}` };
  if (has(CLINICAL_ROLES).length > 0) return { kind: 'clinical', why: `holds ${has(CLINICAL_ROLES).join(', ')}` };
  return { kind: 'office', why: 'no medical, server or clinical role seen: office until someone says otherwise' };
}

/** Drafts a policy from the inventory's devices. */
export function draftPolicy(devices: readonly DraftDevice[], o: DraftOptions): PolicyDraft {
  const internal = devices.filter((d) => !d.external && d.addresses.length > 0);

  // ---- zones: by the store's zone name where the store had one, else by VLAN, else by subnet
  interface Group {
    key: string;
    keptName: string | null;
    keptKind: string | null;
    vlans: Set<number>;
    ips: Set<string>;
    roles: Set<string>;
    devices: number;
  }
  const groups = new Map<string, Group>();
  for (const d of internal) {
    const ips = d.addresses.map((a) => a.ip).filter((ip) => !isGroupOrUnspecified(classifyAddress(ip)) && !isExternal(classifyAddress(ip)));
    if (ips.length === 0) continue;
    const kept = d.zone && !STORE_ZONES_NOT_KEPT.has(d.zone.name) ? d.zone : null;
    const key = kept ? `zone:${kept.name}` : d.vlans.length > 0 ? `vlan:${d.vlans[d.vlans.length - 1]}` : `net:${subnetOf(ips[0])}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, keptName: kept?.name ?? null, keptKind: kept?.kind ?? null, vlans: new Set(), ips: new Set(), roles: new Set(), devices: 0 }));
    g.devices++;
    if (d.role) g.roles.add(d.role);
    for (const v of d.vlans) g.vlans.add(v);
    for (const ip of ips) g.ips.add(ip);
  }
  // A subnet is a zone's CIDR when only that zone has addresses in it; otherwise each address is.
  const subnetOwners = new Map<string, Set<string>>();
  for (const g of groups.values()) for (const ip of g.ips) (subnetOwners.get(subnetOf(ip)) ?? subnetOwners.set(subnetOf(ip), new Set()).get(subnetOf(ip))!).add(g.key);
  const vlanOwners = new Map<number, Set<string>>();
  for (const g of groups.values()) for (const v of g.vlans) (vlanOwners.get(v) ?? vlanOwners.set(v, new Set()).get(v)!).add(g.key);

  const zones: DraftZone[] = [];
  const zoneOfIp = new Map<string, string>();
  const usedNames = new Set<string>();
  for (const g of [...groups.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    const cidrs = new Set<string>();
    for (const ip of g.ips) cidrs.add(subnetOwners.get(subnetOf(ip))!.size === 1 ? subnetOf(ip) : hostCidr(ip));
    const vlans = [...g.vlans].filter((v) => vlanOwners.get(v)!.size === 1).sort((a, b) => a - b);
    const fromRoles = kindFromRoles(g.roles);
    const keptKind = g.keptKind !== null && ZONE_KIND_SET.has(g.keptKind) ? (g.keptKind as ZoneKind) : null;
    const kind = keptKind ?? fromRoles.kind;
    let name = g.keptName !== null ? safeName(g.keptName) : safeName(`${fromRoles.kind}-${g.key.startsWith('vlan:') ? `vlan${g.key.slice(5)}` : g.key.slice(4).replace('/', '_')}`);
    for (let i = 2, base = name; usedNames.has(name); i++) name = `${base}-${i}`;
    usedNames.add(name);
    const basis = [
      g.keptName ? `named as in the policy the store was made with` : g.key.startsWith('vlan:') ? `devices seen on VLAN ${g.key.slice(5)}` : `devices seen in ${g.key.slice(4)}`,
      keptKind ? `kind as in that policy (roles seen: ${[...g.roles].sort().join(', ') || 'none'})` : `${kind}: ${fromRoles.why}`,
    ].join('; ');
    zones.push({ name, kind, cidrs: [...cidrs].sort(), vlans, devices: g.devices, roles: [...g.roles].sort(), basis });
    for (const ip of g.ips) zoneOfIp.set(ip, name);
  }

  // ---- allowed flows: a client's peer for an app is a server when that peer offered the app
  const byIp = new Map<string, DraftDevice>();
  for (const d of internal) for (const a of d.addresses) byIp.set(a.ip, d);
  const flows = new Map<string, DraftFlow>();
  const addFlow = (from: string, to: string, app: string, port: number | null, client: string, server: string, answered: boolean) => {
    const k = `${from}\u0000${to}\u0000${answered}`;
    let f = flows.get(k);
    if (!f) flows.set(k, (f = { from, to, apps: [], ports: [], seen: [], pairs: 0, answered }));
    if (KNOWN_APPS.has(app) && app !== 'unknown') {
      if (!f.apps.includes(app)) f.apps.push(app);
    } else if (port !== null && !f.ports.includes(port)) f.ports.push(port);
    else if (port === null && !f.apps.includes('unknown')) f.apps.push('unknown');
    const pair = `${client} → ${server}${port !== null ? `:${port}` : ''}`;
    if (!f.seen.includes(pair)) {
      f.pairs++;
      if (f.seen.length < MAX_SEEN) f.seen.push(pair);
    }
  };
  for (const client of internal) {
    for (const [app, peers] of Object.entries(client.peers)) {
      for (const peerIp of peers) {
        const server = byIp.get(peerIp);
        const zc = client.addresses.map((a) => zoneOfIp.get(a.ip)).find((z) => z !== undefined);
        const zs = zoneOfIp.get(peerIp);
        if (!server || server === client || zc === undefined || zs === undefined || zc === zs) continue;
        const offered = server.services_offered.filter((s) => s.app === app);
        const clientOffers = client.services_offered.some((s) => s.app === app);
        if (offered.length > 0) {
          for (const s of offered) addFlow(zc, zs, app, app === 'unknown' || !KNOWN_APPS.has(app) ? s.port : null, client.addresses[0].ip, peerIp, true);
        } else if (!clientOffers) {
          // Neither end answered as a server (an attempt without reply): kept, marked as such, in both
          // directions since the sensor cannot tell who started it from the inventory alone.
          addFlow(zc, zs, app, null, client.addresses[0].ip, peerIp, false);
        }
      }
    }
  }
  const flowList = [...flows.values()]
    .map((f) => ({ ...f, apps: f.apps.sort(), ports: f.ports.sort((a, b) => a - b) }))
    .sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`) || Number(b.answered) - Number(a.answered));

  // ---- remote access: a device reached over remote access from outside that itself opens
  // remote-access sessions into other zones is the path's jump host
  const jumpHosts: PolicyDraft['jumpHosts'] = [];
  const vendors = new Map<string, string>();
  for (const d of internal) {
    const inbound = d.remote_access.filter((r) => r.direction === 'inbound');
    const outbound = d.remote_access.filter((r) => r.direction === 'outbound' && zoneOfIp.get(r.peer) !== undefined && zoneOfIp.get(r.peer) !== zoneOfIp.get(d.addresses[0].ip));
    if (outbound.length > 0 && (inbound.length > 0 || d.role === 'workstation')) {
      const protos = [...new Set(outbound.map((r) => r.protocol))].sort().join(', ');
      jumpHosts.push({ ip: d.addresses[0].ip, basis: `opens ${protos} sessions into ${[...new Set(outbound.map((r) => zoneOfIp.get(r.peer)))].sort().join(', ')}${inbound.length > 0 ? ' and is reached over remote access itself' : ''}` });
    }
    for (const r of inbound) if (r.peer_external) vendors.set(hostCidr(r.peer), `${r.protocol} session from outside to ${d.addresses[0].ip}`);
  }
  const externalDestinations = new Map<string, string>();
  for (const d of internal) {
    if (d.zone?.kind !== 'medical' && !d.role.startsWith('modality')) continue;
    for (const p of d.external_peers) if (p.direction === 'outbound') externalDestinations.set(p.ip, `${d.addresses[0].ip} (${d.role}) reached it over ${p.apps.join(', ') || 'unknown'}`);
  }

  const draft = {
    zones,
    flows: flowList,
    jumpHosts: jumpHosts.sort((a, b) => a.ip.localeCompare(b.ip)),
    vendors: [...vendors].map(([cidr, basis]) => ({ cidr, basis })).sort((a, b) => a.cidr.localeCompare(b.cidr)),
    externalDestinations: [...externalDestinations].map(([ip, basis]) => ({ ip, basis })).sort((a, b) => a.ip.localeCompare(b.ip)),
  };
  return { ...draft, yaml: renderYaml(draft, o) };
}

/** A YAML scalar: JSON's double-quoted form is valid YAML and escapes everything that needs it. */
const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly (string | number)[]) => `[${xs.map((x) => (typeof x === 'number' ? String(x) : q(x))).join(', ')}]`;
/** A comment line: no line breaks can slip in from a recorded name. */
const comment = (s: string) => s.replace(/[\r\n]+/g, ' ');

function renderYaml(d: Omit<PolicyDraft, 'yaml'>, o: DraftOptions): string {
  const out: string[] = [];
  out.push(`# muvakt site policy — a DRAFT made by "muvakt policy suggest" from ${comment(o.source)} at ${o.now}.`);
  out.push('# Every line says what it rests on. It describes what was seen, which is not the same as what');
  out.push('# is intended: review each zone and flow, remove what should not happen, then check it with');
  out.push('#   muvakt policy check FILE   and see what it changes with   muvakt policy replay --policy FILE …');
  out.push(`site: ${q(o.site)}`);
  out.push('time_zone: Europe/Oslo');
  out.push('');
  out.push('zones:');
  if (d.zones.length === 0) out.push('  # no internal device was seen; a policy needs at least one zone');
  for (const z of d.zones) {
    out.push(`  # ${comment(z.basis)}; ${z.devices} device${z.devices === 1 ? '' : 's'}`);
    out.push(`  - name: ${q(z.name)}`);
    out.push(`    kind: ${z.kind}`);
    if (z.vlans.length > 0) out.push(`    vlans: ${list(z.vlans)}`);
    if (z.cidrs.length > 0) out.push(`    cidrs: ${list(z.cidrs)}`);
  }
  out.push('');
  out.push('allowed_flows:');
  if (d.flows.length === 0) out.push('  [] # no traffic between zones was seen');
  for (const f of d.flows) {
    const what = f.answered ? `${f.pairs} client/server pair${f.pairs === 1 ? '' : 's'} seen, e.g. ${f.seen.join(', ')}` : `attempts without an answer (${f.seen.join(', ')}): allow only if intended`;
    out.push(`  # ${comment(what)}`);
    const parts = [`from: ${q(f.from)}`, `to: ${q(f.to)}`];
    if (f.apps.length > 0) parts.push(`apps: ${list(f.apps)}`);
    if (f.ports.length > 0) parts.push(`ports: ${list(f.ports)}`);
    out.push(`  - {${parts.join(', ')}}`);
  }
  out.push('');
  out.push('remote_access:');
  if (d.jumpHosts.length === 0) out.push('  jump_hosts: [] # no device was seen relaying remote access into another zone');
  else {
    out.push('  jump_hosts:');
    for (const j of d.jumpHosts) out.push(`    - ${q(j.ip)} # ${comment(j.basis)}`);
  }
  if (d.vendors.length === 0) out.push('  vendors: [] # no remote-access session from outside was seen');
  else {
    out.push('  # Sessions from outside: name each vendor, widen the address to its range, and add its');
    out.push('  # agreed windows (windows: [{days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}]).');
    out.push('  vendors:');
    d.vendors.forEach((v, i) => {
      out.push(`    - name: ${q(`vendor ${i + 1} (name it)`)} # ${comment(v.basis)}`);
      out.push(`      cidrs: [${q(v.cidr)}]`);
    });
  }
  out.push('');
  out.push('external:');
  out.push('  allowed_countries: EEA');
  if (d.externalDestinations.length === 0) out.push('  allowed_destinations: [] # no medical device was seen reaching the internet');
  else {
    out.push('  # Medical devices were seen reaching these; none is allowed by the draft. Uncomment those');
    out.push('  # that are agreed (a vendor cloud in the contract), leave the rest to raise alerts.');
    out.push('  allowed_destinations: []');
    for (const e of d.externalDestinations) out.push(`  #  - ${q(e.ip)} # ${comment(e.basis)}`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}
