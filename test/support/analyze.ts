import { readCaptureFile } from '../../agent/capture/capture-file.js';
import { defaultRegistry } from '../../agent/analyzers/default-registry.js';
import { defaultEnvironment } from '../../agent/analyzers/environment.js';
import type { AnalyzerRegistry } from '../../agent/analyzers/registry.js';
import { TEST_PSEUDONYM_KEY } from './keys.js';
import { MemorySink } from './memory-sink.js';
import { assertEventsMatchSchemas } from './event-schemas.js';
import type { FlowEvent, MuvaktEvent } from '../../agent/events/types.js';
import { Pipeline, type PipelineOptions } from '../../agent/pipeline.js';

export interface AnalyzeResult {
  events: MuvaktEvent[];
  flows: FlowEvent[];
  pipeline: Pipeline;
  error?: Error;
}

/**
 * Runs the pipeline in-process over capture files and returns everything it emitted. Every
 * event is checked against its published JSON Schema (a mismatch throws).
 */
export async function analyzeFiles(files: string[], opts: Partial<PipelineOptions> & { registry?: AnalyzerRegistry; chunkSize?: number } = {}): Promise<AnalyzeResult> {
  const sink = new MemorySink();
  const pipeline = new Pipeline({ events: sink, registry: opts.registry ?? defaultRegistry(defaultEnvironment(TEST_PSEUDONYM_KEY)), ...opts });
  let error: Error | undefined;
  try {
    for (const f of files) await readCaptureFile(f, pipeline.handle, { chunkSize: opts.chunkSize });
  } catch (e) {
    error = e as Error;
  }
  pipeline.finish('shutdown');
  assertEventsMatchSchemas(sink.events);
  const flows = sink.events.filter((e): e is FlowEvent => e.type === 'flow');
  return { events: sink.events, flows, pipeline, error };
}
