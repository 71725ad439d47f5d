import type { DicomMetricsHooks } from '../../protocols/dicom/index.js';
import { createPseudonymizer, type Pseudonymize } from '../../protocols/phi/pseudonym.js';

/** What analyzers get from the site configuration (the policy file) besides the stream. */
export interface AnalyzerEnvironment {
  /** Keyed pseudonyms for patient identifiers and usernames: never the value itself. */
  pseudonymize: Pseudonymize;
  /** The policy's hl7.ack_timeout_s. */
  hl7AckTimeoutSec: number;
  hl7MaxMessageSize: number;
  /** PDUs above this put a DICOM connection into resync/detach. */
  dicomMaxPduLength: number;
  /** Ports the site says carry DICOM: TLS there is reported as `dicom-tls`. */
  dicomPorts: ReadonlySet<number>;
  /** Cleartext bytes per direction scanned for identity numbers in flows no analyzer claimed. */
  phiScanDepth: number;
  /** Counters for muvakt_dicom_associations_total / muvakt_dicom_dimse_total (wired by the API). */
  dicomMetrics?: DicomMetricsHooks;
}

/** IANA's DICOM ports (104 dicom, 2761 dicom-iscl, 2762 dicom-tls) and dcmtk's customary 11112. */
export const DEFAULT_DICOM_PORTS: ReadonlySet<number> = new Set([104, 2761, 2762, 11112]);

export function defaultEnvironment(key: Buffer): AnalyzerEnvironment {
  return {
    pseudonymize: createPseudonymizer(key),
    hl7AckTimeoutSec: 30,
    hl7MaxMessageSize: 4 * 1024 * 1024,
    dicomMaxPduLength: 16 * 1024 * 1024,
    dicomPorts: DEFAULT_DICOM_PORTS,
    phiScanDepth: 64 * 1024,
  };
}
