/**
 * The remote-access session log (docs/remote-sessions.md): every remote-access session the
 * sensors recognised, with its start, end, bytes each way, vendor, window verdict and path
 * (external → jump host → device). Stateless: answers from the store, as a page or as CSV.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Type from 'typebox';
import { type Static } from 'typebox';
import type { RemoteSession, RemoteSessionQuery } from '../../agent/store/index.js';
import { csvLine } from '../../agent/export/csv.js';
import { REMOTE_PROTOCOLS } from '../../protocols/events/remote.js';
import { splitCommaLists, timeParam } from '../alert-query.js';
import { ApiError } from '../plugins/errors.js';
import { errorResponses, LanguageQuery, SensorNameSchema, StrEnum } from '../schemas.js';
import type { ApiStore } from '../types.js';
import { MAX_CSV_ROWS } from './alerts.js';

const listOf = <T extends ReturnType<typeof Type.String>>(item: T, description: string) => Type.Array(item, { minItems: 1, maxItems: 20, description });
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Boolean>>(t: T) => Type.Union([t, Type.Null()]);

const FILTERS = {
  since: Type.Optional(
    Type.String({ minLength: 1, maxLength: 40, description: 'Sessions still going at or after this (ended then or later, or ongoing): ISO 8601 time, epoch milliseconds, or a date (YYYY-MM-DD, from the start of that day in Europe/Oslo)' }),
  ),
  until: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'Sessions that started at or before this: ISO 8601 time, epoch milliseconds, or a date (to the end of that day in Europe/Oslo)' })),
  ip: Type.Optional(Type.String({ minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f.:]+$', description: 'An address on the session: its client, its server (the device) or the outermost end of its path (the vendor)' })),
  vendor: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'The vendor of the policy the session belongs to (exact name)' })),
  protocol: Type.Optional(listOf(StrEnum(REMOTE_PROTOCOLS) as never, 'One or more protocols (repeat the parameter or separate with commas)')),
  outside_window: Type.Optional(Type.Boolean({ description: "true: sessions outside their vendor's window; false: inside it (sessions without a vendor have no verdict and match neither)" })),
  sensor: Type.Optional(listOf(SensorNameSchema as never, 'Sessions seen by any of these sensors (repeat the parameter or separate names with commas)')),
};

export const RemoteSessionListQuery = Type.Object(
  {
    ...FILTERS,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, pattern: '^[A-Za-z0-9_-]*$', description: '`next_cursor` of the previous page of the same query' })),
  },
  { additionalProperties: false },
);
export type RemoteSessionListQuery = Static<typeof RemoteSessionListQuery>;

export const RemoteSessionCsvQuery = Type.Object(
  { ...FILTERS, lang: LanguageQuery('Language of the headers and of the yes/no cells') },
  { additionalProperties: false },
);

export const RemoteSessionSchema = Type.Object(
  {
    id: Type.String(),
    sensor: Type.String({ description: 'The sensor that saw the session' }),
    flow_id: Type.String({ description: 'The flow id in the events (`flow.id`)' }),
    protocol: Type.String(),
    encrypted: Type.Boolean({ description: 'The session was seen to negotiate encryption' }),
    src_ip: Type.String({ description: 'The client (who opened the session)' }),
    src_port: Type.Integer(),
    dst_ip: Type.String(),
    dst_port: Type.Integer(),
    zone_src: Type.String(),
    zone_dst: Type.String(),
    start: Type.String({ description: 'Capture time of the first packet' }),
    end: Nullable(Type.String({ description: 'When the connection ended; null while it is open, or when the sensor stopped before it ended' })),
    ongoing: Type.Boolean(),
    last_seen: Type.String(),
    duration_s: Type.Number({ description: 'From start to end (to the last packet seen, while ongoing)' }),
    bytes_toserver: Type.Integer({ minimum: 0, description: 'Bytes on the wire from the client' }),
    bytes_toclient: Type.Integer({ minimum: 0 }),
    vendor: Nullable(Type.String({ description: 'The vendor of the policy (remote_access.vendors) the session belongs to' })),
    outside_window: Nullable(Type.Boolean({ description: "Outside the vendor's window (site time) when the session started; null without a vendor" })),
    jump_host: Nullable(Type.String({ description: 'The jump host the session went to, or on from' })),
    inbound_id: Nullable(Type.String({ description: 'On an onward leg from a jump host: the id of the session into the jump host it continues' })),
    path: Type.Array(Type.String(), { description: 'Addresses from the outermost end to the device: external → jump host → device' }),
  },
  { $id: 'RemoteSession' },
);

export const RemoteSessionPageSchema = Type.Object({
  items: Type.Array(RemoteSessionSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

/** The CSV's columns: the same fields as the list, in its order. */
export const REMOTE_SESSION_CSV_HEADERS = Object.keys(RemoteSessionSchema.properties) as (keyof RemoteSession)[];

