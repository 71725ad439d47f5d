import { describe, expect, it } from 'vitest';
import { Message } from 'node-hl7-client';
import { Hl7Scanner, readAck, readEquipment, readHeader } from '../../../protocols/hl7/message.js';
import { decodeText, DEFAULT_DELIMITERS } from '../../../protocols/hl7/escape.js';
import { charsetFromMsh18 } from '../../../protocols/hl7/charset.js';

function scan(text: string | Buffer): Hl7Scanner {
  const sc = new Hl7Scanner();
  const b = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const big = Buffer.concat([Buffer.from('ZZZ'), b, Buffer.from('|||\r')]); // bytes around the view
  expect(sc.scan(big, 3, b.length)).toBeGreaterThan(0);
  sc.useHeader(0);
  return sc;
}

function seg(sc: Hl7Scanner, name: string, nth = 0): number {
  const id = (name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2);
  for (let s = 0, k = 0; s < sc.count; s++) if (sc.segId[s] === id && k++ === nth) return s;
  throw new Error(`no ${name}`);
}

/** Compares our value for SEG.F.C with node-hl7-client's on the same message. */
function agree(text: string, paths: string[]) {
  const oracle = new Message({ text });
  const sc = scan(text);
  for (const p of paths) {
    const [name, f, c] = p.split('.');
    const ours = sc.componentText(seg(sc, name), Number(f), Number(c ?? 1));
    expect(ours, p).toBe(oracle.get(p).toString());
  }
}

const ORU =
  'MSH|^~\\&|LAB^1.2.3^ISO|OUS|EPJ|OUS|20240312101500||ORU^R01^ORU_R01|C0001|P|2.5.1|||AL|NE|NOR|8859/1\r' +
  'PID|1||14078521210^^^NOFNR^NNNOR~A123^^^OUS^PI||NORDMANN^KARI^^^FRU||19850714|F\r' +
  'OBR|1|ORD1|FIL1|24331-1^Lipid panel^LN\r' +
  'OBX|1|TX|NOTE^Note^L||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X41\\||||||F|||||||MONITOR-7^BEDSIDE^1.2.3^ISO~PUMP-2\r' +
  'PRT|1|AD||OP||||||||||||UDI-0001^GS1';

