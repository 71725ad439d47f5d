import { describe, expect, it } from 'vitest';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../rules/index.js';
import { eth, ipv4, tcp } from '../support/packet-builder.js';
import { runFrames } from '../support/frames.js';
import { examplePolicy } from '../support/rules.js';
import { associateAc, associateRq, CT_STORAGE, IMPLICIT_LE, pdata, pdu, pdv, storeRq, storeRsp } from '../unit/dicom/build.js';

const CT = '10.77.10.21';
const PACS = '10.77.20.10';

/**
 * A crafted DICOM exchange over a real-shaped TCP connection (like corpus 28/29): the SCP
 * answers a C-STORE with a failure status, which no dcmtk peer does on demand.
 */
function storeExchange(status: number): Buffer[] {
  const client = [associateRq({ contexts: [{ id: 1, abstract: CT_STORAGE, ts: [IMPLICIT_LE] }] }), pdata(pdv(1, 0x03, storeRq(1, CT_STORAGE, false))), pdu(0x05, Buffer.alloc(4))];
  const server = [associateAc({ contexts: [{ id: 1, abstract: CT_STORAGE, ts: [IMPLICIT_LE] }] }), pdata(pdv(1, 0x03, storeRsp(1, status))), pdu(0x06, Buffer.alloc(4))];
  const frames: Buffer[] = [
    eth(ipv4(CT, PACS, 6, tcp({ sport: 40100, dport: 104, seq: 1000, flags: 'S' })), 0x0800),
    eth(ipv4(PACS, CT, 6, tcp({ sport: 104, dport: 40100, seq: 5000, ack: 1001, flags: 'SA' })), 0x0800),
  ];
  let cs = 1001;
  let ss = 5001;
  for (let i = 0; i < client.length; i++) {
    frames.push(eth(ipv4(CT, PACS, 6, tcp({ sport: 40100, dport: 104, seq: cs, ack: ss, flags: 'PA', payload: client[i] })), 0x0800));
    cs += client[i].length;
    frames.push(eth(ipv4(PACS, CT, 6, tcp({ sport: 104, dport: 40100, seq: ss, ack: cs, flags: 'PA', payload: server[i] })), 0x0800));
    ss += server[i].length;
  }
  return frames;
}

function findings(frames: Buffer[]): EngineFinding[] {
  const { events } = runFrames(frames.map((data, i) => ({ data, t: 1_795_000_000 + i * 0.01 })));
  const out: EngineFinding[] = [];
  const engine = new RuleEngine(examplePolicy(), ALL_RULES, (f) => out.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  return out;
}

describe('dicom-failure-status on a crafted exchange', () => {
  it('raises on a failure status (0xA700 out of resources)', () => {
    const f = findings(storeExchange(0xa700)).filter((x) => x.rule.id === 'dicom-failure-status');
    expect(f).toHaveLength(1);
    expect(f[0].evidence).toMatchObject({ command: 'C-STORE-RSP', status: '0xa700' });
  });

  it('stays quiet on success', () => {
    expect(findings(storeExchange(0)).map((x) => x.rule.id)).not.toContain('dicom-failure-status');
  });
});
