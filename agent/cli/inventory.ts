import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../store/index.js';
import { exportRows, toCsv, toJson } from '../inventory/export.js';
import { UsageError } from './args.js';

export const INVENTORY_USAGE = `muvakt inventory export --db FILE --format csv|json [--out FILE] [--zone NAME]

  Exports the device inventory of the store for the equipment register (CMMS): one row per
  device, most exposed first, with its open alerts. CSV is RFC 4180 with formula-like cells
  neutralised; JSON is an array of device summaries. Written to --out or to stdout.
`;

/** `muvakt inventory export`: returns the process exit code. */
export function inventoryCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(INVENTORY_USAGE);
    return 0;
  }
  if (sub !== 'export') throw new UsageError('usage: muvakt inventory export --db FILE --format csv|json [--out FILE]');
  let values: { db?: string; format?: string; out?: string; zone?: string; help?: boolean };
  try {
    values = parseArgs({
      args: rest,
      allowPositionals: false,
      options: { db: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, zone: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(INVENTORY_USAGE);
    return 0;
  }
  if (!values.db) throw new UsageError('inventory export needs --db FILE (the store written by "muvakt analyze --db" or "muvakt run --db")');
  if (!existsSync(values.db)) throw new UsageError(`--db: ${values.db} does not exist`);
  const format = values.format;
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format expects csv or json${format === undefined ? '' : `, got "${format}"`}`);
  const store = SqliteStore.open(values.db, { pruneOnOpen: false });
  let text: string;
  let n: number;
  try {
    const rows = exportRows(store, values.zone !== undefined ? { zone: values.zone } : {});
    n = rows.length;
    text = format === 'csv' ? toCsv(rows) : toJson(rows);
  } finally {
    store.close();
  }
  if (values.out && values.out !== '-') {
    writeFileSync(values.out, text, { mode: 0o640 });
    process.stderr.write(`muvakt: ${n} device${n === 1 ? '' : 's'} written to ${values.out}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}
