import { DEFAULT_FLOW_LIMITS } from '../flows/flow-table.js';
import { DEFAULT_MAX_DEVICES } from '../inventory/inventory.js';
import { DEFAULT_MAX_ANALYZER_STATES } from '../pipeline.js';
import { defaultCaps, MEMORY_BASELINE, MIN_MEMORY_CEILING } from '../sensor/memory-budget.js';
import { DEFAULT_MEMORY_CEILING, parseSize } from '../sensor/memory-guard.js';

export { memoryEpisodeText } from '../sensor/memory-guard.js';
import { positiveInt, UsageError } from './args.js';

/** The memory bounds shared by `analyze` and `run` (docs/performance.md, "Memory budget"). */
export const MEMORY_PARSE_OPTIONS = {
  'max-flows': { type: 'string' },
  'max-devices': { type: 'string' },
  'max-analyzer-states': { type: 'string' },
  'memory-ceiling': { type: 'string' },
} as const;

const MB = 1024 ** 2;

export const MEMORY_USAGE = `  --max-flows N   flow-table capacity (default ${DEFAULT_FLOW_LIMITS.maxFlows}); the flow idle longest is evicted
  --max-devices N       devices held in the inventory (default ${DEFAULT_MAX_DEVICES}, about 4 KB each); when full the
                        least recently seen is evicted (what a store already has stays there)
  --max-analyzer-states N  flows analysed at once by a protocol parser (default ${DEFAULT_MAX_ANALYZER_STATES}, about 2 KB
                        each plus buffered payload); when full the oldest is ended, its flow still counted
  --memory-ceiling SIZE resident memory (e.g. 512M, 1.5G; default ${DEFAULT_MEMORY_CEILING / MB}M, below the unit's MemoryMax;
                        at least ${MIN_MEMORY_CEILING / MB}M): from 60 % a full garbage collection, from 85 % no new analyzer
                        state or device and a smaller flow table until back under 70 %. Under a lower ceiling the
                        three defaults above shrink with what it leaves above the process's own ~${MEMORY_BASELINE / MB} MB
                        (512M: ${defaultCaps(512 * MB).maxFlows} flows, ${defaultCaps(512 * MB).maxDevices} devices, ${defaultCaps(512 * MB).maxAnalyzerStates} analyzer states)
`;

export interface MemoryBounds {
  maxFlows: number;
  maxDevices: number;
  maxAnalyzerStates: number;
  memoryCeiling: number;
}

export function memoryBounds(v: { 'max-flows'?: unknown; 'max-devices'?: unknown; 'max-analyzer-states'?: unknown; 'memory-ceiling'?: unknown }): MemoryBounds {
  const ceiling = v['memory-ceiling'] === undefined ? DEFAULT_MEMORY_CEILING : parseSize(String(v['memory-ceiling']));
  // Below it the process's own baseline is past the point where shedding starts (memory-budget.ts).
  if (!(ceiling >= MIN_MEMORY_CEILING)) {
    throw new UsageError(`--memory-ceiling expects a size of at least ${MIN_MEMORY_CEILING / MB}M (e.g. 512M, 1.5G): the sensor itself needs about ${MEMORY_BASELINE / MB} MB under load; got "${String(v['memory-ceiling'])}"`);
  }
  const caps = defaultCaps(ceiling);
  return {
    maxFlows: positiveInt('max-flows', v['max-flows'] as string | undefined, caps.maxFlows),
    maxDevices: positiveInt('max-devices', v['max-devices'] as string | undefined, caps.maxDevices),
    maxAnalyzerStates: positiveInt('max-analyzer-states', v['max-analyzer-states'] as string | undefined, caps.maxAnalyzerStates),
    memoryCeiling: ceiling,
  };
}
