import { labelOnlyAnalyzers } from './classifiers.js';
import { AnalyzerRegistry } from './registry.js';

/** The analyzers a sensor runs unless told otherwise. */
export function defaultRegistry(): AnalyzerRegistry {
  const r = new AnalyzerRegistry();
  for (const f of labelOnlyAnalyzers()) r.register(f);
  return r;
}
