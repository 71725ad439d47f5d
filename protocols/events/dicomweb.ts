import * as Type from 'typebox';
import { type Static } from 'typebox';
import { closed, flowEventSchema, oneOf, Strings, type RecordOf } from './common.js';
import { PatientIdObservationSchema } from './dicom.js';

/**
 * DICOMweb (QIDO-RS, WADO-RS, STOW-RS) over HTTP/1.x. The HTTP facts of the same exchange are
 * in its `http` event; this one says what was asked of the image archive and which patient
 * elements travelled, by keyword. No UID, query value or element value is ever reported: the
 * path is a template, identifiers are keyed pseudonyms.
 */

export const DicomwebBodySchema = closed(
  {
    media_type: Type.String({ description: 'application/dicom, application/dicom+json or multipart/related' }),
    parts: Type.Integer({ description: 'multipart/related: parts seen (any type)' }),
    inspected_objects: Type.Integer({ description: 'DICOM objects (Part 10) and DICOM JSON documents inspected' }),
    bytes_inspected: Type.Integer({ description: 'Bytes looked at by the data-set walk or the JSON scan' }),
    bytes_skipped: Type.Integer({ description: 'Body bytes not inspected: Pixel Data, other parts, the rest past a cap' }),
    truncated: Type.Boolean({ description: 'An inspection stopped (cap, gap, bad bytes) before its object ended' }),
    transfer_syntaxes: Type.Optional(Strings('Transfer syntax UIDs of the Part 10 objects')),
  },
  'How a message body was inspected',
);

export const DicomwebRequestEventSchema = flowEventSchema('dicomweb.request', 'One per DICOMweb exchange (QIDO-RS search, WADO-RS retrieve, STOW-RS store) over HTTP/1.x', {
  service: oneOf(['qido', 'wado', 'stow'], 'QIDO-RS (search), WADO-RS (retrieve) or STOW-RS (store)'),
  level: oneOf(['study', 'series', 'instance'], 'The deepest level the path names (for a search, the level searched)'),
  resource: Type.Optional(oneOf(['metadata', 'rendered', 'thumbnail', 'frames', 'bulkdata', 'pixeldata'], 'WADO-RS: the resource retrieved, when not the objects themselves')),
  http_method: Type.String(),
  url: Type.String({ description: 'The path as a template: UIDs and numbers replaced by {id}' }),
  status: Type.Optional(Type.Integer({ description: 'HTTP status of the response' })),
  query_keys: Type.Optional(Strings('QIDO-RS: DICOM attributes used as query keys, by keyword (00100020 and PatientID both give PatientID)')),
  media_types: Strings('DICOM media types named in Accept or Content-Type of the request or response'),
  phi_fields: Strings('Patient elements present with a value, by keyword: query keys with a value, elements of the data sets and DICOM JSON'),
  phi_sources: Type.Optional(Type.Array(oneOf(['query', 'request', 'response'], 'Where'), { description: 'Where the patient elements were seen: query string, request body, response body' })),
  patient_ids: Type.Optional(Type.Array(PatientIdObservationSchema)),
  request_body: Type.Optional(DicomwebBodySchema),
  response_body: Type.Optional(DicomwebBodySchema),
  incomplete: Type.Optional(Type.Boolean({ description: 'The request was not answered' })),
});
export type DicomwebRequestEvent = Static<typeof DicomwebRequestEventSchema>;
export type DicomwebRequestRecord = RecordOf<DicomwebRequestEvent>;
