import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { draftPolicy, type DraftDevice } from '../../rules/policy/draft.js';
import { openStoreAt } from '../store-file.js';
import { dbLocation, isPostgresUrl, redactDbUrl } from '../store/location.js';
import { UsageError } from './args.js';
import { POLICY_SUGGEST_USAGE } from './policy.js';


/** `muvakt policy suggest`: returns the exit code. */
export async function policySuggestCommand(argv: string[]): Promise<number> {
  let values: { db?: string; site?: string; out?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      allowPositionals: false,
      options: { db: { type: 'string' }, site: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(POLICY_SUGGEST_USAGE);
    return 0;
  }
  const db = dbLocation(values.db);
  if (!db) throw new UsageError('policy suggest needs --db FILE|URL or $MUVAKT_DB (a store written by "muvakt analyze --db" or "muvakt run --db")');
  if (!isPostgresUrl(db) && !existsSync(db)) throw new UsageError(`--db: ${redactDbUrl(db)} does not exist`);
  const store = await openStoreAt(db, { pruneOnOpen: false });
  const devices: DraftDevice[] = [];
  try {
    let cursor: string | undefined;
    do {
      const page = await store.listDevices({ limit: 1000, cursor });
      for (const s of page.items as { id: string }[]) {
        const d = (await store.getDevice(s.id)) as DraftDevice | null;
        if (d) devices.push(d);
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  } finally {
    await store.close();
  }
  const draft = draftPolicy(devices, { site: values.site ?? 'draft (name the site)', source: `the store ${redactDbUrl(db)} (${devices.length} devices)`, now: new Date().toISOString() });
  if (values.out && values.out !== '-') {
    writeFileSync(values.out, draft.yaml, { mode: 0o640 });
  } else {
    process.stdout.write(draft.yaml);
  }
  process.stderr.write(
    `muvakt: draft policy with ${draft.zones.length} zone(s), ${draft.flows.length} allowed flow(s), ${draft.jumpHosts.length} jump host(s), ${draft.vendors.length} vendor source(s)` +
      `${values.out && values.out !== '-' ? ` written to ${values.out}` : ''}; review it before use\n`,
  );
  return 0;
}
