/**
 * Risk acceptance: the hospital's recorded decision (after its risk assessment, ROS) to live
 * with what one rule reports about one subject — a device that cannot be updated, a link that
 * cannot be encrypted yet — with a reason, an owner, a reference to the assessment and an
 * expiry. An accepted alert is shown as accepted, never deleted; when the acceptance expires or
 * is revoked the alert is plain open again.
 *
 * Each acceptance is one key in the store's small-state table (`risk-acceptance:<id>`), so two
 * API replicas recording acceptances at the same time cannot overwrite each other, and both
 * backends hold them without a table of their own.
 */
import { nodeCrypto } from '../protocols/node-crypto.js';
import { ipTextVersion } from '../protocols/ip/ip-text.js';
import type { Alert, Store } from './store/index.js';
import { containsFnr } from './store/values.js';

export const ACCEPTANCE_KEY_PREFIX = 'risk-acceptance:';
/** An acceptance is reviewed at least this often: a longer expiry is refused. */
export const MAX_ACCEPTANCE_DAYS = 3 * 366;

export type AcceptanceScope = 'device' | 'pair' | 'zones';

export interface RiskAcceptanceInput {
  rule_id: string;
  scope: AcceptanceScope;
  device_id?: string;
  src_ip?: string;
  dst_ip?: string;
  zone_src?: string;
  zone_dst?: string;
  reason: string;
  owner: string;
  /** The risk assessment (ROS) it rests on: a document id or case number. */
  reference: string;
  /** Last day it holds (YYYY-MM-DD, in the site's time zone Europe/Oslo; it ends at that day's end). */
  expires: string;
}

export interface RiskAcceptance extends RiskAcceptanceInput {
  id: string;
  /** The instant it ends (the end of `expires` in Europe/Oslo), ISO 8601 UTC. */
  expires_at: string;
  created_by: string;
  created_at: string;
  revoked_by?: string;
  revoked_at?: string;
  revoke_comment?: string;
}

export class AcceptanceInputError extends Error {}

type AcceptanceStore = Pick<Store, 'kvGet' | 'kvSet' | 'kvList'>;

const TEXT_LIMITS = { reason: 1000, owner: 120, reference: 120 } as const;

/** Midnight after `day` in Europe/Oslo, as epoch ms (the offset is +1 or +2 hours). */
export function endOfOsloDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (m === null) return NaN;
  const utcMidnightAfter = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1);
  if (new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) !== day) return NaN;
  // The Oslo wall-clock hour at that UTC instant tells the offset in force then.
  const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Oslo', hour: '2-digit', hourCycle: 'h23' }).format(utcMidnightAfter));
  return utcMidnightAfter - hour * 3_600_000;
}

/** Checks an acceptance as an officer entered it; throws AcceptanceInputError with what is wrong. */
export function validateAcceptance(a: RiskAcceptanceInput, knownRules: ReadonlySet<string>, nowMs: number): void {
  const problems: string[] = [];
  if (!knownRules.has(a.rule_id)) problems.push(`rule_id: unknown rule "${String(a.rule_id).slice(0, 64)}"`);
  const need = (f: keyof RiskAcceptanceInput) => {
    if (typeof a[f] !== 'string' || (a[f] as string).trim() === '') problems.push(`${f}: required for scope ${a.scope}`);
  };
  const none = (f: keyof RiskAcceptanceInput) => {
    if (a[f] !== undefined) problems.push(`${f}: not used with scope ${a.scope}`);
  };
  if (a.scope === 'device') {
    need('device_id');
    for (const f of ['src_ip', 'dst_ip', 'zone_src', 'zone_dst'] as const) none(f);
  } else if (a.scope === 'pair') {
    need('src_ip');
    need('dst_ip');
    for (const f of ['src_ip', 'dst_ip'] as const) if (typeof a[f] === 'string' && ipTextVersion(a[f]!) === 0) problems.push(`${f}: not an IP address`);
    for (const f of ['device_id', 'zone_src', 'zone_dst'] as const) none(f);
  } else if (a.scope === 'zones') {
    need('zone_src');
    need('zone_dst');
    for (const f of ['device_id', 'src_ip', 'dst_ip'] as const) none(f);
  } else problems.push('scope: expected device, pair or zones');
  for (const [f, max] of Object.entries(TEXT_LIMITS) as [keyof typeof TEXT_LIMITS, number][]) {
    const v = a[f];
    if (typeof v !== 'string' || v.trim() === '') problems.push(`${f}: required`);
    else if (v.length > max) problems.push(`${f}: at most ${max} characters`);
  }
  // Free text written by people: a national identity number must not end up in the store.
  for (const f of ['reason', 'owner', 'reference', 'device_id', 'zone_src', 'zone_dst'] as const) {
    const v = a[f];
    if (typeof v === 'string' && containsFnr(v)) problems.push(`${f}: holds what looks like a national identity number; describe the risk without patient data`);
  }
  const end = endOfOsloDay(a.expires);
  if (Number.isNaN(end)) problems.push('expires: expected a date YYYY-MM-DD');
  else if (end <= nowMs) problems.push('expires: the date has passed');
  else if (end - nowMs > MAX_ACCEPTANCE_DAYS * 86_400_000) problems.push(`expires: at most ${MAX_ACCEPTANCE_DAYS} days ahead (an accepted risk is reassessed)`);
  if (problems.length > 0) throw new AcceptanceInputError(problems.join('; '));
}

