/**
 * TypeBox schemas for every request and response. Responses are serialized through them
 * (fast-json-stringify), so a field not declared here never leaves the API, whatever the
 * store or a provider hands over.
 */
import * as Type from 'typebox';
import { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { SEVERITIES, STATUSES, type AlertStatus, type Severity } from '../agent/store/index.js';

/** A string enum as plain JSON Schema (`{type: string, enum}`): clear 400 messages, fast serialization. */
export function StrEnum<T extends string>(values: readonly T[], options: Record<string, unknown> = {}) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** `lang`: the language a download is written in (CSV headers and words, the evidence bundle's text). */
export function LanguageQuery(description: string, dflt: 'en' | 'nb' = 'en') {
  return Type.Optional(StrEnum(['nb', 'en'] as const, { default: dflt, description }));
}

export const SeveritySchema = StrEnum<Severity>(SEVERITIES);
export const StatusSchema = StrEnum<AlertStatus>(STATUSES);

export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
  },
  { $id: 'Error', description: 'Every error: `{statusCode, error, message}`. Bad input is a 400 with a message naming the field.' },
);

/** Error responses every protected route may give. */
export function errorResponses(...codes: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const c of [400, 401, 403, 429, 503, ...codes]) out[c] = ErrorSchema;
  return out;
}

export const AlertIdParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'Alert id: 32 lowercase hex digits' }) },
  { additionalProperties: false },
);

const Text = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });
/** `?severity=high&severity=critical`, or one value. */
const listOf = <T extends TSchema>(item: T, description: string) => Type.Array(item, { minItems: 1, maxItems: 20, description });

/** A sensor name (agent/store/sensor-name.ts): short printable, no spaces. */
export const SensorNameSchema = Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]*$' });
const sensorFilter = (what: string) => Type.Optional(listOf(SensorNameSchema, `${what} seen by any of these sensors (repeat the parameter or separate names with commas)`));

export const AlertListQuery = Type.Object(
  {
    severity: Type.Optional(listOf(SeveritySchema, 'One or more severities (repeat the parameter or separate with commas)')),
    rule_id: Type.Optional(listOf(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }), 'One or more rule ids')),
    status: Type.Optional(listOf(StatusSchema, 'One or more statuses')),
    zone: Type.Optional(Text(128, 'Source or destination zone')),
    ip: Type.Optional(
      Type.String({ minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$', description: 'Source or destination address (exact), or a CIDR prefix the source or destination is in (10.77.10.0/24, fd00::/64)' }),
    ),
    sensor: sensorFilter('Alerts'),
    q: Type.Optional(
      Type.String({
        maxLength: 100,
        description:
          'Free text, case-insensitive: a substring of the rule id, the title (English or bokmål), the addresses, zones, device id, sensor names, or the evidence fields app, peer_app, device, seen_device, ae_title, calling_ae, called_ae. 1–100 letters, digits, spaces or `. _ : @ / ( ) -`; anything else is a 400',
      }),
    ),
    since: Type.Optional(Text(40, 'Active at or after: ISO 8601 time, epoch milliseconds, or a date (YYYY-MM-DD, from the start of that day in Europe/Oslo)')),
    until: Type.Optional(Text(40, 'First seen at or before: ISO 8601 time, epoch milliseconds, or a date (YYYY-MM-DD, to the end of that day in Europe/Oslo)')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, pattern: '^[A-Za-z0-9_-]*$', description: '`next_cursor` of the previous page of the same query' })),
    sort: Type.Optional(StrEnum(['last_seen', 'severity'] as const, { default: 'last_seen' })),
  },
  { additionalProperties: false },
);
export type AlertListQuery = Static<typeof AlertListQuery>;

/** The list's filters and order (no paging: the export walks every page), and the language. */
export const AlertCsvQuery = Type.Object(
  {
    ...Type.Omit(AlertListQuery, ['limit', 'cursor']).properties,
    lang: LanguageQuery('Language of headers, titles and recommendations'),
  },
  { additionalProperties: false },
);
export type AlertCsvQuery = Static<typeof AlertCsvQuery>;

export const SubjectSchema = Type.Object({
  src_ip: Type.String(),
  dst_ip: Type.String(),
  zone_src: Type.String(),
  zone_dst: Type.String(),
  device_id: Type.Optional(Type.String()),
});

const AlertFields = {
  id: Type.String(),
  rule_id: Type.String(),
  title: Type.String({ description: 'English title (the contract field)' }),
  title_nb: Type.Optional(Type.String({ description: 'Norwegian (bokmål) title, from the rule set' })),
  severity: SeveritySchema,
  guide_refs: Type.Array(Type.String()),
  first_seen: Type.String(),
  last_seen: Type.String(),
  count: Type.Integer(),
  status: StatusSchema,
  subject: SubjectSchema,
  evidence: Type.Record(Type.String(), Type.Unknown(), { description: 'Protocol facts, addresses, zones and keyed pseudonyms; never patient values' }),
  recommendation: Type.String(),
  recommendation_nb: Type.Optional(Type.String()),
  updated_at: Type.String(),
  sensors: Type.Array(Type.String(), { description: 'Every sensor that saw it (sorted). Two sensors on overlapping mirror ports raise one alert listing both.' }),
  accepted: Type.Optional(
    Type.Object(
      { id: Type.String(), owner: Type.String(), reason: Type.String(), reference: Type.String(), expires: Type.String(), expires_at: Type.String() },
      { description: 'The active risk acceptance covering this alert, if any: the alert stays in its status and is shown as accepted' },
    ),
  ),
};

