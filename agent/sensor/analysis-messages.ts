import type { FlowEndReason } from '../flows/flow.js';
import type { FlowHistoryRow } from '../flows/flow-history.js';
import type { FiguresMessage } from './pipeline-figures.js';

/** What the parallel pipeline (parallel-pipeline.ts) and its analysis workers (analysis-worker.ts) say to each other. */
export interface AnalysisWorkerData {
  ring: SharedArrayBuffer;
  policyFile?: string;
  pseudonymKey: Uint8Array;
  maxFlows: number;
  maxAnalyzerStates?: number;
  memoryCeiling?: number;
  sensor: string;
  /** Keep a flow history (a sensor with a store). */
  history: boolean;
}

/**
 * Worker → main. `events` is flat: sequence number, phase (0 clock, 1 packet, 2 end), two order
 * keys among the events other workers made for the same record, flowSeq (0: none), event; `done` is the sequence number of the last record processed.
 */
export interface AnalysisBatch {
  type: 'batch' | 'end';
  events: unknown[];
  done: number;
  figures?: FiguresMessage;
  history?: FlowHistoryRow[];
}

export const END_REASONS: readonly FlowEndReason[] = ['shutdown', 'closed', 'timeout', 'evicted', 'reused'];

export const enum Phase {
  Clock = 0,
  Packet = 1,
  End = 2,
}

