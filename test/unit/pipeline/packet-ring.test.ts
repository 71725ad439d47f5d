import { describe, expect, it } from 'vitest';
import { createRingBuffer, RecordKind, RingReader, RingWriter } from '../../../agent/capture/packet-ring.js';
import { newPacketRecord } from '../../../agent/capture/packet-record.js';

/** A frame whose bytes say which record it is. */
function frame(i: number) {
  const rec = newPacketRecord();
  const len = 60 + ((i * 37) % 1400);
  rec.buf = Buffer.alloc(len + 3, i & 0xff);
  rec.off = 3;
  rec.capLen = len;
  rec.origLen = len + 10;
  rec.linkType = 1;
  rec.tsSec = 1_700_000_000 + i;
  rec.tsNsec = i * 1000;
  return rec;
}

describe('packet ring', () => {
  it('carries records through many wraps in order, with their bytes, and refuses a record when full', () => {
    const sab = createRingBuffer(64 * 1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    let written = 0;
    let read = 0;
    let refusals = 0;
    while (read < 5000) {
      // Fill until the ring refuses, then read part of it back.
      while (written < 5000 && w.tryPut(RecordKind.Packet, 2 ** 33 + written, frame(written).tsSec, frame(written).tsNsec, frame(written))) written++;
      if (written < 5000) refusals++;
      if (read === 0) expect(r.next()).toBe(false); // nothing is visible before it is published
      w.publish();
      for (let k = 0; k < 20 && r.next(); k++) {
        const want = frame(read);
        expect(r.kind).toBe(RecordKind.Packet);
        expect(r.seq).toBe(2 ** 33 + read);
        expect([r.rec.tsSec, r.rec.tsNsec, r.rec.capLen, r.rec.origLen, r.rec.linkType]).toEqual([want.tsSec, want.tsNsec, want.capLen, want.origLen, 1]);
        const bytes = r.rec.buf.subarray(r.rec.off, r.rec.off + r.rec.capLen);
        expect(bytes.equals(want.buf.subarray(3))).toBe(true);
        read++;
      }
      r.release();
    }
    expect(refusals).toBeGreaterThan(100);
    expect(r.next()).toBe(false);
  });

  it('carries control records with their argument and no frame', () => {
    const sab = createRingBuffer(64 * 1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    expect(w.tryPut(RecordKind.Clock, 7, 1_700_000_001, 500, null)).toBe(true);
    expect(w.tryPut(RecordKind.End, 8, 0, 0, null, 2)).toBe(true);
    w.publish();
    expect(r.next()).toBe(true);
    expect([r.kind, r.seq, r.rec.tsSec, r.rec.tsNsec, r.rec.capLen]).toEqual([RecordKind.Clock, 7, 1_700_000_001, 500, 0]);
    expect(r.next()).toBe(true);
    expect([r.kind, r.seq, r.arg]).toEqual([RecordKind.End, 8, 2]);
    expect(r.next()).toBe(false);
  });

  it('a failed reader stops the writer from waiting', () => {
    const sab = createRingBuffer(64 * 1024);
    const w = new RingWriter(sab);
    new RingReader(sab).fail();
    expect(w.readerFailed).toBe(true);
    w.waitForSpace(10_000); // returns at once
  });
});
