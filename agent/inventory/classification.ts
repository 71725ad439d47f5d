/**
 * Guide classification (MU 5.1, GUIDE-MAP G12): the eight properties of security significance
 * ("egenskaper av sikkerhetsmessig betydning") as far as the wire shows them, the usage scenario
 * (bruksscenario) and an exposure rank in which every point is explained by a fact.
 *
 * Source: Normen, "Veileder for medisinsk utstyr" (docs/guide-references.md), 5.1.1:
 *  - Bruksscenario 1 "Medisinsk utstyr uten behandling av informasjon" and 2 "Medisinsk utstyr
 *    ikke tilknyttet nettverk" have Nettverkstilknytning: Nei — a device seen on the wire is by
 *    definition not in them, and nothing on the wire can show them: never claimed.
 *  - Bruksscenario 3 "Medisinsk utstyr tilknyttet nettverk": data over the local or external
 *    network, technical monitoring, wireless — every networked device on the site's segments.
 *  - Bruksscenario 4 "Behandlingshjelpemidler": equipment with the patient (at home) that
 *    "sender data … til virksomheten for lagring/granskning" — seen as an *external* address
 *    that delivers health data (HL7/DICOM/PHI) into the site. Claimed as a candidate only.
 *  - Bruksscenario 5 (the patient uses the manufacturer's service directly) never touches the
 *    site's network: never claimed.
 * Display, print and storage are not visible on the wire: always `not-visible`.
 * MU 5.2.1 / G12: "patient-identifiable data + networked + vendor remote access" ranks highest.
 * Each exposure reason's `guide_ref` is a comma-separated list of references in
 * rules/guide-references.ts (no GUIDE-MAP ids: they are not sections of the guides).
 */
import { endedBy, matchSeen } from '../../rules/end-of-support.js';
import type { Device } from './types.js';
import { inferRoles, primaryRole, type DeviceLookup, type Role, type RoleFinding } from './roles.js';

export type PropertyValue = 'yes' | 'not-seen' | 'not-visible';

export interface Property {
  value: PropertyValue;
  facts: string[];
}

export type PropertyName = 'health_data' | 'display' | 'print' | 'storage' | 'network' | 'integrations' | 'remote_access' | 'cloud' | 'configuration_control';

export type Properties = Record<PropertyName, Property>;

export interface Scenario {
  /** 3 or 4; null when the device is not the site's equipment (e.g. a vendor's PC on the internet). */
  number: 3 | 4 | null;
  name: string;
  candidate: boolean;
  facts: string[];
  guide_ref: string;
}

export interface ExposureReason {
  fact: string;
  points: number;
  guide_ref: string;
}

export type ExposureLevel = 'low' | 'medium' | 'high' | 'critical';

export interface Exposure {
  score: number;
  level: ExposureLevel;
  reasons: ExposureReason[];
}

/** Open alerts per device address: ip → rule id → count (e.g. from `alertCountsFrom`). */
export type AlertCounts = ReadonlyMap<string, Readonly<Record<string, number>>> | Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface ClassifyOptions {
  alertCounts?: AlertCounts;
  /** The address is a declared vendor's (`CompiledPolicy.vendorOf(ip, at) !== null`). */
  isVendor?: (ip: string) => boolean;
  /** Peer lookup for roles (vendor endpoints). */
  lookup?: DeviceLookup;
}

/** Software of the device whose maker's support had ended by the time it was last seen (rules/end-of-support.ts). */
export interface EndOfSupport {
  product: string;
  version: string;
  end_of_support: string;
  source: string;
  seen_in: string;
}

/**
 * The device's software list against the end-of-support table, judged at its last_seen: the
 * inventory keeps what was seen, not when each string was last seen, so "still there when last
 * seen" is the claim (the rule end-of-life-software judges each event at its own capture time).
 */
export function endOfSupportOf(d: Device): EndOfSupport[] {
  const out: EndOfSupport[] = [];
  for (const s of d.software) {
    for (const m of matchSeen(s.source, s.value)) {
      if (!endedBy(m, d.last_seen) || out.some((x) => x.product === m.row.product && x.version === m.version_seen)) continue;
      out.push({ product: m.row.product, version: m.version_seen, end_of_support: m.row.end_of_support, source: m.row.source.name, seen_in: s.source });
    }
  }
  return out;
}

export interface Classification {
  role: Role;
  roles: RoleFinding[];
  properties: Properties;
  scenario: Scenario;
  exposure: Exposure;
}

