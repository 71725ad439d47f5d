import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DEPLOY = join(import.meta.dirname, '../../../deploy');
const UNITS = ['muvakt-api.service', 'muvakt-sensor.service'];
/** The highest exposure `systemd-analyze security` may give either unit (0 = locked down, 10 = exposed). */
const MAX_EXPOSURE = 3.0;

function systemdAnalyze(args: string[]) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('systemd-analyze is missing: install Debian\'s "systemd" package (.ci/run does)');
  }
  return r;
}

/** The unit's settings, key → values (a key may repeat). */
function settings(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const text = readFileSync(join(DEPLOY, unit), 'utf8').replace(/\\\n/g, ' ');
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2].trim()]);
  }
  return out;
}

describe('systemd units', () => {
  for (const unit of UNITS) {
    it(`${unit}: systemd-analyze security --offline exposure ≤ ${MAX_EXPOSURE}`, () => {
      const r = systemdAnalyze(['security', '--offline=yes', `--threshold=${MAX_EXPOSURE * 10}`, '--no-pager', join(DEPLOY, unit)]);
      const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      expect(Number(m![1]), r.stdout).toBeLessThanOrEqual(MAX_EXPOSURE);
      expect(r.status, r.stderr).toBe(0);
    });

    it(`${unit}: systemd-analyze verify accepts it`, () => {
      const r = systemdAnalyze(['verify', '--man=no', join(DEPLOY, unit)]);
      // "Command /usr/bin/node is not executable" only means node lives elsewhere on this machine.
      const problems = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '' && !/is not executable|No such file or directory/.test(l));
      expect(problems).toEqual([]);
    });
  }

  it('files are created private (UMask=0077); Node keeps its JIT (no MemoryDenyWriteExecute)', () => {
    for (const unit of UNITS) {
      const s = settings(unit);
      expect(s.get('UMask'), unit).toEqual(['0077']);
      expect(s.get('MemoryDenyWriteExecute'), unit).toBeUndefined();
      expect(s.get('User'), unit).toEqual(['muvakt']);
    }
  });

  it('the API has no capability; the sensor only the two tcpdump needs', () => {
    expect(settings('muvakt-api.service').get('CapabilityBoundingSet')).toEqual(['']);
    const sensor = settings('muvakt-sensor.service');
    expect(sensor.get('CapabilityBoundingSet')).toEqual(['CAP_NET_RAW CAP_NET_ADMIN']);
    expect(sensor.get('AmbientCapabilities')).toEqual(['CAP_NET_RAW CAP_NET_ADMIN']);
    expect(sensor.get('RestrictAddressFamilies')?.[0].split(/\s+/)).toContain('AF_PACKET');
  });

  it('the sensor exports its capture metrics (--listen on loopback)', () => {
    const s = settings('muvakt-sensor.service');
    const exec = s.get('ExecStart')![0];
    expect(exec).toMatch(/ run .*--listen \$\{MUVAKT_LISTEN\}/);
    // Started through the launcher, so Node itself holds no capability.
    expect(exec).toMatch(/^\/opt\/muvakt\/deploy\/muvakt-capture-launch \/usr\/bin\/node /);
    expect(s.get('Environment')).toContain('MUVAKT_LISTEN=127.0.0.1:8471');
  });

  it('the install comment builds with the dev dependencies, then prunes them', () => {
    for (const unit of UNITS) {
      const text = readFileSync(join(DEPLOY, unit), 'utf8');
      expect(text, unit).toContain('npm ci && npm run build && npm prune --omit=dev');
      expect(text, unit).not.toMatch(/npm ci --omit=dev && npm run build/);
    }
  });
});
