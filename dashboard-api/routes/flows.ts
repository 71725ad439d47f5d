/**
 * The zone matrix of a time range, from the flow history in the store (docs/flows.md): what
 * flowed from zone to zone, by app and encryption, with bytes, flows and flows that carried
 * patient data in the clear. Stateless: `serve` and `run --listen` both answer from the store.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Type from 'typebox';
import { type Static } from 'typebox';
import { MAX_MATRIX_ITEMS, MAX_PEER_ITEMS } from '../../agent/store/index.js';
import type { FlowPeers } from '../../agent/store/index.js';
import { SITE_TIME_ZONE, timeParam } from '../alert-query.js';
import { ApiError } from '../plugins/errors.js';
import { errorResponses } from '../schemas.js';
import type { ApiStore } from '../types.js';
import type { AssetProvider } from './assets.js';

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

const ZoneName = (description: string) => Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:() -]+$', description });

export const FlowPeersQuery = Type.Object(
  {
    ...Type.Omit(FlowSummaryQuery, []).properties,
    zone_src: ZoneName("The client's zone of the cell"),
    zone_dst: ZoneName("The server's zone of the cell"),
  },
  { additionalProperties: false },
);
export type FlowPeersQuery = Static<typeof FlowPeersQuery>;

export const FlowPeersSchema = Type.Object(
  {
    generated_at: Type.String(),
    device_id: Type.Optional(Type.String({ description: 'The device asked for (`/assets/:id/flows`)' })),
    addresses: Type.Optional(Type.Array(Type.String(), { description: "The device's addresses the rows were matched on" })),
    from: IsoOrNull('Start of the first bucket with a matching row (null: none)'),
    to: IsoOrNull('End of the last one'),
    truncated: Type.Boolean({ description: `More than ${MAX_PEER_ITEMS} pairs: the largest by bytes are listed` }),
    step: Type.Union([Type.Literal('hour'), Type.Literal('day')], { description: '`series` per hour when the rows span at most 48 hours, else per day (Europe/Oslo)' }),
    series: Type.Array(
      Type.Object({
        start: Type.String({ description: 'Hour: ISO 8601 start of the hour. Day: the date, YYYY-MM-DD in Europe/Oslo' }),
        flows: Type.Integer({ minimum: 0, description: 'Flow-hours of the matching rows (a flow active in n hours counts n times)' }),
        bytes: Type.Integer({ minimum: 0 }),
      }),
    ),
    items: Type.Array(
      Type.Object({
        client_ip: Type.String(),
        server_ip: Type.String(),
        zone_src: Type.String(),
        zone_dst: Type.String(),
        app: Type.String(),
        encrypted: Type.Boolean(),
        first_seen: Type.String({ description: 'Start of the first hour the pair was active in' }),
        last_seen: Type.String({ description: 'End of the last hour the pair was active in' }),
        bytes: Type.Integer({ minimum: 0 }),
        flows: Type.Integer({ minimum: 0, description: 'Flow-hours' }),
        phi: Type.Integer({ minimum: 0, description: 'Of these, flow-hours in which patient data was seen in the clear' }),
      }),
    ),
  },
  { $id: 'FlowPeers' },
);
export type FlowPeersAnswer = Static<typeof FlowPeersSchema>;

const osloDay = new Intl.DateTimeFormat('en-CA', { timeZone: SITE_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const TWO_DAYS_MS = 2 * 86_400_000;

/** The store's hourly series as the answer shows it: per hour over at most two days, else per day in the site's zone. */
export function peerAnswer(p: FlowPeers): Omit<FlowPeersAnswer, 'generated_at'> {
  const span = p.from === null || p.to === null ? 0 : Date.parse(p.to) - Date.parse(p.from);
  const step = span > TWO_DAYS_MS ? 'day' : 'hour';
  const series: FlowPeersAnswer['series'] = [];
  for (const b of p.series) {
    const start = step === 'hour' ? b.start : osloDay.format(new Date(Date.parse(b.start)));
    const last = series.at(-1);
    if (last?.start === start) {
      last.flows += b.flows;
      last.bytes += b.bytes;
    } else series.push({ start, flows: b.flows, bytes: b.bytes });
  }
  return { from: p.from, to: p.to, truncated: p.truncated, step, series, items: p.items };
}

export const flowRoutes: FastifyPluginAsync<{ store: ApiStore; assets?: AssetProvider }> = async (instance, opts) => {
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

  app.get(
    '/flows/peers',
    {
      config: { access: 'viewer', audit: 'flows.peers' },
      schema: {
        tags: ['flows'],
        security: [{ bearer: [] }],
        summary: 'One cell of the zone matrix: its flows by address pair, app and encryption, from the hourly address-pair history',
        description:
          'The address pairs that flowed from `zone_src` to `zone_dst` in the hours overlapping `since`..`until` (default: all stored), of one `sensor` or all: per pair, app and encryption the first and last hour, bytes, flow-hours and PHI flow-hours, largest first, and the flows per hour (per day beyond 48 hours). Every call is audited.',
        querystring: FlowPeersQuery,
        response: { 200: FlowPeersSchema, ...errorResponses() },
      },
    },
    async (request) => {
      const q = request.query;
      const p = await store.flowPeers({ zone_src: q.zone_src, zone_dst: q.zone_dst, since: timeParam(q.since, 'since'), until: timeParam(q.until, 'until'), sensor: q.sensor });
      return { generated_at: new Date().toISOString(), ...peerAnswer(p) };
    },
  );

  app.get(
    '/assets/:id/flows',
    {
      config: { access: 'viewer', audit: 'assets.flows' },
      schema: {
        tags: ['assets', 'flows'],
        security: [{ bearer: [] }],
        summary: "One device's peers and flows over time, from the hourly address-pair history",
        description:
          "Every address pair in which one of the device's addresses (`addresses`) was client or server, by app and encryption, with the first and last hour, bytes, flow-hours and PHI flow-hours, largest first; and the device's flows per hour (per day beyond 48 hours). `since`, `until`, `sensor` as for the summary. 404 for an unknown device. Every call is audited.",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }) }, { additionalProperties: false }),
        querystring: FlowSummaryQuery,
        response: { 200: FlowPeersSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const device = (await opts.assets?.get(request.params.id)) ?? null;
      if (device === null) throw new ApiError(404, 'no device with this id');
      const addresses = addressesOf(device);
      const q = request.query;
      const range = { since: timeParam(q.since, 'since'), until: timeParam(q.until, 'until'), sensor: q.sensor };
      const base = { generated_at: new Date().toISOString(), device_id: request.params.id, addresses };
      if (addresses.length === 0) return { ...base, from: null, to: null, truncated: false, step: 'hour' as const, series: [], items: [] };
      const p = await store.flowPeers({ ips: addresses, ...range });
      return { ...base, ...peerAnswer(p) };
    },
  );
};

/** The device record's addresses (`addresses[].ip`, else `ips`), at most 64, as the store takes them. */
function addressesOf(device: Record<string, unknown>): string[] {
  const list = Array.isArray(device.addresses) ? device.addresses.map((a) => (a as { ip?: unknown }).ip) : Array.isArray(device.ips) ? device.ips : [];
  return [...new Set(list.filter((ip): ip is string => typeof ip === 'string' && /^[0-9A-Fa-f.:]{2,64}$/.test(ip)))].slice(0, 64);
}
