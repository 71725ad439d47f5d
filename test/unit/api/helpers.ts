import { SqliteStore } from '../../../agent/store/index.js';
import type { AlertCandidate } from '../../../agent/store/index.js';
import { buildApp, type BuildAppOptions } from '../../../dashboard-api/app.js';
import { tokenHash, type AuthConfig } from '../../../dashboard-api/plugins/auth.js';
import type { ApiInstance } from '../../../dashboard-api/types.js';
import { T0, iso, tempDir } from '../store/helpers.js';

export { T0, iso, tempDir };

export const TOKENS = {
  viewer: 'viewer-token-0123456789abcdef0123456789',
  officer: 'officer-token-0123456789abcdef012345678',
  admin: 'admin-token-0123456789abcdef0123456789ab',
  metrics: 'metrics-token-0123456789abcdef012345678',
} as const;

export const AUTH: AuthConfig = {
  tokens: [
    { name: 'soc-viewer', role: 'viewer', sha256: tokenHash(TOKENS.viewer) },
    { name: 'sikkerhetsleder', role: 'officer', sha256: tokenHash(TOKENS.officer) },
    { name: 'ops-admin', role: 'admin', sha256: tokenHash(TOKENS.admin) },
  ],
  metrics_token_sha256: tokenHash(TOKENS.metrics),
};

export const bearer = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });

/** Six alerts of four rules, seen one minute apart from T0. */
export function seedCandidates(): AlertCandidate[] {
  const base = (i: number, over: Partial<AlertCandidate>): AlertCandidate => ({
    rule_id: 'mu-device-to-external',
    title: 'Medical device talks to the internet',
    severity: 'high',
    guide_refs: ['MU 3.7'],
    subject: { src_ip: `10.77.10.${i + 1}`, dst_ip: '198.51.100.7', zone_src: 'mu-radiology', zone_dst: 'external' },
    evidence: { app: 'https', dst_port: 443, country: 'US' },
    recommendation: 'Block the flow or allow it in the policy.',
    ts: iso(i * 60_000),
    ...over,
  });
  return [
    base(0, {}),
    base(1, { severity: 'critical', rule_id: 'phi-in-vendor-callhome', title: 'PHI sent to vendor', evidence: { protocol: 'http', kinds: ['fodselsnummer'], count: 2 } }),
    base(2, { severity: 'low', rule_id: 'remote-access-session', subject: { src_ip: '10.77.90.10', dst_ip: '10.77.10.3', zone_src: 'remote-dmz', zone_dst: 'mu-radiology' } }),
    base(3, { severity: 'medium', rule_id: 'hl7-negative-ack', subject: { src_ip: '10.77.30.5', dst_ip: '10.77.20.9', zone_src: 'lab', zone_dst: 'pacs' }, evidence: { ack_code: 'AE', message_type: 'ORU^R01', patient_name_field: 'PID-5' } }),
    base(4, {}),
    base(5, { rule_id: 'some-retired-rule', title: 'A rule the rule set no longer has' }),
  ];
}

export interface Fixture {
  app: ApiInstance;
  store: SqliteStore;
  path: string;
  ids: string[];
  close(): Promise<void>;
}

/** A temp SQLite store with the seed alerts, and an app over it. */
export async function fixture(dir: ReturnType<typeof tempDir>, over: Partial<BuildAppOptions> = {}): Promise<Fixture> {
  const path = dir.db();
  const store = SqliteStore.open(path, { now: () => T0 + 86_400_000 });
  const r = await store.upsertAlerts(seedCandidates());
  if (r.created.length !== 6) throw new Error(`seed failed: ${JSON.stringify(r)}`);
  const app = await buildApp({ store, auth: AUTH, processMetrics: false, ...over });
  return {
    app,
    store,
    path,
    ids: r.created.map((a) => a.id),
    async close() {
      await app.close();
      await store.close();
    },
  };
}