/** Alert categories that weigh into the rank, with the rules that belong to them. */
export const ALERT_WEIGHTS: readonly { category: string; rules: readonly string[]; points: number; guide_ref: string }[] = [
  { category: 'cleartext PHI', rules: ['dicom-cleartext-phi', 'hl7-cleartext-phi', 'phi-in-syslog', 'phi-in-vendor-callhome', 'phi-cleartext'], points: 15, guide_ref: 'LEV 6.4, MU 5.1.2 #6' },
  { category: 'cleartext credentials', rules: ['cleartext-credentials', 'dicom-user-identity-cleartext-password', 'shared-secret', 'default-vendor-credential'], points: 12, guide_ref: 'MU 4.4, MU annex #3, LEV 6.4' },
  { category: 'weak TLS', rules: ['tls-weak-version', 'tls-certificate-untrusted'], points: 8, guide_ref: 'LEV 6.4, MU 5.1.2 #4' },
  { category: 'obsolete or unencrypted protocol', rules: ['obsolete-protocol', 'remote-access-unencrypted', 'ssh-protocol-1'], points: 8, guide_ref: 'MU 5.1.2 #4, MU 4.7, LEV 8' },
];

export const LEVELS: readonly { level: ExposureLevel; min: number }[] = [
  { level: 'critical', min: 80 },
  { level: 'high', min: 55 },
  { level: 'medium', min: 30 },
  { level: 'low', min: 0 },
];

const MEDICAL_APPS = ['dicom', 'dicom-tls', 'dicomweb', 'hl7'];
const REMOTE_APPS = new Set(['vnc', 'rdp', 'ssh', 'telnet', 'teamviewer', 'anydesk']);

function alertsOf(counts: AlertCounts | undefined, ips: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (!counts) return out;
  for (const ip of ips) {
    const c = counts instanceof Map ? counts.get(ip) : (counts as Record<string, Record<string, number>>)[ip];
    if (!c) continue;
    for (const [rule, n] of Object.entries(c as Record<string, number>)) if (n > 0) out[rule] = (out[rule] ?? 0) + n;
  }
  return out;
}

export function classifyProperties(d: Device, opts: ClassifyOptions = {}): Properties {
  const notVisible: Property = { value: 'not-visible', facts: ['not visible on the network'] };
  const prop = (facts: string[]): Property => ({ value: facts.length > 0 ? 'yes' : 'not-seen', facts });

  const health: string[] = [];
  if (d.phi.sent + d.phi.received > 0) health.push(`patient identifiers observed in ${d.phi.protocols.join(', ')} (${d.phi.sent} sent, ${d.phi.received} received)`);
  if (d.dicom.phi_fields.length > 0) health.push(`DICOM with patient fields: ${d.dicom.phi_fields.slice(0, 6).join(', ')}`);
  if (d.hl7.phi_fields.length > 0) health.push(`HL7 with patient fields: ${d.hl7.phi_fields.slice(0, 6).join(', ')}`);

  const integ: string[] = [];
  for (const app of MEDICAL_APPS) {
    const peers = d.peers[app];
    if (peers && peers.length > 0) integ.push(`${app} with ${peers.slice(0, 5).join(', ')}${peers.length > 5 ? ` (+${peers.length - 5})` : ''}`);
  }
  if (d.dicom.calling_aes.length + d.dicom.called_aes.length > 0) integ.push(`DICOM AE ${[...d.dicom.calling_aes, ...d.dicom.called_aes].join(', ')}`);
  if (d.hl7.applications.length > 0) integ.push(`HL7 application ${d.hl7.applications.join(', ')}`);

  const inbound = d.remote_access.filter((r) => r.direction === 'inbound');
  const remote = inbound.map((r) => `${r.protocol} from ${r.peer} (${r.peer_external ? 'external' : `zone ${r.peer_zone}`}${r.encrypted ? ', encrypted' : ', unencrypted'}), ${r.count}×`);

  // Cloud/external: contacts with external addresses other than remote access into the device
  // (that is the remote-access property).
  const cloud = d.external_peers.filter((p) => p.direction === 'outbound' || p.apps.some((a) => !REMOTE_APPS.has(a))).map((p) => `${p.direction === 'outbound' ? 'to' : 'from'} ${p.ip}${p.country ? ` (${p.country})` : ''} over ${p.apps.join(', ')}`);
  if (d.tls.contacted_names.length > 0 && cloud.length > 0) cloud.push(`names contacted: ${d.tls.contacted_names.slice(0, 5).join(', ')}`);

  const config: string[] = [];
  for (const r of inbound) {
    const vendor = opts.isVendor?.(r.peer) ?? false;
    if (vendor || r.peer_external) config.push(`${vendor ? 'declared vendor' : 'external party'} ${r.peer} has ${r.protocol} access`);
  }

  return {
    health_data: prop(health),
    display: notVisible,
    print: notVisible,
    storage: notVisible,
    network: { value: 'yes', facts: [`seen on the network at ${d.addresses.map((a) => a.ip).slice(0, 4).join(', ')}${d.zone.name !== 'unknown' ? ` (zone ${d.zone.name})` : ''}`] },
    integrations: prop(integ),
    remote_access: prop(remote),
    cloud: prop(cloud),
    configuration_control: prop(config),
  };
}

