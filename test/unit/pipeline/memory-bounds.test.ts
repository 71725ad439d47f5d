import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../../agent/analyzers/default-registry.js';
import { defaultEnvironment } from '../../../agent/analyzers/environment.js';
import { newPacketRecord } from '../../../agent/capture/packet-record.js';
import { Pipeline, type MemoryCheck } from '../../../agent/pipeline.js';
import { DEFAULT_FLOW_LIMITS } from '../../../agent/flows/flow-table.js';
import { eth, ipv4, udp } from '../../support/packet-builder.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';
import { MemorySink } from '../../support/memory-sink.js';

const T0 = 1_795_000_000;

function pipeline(o: { maxAnalyzerStates?: number; memory?: MemoryCheck; flowLimits?: typeof DEFAULT_FLOW_LIMITS } = {}) {
  const sink = new MemorySink();
  return { sink, p: new Pipeline({ events: sink, registry: defaultRegistry(defaultEnvironment(TEST_PSEUDONYM_KEY)), ...o }) };
}

/** One datagram from 10.100.x.y to 10.77.20.10:5000: no analyzer claims it, so the PHI scanner holds state for its flow. */
function datagram(p: Pipeline, i: number): void {
  const frame = eth(ipv4(`10.100.${i >> 8}.${i & 255}`, '10.77.20.10', 17, udp(40000, 5000, Buffer.from('status ok'))), 0x0800);
  const rec = newPacketRecord();
  rec.linkType = 1;
  rec.buf = frame;
  rec.capLen = rec.origLen = frame.length;
  rec.tsSec = T0;
  rec.tsNsec = i * 1000;
  p.handle(rec);
}

describe('analyzer state per flow is capped', () => {
  it('ends the oldest state for a new one, counting it, and still reports every flow', () => {
    const { p, sink } = pipeline({ maxAnalyzerStates: 10 });
    for (let i = 0; i < 50; i++) datagram(p, i);
    expect(p.stats.analyzerStateEvictions).toBe(40);
    p.finish();
    expect(sink.events.filter((e) => e.type === 'flow')).toHaveLength(50);
  });

  it('stays under the cap: a flow whose state was evicted gets no new one', () => {
    const { p } = pipeline({ maxAnalyzerStates: 2 });
    for (let i = 0; i < 3; i++) datagram(p, i);
    // Flow 0 lost its state to flow 2; its next datagram starts none.
    datagram(p, 0);
    expect(p.stats.analyzerStateEvictions).toBe(1);
  });
});

describe('shedding near the memory ceiling', () => {
  it('starts no analyzer state while the ceiling is near, keeps counting flows, and resumes after', () => {
    let near = true;
    let checks = 0;
    const { p } = pipeline({
      memory: {
        check: () => {
          checks++;
          return near;
        },
      },
    });
    p.tick(T0);
    for (let i = 0; i < 5; i++) datagram(p, i);
    expect(p.stats.analyzerStatesShed).toBe(5);
    expect(p.flows.created).toBe(5);
    near = false;
    p.tick(T0);
    datagram(p, 7);
    expect(p.stats.analyzerStatesShed).toBe(5);
    expect(checks).toBe(2);
  });

  it('squeezes the flow table to half of what it held while shedding, ending the oldest flows counted, and gives it back after', () => {
    let near = false;
    const { p, sink } = pipeline({ memory: { check: () => near }, flowLimits: { ...DEFAULT_FLOW_LIMITS, maxFlows: 40_000 } });
    for (let i = 0; i < 30_000; i++) datagram(p, i);
    expect(p.flows.size).toBe(30_000);
    near = true;
    p.tick(T0);
    // Two of the oldest ended for each new flow until the table holds 15,000.
    for (let i = 30_000; i < 40_000; i++) datagram(p, i);
    expect(p.flows.size).toBe(20_000);
    expect(p.flows.squeezed).toBe(20_000);
    for (let i = 40_000; i < 46_000; i++) datagram(p, i);
    expect(p.flows.size).toBe(15_000);
    expect(p.flows.evictions).toBe(0);
    // The flows it ended are not kept for reuse beyond the squeezed size: they are freed.
    expect(p.flows.objects).toBe(15_000);
    near = false;
    p.tick(T0);
    for (let i = 46_000; i < 46_100; i++) datagram(p, i);
    expect(p.flows.size).toBe(15_100);
    expect(p.flows.squeezed).toBe(31_000);
    expect(p.flows.objects).toBe(15_100);
    p.finish();
    // Ended early, never lost: every flow is reported.
    expect(sink.events.filter((e) => e.type === 'flow')).toHaveLength(46_100);
  });
});
