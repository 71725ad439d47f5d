/**
 * The bench's large capture: four copies of the benchmark capture, each shifted 200 s past the
 * previous one (editcap -t) and concatenated (mergecap -a), so timestamps never overlap and every
 * copy's connections are new ones to the flow table. Built once next to the source and reused.
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

export function buildBigCapture(source: string): { path: string; packets: number } {
  const path = source.replace(/(\.pcapng|\.pcap)?$/, `-x${COPIES}$1`);
  if (!existsSync(path) || statSync(path).mtimeMs < statSync(source).mtimeMs) {
    const parts: string[] = [];
    try {
      for (let i = 0; i < COPIES; i++) {
        const part = `${path}.part${i}`;
        run('editcap', ['-t', String(i * SHIFT_S), source, part]);
        parts.push(part);
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
