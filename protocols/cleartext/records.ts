/**
 * What the cleartext parsers emit: events of the contract (protocols/events/) with their
 * capture time as numbers. The agent adds `ts` and `flow`.
 *
 * Nothing here is a payload value: no password, no username, no message text, no body, no
 * query value, no free-text banner. Usernames and identifiers appear as keyed pseudonyms,
 * secrets as keyed fingerprints.
 */
import type {
  CredentialCleartextRecord,
  DicomwebRequestRecord,
  FtpRecord,
  HttpRecord,
  MailRecord,
  PhiObservedRecord,
  SmbRecord,
  SnmpRecord,
  SyslogRecord,
} from '../events/index.js';

export { wireDirection, type WireDirection } from '../events/wire-direction.js';
export type { DicomwebRequestRecord, FtpRecord, HttpRecord, MailRecord, SmbRecord, SnmpRecord, SyslogRecord };
export type CredentialRecord = CredentialCleartextRecord;
export type CleartextPhiRecord = PhiObservedRecord;

export type CleartextRecord =
  | CredentialRecord
  | CleartextPhiRecord
  | HttpRecord
  | DicomwebRequestRecord
  | FtpRecord
  | MailRecord
  | SmbRecord
  | SnmpRecord
  | SyslogRecord;

export type CleartextEmit = (rec: CleartextRecord) => void;
