/**
 * DICOM objects made by dcmtk (dump2dcm) with planted patient values, and the HTTP messages
 * of DICOMweb around them (multipart/related bodies, DICOM JSON).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Valid fødselsnumre made by fixtures/corpus/scripts/fnr.py (23091977 310, 02031988 120). */
export const FNR = '23097731047';
export const FNR_2 = '02038812095';
export const PATIENT_NAME = 'NORDMANN^KARI';
export const PATIENT_NAME_2 = 'HANSEN^OLA';
export const BIRTH_DATE = '19770923';
export const STUDY_UID = '1.2.826.0.1.3680043.8.498.4711';
export const SERIES_UID = '1.2.826.0.1.3680043.8.498.4712';
export const INSTANCE_UID = '1.2.826.0.1.3680043.8.498.4713';

export interface DicomFileOptions {
  patientName?: string;
  patientId?: string;
  instanceUid?: string;
  /** Bytes of Pixel Data (random). */
  pixelBytes?: number;
  /** dump2dcm transfer syntax option: +te explicit VR LE (default), +ti implicit VR LE, +tb big endian. */
  syntax?: '+te' | '+ti' | '+tb';
}

/** A DICOM Part 10 file (preamble, DICM, meta group, data set, Pixel Data) written by dump2dcm. */
export function dicomFile(o: DicomFileOptions = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'muvakt-dicomweb-'));
  try {
    const side = 64;
    const pixels = o.pixelBytes ?? side * side;
    writeFileSync(join(dir, 'pix.raw'), Buffer.from(Array.from({ length: pixels }, (_, i) => (i * 7 + 13) & 0xff)));
    const rows = Math.max(1, Math.floor(pixels / side));
    writeFileSync(
      join(dir, 'obj.dump'),
      [
        '(0008,0016) UI =SecondaryCaptureImageStorage',
        `(0008,0018) UI [${o.instanceUid ?? INSTANCE_UID}]`,
        '(0008,0060) CS [OT]',
        `(0010,0010) PN [${o.patientName ?? PATIENT_NAME}]`,
        `(0010,0020) LO [${o.patientId ?? FNR}]`,
        `(0010,0030) DA [${BIRTH_DATE}]`,
        `(0020,000d) UI [${STUDY_UID}]`,
        `(0020,000e) UI [${SERIES_UID}]`,
        '(0028,0002) US 1',
        '(0028,0004) CS [MONOCHROME2]',
        `(0028,0010) US ${rows}`,
        `(0028,0011) US ${side}`,
        '(0028,0100) US 8',
        '(0028,0101) US 8',
        '(0028,0102) US 7',
        '(0028,0103) US 0',
        '(7fe0,0010) OB =pix.raw',
        '',
      ].join('\n'),
    );
    execFileSync('dump2dcm', [o.syntax ?? '+te', join(dir, 'obj.dump'), join(dir, 'obj.dcm')], { cwd: dir, stdio: 'pipe' });
    return readFileSync(join(dir, 'obj.dcm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A multipart/related body of the parts, and its boundary. */
export function multipart(parts: { type: string; body: Buffer; location?: string }[], boundary = 'DICOMwebBoundary-7f3a'): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${p.type}\r\n${p.location ? `Content-Location: ${p.location}\r\n` : ''}\r\n`, 'latin1'));
    chunks.push(p.body);
    chunks.push(Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(chunks);
}

/** A QIDO-RS study result in the DICOM JSON model, with the planted values. */
export function qidoJson(patientName = PATIENT_NAME, patientId = FNR): Buffer {
  return Buffer.from(
    JSON.stringify([
      {
        '00080020': { vr: 'DA', Value: ['20240105'] },
        '00080050': { vr: 'SH' },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: patientName }] },
        '00100020': { vr: 'LO', Value: [patientId] },
        '00100030': { vr: 'DA', Value: [BIRTH_DATE] },
        '0020000D': { vr: 'UI', Value: [STUDY_UID] },
        '00101002': { vr: 'SQ', Value: [{ '00100020': { vr: 'LO', Value: [FNR_2] } }] },
      },
    ]),
    'utf8',
  );
}

/** Strings that must never appear in any output. */
export const PLANTED = [FNR, FNR_2, PATIENT_NAME, PATIENT_NAME_2, 'NORDMANN', 'KARI', 'HANSEN', BIRTH_DATE, STUDY_UID, SERIES_UID, INSTANCE_UID];