describe('message model vs node-hl7-client', () => {
  it('reads header, components, repetitions and escapes like the oracle', () => {
    agree(ORU, ['MSH.3.1', 'MSH.3.2', 'MSH.4.1', 'MSH.9.1', 'MSH.9.2', 'MSH.9.3', 'MSH.10.1', 'MSH.12.1', 'PID.3.1', 'PID.3.4', 'PID.5.1', 'PID.5.2', 'OBX.5.1']);
    const sc = scan(ORU);
    expect(sc.componentText(seg(sc, 'OBX'), 5, 1)).toBe('a|b^c&d~e\\fA');
  });

  it('handles custom encoding characters (MSH#$*@%)', () => {
    const text = 'MSH#$*@%#APP$X#FAC#R#F#2024##ADT$A01#C1#P#2.5\rPID#1##9*8##N@F@N$K@S@Q';
    agree(text, ['MSH.3.1', 'MSH.3.2', 'MSH.9.1', 'MSH.9.2', 'MSH.10.1', 'PID.5.1', 'PID.5.2', 'PID.3.1']);
    const sc = scan(text);
    const h = readHeader(sc, 0);
    // An HD with a universal id but no table-0301 type: only the namespace id is reported.
    expect(h.sendingApplication).toBe('APP');
    expect(h.messageCode + '^' + h.triggerEvent).toBe('ADT^A01');
    expect(sc.componentText(seg(sc, 'PID'), 5, 2)).toBe('K$Q');
  });

  it.each([
    ['CR', '\r'],
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('accepts %s segment terminators', (_n, t) => {
    const text = ORU.replace(/\r/g, t) + t;
    const sc = scan(text);
    expect(sc.count).toBe(5);
    agree(text, ['MSH.10.1', 'PID.5.1', 'OBX.3.2']);
    expect(readHeader(sc, 0).controlId).toBe('C0001');
  });

  it('skips empty segments and leading whitespace', () => {
    const sc = scan('\r\n' + 'MSH|^~\\&|A||||||ACK|9|P|2.4\r\rMSA|AE|C0001|text\r\rERR|PID^1^3^204&Unknown key&HL70357');
    expect(sc.count).toBe(3);
    expect(readAck(sc, 0, 3)).toEqual({ code: 'AE', controlId: 'C0001', errorCodes: ['204'], severities: [] });
  });

  it('reads ERR-3 and ERR-4 (v2.5)', () => {
    const sc = scan('MSH|^~\\&|A||||||ACK^R01^ACK|9|P|2.5.1\rMSA|AR|X1|why\rERR|||200^Unsupported message type^HL70357|E||||why');
    expect(readAck(sc, 0, sc.count)).toEqual({ code: 'AR', controlId: 'X1', errorCodes: ['200'], severities: ['E'] });
  });

  it('extracts every header field', () => {
    const sc = scan(ORU);
    expect(readHeader(sc, 0)).toEqual({
      messageCode: 'ORU',
      triggerEvent: 'R01',
      messageStructure: 'ORU_R01',
      controlId: 'C0001',
      processingId: 'P',
      version: '2.5.1',
      dateTime: '20240312101500',
      sendingApplication: 'LAB^1.2.3^ISO',
      sendingFacility: 'OUS',
      receivingApplication: 'EPJ',
      receivingFacility: 'OUS',
      acceptAckType: 'AL',
      applicationAckType: 'NE',
      charset: 'iso-8859-1',
    });
  });

  it('extracts PRT-16 and OBX-18 equipment identifiers', () => {
    const sc = scan(ORU);
    expect(readEquipment(sc, 0, sc.count)).toEqual(['MONITOR-7^BEDSIDE^1.2.3^ISO', 'PUMP-2', 'UDI-0001^GS1']);
  });

  it('rejects what is not HL7', () => {
    const sc = new Hl7Scanner();
    for (const s of ['', 'GET / HTTP/1.1\r\n', 'MSH', 'MSHA^~\\&|x|y', 'PID|1||x\r']) {
      expect(sc.scan(Buffer.from(s), 0, s.length)).toBe(0);
    }
  });

  it('survives a segment full of delimiters', () => {
    const sc = new Hl7Scanner();
    const b = Buffer.from('MSH|^~\\&|A|B\rOBX' + '|'.repeat(300_000) + '\rPID|1||x', 'latin1');
    expect(() => sc.scan(b, 0, b.length)).not.toThrow();
    expect(sc.truncated).toBe(true);
  });
});

describe('character sets (MSH-18)', () => {
  const name = 'BJØRNSTAD^ÅSE^Ærlig';
  const msg = (cs: string) => `MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5|||||NOR|${cs}\rPID|1||x||${name}`;

  it('decodes 8859/1', () => {
    const sc = scan(Buffer.from(msg('8859/1'), 'latin1'));
    expect(sc.charset.name).toBe('iso-8859-1');
    expect(sc.componentText(1, 5, 1) + '^' + sc.componentText(1, 5, 2)).toBe('BJØRNSTAD^ÅSE');
  });

  it('decodes UNICODE UTF-8', () => {
    const sc = scan(Buffer.from(msg('UNICODE UTF-8'), 'utf8'));
    expect(sc.charset.name).toBe('utf-8');
    expect(sc.componentText(1, 5, 3)).toBe('Ærlig');
  });

  it('guesses UTF-8 vs Latin-1 when MSH-18 is empty', () => {
    expect(scan(Buffer.from(msg(''), 'utf8')).componentText(1, 5, 1)).toBe('BJØRNSTAD');
    expect(scan(Buffer.from(msg(''), 'latin1')).componentText(1, 5, 1)).toBe('BJØRNSTAD');
  });

  it('decodes \\Xhh\\ as bytes of the message charset', () => {
    const d = DEFAULT_DELIMITERS;
    const b = Buffer.from('BJ\\XC398\\RN \\.br\\x\\H\\y\\N\\', 'latin1');
    expect(decodeText(b, 0, b.length, d, charsetFromMsh18('UNICODE UTF-8'))).toBe('BJØRN \nxy');
    const l = Buffer.from('BJ\\XD8\\RN', 'latin1');
    expect(decodeText(l, 0, l.length, d, charsetFromMsh18('8859/1'))).toBe('BJØRN');
    expect(charsetFromMsh18('8859/15').name).toBe('iso-8859-15');
  });

  it('keeps malformed escapes literally', () => {
    const d = DEFAULT_DELIMITERS;
    for (const [i, o] of [
      ['a\\b', 'a\\b'],
      ['\\Xz1\\', '\\Xz1\\'],
      ['\\Q\\', '\\Q\\'],
    ]) {
      const b = Buffer.from(i);
      expect(decodeText(b, 0, b.length, d, charsetFromMsh18(''))).toBe(o);
    }
  });
});
