/**
 * Recognising a PDU boundary in the middle of a byte stream, after a gap or a bogus length.
 * Each check combines the type, the zero reserved byte, a length that fits the type and a
 * few fields of what must follow, so random bytes (pixel data, another protocol) pass with
 * odds far below 1e-9 per position.
 */
import { ASSOCIATE_FIXED_LENGTH, PDV_HEADER_LENGTH, PduType } from './pdu-types.js';

/** P-DATA header plus the first PDV header: the longest signature we check. */
export const SIG_BYTES = 12;

export interface SignatureLimits {
  maxPdu: number;
  maxAssocPdu: number;
  /** Accepted presentation context ids, when the AC was seen; a PDV must name one. */
  contexts: ReadonlyMap<number, unknown> | undefined;
}

/** Bytes needed to judge a candidate starting with this type byte. */
export function signatureBytes(type: number): number {
  return type === PduType.PData || type === PduType.AssociateRq || type === PduType.AssociateAc ? SIG_BYTES : 10;
}

export function isPduSignature(w: Buffer, have: number, lim: SignatureLimits): boolean {
  if (have < 10 || w[1] !== 0) return false;
  const type = w[0];
  const len = w.readUInt32BE(2);
  switch (type) {
    case PduType.AssociateRq:
    case PduType.AssociateAc:
      // Protocol version 1, then the first two characters of the called AE title.
      return (
        have >= SIG_BYTES &&
        len >= ASSOCIATE_FIXED_LENGTH &&
        len <= lim.maxAssocPdu &&
        w[6] === 0 &&
        w[7] === 1 &&
        w[10] > 0x20 &&
        w[10] < 0x7f &&
        w[11] >= 0x20 &&
        w[11] < 0x7f
      );
    case PduType.AssociateRj:
      return len === 4 && w[6] === 0 && (w[7] === 1 || w[7] === 2) && w[8] >= 1 && w[8] <= 3 && w[9] <= 7;
    case PduType.PData: {
      if (have < SIG_BYTES || len < PDV_HEADER_LENGTH || len > lim.maxPdu) return false;
      const pdv = w.readUInt32BE(6);
      const ctx = w[10];
      // Presentation context ids are odd (PS3.8 §9.3.2.2); only two MCH bits are defined.
      if (pdv < 2 || pdv > len - 4 || (ctx & 1) === 0 || w[11] > 3) return false;
      return lim.contexts === undefined || lim.contexts.size === 0 || lim.contexts.has(ctx);
    }
    case PduType.ReleaseRq:
    case PduType.ReleaseRp:
      return len === 4 && w[6] === 0 && w[7] === 0 && w[8] === 0 && w[9] === 0;
    case PduType.Abort:
      return len === 4 && w[6] === 0 && w[7] === 0 && (w[8] === 0 || w[8] === 2) && w[9] <= 6;
    default:
      return false;
  }
}