export function scenarioOf(d: Device, props: Properties): Scenario {
  if (!d.external) {
    return {
      number: 3,
      name: 'Medisinsk utstyr tilknyttet nettverk',
      candidate: false,
      facts: [...props.network.facts, ...(props.cloud.value === 'yes' ? ['transfers data over external networks'] : [])],
      guide_ref: 'MU 5.1.1 Bruksscenario 3',
    };
  }
  const deliversHealthData = (d.hl7.sent > 0 || d.dicom.issued.store > 0 || d.phi.sent > 0) && props.health_data.value === 'yes';
  if (deliversHealthData) {
    return {
      number: 4,
      name: 'Behandlingshjelpemidler',
      candidate: true,
      facts: ['external address delivering health data into the site (equipment with the patient?)', ...props.health_data.facts],
      guide_ref: 'MU 5.1.1 Bruksscenario 4',
    };
  }
  return { number: null, name: 'not site equipment', candidate: false, facts: ['external address without health data delivered to the site'], guide_ref: 'MU 5.1.1' };
}

/** The exposure rank: each point comes with the fact behind it. */
export function exposureOf(d: Device, props: Properties, opts: ClassifyOptions = {}): Exposure {
  const reasons: ExposureReason[] = [];
  const add = (fact: string, points: number, guide_ref: string) => reasons.push({ fact, points, guide_ref });

  if (!d.external) add('networked (seen on the wire)', 10, 'MU 5.1.1 Bruksscenario 3');
  if (d.zone.kind === 'medical') add(`in the medical-device zone ${d.zone.name}`, 5, 'MU 5.2.1');
  if (props.health_data.value === 'yes') add(`handles patient-identifiable data: ${props.health_data.facts[0]}`, 30, 'MU 5.1, MU 5.2.1');
  if (props.integrations.value === 'yes') add(`integrations: ${props.integrations.facts[0]}`, 5, 'MU 5.1.2 #5');
  const inbound = d.remote_access.filter((r) => r.direction === 'inbound');
  const extRemote = inbound.filter((r) => r.peer_external);
  if (extRemote.length > 0) add(`remote access from outside: ${props.remote_access.facts.find((f) => f.includes('external')) ?? props.remote_access.facts[0]}`, 30, 'MU 5.1, MU 5.2.1');
  else if (inbound.length > 0) add(`remote access: ${props.remote_access.facts[0]}`, 10, 'MU 5.1');
  if (props.configuration_control.value === 'yes') add(`configuration control by a vendor/external party: ${props.configuration_control.facts[0]}`, 10, 'MU 5.1.2 #8');
  const ended = endOfSupportOf(d);
  if (ended.length > 0) add(`software past its end of support: ${ended.map((x) => `${x.product} ${x.version} (ended ${x.end_of_support})`).join(', ')}`, 8, 'LEV 8, MU 4.6');
  if (!d.external && props.cloud.value === 'yes') add(`external/cloud contacts: ${props.cloud.facts[0]}`, 10, 'MU 5.1');
  if (d.phi.sent_external > 0) add(`health and personal data sent to an external address (${d.phi.sent_external}×)`, 15, 'MU 5.1.2 #6, MU annex #16, MU annex #17');
  const vendorAccess = props.configuration_control.value === 'yes' || extRemote.length > 0;
  if (!d.external && props.health_data.value === 'yes' && vendorAccess) {
    add('patient-identifiable data + networked + vendor remote access: the guide ranks this highest', 15, 'MU 5.2.1');
  }

  const alerts = alertsOf(opts.alertCounts, d.addresses.map((a) => a.ip));
  for (const w of ALERT_WEIGHTS) {
    const hits = w.rules.filter((r) => alerts[r] > 0);
    if (hits.length === 0) continue;
    const n = hits.reduce((s, r) => s + alerts[r], 0);
    add(`open alerts, ${w.category}: ${hits.map((r) => `${r} ×${alerts[r]}`).join(', ')}`, w.points + Math.min(n - 1, 4), w.guide_ref);
  }

  // Not capped, so that the rank keeps ordering the most exposed devices; the level saturates.
  const score = reasons.reduce((s, r) => s + r.points, 0);
  const level = LEVELS.find((l) => score >= l.min)!.level;
  return { score, level, reasons };
}

export function classify(d: Device, opts: ClassifyOptions = {}): Classification {
  const properties = classifyProperties(d, opts);
  const roles = inferRoles(d, opts.lookup);
  return { role: roles[0].role, roles, properties, scenario: scenarioOf(d, properties), exposure: exposureOf(d, properties, opts) };
}

/** Open alerts (from `SqliteStore.listAlerts({status: 'open'})`) as counts per address and rule; both ends count. */
export function alertCountsFrom(alerts: Iterable<{ rule_id: string; count?: number; subject: { src_ip: string; dst_ip: string } }>): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const a of alerts) {
    for (const ip of new Set([a.subject.src_ip, a.subject.dst_ip])) {
      if (!ip) continue;
      let c = out.get(ip);
      if (!c) out.set(ip, (c = {}));
      c[a.rule_id] = (c[a.rule_id] ?? 0) + 1;
    }
  }
  return out;
}

export { primaryRole };
