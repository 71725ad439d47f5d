import { DEFAULT_MAX_DEVICES } from '../inventory/inventory.js';
import { DEFAULT_MAX_ANALYZER_STATES } from '../pipeline.js';
import { DEFAULT_MEMORY_CEILING, parseSize } from '../sensor/memory-guard.js';

export { memoryEpisodeText } from '../sensor/memory-guard.js';
import { positiveInt, UsageError } from './args.js';

/** The memory bounds shared by `analyze` and `run` (docs/performance.md, "Memory budget"). */
export const MEMORY_PARSE_OPTIONS = {
  'max-devices': { type: 'string' },
  'max-analyzer-states': { type: 'string' },
  'memory-ceiling': { type: 'string' },
} as const;

export const MEMORY_USAGE = `  --max-devices N       devices held in the inventory (default ${DEFAULT_MAX_DEVICES}, about 4 KB each); when full the
                        least recently seen is evicted (what a store already has stays there)
  --max-analyzer-states N  flows analysed at once by a protocol parser (default ${DEFAULT_MAX_ANALYZER_STATES}, about 2 KB
                        each plus buffered payload); when full the oldest is ended, its flow still counted
  --memory-ceiling SIZE resident memory (e.g. 512M, 1.5G; default ${DEFAULT_MEMORY_CEILING / 1024 ** 2}M, below the unit's MemoryMax):
                        from 60 % a full garbage collection, from 85 % no new analyzer state or device until back under 70 %
`;

export interface MemoryBounds {
  maxDevices: number;
  maxAnalyzerStates: number;
  memoryCeiling: number;
}

export function memoryBounds(v: { 'max-devices'?: unknown; 'max-analyzer-states'?: unknown; 'memory-ceiling'?: unknown }): MemoryBounds {
  const ceiling = v['memory-ceiling'] === undefined ? DEFAULT_MEMORY_CEILING : parseSize(String(v['memory-ceiling']));
  // Below what Node itself needs the sensor would shed from its first packet.
  if (!(ceiling >= 64 * 1024 * 1024)) throw new UsageError(`--memory-ceiling expects a size of at least 64M (e.g. 512M, 1.5G), got "${String(v['memory-ceiling'])}"`);
  return {
    maxDevices: positiveInt('max-devices', v['max-devices'] as string | undefined, DEFAULT_MAX_DEVICES),
    maxAnalyzerStates: positiveInt('max-analyzer-states', v['max-analyzer-states'] as string | undefined, DEFAULT_MAX_ANALYZER_STATES),
    memoryCeiling: ceiling,
  };
}