/** The same columns headed in bokmål (`lang=nb`). */
export const REMOTE_SESSION_CSV_HEADERS_NB: Readonly<Record<keyof RemoteSession, string>> = {
  id: 'id',
  sensor: 'sensor',
  flow_id: 'flyt_id',
  protocol: 'protokoll',
  encrypted: 'kryptert',
  src_ip: 'kilde_ip',
  src_port: 'kildeport',
  dst_ip: 'mål_ip',
  dst_port: 'målport',
  zone_src: 'kildesone',
  zone_dst: 'målsone',
  start: 'start',
  end: 'slutt',
  ongoing: 'pågår',
  last_seen: 'sist_sett',
  duration_s: 'varighet_s',
  bytes_toserver: 'byte_til_tjener',
  bytes_toclient: 'byte_til_klient',
  vendor: 'leverandør',
  outside_window: 'utenfor_vindu',
  jump_host: 'hoppvert',
  inbound_id: 'inngående_id',
  path: 'sti',
};

const CSV_BOOLEANS = { en: { true: 'true', false: 'false' }, nb: { true: 'ja', false: 'nei' } } as const;

function csvRowOf(s: RemoteSession, lang: 'en' | 'nb'): string {
  return csvLine(
    REMOTE_SESSION_CSV_HEADERS.map((k) => {
      const v = s[k];
      if (v === null || v === undefined) return '';
      if (Array.isArray(v)) return v.join(' > ');
      return typeof v === 'boolean' ? CSV_BOOLEANS[lang][String(v) as 'true' | 'false'] : v;
    }),
  );
}

function toStoreQuery(q: Static<typeof RemoteSessionCsvQuery> & { limit?: number; cursor?: string }): RemoteSessionQuery {
  return {
    since: timeParam(q.since, 'since'),
    until: timeParam(q.until, 'until'),
    ip: q.ip,
    vendor: q.vendor,
    protocol: q.protocol as string[] | undefined,
    outside_window: q.outside_window,
    sensor: q.sensor as string[] | undefined,
    limit: q.limit,
    cursor: q.cursor,
  };
}

export const remoteSessionRoutes: FastifyPluginAsync<{ store: ApiStore }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = opts;
  const tags = ['remote-sessions'];
  const security = [{ bearer: [] }];
  const commaLists = async (request: { query: unknown }) => {
    if (request.query !== null && typeof request.query === 'object') splitCommaLists(request.query as Record<string, unknown>, ['protocol', 'sensor']);
  };

  app.get(
    '/remote-sessions',
    {
      config: { access: 'viewer', audit: 'remote_sessions.list' },
      preValidation: commaLists,
      schema: {
        tags,
        security,
        summary: 'The remote-access session log',
        description:
          'Every remote-access session (SSH, RDP, VNC, Telnet, TeamViewer, AnyDesk) the sensors recognised, newest start first: start, end (null while ongoing), bytes each way, protocol, encryption, the vendor it belongs to and whether it was outside the vendor\'s window, the sensor, and the path external → jump host → device (an onward leg names its inbound leg in `inbound_id`). Filters combine with AND. Pass `next_cursor` back as `cursor` with the same filters for the next page. Every call is audited.',
        querystring: RemoteSessionListQuery,
        response: { 200: RemoteSessionPageSchema, ...errorResponses() },
      },
    },
    async (request) => await store.listRemoteSessions(toStoreQuery(request.query)),
  );

  app.get(
    '/remote-sessions.csv',
    {
      config: { access: 'viewer', audit: 'remote_sessions.export' },
      preValidation: commaLists,
      schema: {
        tags,
        security,
        summary: 'Remote-access sessions matching the filters as CSV',
        description: `The list's columns, filters and order, every page (at most ${MAX_CSV_ROWS} rows; more is a 400 asking for a narrower filter). The path is written as addresses joined by " > ". \`lang=nb\` heads the columns in bokmål and writes true/false as ja/nei. RFC 4180 with CRLF; cells a spreadsheet would take for a formula start with an apostrophe.`,
        querystring: RemoteSessionCsvQuery,
        response: errorResponses(),
      },
    },
    async (request, reply) => {
      const lang = request.query.lang ?? 'en';
      const q = { ...toStoreQuery(request.query), limit: 1000 };
      const lines: string[] = [csvLine(lang === 'nb' ? REMOTE_SESSION_CSV_HEADERS.map((k) => REMOTE_SESSION_CSV_HEADERS_NB[k]) : REMOTE_SESSION_CSV_HEADERS)];
      let cursor: string | null = null;
      do {
        const page = await store.listRemoteSessions({ ...q, cursor });
        if (lines.length - 1 + page.items.length > MAX_CSV_ROWS) throw new ApiError(400, `more than ${MAX_CSV_ROWS} sessions match: narrow the filter (since/until, vendor, protocol)`);
        for (const s of page.items) lines.push(csvRowOf(s, lang));
        cursor = page.next_cursor;
      } while (cursor !== null);
      void reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="muvakt-remote-sessions.csv"');
      return `${lines.join('\r\n')}\r\n`;
    },
  );
};
