/** Test support shared by the HL7 suites. Not a test file. */
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import { Hl7StreamParser, type Hl7ParserOptions } from '../../../protocols/hl7/parser.js';
import type { Hl7MessageRecord, Hl7Record, Hl7UndeliveredRecord, PhiObservedRecord } from '../../../protocols/hl7/records.js';

export const TEST_KEY = Buffer.from('6d757661 6b742d74 6573742d 6b65792d 30303031'.replace(/ /g, ''), 'hex');
export const pseudonymize = createPseudonymizer(TEST_KEY);

export const VT = '\x0b';
export const END = '\x1c\r';
export const mllp = (msg: string) => `${VT}${msg}${END}`;

export interface Harness {
  parser: Hl7StreamParser;
  records: Hl7Record[];
  messages: () => Hl7MessageRecord[];
  originals: () => Hl7MessageRecord[];
  responses: () => Hl7MessageRecord[];
  undelivered: () => Hl7UndeliveredRecord[];
  phi: () => PhiObservedRecord[];
  send: (dir: 0 | 1, data: string | Buffer, tsSec?: number, tsNsec?: number) => number;
}

export function harness(opts: Partial<Hl7ParserOptions> = {}): Harness {
  const records: Hl7Record[] = [];
  const parser = new Hl7StreamParser({ emit: (r) => records.push(r), pseudonymize, ...opts });
  const messages = () => records.filter((r): r is Hl7MessageRecord => r.type === 'hl7.message');
  return {
    parser,
    records,
    messages,
    originals: () => messages().filter((m) => m.acknowledgment === undefined),
    responses: () => messages().filter((m) => m.acknowledgment !== undefined),
    undelivered: () => records.filter((r): r is Hl7UndeliveredRecord => r.type === 'hl7.undelivered'),
    phi: () => records.filter((r): r is PhiObservedRecord => r.type === 'phi.observed'),
    send: (dir, data, tsSec = 1000, tsNsec = 0) => {
      const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      // Embed in a bigger buffer so parsers that read past their view get caught.
      const big = Buffer.alloc(b.length + 64, 0x41);
      b.copy(big, 32);
      return parser.data(dir, big, 32, b.length, tsSec, tsNsec);
    },
  };
}

/** Asserts no planted secret appears in anything the parser produced. */
export function leaks(records: unknown, secrets: string[]): string[] {
  const s = JSON.stringify(records);
  return secrets.filter((x) => s.includes(x));
}
