/**
 * Relative timing for complexity tests: the worst case and a normal case of the same size run
 * alternately in the same test and the medians are compared, so machine speed and load cancel
 * out. Bounds are meant to be generous (a few times), catching O(n) per step, not tuning.
 */
import { performance } from 'node:perf_hooks';

export function medianMs(fn: () => void, runs = 5): number {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

/** Median time of `worst` over median time of `normal`, each run `runs` times, interleaved after a warm-up of both. */
export function timeRatio(worst: () => void, normal: () => void, runs = 5): { worstMs: number; normalMs: number; ratio: number } {
  worst();
  normal();
  const w: number[] = [];
  const n: number[] = [];
  for (let i = 0; i < runs; i++) {
    w.push(medianMs(worst, 1));
    n.push(medianMs(normal, 1));
  }
  w.sort((a, b) => a - b);
  n.sort((a, b) => a - b);
  const worstMs = w[runs >> 1];
  const normalMs = n[runs >> 1];
  return { worstMs, normalMs, ratio: worstMs / Math.max(normalMs, 0.001) };
}
