import { describe, expect, it } from 'vitest';
import { DETACH } from '../../../protocols/stream.js';
import { harness, leaks, mllp, pseudonymize } from './support.js';
import { chunked } from './tcp-streams.js';

const msh = (id: string, type = 'ADT^A01^ADT_A01', extra = '') =>
  `MSH|^~\\&|EPJ|OUS|RIS|RAD|20240312101500||${type}|${id}|P|2.5.1${extra}`;
const msg = (id: string, type?: string, extra?: string) => `${msh(id, type, extra)}\rPID|1||A${id}^^^OUS^PI||DOE^JOHN`;
const ack = (code: string, id: string, ctl = `ACK${id}`) =>
  `MSH|^~\\&|RIS|RAD|EPJ|OUS|20240312101501||ACK^A01^ACK|${ctl}|P|2.5.1\rMSA|${code}|${id}`;

describe('ACK correlation', () => {
  it('pairs each message with its ACK and computes latency from capture time', () => {
    const h = harness();
    h.send(0, mllp(msg('M1')) + mllp(msg('M2')), 100, 0);
    h.send(1, mllp(ack('AA', 'M2')), 100, 250_000_000);
    h.send(1, mllp(ack('AA', 'M1')), 101, 500_000);
    const o = h.originals();
    expect(o.map((m) => [m.control_id, m.ack_code, m.ack_latency_ms])).toEqual([
      ['M2', 'AA', 250],
      ['M1', 'AA', 1000.5],
    ]);
    expect(h.responses().map((r) => r.acknowledgment?.control_id)).toEqual(['M2', 'M1']);
    expect(h.undelivered()).toEqual([]);
    // The original is emitted before the response that answered it.
    const types = h.records.filter((r) => r.type === 'hl7.message').map((r) => (r as { control_id: string }).control_id);
    expect(types).toEqual(['M2', 'ACKM2', 'M1', 'ACKM1']);
  });

  it('only matches ACKs travelling the other way', () => {
    const h = harness();
    h.send(0, mllp(msg('M1')));
    h.send(0, mllp(ack('AA', 'M1')));
    expect(h.originals()).toEqual([]);
    expect(h.parser.outstanding).toBe(1);
    expect(h.parser.counters.acksUnmatched).toBe(1);
  });

  it.each(['AE', 'AR', 'CE', 'CR'])('reports %s as undelivered', (code) => {
    const h = harness();
    h.send(0, mllp(msg('M1')), 10, 0);
    h.send(1, mllp(`${ack(code, 'M1')}\rERR|||207^Application internal error^HL70357|E`), 10, 5_000_000);
    expect(h.undelivered()).toEqual([
      expect.objectContaining({ reason: 'negative-ack', control_id: 'M1', ack_code: code, ack_latency_ms: 5, error_codes: ['207'], message_type: 'ADT^A01' }),
    ]);
  });

  it('times out as capture time advances, via data() or tick()', () => {
    const h = harness({ ackTimeoutMs: 30_000 });
    h.send(0, mllp(msg('M1')), 100, 0);
    h.send(0, mllp(msg('M2')), 120, 0);
    h.send(0, mllp(msg('M3')), 131, 0); // M1 is now 31 s old
    expect(h.undelivered().map((u) => [u.control_id, u.reason, u.waited_ms])).toEqual([['M1', 'ack-timeout', 31_000]]);
    h.parser.tick(150, 0);
    expect(h.undelivered().map((u) => u.control_id)).toEqual(['M1', 'M2']);
    // A late ACK is counted, not matched.
    h.send(1, mllp(ack('AA', 'M1')), 151, 0);
    expect(h.parser.counters.acksUnmatched).toBe(1);
    expect(h.originals().map((m) => [m.control_id, m.ack_code])).toEqual([
      ['M1', undefined],
      ['M2', undefined],
    ]);
  });

  it('keeps pairing and timing out after every message was answered (the idle connection holds no tracker)', () => {
    const h = harness({ ackTimeoutMs: 1000 });
    h.send(0, mllp(msg('M1')), 100, 0);
    h.send(1, mllp(ack('AA', 'M1')), 100, 5_000_000);
    expect(h.parser.outstanding).toBe(0);
    h.parser.gap(1, 10);
    h.send(0, mllp(msg('M2')), 200, 0);
    h.send(0, mllp(msg('M3')), 200, 0);
    h.send(1, mllp(ack('AA', 'M3')), 200, 1_000_000);
    h.parser.gap(1, 20);
    h.parser.tick(202, 0);
    h.send(0, mllp(msg('M4')), 300, 0);
    h.send(1, mllp(ack('AR', 'M4')), 300, 2_000_000);
    expect(h.originals().map((m) => [m.control_id, m.ack_code, m.ack_latency_ms])).toEqual([
      ['M1', 'AA', 5],
      ['M3', 'AA', 1],
      ['M2', undefined, undefined],
      ['M4', 'AR', 2],
    ]);
    expect(h.undelivered().map((u) => [u.control_id, u.reason, u.waited_ms, u.capture_loss])).toEqual([
      ['M2', 'ack-timeout', 2000, true],
      ['M4', 'negative-ack', undefined, undefined],
    ]);
    expect(h.parser.counters).toMatchObject({ messages: 7, responses: 3, acksMatched: 3, ackTimeouts: 1, negativeAcks: 1, gaps: 2, gapBytes: 30 });
  });

  it('flags a timeout when bytes were lost in the ACK direction', () => {
    const h = harness({ ackTimeoutMs: 1000 });
    h.send(0, mllp(msg('M1')), 100, 0);
    h.parser.gap(1, 300);
    h.parser.tick(102, 0);
    expect(h.undelivered()[0]).toMatchObject({ reason: 'ack-timeout', capture_loss: true });
  });

  it('reports messages outstanding at end() and then detaches', () => {
    const h = harness();
    h.send(0, mllp(msg('M1')), 100, 0);
    h.send(0, mllp(msg('M2')), 100, 100_000_000);
    h.send(1, mllp(ack('AA', 'M1')), 100, 200_000_000);
    h.parser.end('rst');
    h.parser.end('rst');
    expect(h.undelivered().map((u) => [u.control_id, u.reason, u.end_reason, u.waited_ms])).toEqual([['M2', 'connection-closed', 'rst', 100]]);
    expect(h.send(0, mllp(msg('M3')))).toBe(DETACH);
  });

  it('reports an unterminated frame at end() as a message that never arrived', () => {
    const h = harness();
    h.send(0, `\x0b${msg('M1')}`);
    h.parser.end('fin');
    expect(h.originals()[0]).toMatchObject({ control_id: 'M1', unterminated: true });
    expect(h.undelivered()).toMatchObject([{ control_id: 'M1', reason: 'connection-closed' }]);
  });

  it('pairs an ACK with a message whose sender omitted the end block', () => {
    const h = harness();
    h.send(0, `\x0b${msg('M1')}\r`, 1, 0);
    h.send(1, mllp(ack('AA', 'M1')), 1, 1_000_000);
    h.send(0, `\x0b${msg('M2')}\r`, 2, 0);
    h.send(1, mllp(ack('AE', 'M2')), 2, 3_000_000);
    expect(h.originals().map((m) => [m.control_id, m.ack_code, m.ack_latency_ms])).toEqual([
      ['M1', 'AA', 1],
      ['M2', 'AE', 3],
    ]);
    expect(h.parser.counters.acksUnmatched).toBe(0);
  });

  it('caps outstanding messages per connection', () => {
    const h = harness({ maxOutstanding: 3 });
    for (let i = 1; i <= 5; i++) h.send(0, mllp(msg(`M${i}`)));
    expect(h.parser.outstanding).toBe(3);
    expect(h.parser.counters.outstandingOverflow).toBe(2);
    expect(h.originals().map((m) => m.control_id)).toEqual(['M1', 'M2']);
    h.send(1, mllp(ack('AA', 'M4')));
    expect(h.originals().at(-1)).toMatchObject({ control_id: 'M4', ack_code: 'AA' });
  });

  it('matches reused control ids oldest first', () => {
    const h = harness();
    h.send(0, mllp(msg('DUP')), 1, 0);
    h.send(0, mllp(msg('DUP')), 2, 0);
    h.send(1, mllp(ack('AR', 'DUP')), 3, 0);
    h.send(1, mllp(ack('AA', 'DUP')), 4, 0);
    expect(h.originals().map((m) => [m.ts_sec, m.ack_code])).toEqual([
      [1, 'AR'],
      [2, 'AA'],
    ]);
  });

  it('does not wait for ACKs the sender did not ask for (MSH-15/16 NE or ER)', () => {
    const h = harness();
    h.send(0, mllp(msg('N1', undefined, '|||NE|NE')));
    h.send(0, mllp(msg('N2', undefined, '|||ER|ER')));
    h.send(0, mllp(msg('N3', undefined, '|||AL|NE')));
    expect(h.originals().map((m) => m.control_id)).toEqual(['N1', 'N2']);
    expect(h.parser.outstanding).toBe(1);
  });

  it('ignores MLLP release 2 commit acknowledgements', () => {
    const h = harness();
    h.send(0, mllp(msg('M1')));
    h.send(1, '\x0b\x06\x1c\r');
    h.send(1, mllp(ack('AA', 'M1')));
    expect(h.originals()[0].ack_code).toBe('AA');
    expect(h.parser.counters.commitAcks).toBe(1);
  });
});

