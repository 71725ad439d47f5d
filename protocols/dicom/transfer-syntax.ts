/**
 * What a transfer syntax means for reading a data set's first bytes. Every transfer syntax
 * except the three native ones and deflate encodes the data set as explicit VR little endian
 * (only Pixel Data is encapsulated), so that is the default for UIDs we do not know.
 */

export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LE = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BE = '1.2.840.10008.1.2.2';

export interface DatasetEncoding {
  explicitVr: boolean;
  littleEndian: boolean;
  /** Deflated data sets are reported, never inflated (a zip bomb costs us nothing). */
  deflated: boolean;
}

const IMPLICIT: DatasetEncoding = { explicitVr: false, littleEndian: true, deflated: false };
const EXPLICIT: DatasetEncoding = { explicitVr: true, littleEndian: true, deflated: false };
const BIG: DatasetEncoding = { explicitVr: true, littleEndian: false, deflated: false };
const DEFLATED: DatasetEncoding = { explicitVr: true, littleEndian: true, deflated: true };

export function datasetEncoding(uid: string): DatasetEncoding {
  switch (uid) {
    case IMPLICIT_VR_LE:
      return IMPLICIT;
    case EXPLICIT_VR_BE:
      return BIG;
    case DEFLATED_EXPLICIT_VR_LE:
    case '1.2.840.10008.1.2.8.1': // JPIP Referenced Deflate
      return DEFLATED;
    default:
      return EXPLICIT;
  }
}

const NAMES = new Map<string, string>([
  [IMPLICIT_VR_LE, 'Implicit VR Little Endian'],
  [EXPLICIT_VR_LE, 'Explicit VR Little Endian'],
  ['1.2.840.10008.1.2.1.98', 'Encapsulated Uncompressed Explicit VR Little Endian'],
  [DEFLATED_EXPLICIT_VR_LE, 'Deflated Explicit VR Little Endian'],
  [EXPLICIT_VR_BE, 'Explicit VR Big Endian (Retired)'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)'],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)'],
  ['1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction'],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless Image Compression'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless) Image Compression'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 Image Compression (Lossless Only)'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000 Image Compression'],
  ['1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level'],
  ['1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1'],
  ['1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1'],
  ['1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1'],
  ['1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Image Compression (Lossless Only)'],
  ['1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression'],
  ['1.2.840.10008.1.2.5', 'RLE Lossless'],
]);

export function transferSyntaxName(uid: string): string | undefined {
  return NAMES.get(uid);
}
