import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStoreAt } from '../store-file.js';
import { dbLocation, isPostgresUrl, redactDbUrl } from '../store/location.js';
import { buildEvidence, evidenceDocument, findDevice, renderHtml, renderMarkdown, sanitizeId } from '../inventory/evidence.js';
import { languageOption, UsageError } from './args.js';

export const EVIDENCE_USAGE = `muvakt evidence DEVICE --db FILE|URL [--out DIR] [--lang nb|en]

  Writes the evidence bundle of one device (by id, e.g. mac:02:77:0a:00:00:15, or by an IP
  address it holds) for a risk assessment (ROS) or a vendor follow-up: device.json,
  device.md and device.html in DIR (default ./evidence-<id>). device.md and device.html are in
  bokmål with the English labels in parentheses (--lang nb, the default) or in English
  (--lang en); device.json is the record as stored. Exit 1 when the device is unknown.
`;

/** `muvakt evidence`: returns the process exit code. */
export async function evidenceCommand(argv: string[]): Promise<number> {
  let parsed: { values: { db?: string; out?: string; lang?: string; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { db: { type: 'string' }, out: { type: 'string' }, lang: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(EVIDENCE_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError('usage: muvakt evidence DEVICE --db FILE [--out DIR] [--lang nb|en]');
  const wanted = positionals[0];
  const lang = languageOption(values.lang, 'nb');
  const db = dbLocation(values.db);
  if (!db) throw new UsageError('evidence needs --db FILE|URL or $MUVAKT_DB (the store written by "muvakt analyze --db" or "muvakt run --db")');
  if (!isPostgresUrl(db) && !existsSync(db)) throw new UsageError(`--db: ${redactDbUrl(db)} does not exist`);
  const store = await openStoreAt(db, { pruneOnOpen: false });
  let bundle;
  try {
    const device = await findDevice(store, wanted);
    if (!device) {
      process.stderr.write(`muvakt: no device "${wanted}" in ${redactDbUrl(db)} (give a device id such as mac:… or ip:…, or an address it holds; "muvakt inventory export" lists them)\n`);
      return 1;
    }
    bundle = await buildEvidence(store, device);
  } finally {
    await store.close();
  }
  const dir = values.out ?? `evidence-${sanitizeId(bundle.device.id)}`;
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const blocks = evidenceDocument(bundle, lang);
  const files = {
    'device.json': `${JSON.stringify(bundle, null, 2)}\n`,
    'device.md': renderMarkdown(blocks),
    'device.html': renderHtml(blocks, `muvakt evidence ${bundle.device.id}`, lang),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o640 });
  process.stdout.write(`${bundle.device.id}: ${bundle.summary.alerts} alert${bundle.summary.alerts === 1 ? '' : 's'}, exposure ${bundle.device.exposure.score} (${bundle.device.exposure.level}) → ${Object.keys(files).map((f) => join(dir, f)).join(', ')}\n`);
  return 0;
}
