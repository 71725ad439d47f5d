/**
 * What the DICOMweb inspection finds in one exchange: patient elements by keyword and
 * patient IDs as keyed pseudonyms. A Patient ID value exists only for the length of the
 * `patientId` call (classified, pseudonymised, dropped), as in the DIMSE data-set walk.
 */
import type { DeviceKey, PeekSink } from '../dicom/dataset-peek.js';
import { patientIdKind } from '../dicom/message.js';
import type { PatientIdKind } from '../dicom/records.js';
import type { Pseudonymize } from '../phi/pseudonym.js';

/** A hostile body could list endless IDs; a handful is enough to alert on. */
const MAX_IDS = 8;

export type PhiSource = 'query' | 'request' | 'response';

export class DicomwebObservations implements PeekSink {
  /** Patient elements present with a value, by keyword. */
  readonly fields = new Set<string>();
  /** pseudonym → kind; the key is already keyed, never the value. */
  readonly ids = new Map<string, PatientIdKind>();
  readonly sources = new Set<PhiSource>();
  /** Where the elements given to phi() were found. */
  source: PhiSource = 'query';

  constructor(private readonly pseudonymize: Pseudonymize) {}

  phi(name: string): void {
    this.fields.add(name);
    this.sources.add(this.source);
  }

  patientId(value: string): void {
    if (this.ids.size >= MAX_IDS) return;
    const kind = patientIdKind(value);
    // The same pseudonym as DIMSE, HL7 and the payload scanners give the same number.
    this.ids.set(this.pseudonymize(kind === 'other' ? 'patient-id' : kind, value), kind);
  }

  device(_key: DeviceKey, _value: string): void {
    // Equipment facts come from DIMSE; DICOMweb reports patient elements only.
  }

  /** A sink that notes `source` for what it is given (request and response bodies may interleave). */
  from(source: PhiSource): PeekSink {
    return {
      phi: (name) => {
        this.fields.add(name);
        this.sources.add(source);
      },
      patientId: (value) => {
        this.sources.add(source);
        this.patientId(value);
      },
      device: () => {},
    };
  }
}
