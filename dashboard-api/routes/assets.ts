/**
 * Assets (the passive device inventory). The inventory is not part of the store yet: without
 * a provider the list is an empty page and every id is a 404. Reads are audited either way.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { ApiError } from '../plugins/errors.js';
import { PageQuery, errorResponses } from '../schemas.js';

export const AssetSchema = Type.Object(
  {
    id: Type.String(),
    zone: Type.String(),
    addresses: Type.Array(Type.String()),
    vendor: Type.Optional(Type.String()),
    first_seen: Type.String(),
    last_seen: Type.String(),
    protocols: Type.Array(Type.String()),
    exposure_rank: Type.Optional(Type.Integer()),
  },
  { $id: 'Asset', description: 'Provisional shape until the inventory issue lands; fields not listed here are not returned.' },
);
export type Asset = Static<typeof AssetSchema>;

export interface AssetProvider {
  list(q: { limit: number; cursor?: string; zone?: string }): { items: Asset[]; next_cursor: string | null };
  get(id: string): Asset | null;
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
        summary: 'List devices (empty until the inventory exists)',
        querystring: PageQuery,
        response: { 200: Type.Object({ items: Type.Array(AssetSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() },
      },
    },
    async (request) => opts.assets?.list({ limit: request.query.limit ?? 100, cursor: request.query.cursor, zone: request.query.zone }) ?? { items: [], next_cursor: null },
  );
  app.get(
    '/assets/:id',
    {
      config: { access: 'viewer', audit: 'assets.get' },
      schema: {
        tags,
        security,
        summary: 'One device (404 until the inventory exists)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }) }, { additionalProperties: false }),
        response: { 200: AssetSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const a = opts.assets?.get(request.params.id) ?? null;
      if (a === null) throw new ApiError(404, opts.assets ? 'no device with this id' : 'no device with this id (the device inventory is not available in this version)');
      return a;
    },
  );
};
