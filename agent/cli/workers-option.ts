import { availableParallelism } from 'node:os';
import { positiveInt } from './args.js';

/** `--workers N`, shared by `analyze` and `run` (docs/pipeline.md, "On several cores"). */
export const WORKERS_PARSE_OPTIONS = {
  workers: { type: 'string' },
} as const;

/** One core reads the capture and runs rules and store; the others analyse. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

export const WORKERS_USAGE = `  --workers N     analysis threads (default: the number of CPU cores − 1, at least 1; here ${defaultWorkers()}). With 2 or
                  more, this thread reads the capture and hands each flow to one worker; rules, inventory and store
                  stay on this thread. 1: everything on one thread, no worker threads
`;

export function workersOption(v: string | undefined): number {
  return positiveInt('workers', v, defaultWorkers());
}
