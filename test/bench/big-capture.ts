/**
 * The bench's large capture: four copies of the benchmark capture, each shifted 200 s past the
 * previous one (editcap -t) and concatenated (mergecap -a), so timestamps never overlap and every
 * copy's connections are new ones to the flow table. Built once next to the source and reused.
 * Its spread variant also gives each copy other hosts (below).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';

const COPIES = 4;
/** Longer than the benchmark capture's span (about 190 s), so the copies follow one another. */
const SHIFT_S = 200;

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Copy `i` of the spread capture: every address 10.77.N.h (h < 64, as make-bench.sh gives its
 * hosts) moved to 10.77.N.(64·i + h), in the same /24 and so the same policy zone, and every MAC
 * address replaced consistently, so each copy's hosts are other devices and other conversations.
 */
function spreadArgs(i: number): string[] {
  const pnat = Array.from({ length: 256 }, (_, n) => `10.77.${n}.0/26:10.77.${n}.${64 * i}/26`).join(',');
  return [`--pnat=${pnat}`, `--enet-mac-seed=${i}`, '--fixcsum'];
}

/**
 * The bench's large capture (`spread` false), or the same with each copy's hosts made other hosts
 * (`spread` true: four times the address pairs, tcprewrite). The benchmark capture has eight
 * address pairs, and the workers are given whole address pairs (packet-router.ts), so on it a
 * second worker finds almost nothing to do; a segment of many devices is the spread one.
 */
export function buildBigCapture(source: string, spread = false): { path: string; packets: number } {
  const path = source.replace(/(\.pcapng|\.pcap)?$/, `-x${COPIES}${spread ? '-spread' : ''}$1`);
  if (!existsSync(path) || statSync(path).mtimeMs < statSync(source).mtimeMs) {
    const parts: string[] = [];
    try {
      for (let i = 0; i < COPIES; i++) {
        const part = `${path}.part${i}`;
        run('editcap', ['-t', String(i * SHIFT_S), source, part]);
        parts.push(part);
        if (spread && i > 0) {
          run('tcprewrite', [...spreadArgs(i), '-i', part, '-o', `${part}.moved`]);
          renameSync(`${part}.moved`, part);
        }
      }
      run('mergecap', ['-a', '-w', `${path}.tmp`, ...parts]);
      renameSync(`${path}.tmp`, path);
    } finally {
      for (const p of parts) rmSync(p, { force: true });
    }
  }
  const out = run('capinfos', ['-M', '-c', path]);
  const m = /Number of packets:\s+(\d+)/.exec(out);
  if (m === null) throw new Error(`capinfos gave no packet count for ${path}`);
  return { path, packets: Number(m[1]) };
}
