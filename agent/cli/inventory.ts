import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openStoreAt } from '../store-file.js';
import { dbLocation, isPostgresUrl, redactDbUrl } from '../store/location.js';
import { exportRows, toCsv, toJson } from '../inventory/export.js';
import { languageOption, UsageError } from './args.js';

export const INVENTORY_USAGE = `muvakt inventory export --db FILE|URL --format csv|json [--out FILE] [--zone NAME] [--lang en|nb]

  Exports the device inventory of the store for the equipment register (CMMS): one row per
  device, most exposed first, with its manufacturer, model and software versions, role, usage
  scenario, exposure and the guide sections behind it, and its open alerts. CSV is RFC 4180
  with formula-like cells neutralised, its header in English or (--lang nb) bokmål; JSON is an
  array of device summaries. Written to --out or to stdout.
`;

/** `muvakt inventory export`: returns the process exit code. */
export async function inventoryCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(INVENTORY_USAGE);
    return 0;
  }
  if (sub !== 'export') throw new UsageError('usage: muvakt inventory export --db FILE --format csv|json [--out FILE]');
  let values: { db?: string; format?: string; out?: string; zone?: string; lang?: string; help?: boolean };
  try {
    values = parseArgs({
      args: rest,
      allowPositionals: false,
      options: { db: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, zone: { type: 'string' }, lang: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(INVENTORY_USAGE);
    return 0;
  }
  const db = dbLocation(values.db);
  if (!db) throw new UsageError('inventory export needs --db FILE|URL or $MUVAKT_DB (the store written by "muvakt analyze --db" or "muvakt run --db")');
  if (!isPostgresUrl(db) && !existsSync(db)) throw new UsageError(`--db: ${redactDbUrl(db)} does not exist`);
  const format = values.format;
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format expects csv or json${format === undefined ? '' : `, got "${format}"`}`);
  const lang = languageOption(values.lang, 'en');
  if (lang !== 'en' && format !== 'csv') throw new UsageError('--lang names the CSV header; JSON keys stay as they are');
  const store = await openStoreAt(db, { pruneOnOpen: false });
  let text: string;
  let n: number;
  try {
    const rows = await exportRows(store, values.zone !== undefined ? { zone: values.zone } : {});
    n = rows.length;
    text = format === 'csv' ? toCsv(rows, lang) : toJson(rows);
  } finally {
    await store.close();
  }
  if (values.out && values.out !== '-') {
    writeFileSync(values.out, text, { mode: 0o640 });
    process.stderr.write(`muvakt: ${n} device${n === 1 ? '' : 's'} written to ${values.out}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
