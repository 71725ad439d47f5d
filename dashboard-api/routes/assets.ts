/**
 * Assets: the passive device inventory, as `analyze --db` / `run --db` stored it. Without a
 * provider the list is an empty page and every id is a 404. Reads are audited either way.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Type from 'typebox';
import { type Static } from 'typebox';
import { splitCommaLists } from '../alert-query.js';
import { ApiError } from '../plugins/errors.js';
import { LanguageQuery, PageQuery, errorResponses } from '../schemas.js';
import type { Store } from '../../agent/store/index.js';
import { buildEvidence, evidenceDocument, renderHtml, renderMarkdown, sanitizeId, type EvidenceBundle } from '../../agent/inventory/evidence.js';
import type { DeviceDetail } from '../../agent/inventory/index.js';
import { deviceTextsInBokmal } from '../../agent/inventory/reason-text.js';

const ExposureSchema = Type.Object({
  score: Type.Integer(),
  level: Type.String(),
  reasons: Type.Array(Type.Object({ fact: Type.String(), points: Type.Number(), guide_ref: Type.String() })),
});

/** A device of the passive inventory (agent/inventory `DeviceSummary`): PHI-free by construction. */
export const AssetSchema = Type.Object(
  {
    id: Type.String(),
    mac: Type.Union([Type.String(), Type.Null()]),
    ips: Type.Array(Type.String()),
    vendor: Type.Union([Type.String(), Type.Null()]),
    names: Type.Array(Type.String()),
    zone: Type.String(),
    role: Type.String(),
    scenario: Type.Union([Type.Integer(), Type.Null()]),
    exposure: ExposureSchema,
    first_seen: Type.String(),
    last_seen: Type.String(),
    sensors: Type.Array(Type.String(), { description: 'Every sensor that saw the device (sorted): a device seen on two mirror ports is one device' }),
  },
  { $id: 'Asset', description: 'A device seen on the wire, its MU 5.1 usage scenario and exposure rank (each point explained).' },
);
export type Asset = Static<typeof AssetSchema>;

/** The full device record (`DeviceDetail`): addresses over time, protocol facts, roles, properties. */
export const AssetDetailSchema = Type.Record(Type.String(), Type.Unknown(), { description: 'The device record with its classification.' });

export interface AssetProvider {
  list(q: { limit: number; cursor?: string; zone?: string; sensor?: string[] }): Promise<{ items: Asset[]; next_cursor: string | null }>;
  get(id: string): Promise<Record<string, unknown> | null>;
  /** The device's evidence bundle (`muvakt evidence`), or null for an unknown id; absent: no bundles. */
  evidence?(id: string): Promise<EvidenceBundle | null>;
}

/** Devices as the store keeps them (written by `analyze --db` / `run --db`). */
export function storeAssets(store: Pick<Store, 'listDevices' | 'getDevice' | 'listAlerts' | 'getAlert' | 'kvList'>): AssetProvider {
  return {
    list: async (q) => (await store.listDevices(q)) as { items: Asset[]; next_cursor: string | null },
    get: async (id) => (await store.getDevice(id)) as Record<string, unknown> | null,
    evidence: async (id) => {
      const d = (await store.getDevice(id)) as DeviceDetail | null;
      return d === null ? null : buildEvidence(store, d);
    },
  };
}

const AssetIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }) }, { additionalProperties: false });

const EVIDENCE_FORMATS = ['json', 'md', 'html'] as const;
const EVIDENCE_TYPES: Record<(typeof EVIDENCE_FORMATS)[number], string> = {
  json: 'application/json; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

export const assetRoutes: FastifyPluginAsync<{ assets?: AssetProvider }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['assets'];
  const security = [{ bearer: [] }];
  app.get(
    '/assets',
    {
      config: { access: 'viewer', audit: 'assets.list' },
      // Before validation, so `sensor=a,b` is two names to the schema.
      preValidation: async (request) => {
        if (request.query !== null && typeof request.query === 'object') splitCommaLists(request.query as Record<string, unknown>);
      },
      schema: {
        tags,
        security,
        summary: 'List devices, most exposed first',
        description: '`zone` and `sensor` filter (several sensors: repeat the parameter or separate names with commas); each device lists the sensors that saw it.',
        querystring: PageQuery,
        response: { 200: Type.Object({ items: Type.Array(AssetSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() },
      },
    },
    async (request) =>
      (await opts.assets?.list({ limit: request.query.limit ?? 100, cursor: request.query.cursor, zone: request.query.zone, sensor: request.query.sensor })) ?? { items: [], next_cursor: null },
  );
  app.get(
    '/assets/:id',
    {
      config: { access: 'viewer', audit: 'assets.get' },
      schema: {
        tags,
        security,
        summary: 'One device with its facts, roles, properties and exposure rank',
        description:
          '`lang`: `en` (default), the record as stored, or `nb`, the same record with its role, property and scenario facts and its exposure reasons in bokmål, as the evidence bundle writes them. Property values, roles and levels are codes and stay as they are in both.',
        params: AssetIdParams,
        querystring: Type.Object({ lang: LanguageQuery('Language of the facts and exposure reasons') }, { additionalProperties: false }),
        response: { 200: AssetDetailSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const a = (await opts.assets?.get(request.params.id)) ?? null;
      if (a === null) throw new ApiError(404, opts.assets ? 'no device with this id' : 'no device with this id (this API runs without a device inventory)');
      return request.query.lang === 'nb' ? deviceTextsInBokmal(a as Partial<DeviceDetail>) : a;
    },
  );
  app.get(
    '/assets/:id/evidence',
    {
      config: { access: 'viewer', audit: 'assets.evidence' },
      schema: {
        tags,
        security,
        summary: 'The evidence bundle of one device, as a download',
        description:
          'The same bundle `muvakt evidence` writes: the device with its exposure reasons and every alert about its addresses. `format`: `json` (default, device.json), `md` or `html`. `lang` (md and html): `nb` (default), bokmål with the English labels in parentheses and every fact in bokmål, or `en`, all in English; json is the record as stored whatever the language.',
        params: AssetIdParams,
        querystring: Type.Object(
          {
            format: Type.Optional(Type.Union(EVIDENCE_FORMATS.map((f) => Type.Literal(f)))),
            lang: LanguageQuery('Language of the Markdown and HTML text', 'nb'),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.String({ description: 'The bundle as a file (Content-Disposition: attachment)' }), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const bundle = (await opts.assets?.evidence?.(request.params.id)) ?? null;
      if (bundle === null) throw new ApiError(404, 'no device with this id');
      const format = request.query.format ?? 'json';
      const lang = request.query.lang ?? 'nb';
      const blocks = format === 'json' ? [] : evidenceDocument(bundle, lang);
      const body =
        format === 'json' ? `${JSON.stringify(bundle, null, 2)}\n` : format === 'md' ? renderMarkdown(blocks) : renderHtml(blocks, `muvakt evidence ${bundle.device.id}`, lang);
      // A bundle opened in the browser must not run as a page of this origin: it is a file to keep.
      return reply
        .type(EVIDENCE_TYPES[format])
        .header('content-disposition', `attachment; filename="evidence-${sanitizeId(bundle.device.id)}.${format}"`)
        .send(body);
    },
  );
};
