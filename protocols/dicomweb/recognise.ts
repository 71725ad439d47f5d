/**
 * DICOMweb (PS3.18) recognised from an HTTP request's head: the resource path
 * (`…/studies/{uid}/series/{uid}/instances/{uid}/frames/1`, under any prefix such as
 * `/dicom-web/`), the DICOM attributes used as QIDO query keys, and the DICOM media types of
 * Accept and Content-Type. Only names leave: the service, the level, the resource, attribute
 * keywords. A UID in the path is a study or an image of one patient; it is never returned.
 *
 * The path shape alone does not make an exchange DICOMweb (a web shop has `/studies` too):
 * it also needs a UID after a level, a DICOM query key, or a DICOM media type on either side.
 */
import { PATIENT_ELEMENTS } from '../dicom/dataset-peek.js';

export type DicomwebService = 'qido' | 'wado' | 'stow';
export type DicomwebLevel = 'study' | 'series' | 'instance';
export type DicomwebResource = 'metadata' | 'rendered' | 'thumbnail' | 'frames' | 'bulkdata' | 'pixeldata';

export interface DicomwebTarget {
  /** The deepest level the path names (for a search, the level searched). */
  level: DicomwebLevel;
  /** The path ends at a level word: a search (GET) or a store into it (POST). */
  search: boolean;
  /** A UID followed a level word. */
  uid: boolean;
  resource?: DicomwebResource;
}

const LEVELS: Record<string, DicomwebLevel> = { studies: 'study', series: 'series', instances: 'instance' };
const DEPTH: Record<DicomwebLevel, number> = { study: 0, series: 1, instance: 2 };
const RESOURCES: Record<string, DicomwebResource> = {
  metadata: 'metadata',
  rendered: 'rendered',
  thumbnail: 'thumbnail',
  frames: 'frames',
  bulkdata: 'bulkdata',
  pixeldata: 'pixeldata',
};
/** A DICOM UID (PS3.5 §9): digits and dots, at most 64 characters. */
const UID = /^[0-9]+(?:\.[0-9]+)*$/;
/** A frame list: `1`, `1,3,5`. */
const FRAME_LIST = /^[0-9]{1,9}(?:,[0-9]{1,9}){0,255}$/;

/**
 * Quick test on the raw path before any work: every DICOMweb resource path has one of the
 * level words as a segment. Most HTTP requests leave here.
 */
export function mayBeDicomwebPath(path: string): boolean {
  return path.includes('/studies') || path.includes('/series') || path.includes('/instances');
}

/** The DICOMweb resource a path names, or null. The path is without query and fragment. */
export function dicomwebTarget(path: string): DicomwebTarget | null {
  if (!mayBeDicomwebPath(path)) return null;
  const segs = path.split('/');
  // The prefix (`/dicom-web`, `/pacs/rs`) never holds a level word: the first one starts the resource.
  for (let i = 0; i < segs.length; i++) if (LEVELS[segs[i]] !== undefined) return matchFrom(segs, i);
  return null;
}

/** segs[i] is a level word: the rest of the path must follow the PS3.18 resource grammar. */
function matchFrom(segs: string[], i: number): DicomwebTarget | null {
  const n = segs[segs.length - 1] === '' ? segs.length - 1 : segs.length;
  let depth = -1;
  let level: DicomwebLevel = 'study';
  let uid = false;
  let j = i;
  for (;;) {
    const lv = LEVELS[segs[j]];
    if (lv === undefined || DEPTH[lv] <= depth) return null;
    depth = DEPTH[lv];
    level = lv;
    j++;
    if (j >= n) return { level, search: true, uid };
    if (segs[j].length > 64 || !UID.test(segs[j])) return null;
    uid = true;
    j++;
    if (j >= n) return { level, search: false, uid };
    if (LEVELS[segs[j]] !== undefined) continue;
    const resource = RESOURCES[segs[j]];
    if (resource === undefined) return null;
    j++;
    if (resource === 'frames') {
      if (level !== 'instance' || j >= n || !FRAME_LIST.test(segs[j])) return null;
      j++;
      if (j < n && segs[j] === 'rendered') return j + 1 === n ? { level, search: false, uid, resource: 'rendered' } : null;
      return j === n ? { level, search: false, uid, resource } : null;
    }
    if (resource === 'bulkdata' && j < n) j = n; // bulk data URIs go on with tags and offsets
    return j === n ? { level, search: false, uid, resource } : null;
  }
}

/** Which service a request is, from its method and target; null for methods DICOMweb does not use this way. */
export function dicomwebService(method: string, t: DicomwebTarget): DicomwebService | null {
  if (method === 'POST' || method === 'PUT') return t.resource === undefined ? 'stow' : null;
  if (method !== 'GET' && method !== 'HEAD') return null;
  return t.search && t.resource === undefined ? 'qido' : 'wado';
}

