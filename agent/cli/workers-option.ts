import { availableParallelism } from 'node:os';
import { positiveInt } from './args.js';

/** `--workers N` (docs/pipeline.md, "On several cores"). */
export const WORKERS_PARSE_OPTIONS = {
  workers: { type: 'string' },
} as const;

/**
 * One thread does everything unless asked: on the 2-core machine the benchmark runs on, two
 * workers were slower than one (docs/performance.md, "On several cores"). `cores` is what one
 * core for the reader and the rules leaves for analysis, the value to try on a larger machine.
 */
export function defaultWorkers(): number {
  return 1;
}

export const WORKERS_USAGE = `  --workers N     analysis threads (default 1: everything on this thread, no worker threads; "cores" = the number
                  of CPU cores − 1, here ${Math.max(1, availableParallelism() - 1)}). With 2 or more, this thread reads the capture and
                  hands each flow to one worker; rules, inventory and store stay on this thread
`;

export function workersOption(v: string | undefined): number {
  if (v === 'cores') return Math.max(1, availableParallelism() - 1);
  return positiveInt('workers', v, defaultWorkers());
}
