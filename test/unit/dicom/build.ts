/** Hand-built DICOM PDUs, command sets and data sets for the crafted tests. */

export function pdu(type: number, body: Buffer, length = body.length): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(length >>> 0, 2);
  return Buffer.concat([h, body]);
}

export function item(type: number, body: Buffer, length = body.length): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(length, 2);
  return Buffer.concat([h, body]);
}

const ae = (s: string) => Buffer.from(s.padEnd(16, ' ').slice(0, 16), 'latin1');
const uid = (s: string) => Buffer.from(s, 'latin1');

export interface RqOptions {
  calling?: string;
  called?: string;
  contexts?: { id: number; abstract: string; ts: string[] }[];
  maxPdu?: number;
  user?: Buffer[];
}

export const VERIFICATION = '1.2.840.10008.1.1';
export const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const DEFLATED = '1.2.840.10008.1.2.1.99';

export function associateRq(o: RqOptions = {}): Buffer {
  return associate(0x01, o, false);
}

export function associateAc(o: RqOptions & { results?: number[] } = {}): Buffer {
  return associate(0x02, o, true);
}

function associate(type: number, o: RqOptions & { results?: number[] }, ac: boolean): Buffer {
  const contexts = o.contexts ?? [{ id: 1, abstract: VERIFICATION, ts: [IMPLICIT_LE] }];
  const fixed = Buffer.concat([
    Buffer.from([0x00, 0x01, 0x00, 0x00]),
    ae(o.called ?? 'PACS_MAIN'),
    ae(o.calling ?? 'CT_SCANNER01'),
    Buffer.alloc(32),
  ]);
  const parts = [fixed, item(0x10, uid('1.2.840.10008.3.1.1.1'))];
  contexts.forEach((c, i) => {
    if (ac) {
      const res = o.results?.[i] ?? 0;
      parts.push(item(0x21, Buffer.concat([Buffer.from([c.id, 0, res, 0]), item(0x40, uid(c.ts[0]))])));
    } else {
      parts.push(
        item(0x20, Buffer.concat([Buffer.from([c.id, 0, 0, 0]), item(0x30, uid(c.abstract)), ...c.ts.map((t) => item(0x40, uid(t)))])),
      );
    }
  });
  const max = Buffer.alloc(4);
  max.writeUInt32BE(o.maxPdu ?? 16384);
  const ui = [item(0x51, max), item(0x52, uid('1.2.826.0.1.3680043.9.7777.1')), item(0x55, Buffer.from('MUVAKT_TEST')), ...(o.user ?? [])];
  parts.push(item(0x50, Buffer.concat(ui)));
  return pdu(type, Buffer.concat(parts));
}

export function userIdentity(type: number, primary: string, secondary = ''): Buffer {
  const p = Buffer.from(primary, 'utf8');
  const s = Buffer.from(secondary, 'utf8');
  const b = Buffer.alloc(2 + 2 + p.length + 2 + s.length);
  b[0] = type;
  b[1] = 1;
  b.writeUInt16BE(p.length, 2);
  p.copy(b, 4);
  b.writeUInt16BE(s.length, 4 + p.length);
  s.copy(b, 6 + p.length);
  return item(0x58, b);
}

export const releaseRq = () => pdu(0x05, Buffer.alloc(4));
export const releaseRp = () => pdu(0x06, Buffer.alloc(4));
export const abort = (source = 0, reason = 0) => pdu(0x07, Buffer.from([0, 0, source, reason]));
export const reject = (result = 1, source = 1, reason = 7) => pdu(0x03, Buffer.from([0, result, source, reason]));

export function pdv(ctx: number, mch: number, value: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt32BE(value.length + 2);
  h[4] = ctx;
  h[5] = mch;
  return Buffer.concat([h, value]);
}

export function pdata(...pdvs: Buffer[]): Buffer {
  return pdu(0x04, Buffer.concat(pdvs));
}

type CmdValue = number | string;

/** Group 0000 command set, implicit VR little endian; numbers are US, strings UI/AE. */
export function commandSet(fields: [number, CmdValue][]): Buffer {
  const parts: Buffer[] = [];
  for (const [elem, v] of fields) {
    let val: Buffer;
    if (typeof v === 'number') {
      val = Buffer.alloc(2);
      val.writeUInt16LE(v);
    } else {
      val = Buffer.from(v, 'latin1');
      if (val.length % 2) val = Buffer.concat([val, Buffer.from(elem === 0x0002 || elem === 0x0003 ? [0] : [0x20])]);
    }
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0x0000, 0);
    h.writeUInt16LE(elem, 2);
    h.writeUInt32LE(val.length, 4);
    parts.push(h, val);
  }
  return Buffer.concat(parts);
}