describe('batches', () => {
  const batch =
    'FHS|^~\\&|LIS|LAB|EPJ|OUS|20240312||||F001\r' +
    'BHS|^~\\&|LIS|LAB|EPJ|OUS|20240312||||B001\r' +
    `${msg('B1', 'ORU^R01^ORU_R01')}\r${msg('B2', 'ORU^R01^ORU_R01')}\r` +
    'BTS|2\rFTS|1';

  it('splits a batch into its messages and applies a batch-level ACK to all', () => {
    const h = harness();
    h.send(0, mllp(batch));
    expect(h.parser.outstanding).toBe(2);
    h.send(1, mllp(ack('AA', 'B001')));
    expect(h.originals().map((m) => [m.control_id, m.batch_control_id, m.ack_code])).toEqual([
      ['B1', 'B001', 'AA'],
      ['B2', 'B001', 'AA'],
    ]);
    expect(h.parser.counters.batches).toBe(1);
  });

  it('matches a batch of ACKs message by message', () => {
    const h = harness();
    h.send(0, mllp(batch));
    h.send(1, mllp(`BHS|^~\\&|EPJ|OUS|LIS|LAB|20240312||||R001\r${ack('AA', 'B1')}\r${ack('AE', 'B2')}\rBTS|2`));
    expect(h.originals().map((m) => m.ack_code)).toEqual(['AA', 'AE']);
    expect(h.undelivered().map((u) => u.control_id)).toEqual(['B2']);
  });
});

