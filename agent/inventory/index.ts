/**
 * The device inventory API: build an `Inventory` from events, then `summarize` /
 * `detail` its devices for `GET /assets` and `GET /assets/:id`.
 */
import { classify, endOfSupportOf, type ClassifyOptions, type Classification, type EndOfSupport, type Exposure, type Properties, type Scenario } from './classification.js';
import { ownDataset, type Role, type RoleFinding } from './roles.js';
import type { Inventory } from './inventory.js';
import type { Device, ZoneOf, ZoneRef } from './types.js';

export { Inventory, defaultZoneOf, clean, type InventoryOptions, type InventoryState } from './inventory.js';
export { inferRoles, primaryRole, ownDataset, ROLE_ORDER, type Role, type RoleFinding, type DeviceLookup } from './roles.js';
export {
  classify,
  classifyProperties,
  scenarioOf,
  exposureOf,
  alertCountsFrom,
  ALERT_WEIGHTS,
  LEVELS,
  type AlertCounts,
  type Classification,
  type ClassifyOptions,
  type Exposure,
  type ExposureLevel,
  type ExposureReason,
  type Properties,
  type Property,
  type PropertyName,
  type PropertyValue,
  type Scenario,
} from './classification.js';
export type * from './types.js';

/** The zone lookups for `new Inventory({...policyZones(policy)})` from a `CompiledPolicy`. */
export function policyZones(policy: { zoneOf(ip: string, vlans?: readonly number[]): ZoneRef }): { zoneOf: ZoneOf; vlanZoneOf: (vlans: readonly number[]) => ZoneRef | null } {
  return {
    zoneOf: (ip, vlans) => policy.zoneOf(ip, vlans),
    // zoneOf matches CIDRs first, then the innermost VLAN; 0.0.0.0 is in no zone's CIDR.
    vlanZoneOf: (vlans) => {
      if (vlans.length === 0) return null;
      const z = policy.zoneOf('0.0.0.0', vlans);
      return z.kind === 'external' || z.kind === 'unknown' ? null : z;
    },
  };
}

/** One row of `GET /assets`. */
export interface DeviceSummary {
  id: string;
  mac: string | null;
  ips: string[];
  vendor: string | null;
  names: string[];
  zone: string;
  role: Role;
  scenario: 3 | 4 | null;
  exposure: Exposure;
  first_seen: string;
  last_seen: string;
}

/** `GET /assets/:id`: the device record with its classification. */
export interface DeviceDetail extends Device {
  role: Role;
  roles: RoleFinding[];
  properties: Properties;
  scenario: Scenario;
  exposure: Exposure;
  /** The DICOM identity (Modality, Manufacturer, Model, SoftwareVersions) of its own images, if any. */
  dicom_identity: { modality: string; manufacturer: string; model: string; software_versions: string; station_name: string } | null;
  /** Its software whose maker's support had ended when it was last seen, with the date and the table row's source. */
  end_of_support: EndOfSupport[];
}

function options(inv: Inventory, opts: ClassifyOptions): ClassifyOptions {
  return { lookup: (ip) => inv.byIp(ip), ...opts };
}

export function summarize(d: Device, c: Classification): DeviceSummary {
  return {
    id: d.id,
    mac: d.mac,
    ips: d.addresses.map((a) => a.ip),
    vendor: d.vendor,
    names: [...new Set(d.names.map((n) => n.name))],
    zone: d.zone.name,
    role: c.role,
    scenario: c.scenario.number,
    exposure: c.exposure,
    first_seen: d.first_seen,
    last_seen: d.last_seen,
  };
}

/**
 * The device with its classification, as the API and the store show it. It shares the device's
 * own lists instead of copying them: it is only serialised (a response, a saved row; a row that
 * waits for the store shows the device as it is when written), and a deep copy of every device
 * at each inventory save cost as much as the save itself.
 */
export function detail(d: Device, c: Classification): DeviceDetail {
  const own = ownDataset(d);
  const identity = own ? { modality: own.modality, manufacturer: own.manufacturer, model: own.model, software_versions: own.software_versions, station_name: own.station_name } : null;
  return { ...d, role: c.role, roles: c.roles, properties: c.properties, scenario: c.scenario, exposure: c.exposure, dicom_identity: identity, end_of_support: endOfSupportOf(d) };
}

/** Every device, most exposed first (ties: newest last_seen first). */
export function listSummaries(inv: Inventory, opts: ClassifyOptions = {}): DeviceSummary[] {
  const o = options(inv, opts);
  const out: DeviceSummary[] = [];
  for (const d of inv.devices()) out.push(summarize(d, classify(d, o)));
  return out.sort((a, b) => b.exposure.score - a.exposure.score || (a.last_seen < b.last_seen ? 1 : a.last_seen > b.last_seen ? -1 : 0));
}

/** One device by id (`mac:…`/`ip:…`) or by an address it holds; null when unknown. */
export function deviceDetail(inv: Inventory, idOrIp: string, opts: ClassifyOptions = {}): DeviceDetail | null {
  const d = inv.get(idOrIp) ?? inv.byIp(idOrIp);
  return d ? detail(d, classify(d, options(inv, opts))) : null;
}
