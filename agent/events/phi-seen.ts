/**
 * Whether an analyzer's record (or the event made of it) reports patient data seen in the
 * clear: a `phi.observed` from any scanner, or a DICOM operation (DIMSE or DICOMweb) or HL7 message that carried
 * patient fields. One definition for the /metrics counter and the flow history.
 */
export function carriesCleartextPhi(e: { type: string; phi_fields?: readonly string[] }): boolean {
  if (e.type === 'phi.observed') return true;
  return (e.type === 'dicom.dimse' || e.type === 'dicomweb.request' || e.type === 'hl7.message') && e.phi_fields !== undefined && e.phi_fields.length > 0;
}
