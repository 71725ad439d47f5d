import { defaultRegistry } from '../../agent/analyzers/default-registry.js';
import { defaultEnvironment } from '../../agent/analyzers/environment.js';
import type { AnalyzerRegistry } from '../../agent/analyzers/registry.js';
import { newPacketRecord } from '../../agent/capture/packet-record.js';
import { TEST_PSEUDONYM_KEY } from './keys.js';
import { MemorySink } from './memory-sink.js';
import { assertEventsMatchSchemas } from './event-schemas.js';
import type { FlowEvent } from '../../agent/events/types.js';
import { Pipeline, type PipelineOptions } from '../../agent/pipeline.js';

export interface TestFrame {
  data: Buffer;
  /** Seconds since the epoch (fractional). */
  t: number;
  linkType?: number;
  origLen?: number;
}

/** Feeds frames straight into a pipeline and returns its events, each checked against its published JSON Schema. */
export function runFrames(frames: TestFrame[], opts: Partial<PipelineOptions> & { registry?: AnalyzerRegistry } = {}) {
  const sink = new MemorySink();
  const pipeline = new Pipeline({ events: sink, registry: opts.registry ?? defaultRegistry(defaultEnvironment(TEST_PSEUDONYM_KEY)), ...opts });
  const rec = newPacketRecord();
  for (const f of frames) {
    rec.buf = f.data;
    rec.off = 0;
    rec.capLen = f.data.length;
    rec.origLen = f.origLen ?? f.data.length;
    rec.linkType = f.linkType ?? 1;
    rec.tsSec = Math.floor(f.t);
    rec.tsNsec = Math.round((f.t - Math.floor(f.t)) * 1e9);
    pipeline.handle(rec);
  }
  pipeline.finish('shutdown');
  assertEventsMatchSchemas(sink.events);
  const flows = sink.events.filter((e): e is FlowEvent => e.type === 'flow');
  return { pipeline, events: sink.events, flows };
}
