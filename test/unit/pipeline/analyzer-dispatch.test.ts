import { describe, expect, it } from 'vitest';
import { AnalyzerDispatcher, AnalyzerRegistry, PROBE_WINDOW, type AnalyzerContext, type DispatchHost, type TcpAnalyzerFactory } from '../../../agent/analyzers/registry.js';
import { Flow } from '../../../agent/flows/flow.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { DETACH, Direction, type StreamParser } from '../../../protocols/stream.js';
import { eth, ipv4, tcp, udp } from '../../support/packet-builder.js';
import { runFrames } from '../../support/frames.js';

const B = (s: string) => Buffer.from(s, 'latin1');

/** Recognises "MAGIC" sent by the server; records what it is fed; can ask to skip. */
function serverFirstFactory(log: string[], skipAfterHello = 0): TcpAnalyzerFactory {
  return {
    app: 'magic',
    encrypted: false,
    probe(dir, buf, off, len) {
      if (dir !== Direction.ToClient) return ProbeVerdict.No;
      const want = 'MAGIC';
      for (let i = 0; i < Math.min(len, want.length); i++) if (buf[off + i] !== want.charCodeAt(i)) return ProbeVerdict.No;
      return len >= want.length ? ProbeVerdict.Yes : ProbeVerdict.NeedMore;
    },
    create(): StreamParser {
      let first = true;
      return {
        data(dir, buf, off, len) {
          log.push(`${dir}:${buf.toString('latin1', off, off + len)}`);
          if (first && dir === Direction.ToServer && skipAfterHello) {
            first = false;
            return skipAfterHello;
          }
          return 0;
        },
        gap: (dir, len) => void log.push(`gap${dir}:${len}`),
        end: (r) => void log.push(`end:${r}`),
      };
    },
  };
}

/** A reassembler stand-in: records skips and the parser the dispatcher hands the stream to. */
function host(skips: [number, number][] = []): DispatchHost & { parser: StreamParser | null } {
  const h = {
    parser: null as StreamParser | null,
    addSkip: (dir: number, n: number) => void skips.push([dir, n]),
    setParser: (p: StreamParser) => void (h.parser = p),
  };
  return h;
}

function ctx(): AnalyzerContext & { app: string } {
  const c = {
    flow: new Flow(),
    app: '',
    emit() {},
    setApp(app: string) {
      c.app = app;
    },
  };
  return c;
}

describe('AnalyzerDispatcher', () => {
  it('replays what it held in arrival order once a later chunk identifies the protocol', () => {
    const log: string[] = [];
    const c = ctx();
    const h = host();
    const d = new AnalyzerDispatcher([serverFirstFactory(log)], c, h, () => {});
    expect(d.data(Direction.ToServer, B('hi'), 0, 2, 0, 0)).toBe(0);
    expect(d.data(Direction.ToClient, B('MAG'), 0, 3, 0, 0)).toBe(0);
    expect(d.data(Direction.ToServer, B('there'), 0, 5, 0, 0)).toBe(0);
    expect(h.parser).toBeNull();
    expect(d.data(Direction.ToClient, B('IC v1'), 0, 5, 0, 0)).toBe(0);
    expect(c.app).toBe('magic');
    expect(log).toEqual(['0:hi', '1:MAG', '0:there', '1:IC v1']);
    // The reassembler now feeds the chosen parser itself; the dispatcher still forwards what it is given.
    expect(h.parser).not.toBeNull();
    h.parser!.data(Direction.ToServer, B('more'), 0, 4, 0, 0);
    d.data(Direction.ToClient, B('again'), 0, 5, 0, 0);
    d.end('fin');
    expect(log.slice(-3)).toEqual(['0:more', '1:again', 'end:fin']);
  });

  it('passes a skip asked for during replay to the reassembler of that direction', () => {
    const log: string[] = [];
    const skips: [number, number][] = [];
    const d = new AnalyzerDispatcher([serverFirstFactory(log, 1000)], ctx(), host(skips), () => {});
    d.data(Direction.ToServer, B('hello'), 0, 5, 0, 0);
    d.data(Direction.ToClient, B('MAGIC'), 0, 5, 0, 0);
    expect(skips).toEqual([[Direction.ToServer, 1000]]);
  });

  it('gives up (detaches) when nothing matches both directions or the window fills, and on a gap', () => {
    let unrecognised = 0;
    const none = new AnalyzerDispatcher([serverFirstFactory([])], ctx(), host(), () => unrecognised++);
    expect(none.data(Direction.ToServer, B('abc'), 0, 3, 0, 0)).toBe(0);
    expect(none.data(Direction.ToClient, B('xyz'), 0, 3, 0, 0)).toBe(DETACH);
    const full = new AnalyzerDispatcher([serverFirstFactory([])], ctx(), host(), () => unrecognised++);
    expect(full.data(Direction.ToServer, Buffer.alloc(PROBE_WINDOW + 1), 0, PROBE_WINDOW + 1, 0, 0)).toBe(DETACH);
    const gapped = new AnalyzerDispatcher([serverFirstFactory([])], ctx(), host(), () => unrecognised++);
    gapped.data(Direction.ToServer, B('abc'), 0, 3, 0, 0);
    gapped.gap(Direction.ToServer, 10);
    expect(gapped.data(Direction.ToClient, B('MAGIC'), 0, 5, 0, 0)).toBe(DETACH);
    expect(unrecognised).toBe(3);
  });

  it('recognises by content on any port, and a policy port hint only reorders the probes', () => {
    const reg = new AnalyzerRegistry();
    const log: string[] = [];
    reg.register(serverFirstFactory(log));
    const other: TcpAnalyzerFactory = { app: 'other', encrypted: false, probe: () => ProbeVerdict.No, create: () => ({ data: () => 0, gap() {}, end() {} }) };
    reg.register(other);
    reg.setHints({ portApps: new Map([[4242, 'other']]) });
    expect(reg.forPort(4242).map((f) => f.app)).toEqual(['other', 'magic']);
    expect(reg.forPort(80).map((f) => f.app)).toEqual(['magic', 'other']);
    const C = '10.0.0.1';
    const S = '10.0.0.2';
    const frames = [
      eth(ipv4(C, S, 6, tcp({ sport: 50000, dport: 4242, seq: 1, flags: 'S' })), 0x0800),
      eth(ipv4(S, C, 6, tcp({ sport: 4242, dport: 50000, seq: 7, ack: 2, flags: 'SA' })), 0x0800),
      eth(ipv4(S, C, 6, tcp({ sport: 4242, dport: 50000, seq: 8, ack: 2, flags: 'PA', payload: B('MAGIC hello') })), 0x0800),
    ];
    const { flows } = runFrames(frames.map((data, i) => ({ data, t: 1_795_000_000 + i })), { registry: reg });
    expect(flows[0].app).toBe('magic');
    expect(log).toEqual(['1:MAGIC hello', 'end:shutdown']);
  });
});

