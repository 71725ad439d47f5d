/**
 * The tables' caps under a memory ceiling (docs/performance.md, "Memory budget").
 *
 * The default caps (500,000 flows, 50,000 devices, 100,000 analyzer states) are sized for the
 * default ceiling of 1G. Under a lower ceiling they are cut in proportion to what the ceiling
 * leaves above the process's own baseline: shedding alone cannot hold a lower ceiling against
 * a flood that fills them: until the flow table is full no flow ends, so a flood costs ~600 B
 * of heap a flow and nothing else, and the table is far past what the ceiling affords before
 * the resident set nears it (a heap snapshot of a SYN flood at 85 % of 512M: 465,631 flows,
 * 273 MB); every flow the squeeze then ends makes its event, rule findings and inventory work,
 * garbage on top of the table. Measured on a 1.2 M-address SYN flood with the example policy
 * and a SQLite store under a 512M ceiling: 600–608 MB with the default caps, 441–449 MB with these.
 *
 * A ceiling above the default keeps the default caps: more room, not more tables.
 */
import { DEFAULT_FLOW_LIMITS } from '../flows/flow-table.js';
import { DEFAULT_MAX_DEVICES } from '../inventory/inventory.js';
import { DEFAULT_MAX_ANALYZER_STATES } from '../pipeline.js';
import { DEFAULT_MEMORY_CEILING } from './memory-guard.js';

const MIB = 1024 * 1024;

/**
 * What `analyze --policy --db` holds with its tables nearly empty while a flood goes through
 * (`--max-flows 1000 --max-devices 100`, 200,000 addresses): 190–200 MB, of which ~70 MB outside
 * V8's heap (Node, the CLI bundle and its code, SQLite), 64 MB young generation
 * (`--max-semi-space-size=32`, as the CLI, the unit and the container run it) and some 50 MB of
 * old generation the analyzers, rules and store need whatever the caps.
 */
export const MEMORY_BASELINE = 192 * MIB;

/**
 * The lowest ceiling the sensor accepts: below it the baseline alone is past the point where
 * shedding starts (85 %), so the process would shed from its first packet and still not hold it.
 */
export const MIN_MEMORY_CEILING = 256 * MIB;

/** Caps never go below these, however low the ceiling: a quiet segment's own conversations and devices. */
const MIN_FLOWS = 10_000;
const MIN_DEVICES = 1_000;
const MIN_ANALYZER_STATES = 1_000;

export interface TableCaps {
  maxFlows: number;
  maxDevices: number;
  maxAnalyzerStates: number;
}

/** Share of the default caps a ceiling affords: 1 at the default ceiling and above. */
export function capShare(ceilingBytes: number): number {
  return Math.max(0, Math.min(1, (ceilingBytes - MEMORY_BASELINE) / (DEFAULT_MEMORY_CEILING - MEMORY_BASELINE)));
}

/** The default caps under this ceiling (each still overridable on the command line). */
export function defaultCaps(ceilingBytes: number): TableCaps {
  const share = capShare(ceilingBytes);
  const cap = (dflt: number, min: number) => Math.max(min, Math.floor(dflt * share));
  return {
    maxFlows: cap(DEFAULT_FLOW_LIMITS.maxFlows, MIN_FLOWS),
    maxDevices: cap(DEFAULT_MAX_DEVICES, MIN_DEVICES),
    maxAnalyzerStates: cap(DEFAULT_MAX_ANALYZER_STATES, MIN_ANALYZER_STATES),
  };
}
