/**
 * The fuzz loop: seeds first as they are, then mutants of them, each run through one target and
 * judged. A finding is a throw (crash), a run slower than the limit (hang: algorithmic blow-ups
 * count), or a planted value in what came out (privacy violation). Findings are kept once per
 * signature with the input that caused them.
 */
import { Mutator, Prng } from './mutator.js';
import { plantedMatcher } from './planted.js';
import type { FuzzTarget } from './targets.js';

/** What the main thread hands a fuzz worker (test/fuzz/worker.ts). */
export interface WorkerJob {
  target: string;
  seed: number;
  seconds?: number;
  iterations?: number;
  slowMs: number;
  maxLen: number;
  /** The target's seeds, collected once by the main thread (replaying the corpus takes seconds). */
  seeds: Uint8Array[];
  /** Int32 [0] inputs started, [1] current input's length; the input's bytes from SHARED_HEADER. */
  shared: SharedArrayBuffer;
}

export const SHARED_HEADER = 8;

export type FindingKind = 'crash' | 'hang' | 'violation';

export interface Finding {
  kind: FindingKind;
  target: string;
  message: string;
  input: Buffer;
}

export interface FuzzStats {
  target: string;
  execs: number;
  seconds: number;
  /** Every finding, counted; `findings` keeps one input per signature. */
  counts: Record<FindingKind, number>;
  findings: Finding[];
  slowestMs: number;
  /** CPU seconds the process spent meanwhile (with one worker at a time, the target's own). */
  cpuSeconds: number;
}

export interface FuzzOptions {
  seed: number;
  /** Stop after this many inputs … */
  iterations?: number;
  /** … or this many seconds, whichever comes first. */
  seconds?: number;
  /** A run longer than this is a hang. */
  slowMs?: number;
  maxLen?: number;
  /** Called with each input before it runs (the worker shares it, for the watchdog). */
  onInput?: (input: Buffer) => void;
  /** Called about once a second. */
  onProgress?: (execs: number) => void;
}

/** Where a throw comes from: its message and the first frame in our code. */
function signature(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const frame = (err.stack ?? '').split('\n').find((l) => /\/(protocols|agent|rules)\//.test(l)) ?? '';
  return `${err.name}: ${err.message.slice(0, 200)} ${frame.trim()}`;
}

export function fuzz(target: FuzzTarget, seeds: readonly Buffer[], planted: readonly string[], o: FuzzOptions): FuzzStats {
  const rng = new Prng(o.seed);
  const mutator = new Mutator(rng, o.maxLen ?? 256 * 1024);
  const slowMs = o.slowMs ?? 1000;
  const stats: FuzzStats = { target: target.name, execs: 0, seconds: 0, counts: { crash: 0, hang: 0, violation: 0 }, findings: [], slowestMs: 0, cpuSeconds: 0 };
  const seen = new Set<string>();
  const note = (kind: FindingKind, message: string, input: Buffer) => {
    stats.counts[kind]++;
    const key = `${kind} ${message}`;
    if (seen.has(key) || stats.findings.length >= 50) return;
    seen.add(key);
    stats.findings.push({ kind, target: target.name, message, input: Buffer.from(input) });
  };
  const pool = seeds.length > 0 ? seeds : [Buffer.alloc(0)];
  const matcher = plantedMatcher(planted);
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = o.seconds !== undefined ? start + o.seconds * 1000 : Infinity;
  const limit = o.iterations ?? Infinity;
  let lastProgress = start;
  for (let i = 0; i < limit; i++) {
    const input = i < pool.length ? pool[i] : mutator.mutate(pool[rng.below(pool.length)], pool[rng.below(pool.length)]);
    o.onInput?.(input);
    const t0 = performance.now();
    let out: unknown[] = [];
    try {
      out = target.run(input);
    } catch (e) {
      note('crash', signature(e), input);
    }
    const t1 = performance.now();
    const ms = t1 - t0;
    if (ms > stats.slowestMs) stats.slowestMs = ms;
    if (ms > slowMs) note('hang', `one input took ${Math.round(ms)} ms (limit ${slowMs} ms)`, input);
    if (out.length > 0 && planted.length > 0) {
      const hit = matcher.find(JSON.stringify(out));
      if (hit) note('violation', `planted value of ${hit.length} characters came out in an event (${hit.form})`, input);
    }
    stats.execs++;
    if (t1 - lastProgress > 1000) {
      lastProgress = t1;
      o.onProgress?.(stats.execs);
      if (t1 > deadline) break;
    }
  }
  stats.seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stats.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return stats;
}
