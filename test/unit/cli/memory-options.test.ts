import { describe, expect, it } from 'vitest';
import { memoryBounds } from '../../../agent/cli/memory-options.js';
import { UsageError } from '../../../agent/cli/args.js';
import { DEFAULT_FLOW_LIMITS } from '../../../agent/flows/flow-table.js';
import { DEFAULT_MAX_DEVICES } from '../../../agent/inventory/inventory.js';
import { DEFAULT_MAX_ANALYZER_STATES } from '../../../agent/pipeline.js';
import { MIN_MEMORY_CEILING } from '../../../agent/sensor/memory-budget.js';

const DEFAULTS = { maxFlows: DEFAULT_FLOW_LIMITS.maxFlows, maxDevices: DEFAULT_MAX_DEVICES, maxAnalyzerStates: DEFAULT_MAX_ANALYZER_STATES };
const caps = (ceiling?: string) => {
  const { memoryCeiling: _, ...c } = memoryBounds({ 'memory-ceiling': ceiling });
  return c;
};

describe('memory bounds of analyze and run', () => {
  it('keeps the default caps under the default ceiling and above it', () => {
    expect(caps()).toEqual(DEFAULTS);
    expect(caps('1G')).toEqual(DEFAULTS);
    expect(caps('2G')).toEqual(DEFAULTS);
  });

  it('shrinks every default cap by the same share under a lower ceiling, less the lower it is', () => {
    const c768 = caps('768M');
    const c512 = caps('512M');
    const c256 = caps('256M');
    for (const k of ['maxFlows', 'maxDevices', 'maxAnalyzerStates'] as const) {
      expect(c768[k]).toBeLessThan(DEFAULTS[k]);
      expect(c512[k]).toBeLessThan(c768[k]);
      expect(c256[k]).toBeLessThan(c512[k]);
      expect(c256[k]).toBeGreaterThan(0);
    }
    const share = c512.maxFlows / DEFAULTS.maxFlows;
    expect(c512.maxDevices / DEFAULTS.maxDevices).toBeCloseTo(share, 3);
    expect(c512.maxAnalyzerStates / DEFAULTS.maxAnalyzerStates).toBeCloseTo(share, 3);
  });

  it('takes a cap given on the command line as given, whatever the ceiling', () => {
    const b = memoryBounds({ 'memory-ceiling': '512M', 'max-flows': '100000', 'max-devices': '60000', 'max-analyzer-states': '7' });
    expect(b).toEqual({ maxFlows: 100_000, maxDevices: 60_000, maxAnalyzerStates: 7, memoryCeiling: 512 * 1024 ** 2 });
  });

  it('refuses a ceiling below what the process itself needs, with the reason', () => {
    expect(() => memoryBounds({ 'memory-ceiling': '200M' })).toThrow(UsageError);
    expect(() => memoryBounds({ 'memory-ceiling': '200M' })).toThrow(/at least 256M.*needs about \d+ MB/);
    expect(() => memoryBounds({ 'memory-ceiling': 'lots' })).toThrow(UsageError);
    expect(memoryBounds({ 'memory-ceiling': String(MIN_MEMORY_CEILING) }).memoryCeiling).toBe(MIN_MEMORY_CEILING);
  });
});