describe('unframed HL7', () => {
  it('cuts messages at MSH lines and uses the peer reply as the end of a message', () => {
    const h = harness({ unframed: true });
    const stream = Buffer.from(`${msg('U1')}\r${msg('U2')}\r`, 'latin1');
    for (const c of chunked(stream, [3])) h.send(0, c, 5, 0);
    h.send(1, `${ack('AA', 'U1')}\r`, 5, 2_000_000);
    h.send(1, `${ack('AR', 'U2')}\r`, 5, 4_000_000);
    h.parser.end('fin');
    expect(h.originals().map((m) => [m.control_id, m.ack_code, m.ack_latency_ms])).toEqual([
      ['U1', 'AA', 2],
      ['U2', 'AR', 4],
    ]);
  });

  it('still reads MLLP when the stream starts with a start block', () => {
    const h = harness({ unframed: true });
    h.send(0, mllp(msg('M1')));
    h.send(1, mllp(ack('AA', 'M1')));
    expect(h.originals()[0].ack_code).toBe('AA');
  });
});

describe('robustness', () => {
  it('parses 1-byte chunks with interleaved directions', () => {
    const h = harness();
    const a = Buffer.from(mllp(msg('M1')) + mllp(msg('M2')), 'latin1');
    for (const c of chunked(a, [1])) h.send(0, c);
    for (const c of chunked(Buffer.from(mllp(ack('AA', 'M1')) + mllp(ack('AA', 'M2')), 'latin1'), [1])) h.send(1, c);
    expect(h.originals().map((m) => m.ack_code)).toEqual(['AA', 'AA']);
  });

  it('resyncs after a gap and after a mid-message start', () => {
    const h = harness();
    h.send(0, `|A1^^^X||DOE\x1c\r${mllp(msg('M1'))}\x0b${msg('M2').slice(0, 30)}`);
    h.parser.gap(0, 100);
    h.send(0, `tail\x1c\r${mllp(msg('M3'))}`);
    h.parser.end('fin');
    expect(h.originals().map((m) => m.control_id)).toEqual(['M1', 'M3']);
    expect(h.parser.counters).toMatchObject({ gaps: 1, gapBytes: 100, framesLostToGap: 1 });
  });

  it('keeps memory bounded through a 10 MB frame and parses what follows', () => {
    const h = harness();
    h.send(0, `\x0b${msh('BIG', 'ORU^R01^ORU_R01')}\rOBX|1|ED|PDF||`);
    const block = Buffer.alloc(256 * 1024, 0x41);
    let peak = 0;
    for (let i = 0; i < 40; i++) {
      h.send(0, block);
      peak = Math.max(peak, h.parser.bufferedBytes);
    }
    h.send(0, `\x1c\r${mllp(msg('AFTER'))}`);
    h.send(1, mllp(ack('AA', 'AFTER')));
    expect(peak).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(h.parser.counters.oversizeFrames).toBe(1);
    expect(h.originals().map((m) => m.control_id)).toEqual(['AFTER']);
  });

  it('detaches from a connection that never shows HL7', () => {
    const h = harness({ detachAfterBytes: 4096 });
    let r = 0;
    for (let i = 0; i < 10 && r === 0; i++) r = h.send(0, Buffer.alloc(1000, 0x42));
    expect(r).toBe(DETACH);
  });

  it('counts frames that are not HL7', () => {
    const h = harness();
    h.send(0, '\x0bhello\x1c\r');
    expect(h.parser.counters.nonHl7Frames).toBe(1);
    expect(h.records).toEqual([]);
  });
});