export const AlertSchema = Type.Object(AlertFields, { $id: 'Alert' });

export const HistoryEntrySchema = Type.Object({
  at: Type.String(),
  actor: Type.String(),
  action: StrEnum(['ack', 'resolve', 'reopen'] as const),
  comment: Type.String(),
});

export const AlertDetailSchema = Type.Object({ ...AlertFields, history: Type.Array(HistoryEntrySchema) }, { $id: 'AlertDetail' });

export const AlertPageSchema = Type.Object({
  items: Type.Array(AlertSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const CommentBody = Type.Object(
  { comment: Type.Optional(Type.String({ maxLength: 2000, description: 'Why (no patient identifiers: they are refused)' })) },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Text(200)),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z.]+$' })),
    sensor: Type.Optional({ ...SensorNameSchema, description: 'Rows written by this muvakt instance (serve replica or sensor)' }),
    since: Type.Optional(Text(40)),
    until: Type.Optional(Text(40)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, pattern: '^[A-Za-z0-9_-]*$' })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPageSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.Integer(),
      at: Type.String(),
      actor: Type.String(),
      role: Type.String(),
      action: Type.String(),
      query: Type.Unknown({ description: 'The filters or target of the call, bounded and scrubbed of fødselsnummer-like values' }),
      sensor: Type.String({ description: 'The muvakt instance (serve replica or sensor, `--sensor`) that wrote the row; empty for rows from before instances had names' }),
    }),
  ),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

/** Page queries of the asset list: page size, cursor, a zone and sensors. */
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, pattern: '^[A-Za-z0-9_-]*$' })),
    zone: Type.Optional(Text(128)),
    sensor: sensorFilter('Devices'),
  },
  { additionalProperties: false },
);

/**
 * A validator compiler for request bodies that never coerces (`{"comment": 42}` is a 400, not
 * "42"): TypeBox's compiled checker, reporting Ajv-shaped errors to `formatSchemaErrors`.
 * Query strings keep Fastify's Ajv with type coercion (everything there is text).
 */
export const strictValidatorCompiler = ({ schema }: { schema: unknown }) => {
  const checker = Compile(schema as TSchema);
  const fn = ((data: unknown) => {
    if (checker.Check(data)) return true;
    fn.errors = [...checker.Errors(data)].slice(0, 5);
    return false;
  }) as ((data: unknown) => boolean) & { errors?: unknown[] };
  return fn;
};

// ---------------------------------------------------------------- risk acceptance

const AcceptanceFields = {
  rule_id: Type.String({ maxLength: 64, description: 'The rule whose finding is accepted' }),
  scope: StrEnum(['device', 'pair', 'zones'] as const, { description: 'device: one device (device_id); pair: one client→server address pair; zones: traffic from one zone to another' }),
  device_id: Type.Optional(Type.String({ maxLength: 80 })),
  src_ip: Type.Optional(Type.String({ maxLength: 45 })),
  dst_ip: Type.Optional(Type.String({ maxLength: 45 })),
  zone_src: Type.Optional(Type.String({ maxLength: 64 })),
  zone_dst: Type.Optional(Type.String({ maxLength: 64 })),
  reason: Type.String({ maxLength: 1000, description: 'Why the risk is accepted (no patient data: refused)' }),
  owner: Type.String({ maxLength: 120, description: 'Who owns the risk (a role or a name)' }),
  reference: Type.String({ maxLength: 120, description: 'The risk assessment (ROS) it rests on: document id or case number' }),
  expires: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Last day it holds (YYYY-MM-DD, Europe/Oslo); at most about three years ahead' }),
};

export const AcceptanceBody = Type.Object(AcceptanceFields, { additionalProperties: false });

export const AcceptanceSchema = Type.Object(
  {
    id: Type.String(),
    ...AcceptanceFields,
    expires_at: Type.String({ description: 'The instant it ends (end of `expires` in Europe/Oslo), UTC' }),
    created_by: Type.String(),
    created_at: Type.String(),
    revoked_by: Type.Optional(Type.String()),
    revoked_at: Type.Optional(Type.String()),
    revoke_comment: Type.Optional(Type.String()),
    active: Type.Boolean({ description: 'Neither expired nor revoked' }),
    covers_alerts: Type.Optional(Type.Integer({ description: 'Alerts in the store it covers now (active ones only)' })),
  },
  { $id: 'RiskAcceptance' },
);

export const AcceptanceListQuery = Type.Object(
  {
    active: Type.Optional(Type.Boolean({ description: 'true: only those in force; false: only expired or revoked' })),
  },
  { additionalProperties: false },
);

export const AcceptanceCsvQuery = Type.Object(
  {
    ...AcceptanceListQuery.properties,
    lang: LanguageQuery('Language of the headers and of the scope and active columns'),
  },
  { additionalProperties: false },
);

export const AcceptanceIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) }, { additionalProperties: false });
