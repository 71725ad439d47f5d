/**
 * HL7 ACK tracking when every message reuses one control id (MSH-10) versus unique ids: a
 * sender whose messages are never acknowledged fills the table of outstanding messages (10,000)
 * and, with one id, every message lands on the same chain. The goal is the same speed either
 * way (ratio ≤ 1.5). Paired, interleaved runs; prints medians. Not a unit test.
 *
 *   npm run build && node dist/test/bench/hl7-ack-reuse.js [MESSAGES] [RUNS]
 */
import { Hl7StreamParser } from '../../protocols/hl7/parser.js';
import { createPseudonymizer } from '../../protocols/phi/pseudonym.js';

const N = Number(process.argv[2] ?? 200_000);
const RUNS = Number(process.argv[3] ?? 7);
const VT = '\x0b';
const END = '\x1c\r';

function message(id: string, i: number): Buffer {
  const seg = [
    `MSH|^~\\&|EPIC|OUS|RIS|RAD|20240312101500||ORU^R01^ORU_R01|${id}|P|2.5.1|||AL|NE|NOR|8859/1`,
    `PID|1||${String(100000 + (i % 1000))}^^^OUS^PI||NORDMANN^KARI||19850714|F`,
    'OBR|1|ORD000001|FIL000001|24331-1^Lipid panel^LN|||20240312101500',
    'OBX|1|NM|2093-3^Cholesterol^LN||5.2|mmol/L|3.0-5.0|H|||F',
  ];
  return Buffer.from(VT + seg.join('\r') + END, 'latin1');
}

// Every message pre-encoded, so the loop measures the parser; the ids are the same length in both cases.
const reused = Array.from({ length: N }, (_, i) => message('R000000000', i));
const unique = Array.from({ length: N }, (_, i) => message(`U${String(i).padStart(9, '0')}`, i));

function run(msgs: Buffer[]): number {
  let records = 0;
  const parser = new Hl7StreamParser({ emit: () => void records++, pseudonymize: createPseudonymizer(Buffer.alloc(32, 7)), ackTimeoutMs: 1e12 });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const m = msgs[i];
    parser.data(0, m, 0, m.length, 1_700_000_000 + (i >> 10), (i & 1023) * 1000);
  }
  parser.end('fin');
  if (records < N) throw new Error(`only ${records} records for ${N} messages`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
run(reused);
run(unique);
const r: number[] = [];
const u: number[] = [];
for (let k = 0; k < RUNS; k++) {
  r.push(run(reused));
  u.push(run(unique));
}
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`hl7-ack-reuse: ${fmt(N)} unanswered messages per run, ${RUNS} paired runs, node ${process.version}`);
console.log(`  one repeated control id : ${fmt(N / median(r))} messages/s (median ${(median(r) * 1000).toFixed(0)} ms)`);
console.log(`  unique control ids      : ${fmt(N / median(u))} messages/s (median ${(median(u) * 1000).toFixed(0)} ms)`);
console.log(`  repeated / unique time  : ${(median(r) / median(u)).toFixed(2)}x (goal ≤ 1.5x)`);
