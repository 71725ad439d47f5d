/**
 * Bundles the dashboard (dashboard-ui/) into one self-contained page, dist/dashboard/index.html:
 * the script and the style sheet inline, so that the page needs nothing but its own origin and
 * the route's CSP can allow both by hash (dashboard-api/routes/dashboard.ts). Run by `npm run build`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** When run from dist/, the sources are two levels up. */
function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes('/dist/') ? join(here, '../..') : join(here, '..');
}

export const PAGE_OUT = 'dist/dashboard/index.html';

export async function buildDashboard(root = repoRoot()): Promise<string> {
  const result = await build({
    entryPoints: [join(root, 'dashboard-ui/main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
  });
  // The CSP hashes exactly one inline script; a closing tag inside it would end it early.
  const script = result.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1').trim();
  const style = readFileSync(join(root, 'dashboard-ui/style.css'), 'utf8').trim();
  const template = readFileSync(join(root, 'dashboard-ui/index.html'), 'utf8');
  if (!template.includes('/*STYLE*/') || !template.includes('/*SCRIPT*/')) throw new Error('dashboard-ui/index.html lacks the /*STYLE*/ or /*SCRIPT*/ slot');
  const html = template.replace('/*STYLE*/', () => style).replace('/*SCRIPT*/', () => script);
  const out = join(root, PAGE_OUT);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, html);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildDashboard();
  process.stdout.write(`wrote ${out}\n`);
}
