/**
 * Assets: the passive device inventory, as `analyze --db` / `run --db` stored it. Without a
 * provider the list is an empty page and every id is a 404. Reads are audited either way.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { ApiError } from '../plugins/errors.js';
import { PageQuery, errorResponses } from '../schemas.js';
import type { Store } from '../../agent/store/index.js';

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
  },
  { $id: 'Asset', description: 'A device seen on the wire, its MU 5.1 usage scenario and exposure rank (each point explained).' },
);
export type Asset = Static<typeof AssetSchema>;

/** The full device record (`DeviceDetail`): addresses over time, protocol facts, roles, properties. */
export const AssetDetailSchema = Type.Record(Type.String(), Type.Unknown(), { description: 'The device record with its classification.' });

export interface AssetProvider {
  list(q: { limit: number; cursor?: string; zone?: string }): Promise<{ items: Asset[]; next_cursor: string | null }>;
  get(id: string): Promise<Record<string, unknown> | null>;
}

/** Devices as the store keeps them (written by `analyze --db` / `run --db`). */
export function storeAssets(store: Pick<Store, 'listDevices' | 'getDevice'>): AssetProvider {
  return {
    list: async (q) => (await store.listDevices(q)) as { items: Asset[]; next_cursor: string | null },
    get: async (id) => (await store.getDevice(id)) as Record<string, unknown> | null,
  };
}

export const assetRoutes: FastifyPluginAsync<{ assets?: AssetProvider }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['assets'];
  const security = [{ bearer: [] }];
  app.get(
    '/assets',
    {
      config: { access: 'viewer', audit: 'assets.list' },
      schema: {
        tags,
        security,
        summary: 'List devices, most exposed first',
        querystring: PageQuery,
        response: { 200: Type.Object({ items: Type.Array(AssetSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() },
      },
    },
    async (request) => (await opts.assets?.list({ limit: request.query.limit ?? 100, cursor: request.query.cursor, zone: request.query.zone })) ?? { items: [], next_cursor: null },
  );
  app.get(
    '/assets/:id',
    {
      config: { access: 'viewer', audit: 'assets.get' },
      schema: {
        tags,
        security,
        summary: 'One device with its facts, roles, properties and exposure rank',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }) }, { additionalProperties: false }),
        response: { 200: AssetDetailSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const a = (await opts.assets?.get(request.params.id)) ?? null;
      if (a === null) throw new ApiError(404, opts.assets ? 'no device with this id' : 'no device with this id (this API runs without a device inventory)');
      return a;
    },
  );
};
