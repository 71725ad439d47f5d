import { ProbeVerdict } from '../../protocols/probe.js';
import { Direction, type StreamParser } from '../../protocols/stream.js';
import { AnalyzerRegistry, type TcpAnalyzerFactory } from '../../agent/analyzers/registry.js';
import { flowRef } from '../../agent/flows/flow-event.js';

export interface CapturedStream {
  src: string;
  dst: string;
  toServer: Buffer[];
  toClient: Buffer[];
  gaps: [number, number];
  ended: string | null;
}

/**
 * The trivial analyzer the reassembly tests use: it takes every TCP stream and keeps a copy of
 * each direction's bytes (fine for small test captures; a real analyzer never copies payload).
 */
export function streamCaptureRegistry(): { registry: AnalyzerRegistry; streams: CapturedStream[] } {
  const streams: CapturedStream[] = [];
  const factory: TcpAnalyzerFactory = {
    app: 'test-capture',
    encrypted: false,
    probe: () => ProbeVerdict.Yes,
    create(ctx) {
      const r = flowRef(ctx.flow);
      const s: CapturedStream = { src: `${r.src_ip}:${r.src_port}`, dst: `${r.dst_ip}:${r.dst_port}`, toServer: [], toClient: [], gaps: [0, 0], ended: null };
      streams.push(s);
      const parser: StreamParser = {
        data(dir, buf, off, len) {
          (dir === Direction.ToServer ? s.toServer : s.toClient).push(Buffer.from(buf.subarray(off, off + len)));
          return 0;
        },
        gap(dir, len) {
          s.gaps[dir] += len;
        },
        end(reason) {
          s.ended = reason;
        },
      };
      return parser;
    },
  };
  return { registry: new AnalyzerRegistry().register(factory), streams };
}
