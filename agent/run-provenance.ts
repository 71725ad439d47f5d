/**
 * What a store's findings rest on: which sensor judged the traffic, with which muvakt version
 * and which site policy (its SHA-256, so a reader can prove which file it was). A sensor
 * records this in the store's small-state table each time it starts writing alerts, one key
 * per sensor (`provenance:<sensor>`), so sensors sharing one store never overwrite each other.
 * An evidence bundle carries the records of the sensors that saw its device.
 */
import { nodeCrypto } from '../protocols/node-crypto.js';
import { readFileSync } from 'node:fs';
import type { Store } from './store/index.js';
import { muvaktVersion } from './version.js';

export const PROVENANCE_KEY_PREFIX = 'provenance:';

export interface SensorProvenance {
  sensor: string;
  muvakt_version: string;
  /** The site policy the rules judged against: its `site` and the SHA-256 of the file's bytes. */
  policy: { site: string; sha256: string };
  /** When this sensor last started writing with this version and policy. */
  recorded_at: string;
  /** When this sensor first wrote with this same policy (the policy's hash unchanged since). */
  policy_since: string;
}

/** SHA-256 of a policy file's bytes, hex. */
export function policyFileSha256(file: string): string {
  return nodeCrypto().createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Records (or refreshes) this sensor's provenance; `policy_since` survives a restart with the same policy. */
export async function recordProvenance(
  store: Pick<Store, 'kvGet' | 'kvSet'>,
  p: { sensor: string; policy: { site: string; sha256: string } },
  now: Date = new Date(),
): Promise<SensorProvenance> {
  const key = PROVENANCE_KEY_PREFIX + p.sensor;
  const before = await store.kvGet<SensorProvenance>(key);
  const at = now.toISOString();
  const record: SensorProvenance = {
    sensor: p.sensor,
    muvakt_version: muvaktVersion(),
    policy: { site: p.policy.site, sha256: p.policy.sha256 },
    recorded_at: at,
    policy_since: before?.policy?.sha256 === p.policy.sha256 && typeof before.policy_since === 'string' ? before.policy_since : at,
  };
  await store.kvSet(key, record);
  return record;
}

/** Every sensor's provenance in the store, by sensor name. */
export async function listProvenance(store: Pick<Store, 'kvList'>): Promise<SensorProvenance[]> {
  return (await store.kvList<SensorProvenance>(PROVENANCE_KEY_PREFIX)).map((r) => r.value).filter((v) => v !== undefined && typeof v.sensor === 'string');
}