/** Attributes QIDO-RS clients commonly match on besides the patient elements (PS3.18 §10.6.1.2). */
const QUERY_ATTRIBUTES = new Map<number, string>([
  [0x00080020, 'StudyDate'],
  [0x00080030, 'StudyTime'],
  [0x00080061, 'ModalitiesInStudy'],
  [0x00080060, 'Modality'],
  [0x00080090, 'ReferringPhysicianName'],
  [0x00081030, 'StudyDescription'],
  [0x0008103e, 'SeriesDescription'],
  [0x00080016, 'SOPClassUID'],
  [0x00080018, 'SOPInstanceUID'],
  [0x0020000d, 'StudyInstanceUID'],
  [0x0020000e, 'SeriesInstanceUID'],
  [0x00200010, 'StudyID'],
  [0x00200011, 'SeriesNumber'],
  [0x00200013, 'InstanceNumber'],
  [0x00400244, 'PerformedProcedureStepStartDate'],
]);

const KEYWORDS = new Map<string, string>();
for (const name of PATIENT_ELEMENTS.values()) KEYWORDS.set(name.toLowerCase(), name);
for (const name of QUERY_ATTRIBUTES.values()) KEYWORDS.set(name.toLowerCase(), name);
const PATIENT_KEYWORDS = new Set(PATIENT_ELEMENTS.values());

const HEX_TAG = /^[0-9A-Fa-f]{8}$/;

/**
 * The attribute a query parameter name matches on, as its keyword: `PatientID`, `00100020`
 * and `patientid` all give PatientID. Null for other parameters (limit, offset, includefield,
 * anything unknown): an unknown name could be anything, so it is not named here.
 */
export function queryAttribute(name: string): string | null {
  if (HEX_TAG.test(name)) {
    const tag = Number.parseInt(name, 16);
    return PATIENT_ELEMENTS.get(tag) ?? QUERY_ATTRIBUTES.get(tag) ?? null;
  }
  return KEYWORDS.get(name.toLowerCase()) ?? null;
}

/** Whether an attribute keyword names a patient element (PatientName, PatientID, AccessionNumber …). */
export function isPatientAttribute(keyword: string): boolean {
  return PATIENT_KEYWORDS.has(keyword);
}

/** QIDO control parameters that no other HTTP API uses by these names. */
export function isQidoControl(name: string): boolean {
  const n = name.toLowerCase();
  return n === 'includefield' || n === 'fuzzymatching';
}

/** DICOM media types, as a bit set (one message can name several in Accept). */
export const enum DicomMedia {
  None = 0,
  /** application/dicom (a Part 10 object). */
  Dicom = 1,
  /** application/dicom+json. */
  Json = 2,
  /** application/dicom+xml. */
  Xml = 4,
  /** multipart/related with type application/dicom (or dicom+xml / octet-stream under a DICOM Accept). */
  Multipart = 8,
}

/** The names the event reports for the bits of DicomMedia. */
export function dicomMediaNames(bits: number): string[] {
  const out: string[] = [];
  if (bits & DicomMedia.Multipart) out.push('multipart/related');
  if (bits & DicomMedia.Dicom) out.push('application/dicom');
  if (bits & DicomMedia.Json) out.push('application/dicom+json');
  if (bits & DicomMedia.Xml) out.push('application/dicom+xml');
  return out;
}

/** A Content-Type or Accept value: the DICOM media types it names. Cheap for the rest (no "dicom" in it). */
export function dicomMedia(value: string): number {
  if (!value.toLowerCase().includes('dicom')) return DicomMedia.None;
  let bits = 0;
  for (const item of value.split(',')) {
    const semi = item.indexOf(';');
    const type = (semi < 0 ? item : item.slice(0, semi)).trim().toLowerCase();
    if (type === 'application/dicom') bits |= DicomMedia.Dicom;
    else if (type === 'application/dicom+json') bits |= DicomMedia.Json;
    else if (type === 'application/dicom+xml') bits |= DicomMedia.Xml;
    else if (type === 'multipart/related' && semi >= 0) {
      const inner = mediaParam(item.slice(semi + 1), 'type');
      if (inner !== null && inner.toLowerCase().startsWith('application/dicom')) bits |= DicomMedia.Multipart;
    }
  }
  return bits;
}

/** A parameter of a media type (`boundary`, `type`), unquoted; null if absent. */
export function mediaParam(params: string, name: string): string | null {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]{1,200})"|([^;,\\s]{1,200}))`, 'i');
  const m = re.exec(params);
  return m === null ? null : (m[1] ?? m[2]);
}

/** How a message body is laid out, from its Content-Type: what the inspector should read. */
export type DicomBodyKind = { kind: 'part10' } | { kind: 'json' } | { kind: 'multipart'; boundary: string };

/** The body layout of a Content-Type value, or null when the body is not DICOM. */
export function dicomBodyKind(contentType: string): DicomBodyKind | null {
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type === 'application/dicom') return { kind: 'part10' };
  if (type === 'application/dicom+json') return { kind: 'json' };
  if (type !== 'multipart/related' || semi < 0) return null;
  const params = contentType.slice(semi + 1);
  const inner = mediaParam(params, 'type');
  const boundary = mediaParam(params, 'boundary');
  // A multipart body without a DICOM type parameter can still hold DICOM parts (the parts say):
  // the boundary is what we need.
  if (boundary === null || (inner !== null && !/^application\/(dicom|octet-stream)/i.test(inner))) return null;
  return { kind: 'multipart', boundary };
}
