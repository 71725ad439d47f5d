/**
 * One HTTP request whose path has the DICOMweb shape, and what its exchange turns out to be:
 * the HTTP parser makes one from the request line, tells it the media types of both heads,
 * hands it the message bodies to inspect, and asks for the `dicomweb.request` record when the
 * exchange is over. The record is made only when the exchange is DICOMweb by more than its
 * path (a UID after a level, a DICOM query key, a DICOM media type).
 */
import type { DicomwebRequestRecord } from '../events/dicomweb.js';
import { DicomwebBody, type DicomwebBodyLimits, type DicomwebBodySummary } from './body.js';
import { DicomwebObservations } from './observations.js';
import type { Pseudonymize } from '../phi/pseudonym.js';
import {
  dicomMediaNames,
  dicomwebService,
  dicomwebTarget,
  isPatientAttribute,
  isQidoControl,
  queryAttribute,
  type DicomwebService,
  type DicomwebTarget,
} from './recognise.js';

const MAX_QUERY_ITEMS = 64;

type BodyRecord = NonNullable<DicomwebRequestRecord['request_body']>;

export class DicomwebExchange {
  // Both made with their first entry: an exchange lives as long as its request waits, and most
  // have no query keys and nothing to observe.
  private obs: DicomwebObservations | null = null;
  private queryKeys: string[] | null = null;
  private qidoControl = false;
  private media = 0;
  private requestBody: DicomwebBody | null = null;
  private responseBody: DicomwebBody | null = null;
  private requestMediaType = '';
  private responseMediaType = '';

  /** A DICOMweb exchange if the path has the shape (the rest is decided as the exchange goes on), else null. */
  static fromRequest(method: string, path: string, query: string | null, url: string, pseudonymize: Pseudonymize): DicomwebExchange | null {
    const target = dicomwebTarget(path);
    if (target === null) return null;
    const service = dicomwebService(method, target);
    if (service === null) return null;
    return new DicomwebExchange(target, service, method, url, query, pseudonymize);
  }

  private constructor(
    readonly target: DicomwebTarget,
    readonly service: DicomwebService,
    readonly method: string,
    /** The path template the http event reports. */
    readonly url: string,
    query: string | null,
    private readonly pseudonymize: Pseudonymize,
  ) {
    if (query !== null) this.readQuery(query);
  }

  private observations(): DicomwebObservations {
    return (this.obs ??= new DicomwebObservations(this.pseudonymize));
  }

  /** Names of the query: the attributes matched on, and whether each carried a value (never the value). */
  private readQuery(query: string): void {
    const items = query.split(/[&;]/, MAX_QUERY_ITEMS);
    for (const item of items) {
      const eq = item.indexOf('=');
      const name = eq < 0 ? item : item.slice(0, eq);
      if (isQidoControl(name)) this.qidoControl = true;
      const attr = queryAttribute(name);
      if (attr === null) continue;
      const keys = (this.queryKeys ??= []);
      if (!keys.includes(attr)) keys.push(attr);
      // A patient key with a value put that value in the URL, in the clear (the observations' source is 'query' until a body is read).
      if (isPatientAttribute(attr) && eq >= 0 && eq < item.length - 1) this.observations().phi(attr);
    }
  }

  /** DICOM media types named by a head (DicomMedia bits). */
  addMedia(bits: number): void {
    this.media |= bits;
  }

  /** Whether the exchange is DICOMweb by more than its path. */
  get confirmed(): boolean {
    return this.target.uid || this.media !== 0 || this.queryKeys !== null || this.qidoControl;
  }

  /** The body inspector for the request (to server) or response, or null when the body is not DICOM. */
  bodyFor(toServer: boolean, contentType: string, limits?: DicomwebBodyLimits): DicomwebBody | null {
    const b = DicomwebBody.forContentType(contentType, this.observations().from(toServer ? 'request' : 'response'), limits);
    if (b === null) return null;
    const semi = contentType.indexOf(';');
    const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
    if (toServer) {
      this.requestBody = b;
      this.requestMediaType = type;
    } else {
      this.responseBody = b;
      this.responseMediaType = type;
    }
    return b;
  }

  /** The exchange's record, or null when it was not DICOMweb after all. */
  record(status: number | undefined, incomplete: boolean, tsSec: number, tsNsec: number): DicomwebRequestRecord | null {
    if (!this.confirmed) return null;
    const o = this.obs;
    const r: DicomwebRequestRecord = {
      type: 'dicomweb.request',
      ts_sec: tsSec,
      ts_nsec: tsNsec,
      service: this.service,
      level: this.target.level,
      http_method: this.method,
      url: this.url,
      media_types: dicomMediaNames(this.media),
      phi_fields: o === null ? [] : [...o.fields],
    };
    if (this.target.resource !== undefined) r.resource = this.target.resource;
    if (status !== undefined) r.status = status;
    if (this.queryKeys !== null) r.query_keys = this.queryKeys;
    if (o !== null && o.sources.size > 0) r.phi_sources = [...o.sources];
    if (o !== null && o.ids.size > 0) r.patient_ids = [...o.ids].map(([pseudonym, kind]) => ({ kind, pseudonym }));
    if (this.requestBody !== null) r.request_body = bodyRecord(this.requestMediaType, this.requestBody.summary);
    if (this.responseBody !== null) r.response_body = bodyRecord(this.responseMediaType, this.responseBody.summary);
    if (incomplete) r.incomplete = true;
    return r;
  }
}

function bodyRecord(mediaType: string, s: DicomwebBodySummary): BodyRecord {
  const b: BodyRecord = {
    media_type: mediaType,
    parts: s.parts,
    inspected_objects: s.inspected_objects,
    bytes_inspected: s.bytes_inspected,
    bytes_skipped: s.bytes_skipped,
    truncated: s.truncated,
  };
  if (s.transfer_syntaxes.length > 0) b.transfer_syntaxes = [...s.transfer_syntaxes];
  return b;
}
