/**
 * Inventory export: the device list of the store as CSV or JSON for the
 * medical technology department's equipment register (CMMS).
 *
 * PHI-free: only what the store's inventory holds (DeviceSummary, PHI-free by construction)
 * and counts/severities of open alerts are written — never an alert's evidence.
 *
 * CSV: RFC 4180 (comma, CRLF, fields with `"` `,` CR or LF quoted, `"` doubled), a fixed column
 * order, and CSV-injection safety: a cell that starts with = + - @ (or TAB/CR) gets a leading `'`
 * so that a spreadsheet never evaluates it as a formula (OWASP "CSV Injection").
 */
import type { Store } from '../store/store.js';
import type { Alert, Severity } from '../store/types.js';
import { SEVERITY_RANK } from '../store/types.js';
import type { DeviceDetail, DeviceSummary } from './index.js';
import { csvCell } from '../export/csv.js';

/** What the store offers that the export reads (either backend). */
export type InventoryReader = Pick<Store, 'listDevices' | 'getDevice' | 'listAlerts'>;

/** One exported device: its summary, what its detail says of its make and software, and its open alerts. */
export interface ExportedDevice extends DeviceSummary {
  /** From the DICOM data sets it sent (Manufacturer, ManufacturerModelName); null when none was seen. */
  manufacturer: string | null;
  model: string | null;
  /** Every software version seen (DICOM SoftwareVersions, implementation versions, banners, user agents). */
  software_versions: string[];
  /** The guide sections its exposure reasons rest on. */
  guide_refs: string[];
  open_alerts: number;
  highest_open_severity: Severity | null;
}

/** The CSV columns, in their fixed order. */
export const CSV_COLUMNS = [
  'id',
  'mac',
  'ips',
  'vendor',
  'manufacturer',
  'model',
  'software_versions',
  'names',
  'zone',
  'role',
  'scenario',
  'exposure_score',
  'exposure_level',
  'top_reasons',
  'guide_refs',
  'first_seen',
  'last_seen',
  'open_alerts',
  'highest_open_severity',
] as const;

export type CsvLanguage = 'en' | 'nb';

/** The same columns headed in bokmål (`--lang nb`), for a register kept in Norwegian. */
export const CSV_COLUMNS_NB: Readonly<Record<(typeof CSV_COLUMNS)[number], string>> = {
  id: 'id',
  mac: 'mac',
  ips: 'ip_adresser',
  vendor: 'leverandør_mac',
  manufacturer: 'produsent',
  model: 'modell',
  software_versions: 'programvareversjoner',
  names: 'navn',
  zone: 'sone',
  role: 'rolle',
  scenario: 'bruksscenario',
  exposure_score: 'eksponeringspoeng',
  exposure_level: 'eksponeringsnivå',
  top_reasons: 'viktigste_årsaker',
  guide_refs: 'veilederhenvisninger',
  first_seen: 'først_sett',
  last_seen: 'sist_sett',
  open_alerts: 'åpne_varsler',
  highest_open_severity: 'høyeste_åpne_alvorlighet',
};

/** The header line's names in one language. */
export function csvHeader(lang: CsvLanguage = 'en'): string[] {
  return CSV_COLUMNS.map((c) => (lang === 'nb' ? CSV_COLUMNS_NB[c] : c));
}

/** How many exposure reasons (highest points first) go into the CSV's `top_reasons`. */
export const TOP_REASONS = 3;

/** Every device summary in the store, most exposed first (the store's order). */
export async function allDevices(store: InventoryReader, zone?: string): Promise<DeviceSummary[]> {
  const out: DeviceSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listDevices({ limit: 1000, cursor, ...(zone !== undefined ? { zone } : {}) });
    out.push(...(page.items as DeviceSummary[]));
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return out;
}

