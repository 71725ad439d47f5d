/**
 * The repository carries its own contract: these tests hold the docs and the code to each other.
 * - Code, tests and README speak of features, never of work items, and point at nothing
 *   outside the repository (a clone has only what is in it).
 * - Every relative link in README.md and docs/*.md reaches a file (and a heading, for `#anchor`).
 * - The metric names, API routes, policy keys and rules the docs list are exactly the ones the
 *   code registers.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../dashboard-api/metrics.js';
import { buildApp } from '../../dashboard-api/app.js';
import { SqliteStore } from '../../agent/store/index.js';
import { PolicySchema } from '../../rules/policy/index.js';
import { ALL_RULES } from '../../rules/index.js';
import { ANALYZE_USAGE } from '../../agent/cli/analyze.js';
import { RUN_USAGE } from '../../agent/cli/run.js';
import { POLICY_USAGE } from '../../agent/cli/policy.js';
import { SERVE_USAGE } from '../../agent/cli/serve.js';
import { INVENTORY_USAGE } from '../../agent/cli/inventory.js';
import { EVIDENCE_USAGE } from '../../agent/cli/evidence.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

/** Every text file under `dirs` (recursively), as paths relative to the repository root. */
function filesUnder(...dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(ROOT, rel))) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = `${rel}/${name}`;
      const st = statSync(join(ROOT, p));
      if (st.isDirectory()) walk(p);
      else if (/\.(ts|js|mjs|sh|py|md|html|ya?ml|json)$/.test(name)) out.push(p);
    }
  };
  for (const d of dirs) walk(d);
  return out;
}

const SOURCE_AND_README = [...filesUnder('agent', 'protocols', 'rules', 'dashboard-api', 'test'), 'README.md'];

