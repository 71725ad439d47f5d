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

const NONE: ReadonlySet<string> = new Set();
const NO_IDS: ReadonlyMap<string, PatientIdKind> = new Map();

export class DicomwebObservations implements PeekSink {
  // Made with their first entry (most exchanges have none): NONE and NO_IDS are never written to.
  /** Patient elements present with a value, by keyword. */
  fields: ReadonlySet<string> = NONE;
  /** pseudonym → kind; the key is already keyed, never the value. */
  ids: ReadonlyMap<string, PatientIdKind> = NO_IDS;
  sources: ReadonlySet<PhiSource> = NONE as ReadonlySet<PhiSource>;
  /** Where the elements given to phi() were found. */
  source: PhiSource = 'query';

  constructor(private readonly pseudonymize: Pseudonymize) {}

  phi(name: string): void {
    this.addField(name, this.source);
  }

  private addField(name: string, source: PhiSource): void {
    (this.fields === NONE ? (this.fields = new Set<string>()) : (this.fields as Set<string>)).add(name);
    this.addSource(source);
  }

  private addSource(source: PhiSource): void {
    (this.sources === NONE ? (this.sources = new Set<PhiSource>()) : (this.sources as Set<PhiSource>)).add(source);
  }

  patientId(value: string): void {
    if (this.ids.size >= MAX_IDS) return;
    const kind = patientIdKind(value);
    // The same pseudonym as DIMSE, HL7 and the payload scanners give the same number.
    (this.ids === NO_IDS ? (this.ids = new Map<string, PatientIdKind>()) : (this.ids as Map<string, PatientIdKind>)).set(this.pseudonymize(kind === 'other' ? 'patient-id' : kind, value), kind);
  }

  device(_key: DeviceKey, _value: string): void {
    // Equipment facts come from DIMSE; DICOMweb reports patient elements only.
  }

  /** A sink that notes `source` for what it is given (request and response bodies may interleave). */
  from(source: PhiSource): PeekSink {
    return {
      phi: (name) => this.addField(name, source),
      patientId: (value) => {
        this.addSource(source);
        this.patientId(value);
      },
      device: () => {},
    };
  }
}
