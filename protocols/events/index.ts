/**
 * The event contract: every event the sensor writes, one TypeBox schema per type. The
 * TypeScript types (what parsers emit, what rules read), the published JSON Schemas
 * (docs/schemas/events/) and the generated reference (docs/events.md) all come from here.
 */
import type { Static, TSchema } from 'typebox';
import type { CaptureTime, FlowRef } from './common.js';
import type { EventTypeName } from './event-types.js';
import { CredentialCleartextEventSchema } from './credential.js';
import { DhcpEventSchema, DnsEventSchema, FtpEventSchema, HttpEventSchema, ImapEventSchema, Pop3EventSchema, SmbEventSchema, SmtpEventSchema, SnmpEventSchema, SyslogEventSchema } from './cleartext.js';
import { DicomAssociationEventSchema, DicomDimseEventSchema, DicomMalformedEventSchema } from './dicom.js';
import { DicomwebRequestEventSchema } from './dicomweb.js';
import { FlowEventSchema } from './flow.js';
import { Hl7MessageEventSchema, Hl7UndeliveredEventSchema } from './hl7.js';
import { PhiObservedEventSchema } from './phi.js';
import { RemoteAccessEventSchema } from './remote.js';
import { CaptureErrorEventSchema, StatsEventSchema } from './sensor.js';
import { TlsHandshakeEventSchema } from './tls.js';

export * from './common.js';
export * from './cleartext.js';
export * from './credential.js';
export * from './dicom.js';
export * from './dicomweb.js';
export * from './flow.js';
export * from './hl7.js';
export * from './phi.js';
export * from './remote.js';
export * from './sensor.js';
export * from './tls.js';
export { isoMicro } from './time.js';

/** Every event type, by its `type`, in the order the reference lists them. */
export const EVENT_SCHEMAS = {
  flow: FlowEventSchema,
  'dicom.association': DicomAssociationEventSchema,
  'dicom.dimse': DicomDimseEventSchema,
  'dicom.malformed': DicomMalformedEventSchema,
  'dicomweb.request': DicomwebRequestEventSchema,
  'hl7.message': Hl7MessageEventSchema,
  'hl7.undelivered': Hl7UndeliveredEventSchema,
  'phi.observed': PhiObservedEventSchema,
  'credential.cleartext': CredentialCleartextEventSchema,
  'tls.handshake': TlsHandshakeEventSchema,
  remote_access: RemoteAccessEventSchema,
  http: HttpEventSchema,
  ftp: FtpEventSchema,
  smtp: SmtpEventSchema,
  pop3: Pop3EventSchema,
  imap: ImapEventSchema,
  smb: SmbEventSchema,
  snmp: SnmpEventSchema,
  syslog: SyslogEventSchema,
  dns: DnsEventSchema,
  dhcp: DhcpEventSchema,
  'capture.error': CaptureErrorEventSchema,
  stats: StatsEventSchema,
} as const satisfies Record<string, TSchema>;

type Schemas = typeof EVENT_SCHEMAS;
export type EventType = keyof Schemas;

/** Any event the sensor writes, discriminated on `type`. */
export type SensorEvent = { [T in EventType]: Static<Schemas[T]> }[EventType];

/** The event of one type (or of several). */
export type EventOf<T extends EventType> = Extract<SensorEvent, { type: T }>;

/** Events an analyzer reports about a flow. */
export type AnalyzerEvent = Exclude<SensorEvent, { type: 'capture.error' | 'stats' }>;

/** What a parser emits: an analyzer event's fields with the capture time as numbers. */
export type AnalyzerRecord = AnalyzerEvent extends infer E ? (E extends AnalyzerEvent ? Omit<E, 'ts' | 'flow'> & CaptureTime : never) : never;

export { EVENT_TYPES } from './event-types.js';
// The schemas and the list of names (event-types.ts) name the same types.
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameNames: SameNames<EventType, EventTypeName> = true;
void sameNames;

export { eventFromRecord } from './from-record.js';