describe('privacy', () => {
  // Synthetic identities: MANIFEST patients plus a D-nummer (fnr.py 14071985 212 --dnum).
  const secrets = ['NORDMANN', 'KARI', '14078521210', '54078521204', '03116210443', 'HANSEN', 'Storgata 1', '+4722334455', '19850714', 'A99887', 'SOLBERG'];
  const phiMsg =
    `${msh('P1', 'ADT^A01^ADT_A01', '|||AL|NE|NOR|8859/1')}\r` +
    'EVN|A01|20240312101500\r' +
    'PID|1||14078521210^^^NOFNR^NNNOR~54078521204^^^NOFNR^NNDNR~A99887^^^OUS^PI||NORDMANN^KARI||19850714|F|||Storgata 1^^OSLO^^0155^NOR||+4722334455||||||03116210443\r' +
    'NK1|1|HANSEN^OLA|FTH\r' +
    'IN1|1|PLAN|X\r' +
    'OBX|1|TX|NOTE||Pasient 03116210443 ringte, mor SOLBERG||||||F\r' +
    'ZPI|1|14078521210';

  it('emits field names, kinds and pseudonyms, never the values', () => {
    const h = harness();
    for (const c of chunked(Buffer.from(mllp(phiMsg), 'latin1'), [13])) h.send(0, c);
    h.send(1, mllp(ack('AA', 'P1')));
    h.parser.end('shutdown');
    const [m] = h.originals();
    expect(m.phi_fields).toEqual(['PID-3', 'PID-5', 'PID-7', 'PID-11', 'PID-13', 'PID-19', 'NK1', 'IN1']);
    const [p] = h.phi();
    expect(p.kinds).toEqual(['d-nummer', 'fodselsnummer', 'patient-id']);
    expect(p.count).toBe(4);
    expect(p.pseudonyms).toEqual([
      pseudonymize('fodselsnummer', '14078521210'),
      pseudonymize('d-nummer', '54078521204'),
      pseudonymize('patient-id', 'A99887'),
      pseudonymize('fodselsnummer', '03116210443'),
    ]);
    expect(leaks(h.records, secrets)).toEqual([]);
    expect(leaks(h.parser.counters, secrets)).toEqual([]);
  });

  it('still reports kinds and counts without a pseudonymizer', () => {
    const h = harness({ pseudonymize: undefined });
    h.send(0, mllp(phiMsg));
    expect(h.phi()[0]).toMatchObject({ kinds: ['d-nummer', 'fodselsnummer', 'patient-id'], count: 4, pseudonyms: [] });
    expect(leaks(h.records, secrets)).toEqual([]);
  });

  it('does not leak through undelivered records or awkward encodings', () => {
    const h = harness({ ackTimeoutMs: 10 });
    const custom = phiMsg.replace(/\|/g, '#').replace('MSH#^~\\&', 'MSH#$*@%').replace(/\^/g, '$').replace(/~/g, '*');
    h.send(0, mllp(custom), 1, 0);
    h.send(0, mllp(phiMsg.replace('|P1|', '|P2|').replace(/\r/g, '\n')), 1, 0);
    h.parser.tick(2, 0);
    expect(h.undelivered().length).toBe(2);
    expect(h.phi().map((p) => p.count)).toEqual([4, 4]);
    expect(leaks(h.records, secrets)).toEqual([]);
  });
});