export function storeRq(messageId: number, sop = CT_STORAGE, withDataset = true): Buffer {
  return commandSet([
    [0x0002, sop],
    [0x0100, 0x0001],
    [0x0110, messageId],
    [0x0700, 0],
    [0x0800, withDataset ? 0x0000 : 0x0101],
    [0x1000, '1.2.3.4.5.6.7.8.9.999'],
  ]);
}

export function storeRsp(messageId: number, status = 0, sop = CT_STORAGE): Buffer {
  return commandSet([
    [0x0002, sop],
    [0x0100, 0x8001],
    [0x0120, messageId],
    [0x0800, 0x0101],
    [0x0900, status],
  ]);
}

export interface El {
  tag: number;
  vr: string;
  value?: string | Buffer;
  items?: El[][];
  /** Encode a sequence or item with undefined length. */
  undefinedLength?: boolean;
}

export interface Enc {
  explicit: boolean;
  le: boolean;
}

function u16(n: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(n);
  else b.writeUInt16BE(n);
  return b;
}

function u32(n: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(n >>> 0);
  else b.writeUInt32BE(n >>> 0);
  return b;
}

const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Encodes a data set in any of the three native encodings. */
export function dataset(els: El[], enc: Enc): Buffer {
  const out: Buffer[] = [];
  for (const e of els) {
    const tag = Buffer.concat([u16(e.tag >>> 16, enc.le), u16(e.tag & 0xffff, enc.le)]);
    let value: Buffer;
    if (e.vr === 'SQ') {
      const items = (e.items ?? []).map((it) => {
        const body = dataset(it, enc);
        const itemTag = Buffer.concat([u16(0xfffe, enc.le), u16(0xe000, enc.le)]);
        if (e.undefinedLength) {
          const delim = Buffer.concat([u16(0xfffe, enc.le), u16(0xe00d, enc.le), u32(0, enc.le)]);
          return Buffer.concat([itemTag, u32(0xffffffff, enc.le), body, delim]);
        }
        return Buffer.concat([itemTag, u32(body.length, enc.le), body]);
      });
      value = Buffer.concat(items);
      if (e.undefinedLength) value = Buffer.concat([value, u16(0xfffe, enc.le), u16(0xe0dd, enc.le), u32(0, enc.le)]);
    } else {
      value = typeof e.value === 'string' ? Buffer.from(e.value, 'latin1') : (e.value ?? Buffer.alloc(0));
      if (value.length % 2) value = Buffer.concat([value, Buffer.from([0x20])]);
    }
    const len = e.vr === 'SQ' && e.undefinedLength ? 0xffffffff : value.length;
    if (!enc.explicit) out.push(tag, u32(len, enc.le), value);
    else if (LONG.has(e.vr)) out.push(tag, Buffer.from(e.vr), Buffer.alloc(2), u32(len, enc.le), value);
    else out.push(tag, Buffer.from(e.vr), u16(len, enc.le), value);
  }
  return Buffer.concat(out);
}

/** A typical image header followed by (large) pixel data. */
export function imageDataset(enc: Enc, patient: { name: string; id: string; birth: string }, pixels: number): Buffer {
  return dataset(
    [
      { tag: 0x00080016, vr: 'UI', value: CT_STORAGE },
      { tag: 0x00080050, vr: 'SH', value: 'A99001' },
      { tag: 0x00080060, vr: 'CS', value: 'CT' },
      { tag: 0x00080070, vr: 'LO', value: 'Acme Medical' },
      { tag: 0x00081010, vr: 'SH', value: 'CT_ROOM_2' },
      { tag: 0x00081090, vr: 'LO', value: 'Scanomat 9000' },
      { tag: 0x00100010, vr: 'PN', value: patient.name },
      { tag: 0x00100020, vr: 'LO', value: patient.id },
      { tag: 0x00100030, vr: 'DA', value: patient.birth },
      {
        tag: 0x00101002,
        vr: 'SQ',
        undefinedLength: true,
        items: [[{ tag: 0x00100020, vr: 'LO', value: '41017510078' }]],
      },
      { tag: 0x00181020, vr: 'LO', value: 'VA40B' },
      { tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(pixels, 0x5a) },
    ],
    enc,
  );
}

/** Splits a data set into P-DATA-TF PDUs of at most `max` bytes of fragment each. */
export function datasetPdus(ctx: number, ds: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < ds.length; p += max) {
    const frag = ds.subarray(p, Math.min(ds.length, p + max));
    const last = p + max >= ds.length;
    out.push(pdata(pdv(ctx, last ? 0x02 : 0x00, frag)));
  }
  return out;
}
