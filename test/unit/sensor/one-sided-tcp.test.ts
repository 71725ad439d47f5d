import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventCounters, isOneSidedTcp } from '../../../agent/sensor/event-counters.js';
import { createMetrics } from '../../../dashboard-api/metrics.js';
import { analyzeFiles } from '../../support/analyze.js';
import { runFrames } from '../../support/frames.js';
import { eth, ipv4, tcp } from '../../support/packet-builder.js';

const CORPUS = join(import.meta.dirname, '../../../fixtures/corpus');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-one-sided-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const NOOP = { write() {}, flush() {}, close() {} };

/** Counts a capture's flows the way the live sensor does. */
async function count(file: string): Promise<EventCounters> {
  const counters = new EventCounters(NOOP);
  const { events, error } = await analyzeFiles([file]);
  expect(error).toBeUndefined();
  for (const e of events) counters.write(e);
  return counters;
}

/** A half-mirrored SPAN: only what one host sends, cut out of a real capture with tcpdump. */
function oneDirection(file: string, host: string): string {
  const out = join(tmp, `${host}.pcap`);
  execFileSync('tcpdump', ['-r', file, '-w', out, `src host ${host}`], { stdio: 'ignore' });
  return out;
}

describe('one-sided TCP flows (half-mirrored SPAN)', () => {
  it('a capture of one direction only (either one) makes every TCP flow one-sided; the full capture none', async () => {
    for (const [pcap, client, server] of [
      ['02_dicom_cstore_ct_mr.pcap', '10.77.10.21', '10.77.20.10'],
      ['08_hl7_adt_oru_batch.pcap', null, null],
    ] as const) {
      const full = await count(join(CORPUS, pcap));
      expect(full.tcpFlowsEnded, pcap).toBeGreaterThan(0);
      expect(full.oneSidedTcpFlows, pcap).toBe(0);
      if (client === null) continue;
      for (const host of [client, server]) {
        const half = await count(oneDirection(join(CORPUS, pcap), host));
        expect(half.tcpFlowsEnded, host).toBe(full.tcpFlowsEnded);
        expect(half.oneSidedTcpFlows, host).toBe(full.tcpFlowsEnded);
      }
    }
  });

  it('an unanswered SYN (with retransmits) and a stray packet or two are not a mirror fault', () => {
    const frame = (src: string, dst: string, sport: number, dport: number, flags: string, seq: number, t: number, payload?: Buffer) => ({
      data: eth(ipv4(src, dst, 6, tcp({ sport, dport, seq, ack: flags.includes('A') ? 1 : 0, flags, payload })), 0x0800),
      t,
    });
    const { flows } = runFrames([
      // a scan / filtered port: three SYNs, no answer
      frame('10.0.0.1', '10.0.0.2', 40000, 104, 'S', 100, 1),
      frame('10.0.0.1', '10.0.0.2', 40000, 104, 'S', 100, 2),
      frame('10.0.0.1', '10.0.0.2', 40000, 104, 'S', 100, 4),
      // a late ACK of a connection already gone from the flow table
      frame('10.0.0.3', '10.0.0.4', 40001, 2575, 'A', 500, 1),
      // half-mirrored: the client's handshake ACK and data, nothing back
      frame('10.0.0.5', '10.0.0.6', 40002, 2575, 'S', 900, 1),
      frame('10.0.0.5', '10.0.0.6', 40002, 2575, 'A', 901, 1.1),
      frame('10.0.0.5', '10.0.0.6', 40002, 2575, 'PA', 901, 1.2, Buffer.from('\x0bMSH|^~\\&|A|B\r\x1c\r')),
    ]);
    const byPort = new Map(flows.map((f) => [f.flow.src_port, f]));
    expect(isOneSidedTcp(byPort.get(40000)!)).toBe(false);
    expect(isOneSidedTcp(byPort.get(40001)!)).toBe(false);
    expect(isOneSidedTcp(byPort.get(40002)!)).toBe(true);
  });

  it('is exported as muvakt_tcp_one_sided_flows_total beside muvakt_tcp_flows_ended_total', async () => {
    const half = await count(oneDirection(join(CORPUS, '02_dicom_cstore_ct_mr.pcap'), '10.77.20.10'));
    const m = createMetrics({ liveSensor: true, processMetrics: false, snapshot: () => ({ tcpFlowsEnded: half.tcpFlowsEnded, oneSidedTcpFlows: half.oneSidedTcpFlows }) });
    const text = await m.render();
    expect(text).toMatch(new RegExp(`^muvakt_tcp_one_sided_flows_total ${half.oneSidedTcpFlows}$`, 'm'));
    expect(text).toMatch(new RegExp(`^muvakt_tcp_flows_ended_total ${half.tcpFlowsEnded}$`, 'm'));
    expect(half.oneSidedTcpFlows).toBeGreaterThan(0);
  });
});