/** Lines of `files` that match `re`, as `file:line: text`. */
function matches(files: string[], re: RegExp): string[] {
  const hits: string[] = [];
  for (const f of files) {
    read(f)
      .split('\n')
      .forEach((line, i) => {
        if (re.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
      });
  }
  return hits;
}

describe('the repository speaks of features and points only inside itself', () => {
  it('names no work items (issue numbers) in code, tests or the README', () => {
    // Built from parts so that this file does not match itself.
    const workItem = new RegExp(['iss', 'ue \\d'].join(''), 'i');
    expect(SOURCE_AND_README.length).toBeGreaterThan(100);
    expect(matches(SOURCE_AND_README, workItem)).toEqual([]);
  });

  it('points at no design notes outside the repository', () => {
    const outside = new RegExp(['\\.\\./sha', 'red|/work/sha', 'red|ARCHITECT', 'URE\\.md'].join(''));
    const files = [...SOURCE_AND_README, ...filesUnder('deploy', 'docs')];
    expect(matches(files, outside)).toEqual([]);
  });
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.add(anchorOf(m[1]));
  }
  return out;
}

/** Relative link targets of a Markdown file (outside code blocks and code spans). */
function linksIn(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    for (const m of line.replace(/`[^`]*`/g, (s) => (s.includes('](') ? s : '')).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      out.push(target);
    }
  }
  return out;
}

describe('documentation links', () => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  it('covers the README and the docs', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'docs/data-flow.md', 'docs/alerts.md', 'docs/policy.md', 'docs/api.md', 'docs/metrics.md', 'docs/requirements.md']));
  });

  it('reach a file that exists, and a heading that exists', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const link of linksIn(read(page))) {
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? page : relative(ROOT, resolve(ROOT, dirname(page), path));
        checked++;
        if (!existsSync(join(ROOT, target))) {
          broken.push(`${page}: ${link} (no ${target})`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchorsIn(read(target)).has(anchor)) {
          broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(broken).toEqual([]);
  });
});

describe('the contracts in docs/ match the code', () => {
  it('docs/metrics.md lists exactly the muvakt_* metrics the registry holds, with their types and labels', async () => {
    const documented = new Map<string, { type: string; labels: string[] }>();
    for (const m of read('docs/metrics.md').matchAll(/^\| `(muvakt_[a-z0-9_]+)` \| (counter|gauge|histogram) \| ([^|]*) \|/gm)) {
      const labels = m[3].trim() === '—' ? [] : [...m[3].matchAll(/`([a-z_]+)`/g)].map((l) => l[1]);
      documented.set(m[1], { type: m[2], labels });
    }
    // A live sensor's registry: everything `serve` has plus the capture metrics.
    const metrics = createMetrics({ processMetrics: true, liveSensor: true });
    const registered = new Map<string, { type: string; labels: string[] }>();
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      if (!m.name.startsWith('muvakt_')) continue;
      const single = metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] };
      registered.set(m.name, { type: String(m.type), labels: [...(single.labelNames ?? [])] });
    }
    expect(registered.size).toBeGreaterThan(10);
    expect([...documented.keys()].sort()).toEqual([...registered.keys()].sort());
    for (const [name, r] of registered) expect({ name, ...documented.get(name) }).toEqual({ name, ...r });
    // The process metrics it names are real too.
    const all = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    for (const m of read('docs/metrics.md').matchAll(/`((?:process|nodejs)_[a-z0-9_]+)`/g)) expect(all).toContain(m[1]);
  });

  it('docs/api.md names every route of the OpenAPI document', async () => {
    const store = SqliteStore.open(':memory:');
    const app = await buildApp({ store, processMetrics: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/docs/json' });
      expect(res.statusCode).toBe(200);
      const paths = Object.entries((JSON.parse(res.body) as { paths: Record<string, Record<string, unknown>> }).paths);
      expect(paths.length).toBeGreaterThan(10);
      const doc = read('docs/api.md');
      const missing: string[] = [];
      for (const [path, ops] of paths) {
        const shown = path.replace(/\{(\w+)\}/g, ':$1');
        for (const method of Object.keys(ops)) {
          const bare = shown.replace(/^\/api\/v1(?=\/(healthz|readyz|metrics)$)/, '');
          const named = (p: string) => new RegExp(`${method.toUpperCase()} ${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?![A-Za-z0-9_/])`).test(doc);
          if (!named(shown) && !named(bare)) missing.push(`${method.toUpperCase()} ${shown}`);
        }
      }
      expect(missing).toEqual([]);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('docs/policy.md describes every key of the policy schema', () => {
    const keys = new Set<string>();
    const walk = (schema: Record<string, any> | undefined) => {
      if (!schema) return;
      for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, any>)) {
        keys.add(k);
        walk(v);
      }
      walk(schema.items);
      for (const alt of (schema.anyOf ?? []) as Record<string, any>[]) walk(alt);
    };
    walk(PolicySchema as unknown as Record<string, any>);
    expect(keys.size).toBeGreaterThan(30);
    // Names written as code in the prose and tables (`hl7.ack_timeout_s`, `zones[]`, `days`…).
    const named = new Set<string>();
    for (const span of read('docs/policy.md').replace(/^```[\s\S]*?^```/gm, '').matchAll(/`([^`]+)`/g)) {
      for (const word of span[1].split(/[^A-Za-z0-9_]+/)) named.add(word);
    }
    expect([...keys].filter((k) => !named.has(k))).toEqual([]);
  });

  it('docs/requirements.md lists every rule with its severity and codes, and explains every code', () => {
    const doc = read('docs/requirements.md');
    for (const r of ALL_RULES) {
      const refs = (r.guide_refs.join(', ') || '–').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const row = new RegExp(`^\\| \`${r.id}\` \\| ${r.severity} \\| ${r.requirements.length > 0 ? r.requirements.join(', ') : '—'} \\| ${refs} \\|`, 'm');
      expect(doc, r.id).toMatch(row);
      for (const g of r.requirements) {
        const section = new RegExp(`^### ${g} — [\\s\\S]*?(?=^### |^## )`, 'm').exec(doc)?.[0] ?? '';
        expect(section, `${g} section names ${r.id}`).toContain(`\`${r.id}\``);
      }
    }
    for (let g = 1; g <= 15; g++) expect(doc).toMatch(new RegExp(`^### G${g} — `, 'm'));
  });

  it("README's CLI summary names every command and option of `muvakt help`", () => {
    const readme = read('README.md');
    const cli = /^## CLI\n\n```\n([\s\S]*?)```/m.exec(readme)?.[1] ?? '';
    expect(cli).not.toBe('');
    for (const usage of [ANALYZE_USAGE, RUN_USAGE, POLICY_USAGE, SERVE_USAGE, INVENTORY_USAGE, EVIDENCE_USAGE]) {
      const command = /^muvakt [a-z]+(?: [a-z]+)?/.exec(usage)![0];
      expect(cli, command).toContain(command);
      for (const option of new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])) expect(cli, `${command} ${option}`).toContain(option);
    }
  });
});
