/**
 * How a fuzz input drives a parser. A stream or datagram target reads its input as a script of
 * records `[flags u8][length u16 BE][bytes]`: flags bit 0 is the direction (to server / to
 * client), bit 1 a capture gap of `length` bytes instead of data, bit 2 a span of `length` bytes
 * the reassembler skipped because the parser asked it to (recorded seeds replay faithfully). Mutating the script mutates the
 * payload and also the chunking, directions and gaps, which is where reassembly-facing parsers
 * break. Read leniently: a short last record takes what is left.
 */
import { Direction } from '../../protocols/stream.js';

export const enum RecordFlag {
  ToClient = 1,
  Gap = 2,
  Skipped = 4,
}

export interface ScriptRecord {
  dir: Direction;
  gap: boolean;
  skipped: boolean;
  /** Offset and length of the bytes in the script (for a gap: length only). */
  off: number;
  len: number;
}

export function* records(script: Buffer): Generator<ScriptRecord> {
  let i = 0;
  while (i + 3 <= script.length) {
    const flags = script[i];
    const declared = script.readUInt16BE(i + 1);
    i += 3;
    const gap = (flags & RecordFlag.Gap) !== 0;
    const skipped = !gap && (flags & RecordFlag.Skipped) !== 0;
    const dir = (flags & RecordFlag.ToClient) !== 0 ? Direction.ToClient : Direction.ToServer;
    if (gap || skipped) {
      yield { dir, gap, skipped, off: i, len: declared };
      continue;
    }
    const len = Math.min(declared, script.length - i);
    yield { dir, gap, skipped, off: i, len };
    i += len;
  }
}

/** Writes records as a script (for seeds recorded from real traffic). */
export class ScriptWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly maxBytes: number) {}

  get full(): boolean {
    return this.size >= this.maxBytes;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number): void {
    for (let p = 0; p < len && !this.full; p += 0xffff) {
      const n = Math.min(0xffff, len - p, this.maxBytes - this.size);
      const h = Buffer.alloc(3);
      h[0] = dir === Direction.ToClient ? RecordFlag.ToClient : 0;
      h.writeUInt16BE(n, 1);
      this.parts.push(h, Buffer.from(buf.subarray(off + p, off + p + n)));
      this.size += 3 + n;
    }
  }

  gap(dir: Direction, len: number): void {
    this.span(RecordFlag.Gap, dir, len);
  }

  skipped(dir: Direction, len: number): void {
    this.span(RecordFlag.Skipped, dir, len);
  }

  private span(flag: RecordFlag, dir: Direction, len: number): void {
    for (let left = len; left > 0 && !this.full; left -= 0xffff) {
      const h = Buffer.alloc(3);
      h[0] = flag | (dir === Direction.ToClient ? RecordFlag.ToClient : 0);
      h.writeUInt16BE(Math.min(left, 0xffff), 1);
      this.parts.push(h);
      this.size += 3;
    }
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
