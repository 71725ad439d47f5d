import { createPseudonymizer, type Pseudonymize } from '../../protocols/phi/pseudonym.js';

/** What analyzers get from the site configuration (the policy file, later) besides the stream. */
export interface AnalyzerEnvironment {
  /** Keyed pseudonyms for patient identifiers and usernames: never the value itself. */
  pseudonymize: Pseudonymize;
  /** The policy's hl7.ack_timeout_s. */
  hl7AckTimeoutSec: number;
  hl7MaxMessageSize: number;
  /** PDUs above this put a DICOM connection into resync/detach. */
  dicomMaxPduLength: number;
}

export function defaultEnvironment(key: Buffer): AnalyzerEnvironment {
  return {
    pseudonymize: createPseudonymizer(key),
    hl7AckTimeoutSec: 30,
    hl7MaxMessageSize: 4 * 1024 * 1024,
    dicomMaxPduLength: 16 * 1024 * 1024,
  };
}
