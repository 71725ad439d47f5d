/**
 * Keeps the process under a memory ceiling before the kernel (or systemd's MemoryMax) kills it.
 *
 * V8 lets its old generation grow well past what is live before a full collection: under a
 * flood, where every new address makes a device and an analyzer state that the caps then evict,
 * most of the resident set is garbage awaiting collection (measured: a 200k-flow SYN flood at
 * 711 MB ran at 377 MB under a 300 MB heap limit). So the first step at COLLECT of the ceiling
 * is a full collection; only when the resident set is still above HIGH after it is analysis
 * shed: no new analyzer state and no new device, while flows are still tracked and counted.
 * Shedding ends under LOW of the ceiling (far enough apart that one flood is one episode
 * rather than a flapping log).
 */
export const DEFAULT_MEMORY_CEILING = 1024 * 1024 * 1024;
const COLLECT = 0.6;
/**
 * From TIGHT of the ceiling V8 is told to grow its heap by at most a quarter over what the last
 * full collection left live, instead of up to several times that (its default, tuned for
 * throughput). Measured on a 200k-address SYN flood with the policy and a store: peak 911 MB by
 * default, 504 MB with the heap held to a quarter's growth, for about 15 % more time; a tenth
 * halved the peak no further and took twice as long. Back to V8's own under LOOSE, so that
 * ordinary traffic never pays for the extra collections.
 */
const TIGHT = 0.4;
const LOOSE = 0.25;
const TIGHT_GROWING_PERCENT = 25;
const HIGH = 0.85;
const LOW = 0.7;
/**
 * A forced collection stalls the packet path (100–300 ms on the heaps the caps allow): at most this
 * often. Growth paces them too: the next is due only after a tenth of the ceiling more.
 */
const COLLECT_EVERY_MS = 250;

export interface MemoryEpisode {
  /** Shedding began (true) or ended (false). */
  shedding: boolean;
  rssBytes: number;
  ceilingBytes: number;
}

export class MemoryGuard {
  shedding = false;
  episodes = 0;
  /** Full collections forced near the ceiling. */
  collections = 0;
  /** Highest resident set seen at a check. */
  peakBytes = 0;
  private readonly high: number;
  private readonly low: number;
  private readonly collectAt: number;
  /** Resident set after the last forced collection: another is due only once the process has grown well past it. */
  private afterCollect = 0;
  private lastCollectMs = -Infinity;
  /** V8's heap growth held to TIGHT_GROWING_PERCENT. */
  tight = false;

  constructor(
    readonly ceilingBytes: number,
    private readonly onChange: (e: MemoryEpisode) => void,
    /** The resident set size; a parameter for tests. process.memoryUsage.rss() reads one number, not the heap statistics. */
    private readonly rss: () => number = () => process.memoryUsage.rss(),
    private readonly collect: () => void = fullCollection,
    private readonly nowMs: () => number = Date.now,
    private readonly heapGrowth: (percent: number) => void = setHeapGrowth,
  ) {
    this.high = ceilingBytes * HIGH;
    this.low = ceilingBytes * LOW;
    this.collectAt = ceilingBytes * COLLECT;
  }

  /** Looks at the resident set (the caller does so every few thousand packets, not per packet); true while shedding. */
  check(): boolean {
    let r = this.rss();
    if (r > this.peakBytes) this.peakBytes = r;
    if (!this.tight && r >= this.ceilingBytes * TIGHT) {
      this.tight = true;
      this.heapGrowth(TIGHT_GROWING_PERCENT);
    } else if (this.tight && r < this.ceilingBytes * LOOSE) {
      this.tight = false;
      this.heapGrowth(0);
    }
    if (r >= this.collectAt && r >= this.afterCollect + (this.ceilingBytes - this.collectAt) / 4) {
      const now = this.nowMs();
      if (now - this.lastCollectMs >= COLLECT_EVERY_MS) {
        this.lastCollectMs = now;
        this.collections++;
        this.collect();
        r = this.afterCollect = this.rss();
      }
    }
    if (!this.shedding && r >= this.high) {
      this.shedding = true;
      this.episodes++;
      this.onChange({ shedding: true, rssBytes: r, ceilingBytes: this.ceilingBytes });
    } else if (this.shedding && r < this.low) {
      this.shedding = false;
      this.onChange({ shedding: false, rssBytes: r, ceilingBytes: this.ceilingBytes });
    }
    return this.shedding;
  }
}

let collector: (() => void) | undefined;

/**
 * V8's full collection, found at the first one needed: setting a V8 flag at run time makes the
 * CLI's code cache (written at exit) unusable for the next start, so a run that never nears the
 * ceiling sets none.
 */
function fullCollection(): void {
  (collector ??= exposeGc())();
}

/**
 * Node exposes `gc` only behind --expose-gc, which each way of starting the sensor (systemd
 * unit, npm scripts, tests running the CLI) would have to pass; the flag set at run time makes
 * `gc` available to a new context.
 */
function exposeGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  // node:v8 is loaded here, not at start: it brings Node's heap utilities and streams along.
  process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
  return process.getBuiltinModule('node:vm').runInNewContext('gc') as () => void;
}

/**
 * V8 reads the heap growing factor at every full collection, so the flag takes effect from the
 * next one; 0 is V8's own dynamic factor.
 */
function setHeapGrowth(percent: number): void {
  process.getBuiltinModule('node:v8').setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** "512M", "1.5G", "800000000": bytes; NaN when it is not a size. */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(v.trim());
  if (m === null) return NaN;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

/** The once-per-episode line: sizes and counts only, never an address or payload. */
export function memoryEpisodeText(e: { shedding: boolean; rssBytes: number; ceilingBytes: number }): string {
  const mb = (n: number) => `${Math.round(n / 1024 ** 2)} MB`;
  return e.shedding
    ? `memory ${mb(e.rssBytes)} near the ceiling of ${mb(e.ceilingBytes)}: shedding analysis (no new analyzer states or devices; flows still counted)`
    : `memory ${mb(e.rssBytes)} back under the ceiling of ${mb(e.ceilingBytes)}: analysis resumed`;
}
