import * as Type from 'typebox';
import { type Static } from 'typebox';

/**
 * The site policy (docs/policy.md): one TypeBox schema gives the TypeScript type, the
 * JSON Schema the loader validates against, and the API's `GET /policy` response.
 * Every object refuses unknown keys, so a typo is an error, not a silently ignored setting.
 */

export const ZONE_KINDS = ['medical', 'clinical', 'server', 'office', 'remote-access', 'dmz', 'guest'] as const;

const ZoneKind = Type.Union(ZONE_KINDS.map((k) => Type.Literal(k)));
const Vlan = Type.Integer({ minimum: 1, maximum: 4094 });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
/** Checked further by the loader (address syntax, prefix length). */
const Cidr = Type.String({ minLength: 3 });
/** A zone name, an address/CIDR, or `external` / `any`. */
const Endpoint = Type.String({ minLength: 1 });

export const ZoneSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' }),
    kind: ZoneKind,
    vlans: Type.Optional(Type.Array(Vlan)),
    cidrs: Type.Optional(Type.Array(Cidr)),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const AllowedFlowSchema = Type.Object(
  {
    from: Endpoint,
    to: Endpoint,
    apps: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    ports: Type.Optional(Type.Array(Port)),
    encrypted: Type.Optional(Type.Union([Type.Literal('required'), Type.Literal('optional')])),
    comment: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/**
 * A flow that must be seen (a backup, log forwarding, an HL7 feed, time sync): silence longer
 * than `max_silence_s` of capture time raises `expected-flow-missing`; seeing it again resolves it.
 */
export const ExpectedFlowSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9 _.:-]*$' }),
    from: Endpoint,
    to: Endpoint,
    apps: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    ports: Type.Optional(Type.Array(Port)),
    max_silence_s: Type.Integer({ minimum: 1, maximum: 31 * 86400 }),
    comment: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const Weekday = Type.Union(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => Type.Literal(d)));
const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
/** A calendar day, read in the site's `time_zone`. */
const Day = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' });
const Mac = Type.String({ pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$' });

export const VendorSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    cidrs: Type.Array(Cidr, { minItems: 1 }),
    /**
     * When vendor sessions are expected, in the site's `time_zone`; none = any time. A window whose
     * `to` is earlier than its `from` runs past midnight, and its `days` are the days it starts.
     */
    windows: Type.Optional(Type.Array(Type.Object({ days: Type.Optional(Type.Array(Weekday)), from: Clock, to: Clock }, { additionalProperties: false }))),
    /** Last day of the agreement with the vendor; sessions from its addresses after that day are reported. */
    contract_end: Type.Optional(Day),
  },
  { additionalProperties: false },
);

/** Equipment taken out of use: seen on the network again, it is reported. */
export const RetiredDeviceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** MAC addresses: the surest mark, since a retired device's IP address may be given to another. */
    macs: Type.Optional(Type.Array(Mac)),
    addresses: Type.Optional(Type.Array(Cidr)),
    /** The day it was retired; traffic before it is not reported. */
    retired_on: Type.Optional(Day),
  },
  { additionalProperties: false },
);

export const PolicySchema = Type.Object(
  {
    site: Type.String({ minLength: 1 }),
    /** IANA time zone of the site, for vendor windows (default Europe/Oslo). */
    time_zone: Type.Optional(Type.String({ minLength: 1 })),
    pseudonym_key_file: Type.Optional(Type.String({ minLength: 1 })),
    zones: Type.Array(ZoneSchema, { minItems: 1 }),
    allowed_flows: Type.Optional(Type.Array(AllowedFlowSchema)),
    expected_flows: Type.Optional(Type.Array(ExpectedFlowSchema)),
    remote_access: Type.Optional(
      Type.Object(
        {
          jump_hosts: Type.Optional(Type.Array(Cidr)),
          vendors: Type.Optional(Type.Array(VendorSchema)),
        },
        { additionalProperties: false },
      ),
    ),
    encryption: Type.Optional(
      Type.Object(
        {
          min_tls: Type.Optional(Type.Union([Type.Literal('1.0'), Type.Literal('1.1'), Type.Literal('1.2'), Type.Literal('1.3')])),
          /** Where cleartext is reported (default external, cross-zone-phi, remote-access). */
          require_for: Type.Optional(Type.Array(Type.Union([Type.Literal('external'), Type.Literal('cross-zone-phi'), Type.Literal('remote-access'), Type.Literal('cross-zone')]))),
        },
        { additionalProperties: false },
      ),
    ),
    external: Type.Optional(
      Type.Object(
        {
          /** `EEA` or a list of ISO 3166-1 alpha-2 codes. */
          allowed_countries: Type.Optional(Type.Union([Type.Literal('EEA'), Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }))])),
          allowed_destinations: Type.Optional(Type.Array(Cidr)),
        },
        { additionalProperties: false },
      ),
    ),
    hl7: Type.Optional(Type.Object({ ack_timeout_s: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400 })), ports: Type.Optional(Type.Array(Port)) }, { additionalProperties: false })),
    dicom: Type.Optional(Type.Object({ ports: Type.Optional(Type.Array(Port)) }, { additionalProperties: false })),
    /** Days alerts and audit entries are kept (LEV 6.3: no longer than needed). */
    retention_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    retired_devices: Type.Optional(Type.Array(RetiredDeviceSchema)),
    /** Thresholds of repeated-authentication-failures (MU 4.4). */
    authentication: Type.Optional(
      Type.Object(
        {
          failures: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
          failures_window_s: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400 })),
          short_connections: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
          short_connections_window_s: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86400 })),
          short_connection_max_s: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
          /** Clients whose many short SSH/RDP connections are known automation. */
          automation_clients: Type.Optional(Type.Array(Cidr)),
        },
        { additionalProperties: false },
      ),
    ),
    /** Distinct client devices sharing one credential before it counts as hard-coded (MU 4.4). */
    shared_secret_devices: Type.Optional(Type.Integer({ minimum: 2, maximum: 1000 })),
    /** Learning and thresholds of the baseline/change rules (MU 5.2.2); defaults: 24 h learning, 15 min silence floor. */
    baseline: Type.Optional(
      Type.Object(
        {
          learning_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          silent_floor_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          silent_gap_factor: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          fan_out_count: Type.Optional(Type.Integer({ minimum: 2 })),
          fan_out_window_s: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          max_devices: Type.Optional(Type.Integer({ minimum: 1 })),
          max_peers_per_device: Type.Optional(Type.Integer({ minimum: 1 })),
          max_ae_titles: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Policy = Static<typeof PolicySchema>;
export type Zone = Static<typeof ZoneSchema>;
export type AllowedFlow = Static<typeof AllowedFlowSchema>;
export type ExpectedFlow = Static<typeof ExpectedFlowSchema>;
export type ZoneKind = (typeof ZONE_KINDS)[number];
