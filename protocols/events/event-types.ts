/**
 * The names of every event type, in the order the reference lists them: what needs only the
 * names (a rule that reads the capture's clock from every event) imports them from here, not
 * from the schemas, so a run without schema checks never loads TypeBox or the schemas.
 * index.ts holds the schemas under the same names; a test keeps the two lists equal.
 */
export const EVENT_TYPES = [
  'flow',
  'dicom.association',
  'dicom.dimse',
  'dicom.malformed',
  'dicomweb.request',
  'hl7.message',
  'hl7.undelivered',
  'phi.observed',
  'credential.cleartext',
  'tls.handshake',
  'remote_access',
  'http',
  'ftp',
  'smtp',
  'pop3',
  'imap',
  'smb',
  'snmp',
  'syslog',
  'dns',
  'dhcp',
  'capture.error',
  'stats',
] as const;

export type EventTypeName = (typeof EVENT_TYPES)[number];
