import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CaptureFormatError } from '../capture/packet-record.js';
import { readCaptureFile } from '../capture/capture-file.js';
import { DEFAULT_FLOW_LIMITS } from '../flows/flow-table.js';
import { assembleSensor } from '../sensor/assembly.js';
import { openStoreAt } from '../store-file.js';
import type { Alert } from '../store/index.js';
import { dbLocation, isPostgresUrl, redactDbUrl } from '../store/location.js';
import { UsageError } from './args.js';
import { POLICY_REPLAY_USAGE } from './policy.js';


export interface ReplayLine {
  rule_id: string;
  severity: string;
  title: string;
  src_ip: string;
  dst_ip: string;
  zone_src: string;
  zone_dst: string;
  count: number;
}

function key(a: Alert): string {
  return `${a.rule_id}\u0000${a.subject.src_ip ?? ''}\u0000${a.subject.dst_ip ?? ''}\u0000${a.subject.device_id ?? ''}`;
}

function line(a: Alert): ReplayLine {
  return { rule_id: a.rule_id, severity: a.severity, title: a.title, src_ip: a.subject.src_ip ?? '', dst_ip: a.subject.dst_ip ?? '', zone_src: a.subject.zone_src ?? '', zone_dst: a.subject.zone_dst ?? '', count: a.count };
}

/** The alerts the captures raise under one policy, in a store of their own in memory. */
async function alertsUnder(policyFile: string, captures: readonly string[]): Promise<Alert[]> {
  const sensor = await assembleSensor({ policyFile, dbFile: ':memory:', maxFlows: DEFAULT_FLOW_LIMITS.maxFlows });
  for (const file of captures) {
    try {
      await readCaptureFile(file, sensor.pipeline.handle);
    } catch (e) {
      // A broken file ends that file only, as in analyze.
      if (!(e instanceof CaptureFormatError)) throw e;
      process.stderr.write(`muvakt: ${e.message}\n`);
    }
  }
  await sensor.pipeline.finishInBatches('shutdown');
  return sensor.close();
}

async function alertsInStore(db: string): Promise<Alert[]> {
  const store = await openStoreAt(db, { pruneOnOpen: false });
  const out: Alert[] = [];
  try {
    let cursor: string | null = null;
    do {
      const page: { items: Alert[]; next_cursor: string | null } = await store.listAlerts({ limit: 1000, cursor });
      out.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null);
  } finally {
    await store.close();
  }
  return out;
}

/** `muvakt policy replay`: returns the exit code. */
export async function policyReplayCommand(argv: string[]): Promise<number> {
  let values: { policy?: string; against?: string; db?: string; json?: boolean; help?: boolean };
  let captures: string[];
  try {
    const r = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { policy: { type: 'string' }, against: { type: 'string' }, db: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    values = r.values;
    captures = r.positionals;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(POLICY_REPLAY_USAGE);
    return 0;
  }
  if (!values.policy) throw new UsageError('policy replay needs --policy NEW');
  if ((values.against === undefined) === (values.db === undefined)) throw new UsageError('policy replay compares with --against OLD or with --db FILE|URL (one of them)');
  if (captures.length === 0) throw new UsageError('policy replay needs at least one capture file');
  for (const f of [values.policy, values.against, ...captures]) if (f !== undefined && !existsSync(f)) throw new UsageError(`${f} does not exist`);
  const db = values.db !== undefined ? dbLocation(values.db) : undefined;
  if (db !== undefined && !isPostgresUrl(db) && !existsSync(db)) throw new UsageError(`--db: ${redactDbUrl(db)} does not exist`);

  const after = await alertsUnder(values.policy, captures);
  const before = values.against !== undefined ? await alertsUnder(values.against, captures) : await alertsInStore(db!);
  const beforeKeys = new Set(before.map(key));
  const afterKeys = new Set(after.map(key));
  const added = after.filter((a) => !beforeKeys.has(key(a))).map(line);
  const removed = before.filter((a) => !afterKeys.has(key(a))).map(line);
  const unchanged = after.length - added.length;
  const order = (a: ReplayLine, b: ReplayLine) => a.rule_id.localeCompare(b.rule_id) || a.src_ip.localeCompare(b.src_ip) || a.dst_ip.localeCompare(b.dst_ip);
  added.sort(order);
  removed.sort(order);
  const against = values.against ?? `the store ${redactDbUrl(db!)}`;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ policy: values.policy, against, captures: captures.length, added, removed, unchanged })}\n`);
    return 0;
  }
  const show = (sign: string, l: ReplayLine) =>
    `${sign} ${l.severity.padEnd(8)} ${l.rule_id.padEnd(36)} ${l.src_ip || '-'} → ${l.dst_ip || '-'} (${l.zone_src || '-'} → ${l.zone_dst || '-'}) ×${l.count}\n`;
  process.stdout.write(`${values.policy} against ${against}, ${captures.length} capture(s): ${added.length} alert(s) added, ${removed.length} removed, ${unchanged} unchanged\n`);
  for (const l of added) process.stdout.write(show('+', l));
  for (const l of removed) process.stdout.write(show('-', l));
  return 0;
}
