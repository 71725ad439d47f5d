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
import type { DeviceSummary } from './index.js';
import { csvCell } from '../export/csv.js';

/** What the store offers that the export reads (either backend). */
export type InventoryReader = Pick<Store, 'listDevices' | 'getDevice' | 'listAlerts'>;

/** One exported device: its summary plus its open alerts. */
export interface ExportedDevice extends DeviceSummary {
  open_alerts: number;
  highest_open_severity: Severity | null;
}

/** The CSV columns, in their fixed order. */
export const CSV_COLUMNS = [
  'id',
  'mac',
  'ips',
  'vendor',
  'names',
  'zone',
  'role',
  'scenario',
  'exposure_score',
  'exposure_level',
  'top_reasons',
  'first_seen',
  'last_seen',
  'open_alerts',
  'highest_open_severity',
] as const;

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

/** The export rows: every device with its open-alert count and highest open severity. */
export async function exportRows(store: InventoryReader, opts: { zone?: string } = {}): Promise<ExportedDevice[]> {
  const open = await alertsByIp(store, 'open');
  return (await allDevices(store, opts.zone)).map((d) => {
    const alerts = alertsFor(d.ips, open);
    return { ...d, open_alerts: alerts.length, highest_open_severity: highestSeverity(alerts) };
  });
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
    d.names.join(' '),
    d.zone,
    d.role,
    d.scenario === null ? '' : String(d.scenario),
    String(d.exposure.score),
    d.exposure.level,
    topReasons(d),
    d.first_seen,
    d.last_seen,
    String(d.open_alerts),
    d.highest_open_severity ?? '',
  ];
}

/** The whole CSV: header plus one row per device, CRLF line ends (RFC 4180). */
export function toCsv(rows: readonly ExportedDevice[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const d of rows) lines.push(csvRow(d).map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function toJson(rows: readonly ExportedDevice[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}
