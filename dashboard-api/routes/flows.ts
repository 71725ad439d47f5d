/**
 * The zone matrix of a time range, from the flow history in the store (docs/flows.md): what
 * flowed from zone to zone, by app and encryption, with bytes, flows and flows that carried
 * patient data in the clear. Stateless: `serve` and `run --listen` both answer from the store.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { MAX_MATRIX_ITEMS } from '../../agent/store/index.js';
import { timeParam } from '../alert-query.js';
import { errorResponses } from '../schemas.js';
import type { ApiStore } from '../types.js';

const IsoOrNull = (description: string) => Type.Union([Type.String(), Type.Null()], { description });

export const FlowSummaryQuery = Type.Object(
  {
    since: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'Buckets that end after this: ISO 8601 time, epoch milliseconds, or a date (YYYY-MM-DD, from the start of that day in Europe/Oslo)' }),
    ),
    until: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'Buckets that start at or before this: ISO 8601 time, epoch milliseconds, or a date (YYYY-MM-DD, to the end of that day in Europe/Oslo)' }),
    ),
    sensor: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$', description: 'One sensor only (default: every sensor summed)' })),
  },
  { additionalProperties: false },
);
export type FlowSummaryQuery = Static<typeof FlowSummaryQuery>;

export const FlowSummarySchema = Type.Object(
  {
    generated_at: Type.String(),
    from: IsoOrNull('Start of the first bucket summed (null: none in the range)'),
    to: IsoOrNull('End of the last bucket summed'),
    truncated: Type.Boolean({ description: `More than ${MAX_MATRIX_ITEMS} groups: the largest by bytes are listed` }),
    extent: Type.Object(
      {
        sensors: Type.Array(Type.String(), { description: 'Sensors with flow history in the store' }),
        from: IsoOrNull('Start of the oldest stored bucket (of the sensor asked for, if any)'),
        to: IsoOrNull('End of the newest stored bucket'),
        bucket_seconds: Type.Union([Type.Integer(), Type.Null()], { description: 'Length of the newest buckets' }),
      },
      { description: 'What flow history the store holds, for a range picker' },
    ),
    items: Type.Array(
      Type.Object({
        zone_src: Type.String({ description: "The client's zone (`(other)`: flows beyond a bucket's key cap)" }),
        zone_dst: Type.String({ description: "The server's zone" }),
        app: Type.String(),
        encrypted: Type.Boolean(),
        bytes: Type.Integer({ minimum: 0 }),
        flows: Type.Integer({ minimum: 0, description: 'Flow-buckets: a flow active in n buckets of the range counts n times' }),
        phi: Type.Integer({ minimum: 0, description: 'Of these, flows in which patient data was seen in the clear' }),
      }),
    ),
  },
  { $id: 'FlowSummary' },
);
export type FlowSummary = Static<typeof FlowSummarySchema>;

export const flowRoutes: FastifyPluginAsync<{ store: ApiStore }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = opts;
  app.get(
    '/flows/summary',
    {
      config: { access: 'viewer', audit: 'flows.summary' },
      schema: {
        tags: ['flows'],
        security: [{ bearer: [] }],
        summary: 'Zone matrix of a time range: flows by zone pair, app and encryption, from the stored flow history',
        description:
          'Sums the flow-history buckets that overlap `since`..`until` (default: everything the store holds), of one `sensor` or all. Buckets are whole (5 minutes by default): the range is widened to their edges (`from`, `to`). Bytes are counted once, in the bucket they were seen in; a flow counts in every bucket it was active in. `extent` tells what the store holds. Every call is audited.',
        querystring: FlowSummaryQuery,
        response: { 200: FlowSummarySchema, ...errorResponses() },
      },
    },
    async (request) => {
      const q = request.query;
      const [m, extent] = await Promise.all([store.flowMatrix({ since: timeParam(q.since, 'since'), until: timeParam(q.until, 'until'), sensor: q.sensor }), store.flowHistoryExtent(q.sensor)]);
      return { generated_at: new Date().toISOString(), from: m.from, to: m.to, truncated: m.truncated, extent, items: m.items };
    },
  );
};