describe('UDP dispatch and the fallback scanner', () => {
  const C = '10.77.10.23';
  const S = '10.77.20.50';
  const FNR = '14078521210';
  const dg = (sport: number, dport: number, text: string, from = C, to = S) => eth(ipv4(from, to, 17, udp(sport, dport, Buffer.from(text))), 0x0800);

  it('offers the first datagrams to the probes, then feeds the chosen parser every datagram', () => {
    const seen: string[] = [];
    const reg = new AnalyzerRegistry();
    reg.registerUdp({
      app: 'angle',
      encrypted: false,
      probe: (_d, buf, off, len) => (len < 1 ? ProbeVerdict.NeedMore : buf[off] === 0x3c ? ProbeVerdict.Yes : ProbeVerdict.No),
      create: () => ({ datagram: (dir, buf, off, len) => (seen.push(`${dir}:${buf.toString('latin1', off, off + len)}`), 0), end: () => void seen.push('end') }),
    });
    const { flows } = runFrames([dg(50000, 9999, '<1>a'), dg(50000, 9999, 'b'), dg(9999, 50000, 'c', S, C)].map((data, i) => ({ data, t: 1_795_000_000 + i })), { registry: reg });
    expect(flows[0].app).toBe('angle');
    expect(seen).toEqual(['0:<1>a', '0:b', '1:c', 'end']);
  });

  it('UDP and TCP flows nobody claims are scanned for identity numbers by the fallback', async () => {
    const { defaultRegistry } = await import('../../../agent/analyzers/default-registry.js');
    const { defaultEnvironment } = await import('../../../agent/analyzers/environment.js');
    const { TEST_PSEUDONYM_KEY } = await import('../../support/keys.js');
    const reg = defaultRegistry(defaultEnvironment(TEST_PSEUDONYM_KEY));
    const T = 1_795_000_000;
    const tcpFrames = [
      eth(ipv4(C, S, 6, tcp({ sport: 41000, dport: 7777, seq: 1, flags: 'S' })), 0x0800),
      eth(ipv4(S, C, 6, tcp({ sport: 7777, dport: 41000, seq: 9, ack: 2, flags: 'SA' })), 0x0800),
      eth(ipv4(C, S, 6, tcp({ sport: 41000, dport: 7777, seq: 2, ack: 10, flags: 'PA', payload: Buffer.from(`STATUS pt=${FNR.slice(0, 5)}`) })), 0x0800),
      eth(ipv4(C, S, 6, tcp({ sport: 41000, dport: 7777, seq: 17, ack: 10, flags: 'PA', payload: Buffer.from(`${FNR.slice(5)} ok\n`) })), 0x0800),
    ];
    const { events } = runFrames([dg(40000, 6000, `device log ${FNR}`), ...tcpFrames].map((data, i) => ({ data, t: T + i })), { registry: reg });
    const phi = events.filter((e) => e.type === 'phi.observed') as (typeof events[number] & { protocol: string; count: number })[];
    expect(phi.map((p) => [p.protocol, p.count, p.flow!.app]).sort()).toEqual([
      ['tcp', 1, 'unknown'],
      ['udp', 1, 'unknown'],
    ]);
    expect(JSON.stringify(events)).not.toContain(FNR);
  });
});