/** Whether the acceptance holds at `nowMs` (not expired, not revoked). */
export function isActive(a: RiskAcceptance, nowMs: number): boolean {
  return a.revoked_at === undefined && Date.parse(a.expires_at) > nowMs;
}

/** Whether an active acceptance covers the alert. */
export function covers(a: RiskAcceptance, alert: Pick<Alert, 'rule_id' | 'subject'>): boolean {
  if (a.rule_id !== alert.rule_id) return false;
  const s = alert.subject;
  switch (a.scope) {
    case 'device':
      return s.device_id !== undefined && s.device_id !== null && s.device_id === a.device_id;
    case 'pair':
      return s.src_ip === a.src_ip && s.dst_ip === a.dst_ip;
    case 'zones':
      return s.zone_src === a.zone_src && s.zone_dst === a.zone_dst;
  }
}

/** The first active acceptance covering the alert, if any. */
export function acceptanceFor(alert: Pick<Alert, 'rule_id' | 'subject'>, active: readonly RiskAcceptance[]): RiskAcceptance | undefined {
  for (const a of active) if (covers(a, alert)) return a;
  return undefined;
}

export async function recordAcceptance(store: AcceptanceStore, input: RiskAcceptanceInput, actor: string, knownRules: ReadonlySet<string>, nowMs: number): Promise<RiskAcceptance> {
  validateAcceptance(input, knownRules, nowMs);
  const clean: RiskAcceptanceInput = { rule_id: input.rule_id, scope: input.scope, reason: input.reason.trim(), owner: input.owner.trim(), reference: input.reference.trim(), expires: input.expires };
  for (const f of ['device_id', 'src_ip', 'dst_ip', 'zone_src', 'zone_dst'] as const) if (input[f] !== undefined) clean[f] = input[f];
  const a: RiskAcceptance = { id: nodeCrypto().randomBytes(8).toString('hex'), ...clean, expires_at: new Date(endOfOsloDay(input.expires)).toISOString(), created_by: actor, created_at: new Date(nowMs).toISOString() };
  await store.kvSet(ACCEPTANCE_KEY_PREFIX + a.id, a);
  return a;
}

/** Every acceptance recorded, newest first (expired and revoked ones too: they are the record). */
export async function listAcceptances(store: Pick<Store, 'kvList'>): Promise<RiskAcceptance[]> {
  const rows = await store.kvList<RiskAcceptance>(ACCEPTANCE_KEY_PREFIX);
  return rows
    .map((r) => r.value)
    .filter((v): v is RiskAcceptance => typeof v === 'object' && v !== null && typeof v.id === 'string')
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || a.id.localeCompare(b.id));
}

/** Ends an acceptance before its expiry; null when there is none with that id, unchanged when it was revoked already. */
export async function revokeAcceptance(store: AcceptanceStore, id: string, actor: string, comment: string | undefined, nowMs: number): Promise<RiskAcceptance | null> {
  if (!/^[0-9a-f]{16}$/.test(id)) return null;
  const a = await store.kvGet<RiskAcceptance>(ACCEPTANCE_KEY_PREFIX + id);
  if (a === undefined || a === null) return null;
  if (a.revoked_at !== undefined) return a;
  if (comment !== undefined && containsFnr(comment)) throw new AcceptanceInputError('comment: holds what looks like a national identity number');
  const revoked: RiskAcceptance = { ...a, revoked_by: actor, revoked_at: new Date(nowMs).toISOString(), ...(comment ? { revoke_comment: comment.slice(0, 1000) } : {}) };
  await store.kvSet(ACCEPTANCE_KEY_PREFIX + id, revoked);
  return revoked;
}
