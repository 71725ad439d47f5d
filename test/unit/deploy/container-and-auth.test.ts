import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthConfigError, loadAuthConfig } from '../../../dashboard-api/plugins/auth.js';
import { tempDir } from '../api/helpers.js';

const ROOT = join(import.meta.dirname, '../../..');
const tmp = tempDir('muvakt-deploy-');
afterAll(() => tmp.cleanup());

interface Stage {
  from: string;
  name?: string;
  lines: { op: string; args: string }[];
}

/** Containerfile instructions by stage (continuation lines joined, comments dropped). */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`not an instruction: ${line}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2])!;
      out.push({ from: f[1], name: f[2], lines: [] });
    } else out.at(-1)!.lines.push({ op, args: m[2] });
  }
  return out;
}

describe('deploy/Containerfile', () => {
  const s = stages(readFileSync(join(ROOT, 'deploy/Containerfile'), 'utf8'));
  const build = s.find((x) => x.name === 'build')!;
  const runtime = s.at(-1)!;

  it('builds inside the image: npm ci, then the build, then production dependencies only', () => {
    expect(s.length).toBe(2);
    const runs = build.lines.filter((l) => l.op === 'RUN').map((l) => l.args);
    const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r));
    const compile = runs.findIndex((r) => /npm run build/.test(r));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(compile).toBeGreaterThan(ci);
    expect(runs[compile]).toMatch(/npm prune --omit=dev/);
  });

  it('never copies the whole context (a host node_modules or dist cannot slip in), and every source exists', () => {
    for (const st of s) {
      for (const c of st.lines.filter((l) => l.op === 'COPY' && !l.args.startsWith('--from='))) {
        const parts = c.args.split(/\s+/);
        const sources = parts.slice(0, -1);
        for (const src of sources) {
          expect(src, c.args).not.toMatch(/^\.\/?$/);
          expect(src, c.args).not.toMatch(/node_modules|^dist/);
          expect(existsSync(join(ROOT, src)), `${src} (COPY ${c.args})`).toBe(true);
        }
      }
    }
  });

  it('the build stage copies every source directory tsc compiles', () => {
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
    const copied = build.lines.filter((l) => l.op === 'COPY').flatMap((l) => l.args.split(/\s+/).slice(0, -1));
    for (const inc of tsconfig.include) {
      const dir = inc.replace(/\/\*\*.*$/, '');
      expect(copied, dir).toContain(dir);
    }
  });

  it('the runtime stage has only the build output (the dashboard page included) and production modules, and runs as a non-root user', () => {
    const fromBuild = runtime.lines.filter((l) => l.op === 'COPY' && l.args.startsWith('--from=build')).map((l) => l.args.split(/\s+/)[1]);
    expect(fromBuild).toEqual(expect.arrayContaining(['/opt/muvakt/dist', '/opt/muvakt/node_modules']));
    // The page is bundled into dist/ by the build, from sources the build stage copies.
    expect(build.lines.some((l) => l.op === 'COPY' && l.args.split(/\s+/)[0] === 'dashboard-ui')).toBe(true);
    const users = runtime.lines.filter((l) => l.op === 'USER').map((l) => l.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
    // the user exists in the image
    expect(runtime.lines.some((l) => l.op === 'RUN' && new RegExp(`useradd .*\\b${users.at(-1)}\\b`).test(l.args))).toBe(true);
    // capture without root: tcpdump carries exactly the two capabilities
    expect(runtime.lines.some((l) => l.op === 'RUN' && /setcap cap_net_raw,cap_net_admin=eip \/usr\/bin\/tcpdump/.test(l.args))).toBe(true);
  });

  it('.containerignore and .dockerignore are the same and keep host artefacts out of the context', () => {
    const a = readFileSync(join(ROOT, '.containerignore'), 'utf8');
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8')).toBe(a);
    const patterns = a.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    for (const p of ['node_modules', 'dist', '.git', '*.db', '*.db-*', '**/auth.yaml', '**/*.pem']) expect(patterns, p).toContain(p);
  });
});

describe('deploy/auth.example.yaml', () => {
  it('loads as shipped', () => {
    const cfg = loadAuthConfig(join(ROOT, 'deploy/auth.example.yaml'));
    expect(cfg.tokens.map((t) => t.role)).toEqual(['viewer', 'officer', 'admin']);
    expect(cfg.metrics_token_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an unquoted all-digit hash is refused with a hint to quote it', () => {
    const f = join(tmp.dir, 'auth.yaml');
    writeFileSync(f, readFileSync(join(ROOT, 'deploy/auth.example.yaml'), 'utf8').replace(/"([0-9a-f]{64})"/g, '$1'));
    expect(() => loadAuthConfig(f)).toThrow(AuthConfigError);
    expect(() => loadAuthConfig(f)).toThrow(/tokens\[0\]\.sha256: must be string: quote the hash/);
  });
});
