import { describe, expect, it } from 'vitest';
import { DicomStreamParser } from '../../../protocols/dicom/parser.js';
import type { DicomAssociationRecord, DicomRecord } from '../../../protocols/dicom/records.js';
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import { Direction } from '../../../protocols/stream.js';
import { timeRatio } from '../../support/relative-time.js';
import { associateRq, CT_STORAGE } from './build.js';

const pseudonymize = createPseudonymizer(Buffer.alloc(16, 9));

/** 128 presentation contexts of 64 transfer syntaxes each: all distinct (worst case) or the same 64 in each. */
function rq(distinct: boolean): Buffer {
  const contexts = Array.from({ length: 128 }, (_, c) => ({
    id: 2 * c + 1,
    abstract: `${CT_STORAGE}.${c}`,
    ts: Array.from({ length: 64 }, (_, t) => `1.2.840.10008.1.2.4.${distinct ? c * 64 + t : t}`),
  }));
  return associateRq({ contexts, maxPdu: 1 << 20 });
}

function parse(buf: Buffer): DicomAssociationRecord {
  const records: DicomRecord[] = [];
  const p = new DicomStreamParser({ emit: (r) => records.push(r), pseudonymize });
  p.data(Direction.ToServer, buf, 0, buf.length, 1, 0);
  p.end('fin');
  return records.find((r): r is DicomAssociationRecord => r.type === 'dicom.association')!;
}

describe('DICOM association summary under many distinct transfer syntaxes', () => {
  it('de-duplicates 8,192 distinct proposed transfer syntaxes within 3x the time of 64 repeated ones', () => {
    const worst = rq(true);
    const normal = rq(false);
    const w = parse(worst);
    expect(w.proposed_transfer_syntaxes?.length ?? 0).toBeGreaterThan(1000); // the worst case was reached
    expect(parse(normal).proposed_transfer_syntaxes).toHaveLength(64);
    const r = timeRatio(() => {
      for (let i = 0; i < 3; i++) parse(worst);
    }, () => {
      for (let i = 0; i < 3; i++) parse(normal);
    });
    expect(r.ratio, `distinct ${r.worstMs.toFixed(1)} ms, repeated ${r.normalMs.toFixed(1)} ms`).toBeLessThan(3);
  });
});
