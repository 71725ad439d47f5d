/**
 * HTTP content types that mean health data in the body: HL7 v2 (ER7 or XML) and FHIR.
 * Used to flag cleartext HTTP carrying them. Parameters (charset, fhirVersion) are ignored.
 */

export type HealthContentKind = 'hl7v2' | 'fhir+json' | 'fhir+xml';

const TYPES: Record<string, HealthContentKind> = {
  'application/hl7-v2': 'hl7v2',
  'application/hl7-v2+er7': 'hl7v2',
  'x-application/hl7-v2+er7': 'hl7v2',
  'application/x-hl7': 'hl7v2',
  'application/hl7-v2+xml': 'hl7v2',
  'application/fhir+json': 'fhir+json',
  // DSTU2-era spellings still sent by older servers.
  'application/json+fhir': 'fhir+json',
  'application/fhir+xml': 'fhir+xml',
  'application/xml+fhir': 'fhir+xml',
};

/** Kind of health payload named by a Content-Type (or Accept item), or null. */
export function healthContentKind(contentType: string | undefined | null): HealthContentKind | null {
  if (!contentType) return null;
  // Every health type begins "application/" or "x-application/" (after spaces or tabs).
  const c0 = contentType.charCodeAt(0) | 0x20;
  if (c0 !== 0x61 && c0 !== 0x78 && c0 !== 0x20 && c0 !== 0x29) return null;
  const semi = contentType.indexOf(';');
  const media = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return TYPES[media] ?? null;
}

export function isHealthContentType(contentType: string | undefined | null): boolean {
  return healthContentKind(contentType) !== null;
}