/** Every alert with the given status, keyed by each address it names (src and dst). */
export async function alertsByIp(store: InventoryReader, status: 'open' | 'all' = 'open'): Promise<Map<string, Alert[]>> {
  const byIp = new Map<string, Alert[]>();
  let cursor: string | null = null;
  do {
    const page: { items: Alert[]; next_cursor: string | null } = await store.listAlerts({ limit: 1000, cursor, ...(status === 'open' ? { status: 'open' as const } : {}) });
    for (const a of page.items) {
      for (const ip of new Set([a.subject.src_ip, a.subject.dst_ip])) {
        if (!ip) continue;
        const list = byIp.get(ip);
        if (list) list.push(a);
        else byIp.set(ip, [a]);
      }
    }
    cursor = page.next_cursor;
  } while (cursor !== null);
  return byIp;
}

/** The distinct alerts that name any of the addresses. */
export function alertsFor(ips: readonly string[], byIp: ReadonlyMap<string, readonly Alert[]>): Alert[] {
  const seen = new Map<string, Alert>();
  for (const ip of ips) for (const a of byIp.get(ip) ?? []) seen.set(a.id, a);
  return [...seen.values()];
}

export function highestSeverity(alerts: readonly Pick<Alert, 'severity'>[]): Severity | null {
  let best: Severity | null = null;
  for (const a of alerts) if (best === null || SEVERITY_RANK[a.severity] > SEVERITY_RANK[best]) best = a.severity;
  return best;
}

/** The make, model and software the device's detail records (null detail: none known). */
export function makeAndSoftware(detail: DeviceDetail | null): Pick<ExportedDevice, 'manufacturer' | 'model' | 'software_versions'> {
  const id = detail?.dicom_identity ?? null;
  const versions = new Set<string>();
  if (id?.software_versions) versions.add(id.software_versions);
  for (const i of detail?.dicom?.implementations ?? []) if (i.version) versions.add(i.version);
  for (const s of detail?.software ?? []) if (s.value) versions.add(s.value);
  return { manufacturer: id?.manufacturer || null, model: id?.model || null, software_versions: [...versions] };
}

/** The guide sections behind the exposure reasons (a reason may cite several, comma-separated). */
export function exposureGuideRefs(d: Pick<DeviceSummary, 'exposure'>): string[] {
  const refs = new Set<string>();
  for (const r of d.exposure.reasons) for (const g of r.guide_ref.split(/,\s*/)) if (g.trim()) refs.add(g.trim());
  return [...refs];
}

/** The export rows: every device with its make and software, its exposure's guide sections, its open-alert count and highest open severity. */
export async function exportRows(store: InventoryReader, opts: { zone?: string } = {}): Promise<ExportedDevice[]> {
  const open = await alertsByIp(store, 'open');
  const out: ExportedDevice[] = [];
  for (const d of await allDevices(store, opts.zone)) {
    const alerts = alertsFor(d.ips, open);
    const detail = (await store.getDevice(d.id)) as DeviceDetail | null;
    out.push({ ...d, ...makeAndSoftware(detail), guide_refs: exposureGuideRefs(d), open_alerts: alerts.length, highest_open_severity: highestSeverity(alerts) });
  }
  return out;
}

function topReasons(d: DeviceSummary): string {
  return [...d.exposure.reasons]
    .sort((a, b) => b.points - a.points)
    .slice(0, TOP_REASONS)
    .map((r) => `${r.fact} (+${r.points})`)
    .join('; ');
}

export function csvRow(d: ExportedDevice): string[] {
  return [
    d.id,
    d.mac ?? '',
    d.ips.join(' '),
    d.vendor ?? '',
    d.manufacturer ?? '',
    d.model ?? '',
    d.software_versions.join('; '),
    d.names.join(' '),
    d.zone,
    d.role,
    d.scenario === null ? '' : String(d.scenario),
    String(d.exposure.score),
    d.exposure.level,
    topReasons(d),
    d.guide_refs.join('; '),
    d.first_seen,
    d.last_seen,
    String(d.open_alerts),
    d.highest_open_severity ?? '',
  ];
}

/** The whole CSV: header (English column names, or bokmål) plus one row per device, CRLF line ends (RFC 4180). */
export function toCsv(rows: readonly ExportedDevice[], lang: CsvLanguage = 'en'): string {
  const lines = [csvHeader(lang).map(csvCell).join(',')];
  for (const d of rows) lines.push(csvRow(d).map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function toJson(rows: readonly ExportedDevice[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}
