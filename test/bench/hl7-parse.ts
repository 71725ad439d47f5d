/**
 * Micro-benchmark of the HL7 v2 analyzer on one core: MLLP framing, message scan, header/ACK/
 * PHI extraction (with HMAC pseudonyms), ACK correlation and record emission, for a stream of
 * ADT/ORU/ORM messages (1000 distinct patients) answered by ACKs. Prints messages/s. Not a unit test.
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/muvakt-bench && node /tmp/muvakt-bench/test/bench/hl7-parse.js [N]
 */
import { Hl7StreamParser } from '../../protocols/hl7/parser.js';
import { createPseudonymizer } from '../../protocols/phi/pseudonym.js';
import type { Hl7Record } from '../../protocols/hl7/records.js';

const N = Number(process.argv[2] ?? 100_000);
const VT = '\x0b';
const END = '\x1c\r';

/** A valid synthetic fødselsnummer per patient number, so pseudonyms are not all one value. */
function fnr(p: number): string {
  const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
  const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  for (let ind = p % 500; ; ind = (ind + 1) % 500) {
    const d = `${String((p % 28) + 1).padStart(2, '0')}${String((p % 12) + 1).padStart(2, '0')}${String(50 + (p % 40))}${String(ind).padStart(3, '0')}`;
    const n = [...d].map(Number);
    let k1 = 11 - (n.reduce((a, x, i) => a + x * W1[i], 0) % 11);
    if (k1 === 11) k1 = 0;
    if (k1 === 10) continue;
    n.push(k1);
    let k2 = 11 - (n.reduce((a, x, i) => a + x * W2[i], 0) % 11);
    if (k2 === 11) k2 = 0;
    if (k2 === 10) continue;
    return `${d}${k1}${k2}`;
  }
}

function message(i: number): string {
  const id = `OUS${String(i).padStart(6, '0')}`;
  const kind = i % 3;
  const type = kind === 0 ? 'ADT^A01^ADT_A01' : kind === 1 ? 'ORU^R01^ORU_R01' : 'ORM^O01^ORM_O01';
  const seg = [
    `MSH|^~\\&|EPIC|OUS|RIS|RAD|20240312101500||${type}|${id}|P|2.5.1|||AL|NE|NOR|8859/1`,
    `PID|1||${fnr(i)}^^^NOFNR^NNNOR||NORDMANN^KARI||19850714|F|||Storgata 1^^OSLO^^0155^NOR||+4722334455|||||V0004001`,
  ];
  if (kind === 0) {
    seg.splice(1, 0, 'EVN|A01|20240312101500');
    seg.push('PV1|1|I|MED3^301^1^OUS||||12345^LEGE^ANNE^^^DR|||MED||||1|||12345^LEGE^ANNE^^^DR|IP|V0004001');
  } else if (kind === 1) {
    seg.push('OBR|1|ORD000001|FIL000001|24331-1^Lipid panel^LN|||20240312101500|||||||||12345^LEGE^ANNE');
    seg.push('OBX|1|NM|2093-3^Cholesterol^LN||5.2|mmol/L|3.0-5.0|H|||F');
    seg.push('OBX|2|NM|2571-8^Triglyceride^LN||1.4|mmol/L|0.5-2.0|N|||F');
  } else {
    seg.push('ORC|NW|ORD000001||||||||||12345^LEGE^ANNE');
    seg.push('OBR|1|ORD000001||CTTHOR^CT Thorax^L|||20240312101500');
  }
  return VT + seg.join('\r') + END;
}

const ack = (i: number) =>
  `${VT}MSH|^~\\&|RIS|RAD|EPIC|OUS|20240312101501||ACK^A01^ACK|ACK${i}|P|2.5.1\rMSA|AA|OUS${String(i).padStart(6, '0')}${END}`;

// Pre-encode so the loop measures the parser, not string building.
const msgs: Buffer[] = [];
const acks: Buffer[] = [];
for (let i = 0; i < 1000; i++) {
  msgs.push(Buffer.from(message(i), 'latin1'));
  acks.push(Buffer.from(ack(i), 'latin1'));
}
const avgBytes = msgs.reduce((a, b) => a + b.length, 0) / msgs.length;

function runPerMessage(n: number, withPseudonyms = true): { secs: number; records: number } {
  let records = 0;
  const parser = new Hl7StreamParser({
    emit: (_r: Hl7Record) => void records++,
    pseudonymize: withPseudonyms ? createPseudonymizer(Buffer.alloc(32, 7)) : undefined,
  });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const k = i % 1000;
    // Control ids repeat every 1000; each is answered before it recurs.
    parser.data(0, msgs[k], 0, msgs[k].length, 1_700_000_000 + (i >> 10), (i & 1023) * 1000);
    parser.data(1, acks[k], 0, acks[k].length, 1_700_000_000 + (i >> 10), (i & 1023) * 1000 + 500);
  }
  parser.end('fin');
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, records };
}

/** The same traffic cut into 1460-byte segments (messages straddle segments, frames get copied). */
function runSegmented(n: number): { secs: number; records: number } {
  let records = 0;
  const parser = new Hl7StreamParser({
    emit: () => void records++,
    pseudonymize: createPseudonymizer(Buffer.alloc(32, 7)),
  });
  const block = Buffer.concat(msgs);
  const ackBlock = Buffer.concat(acks);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  let sec = 1_700_000_000;
  while (sent < n) {
    for (let off = 0; off < block.length; off += 1460) parser.data(0, block, off, Math.min(1460, block.length - off), sec, 0);
    for (let off = 0; off < ackBlock.length; off += 1460) parser.data(1, ackBlock, off, Math.min(1460, ackBlock.length - off), sec, 1000);
    sent += msgs.length;
    sec++;
  }
  parser.end('fin');
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, records };
}

runPerMessage(20_000); // warm up
runSegmented(20_000);
const a = runPerMessage(N);
const b = runSegmented(N);
const c = runPerMessage(N, false);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`hl7-parse: ${fmt(N)} messages + ${fmt(N)} ACKs, avg message ${Math.round(avgBytes)} B, node ${process.version}`);
console.log(`  one message per chunk : ${fmt((2 * N) / a.secs)} HL7 messages/s (${fmt(N / a.secs)} ACKed messages/s), ${a.records} records`);
console.log(`  1460-byte segments    : ${fmt((2 * N) / b.secs)} HL7 messages/s (${fmt(N / b.secs)} ACKed messages/s), ${b.records} records`);
console.log(`  no pseudonymizer      : ${fmt((2 * N) / c.secs)} HL7 messages/s (the pseudonymizer costs the difference)`);
