import * as Type from 'typebox';
import { type Static } from 'typebox';
import { flowEventSchema, Strings, WireDirectionSchema, type RecordOf } from './common.js';

/**
 * Patient identity numbers seen in a protocol: kinds, counts and keyed pseudonyms, never a
 * value. One event type for every source (HL7 messages, HTTP, syslog, SNMP, and the scanner
 * of streams no analyzer claimed); the optional fields say where it was found.
 */
export const PhiObservedEventSchema = flowEventSchema('phi.observed', 'Patient identifiers seen in cleartext', {
  protocol: Type.String({ description: 'Protocol that carried them (hl7, http, syslog, snmp, ftp-data for a file on an FTP data connection, or the flow\'s label / tcp / udp for unrecognised streams)' }),
  direction: Type.Optional(WireDirectionSchema),
  kinds: Strings('Kinds found, e.g. fodselsnummer, d-nummer, patient-id'),
  count: Type.Integer({ description: 'Identifiers seen, repeats included' }),
  distinct: Type.Optional(Type.Integer({ description: 'Distinct identifiers among them' })),
  pseudonyms: Strings('Keyed pseudonyms (at most 32), never the values'),
  phi_fields: Type.Optional(Strings('HL7: the patient-identifying fields present')),
  control_id: Type.Optional(Type.String({ description: 'HL7: MSH-10 of the message that carried them' })),
  locations: Type.Optional(Strings('Where in the message: body, url, headers, message (syslog), value (SNMP)')),
  http_method: Type.Optional(Type.String({ description: 'HTTP: method of the request this belongs to' })),
  url: Type.Optional(Type.String({ description: 'HTTP: path without query values; identity numbers replaced by {fnr}' })),
  content_type: Type.Optional(Type.String({ description: 'HTTP: content type of the message that carried them' })),
  scanned_bytes: Type.Optional(Type.Integer({ description: 'Unrecognised streams: bytes inspected (the scan stops at a configured depth per direction)' })),
});
export type PhiObservedEvent = Static<typeof PhiObservedEventSchema>;
export type PhiObservedRecord = RecordOf<PhiObservedEvent>;
