/**
 * Import direction. Data flows capture → protocols → agent → rules → store → API; a layer imports
 * only what it builds on. Every .ts file under protocols/, agent/, rules/ and dashboard-api/ is
 * parsed (static imports, re-exports, dynamic import() and import("…") types), and each arrow
 * between our own files must be allowed by these layers (an arrow within a layer always is):
 *
 *   capture        agent/capture/      bytes to packet records: imports nothing of ours outside itself
 *   protocols      protocols/          pure decoders: import nothing of ours outside protocols/
 *   rules          rules/              may import types from protocols/ (`import type`), and values
 *                                      only from the pure modules both sides share: the event
 *                                      contract (protocols/events/) and the address classes
 *                                      (protocols/ip/address-class.ts, ip-text.ts) — never a decoder
 *   store          agent/store/        may import rules/ and protocols/ (not the rest of agent/)
 *   agent          agent/ (the rest)   may import capture, protocols, rules, store and agent/;
 *                                      never dashboard-api/ and never the CLI
 *   API            dashboard-api/      may import the store (through its barrel agent/store/index.ts),
 *                                      rules, protocols and the agent modules it needs; never the CLI
 *   composition    agent/cli/          the root: the commands assemble the process and start
 *   root                               the API, so they alone may import anything, dashboard-api/ included
 *   UI             dashboard-ui/       the page in the browser, bundled apart from the server: it talks
 *                                      to the API over HTTP only, so it imports nothing of the server —
 *                                      its one value import is the guide-reference table
 *                                      (rules/guide-references.ts, pure data), and nothing imports it
 *
 * The test fails with the list of arrows that break these rules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const SOURCE_DIRS = ['protocols', 'agent', 'rules', 'dashboard-api', 'dashboard-ui'];

type Layer = 'capture' | 'protocols' | 'rules' | 'store' | 'agent' | 'api' | 'ui' | 'composition-root' | 'outside';

function layerOf(file: string): Layer {
  if (file.startsWith('agent/cli/')) return 'composition-root';
  if (file.startsWith('agent/capture/')) return 'capture';
  if (file.startsWith('agent/store/')) return 'store';
  if (file.startsWith('agent/')) return 'agent';
  if (file.startsWith('protocols/')) return 'protocols';
  if (file.startsWith('rules/')) return 'rules';
  if (file.startsWith('dashboard-api/')) return 'api';
  if (file.startsWith('dashboard-ui/')) return 'ui';
  return 'outside';
}

interface ImportArrow {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Pure modules of protocols/ whose values rules may use: shared answers, not decoders. */
const RULES_MAY_USE = ['protocols/events/', 'protocols/ip/address-class.ts', 'protocols/ip/ip-text.ts'];

/** What the browser bundle may take from the rest: the guide-reference table, which is plain data. */
const UI_MAY_USE = ['rules/guide-references.ts'];

/** Why an arrow is not allowed, or null when it is. Paths are repository-relative .ts files. */
function violation(a: ImportArrow): string | null {
  const from = layerOf(a.from);
  const to = layerOf(a.to);
  if (from === to) return null;
  if (to === 'ui') return 'nothing imports the browser page (dashboard-ui/)';
  switch (from) {
    case 'ui':
      return UI_MAY_USE.includes(a.to) ? null : 'dashboard-ui/ runs in the browser: it imports only the guide-reference table, and reaches the rest over the API';
    case 'composition-root':
      return null;
    case 'capture':
    case 'protocols':
      return `${from} imports nothing of ours outside itself`;
    case 'rules':
      if (to === 'protocols') return a.typeOnly || RULES_MAY_USE.some((p) => a.to.startsWith(p)) ? null : 'rules may import only types from protocols/ (values only from the shared pure modules)';
      return 'rules import only (types from) protocols/';
    case 'store':
      return to === 'rules' || to === 'protocols' ? null : 'the store imports only rules/ and protocols/';
    case 'agent':
      if (to === 'api') return 'agent/ never imports dashboard-api/: only the composition root (agent/cli/) wires the API in';
      if (to === 'composition-root') return 'library code never imports the CLI';
      return null;
    case 'api':
      if (to === 'composition-root') return 'the API never imports the CLI';
      if (to === 'store' && a.to !== 'agent/store/index.ts') return "the API reaches the store only through its barrel, agent/store/index.ts";
      return null;
    default:
      return null;
  }
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) sourceFiles(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function isTypeOnlyImport(d: ts.ImportDeclaration): boolean {
  const c = d.importClause;
  if (c === undefined) return false; // `import './x.js'` runs the module
  if (c.isTypeOnly) return true;
  if (c.name !== undefined) return false;
  const b = c.namedBindings;
  return b !== undefined && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(d: ts.ExportDeclaration): boolean {
  if (d.isTypeOnly) return true;
  const c = d.exportClause;
  return c !== undefined && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly);
}

/** Every relative import of one file: static, re-export, dynamic import() and import("…") types. */
function importsOf(file: string, text: string): ImportArrow[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportArrow[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return; // packages and node: builtins
    const to = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push({ from: file, to, typeOnly });
  };
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) add(n.moduleSpecifier.text, isTypeOnlyImport(n));
    else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) add(n.moduleSpecifier.text, isTypeOnlyExport(n));
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) add(n.arguments[0].text, false);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) add(n.argument.literal.text, true);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('import direction: capture → protocols → agent → rules → store → API → UI', () => {
  const files = SOURCE_DIRS.flatMap((d) => sourceFiles(d));
  const arrows = files.flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')));

  it('reads every layer and finds the imports between them', () => {
    for (const layer of ['capture', 'protocols', 'rules', 'store', 'agent', 'api', 'ui', 'composition-root'] as const) {
      expect(files.some((f) => layerOf(f) === layer), layer).toBe(true);
    }
    // The parse sees every kind of arrow the rules speak of: across layers, type-only, dynamic.
    expect(arrows.some((a) => layerOf(a.from) === 'api' && layerOf(a.to) === 'store')).toBe(true);
    expect(arrows.some((a) => a.typeOnly)).toBe(true);
    expect(arrows.some((a) => a.from === 'agent/cli/cli.ts' && a.to === 'agent/cli/analyze.ts')).toBe(true);
  });

  it('every import points against the data flow, or comes from the composition root', () => {
    const bad = arrows.flatMap((a) => {
      const why = violation(a);
      return why === null ? [] : [`${a.from} → ${a.to}${a.typeOnly ? ' (type)' : ''}: ${why}`];
    });
    expect(bad).toEqual([]);
  });

  it('every import names a file that exists', () => {
    const known = new Set(files);
    expect(arrows.filter((a) => !known.has(a.to)).map((a) => `${a.from} → ${a.to}`)).toEqual([]);
  });

  it('the rules catch the arrows they forbid', () => {
    const arrow = (from: string, spec: string, typeOnly = false) => importsOf(from, `import ${typeOnly ? 'type ' : ''}{ X } from '${spec}';`)[0];
    expect(violation(arrow('agent/sensor/live-sensor.ts', '../../dashboard-api/metrics.js', true))).toMatch(/only the composition root/);
    expect(violation(arrow('agent/alerts.ts', './cli/args.js'))).toMatch(/never imports the CLI/);
    expect(violation(arrow('dashboard-api/plugins/errors.ts', '../../agent/store/values.js'))).toMatch(/barrel/);
    expect(violation(arrow('rules/checks/x.ts', '../../protocols/packet.js'))).toMatch(/only types/);
    expect(violation(arrow('rules/checks/x.ts', '../../protocols/packet.js', true))).toBeNull();
    expect(violation(arrow('rules/checks/x.ts', '../../protocols/ip/address-class.js'))).toBeNull();
    expect(violation(arrow('rules/checks/x.ts', '../../protocols/tls/parser.js'))).toMatch(/only types/);
    expect(violation(arrow('protocols/dicom/x.ts', '../../agent/events/types.js', true))).toMatch(/nothing of ours/);
    expect(violation(arrow('agent/store/x.ts', '../inventory/sink.js'))).toMatch(/only rules/);
    expect(violation(arrow('agent/capture/x.ts', '../pipeline.js'))).toMatch(/nothing of ours/);
    expect(violation(arrow('agent/cli/run.ts', '../../dashboard-api/app.js'))).toBeNull();
    expect(violation(arrow('dashboard-ui/guide.ts', '../rules/guide-references.js'))).toBeNull();
    expect(violation(arrow('dashboard-ui/types.ts', '../dashboard-api/schemas.js', true))).toMatch(/over the API/);
    expect(violation(arrow('dashboard-ui/main.ts', '../agent/store/index.js'))).toMatch(/over the API/);
    expect(violation(arrow('dashboard-api/routes/dashboard.ts', '../../dashboard-ui/i18n.js'))).toMatch(/nothing imports the browser page/);
    expect(violation(arrow('agent/cli/serve.ts', '../../dashboard-ui/main.js'))).toMatch(/nothing imports the browser page/);
    // Dynamic imports and `import type` are seen.
    expect(importsOf('agent/cli/main.ts', "const m = await import('./analyze.js');")[0]).toEqual({ from: 'agent/cli/main.ts', to: 'agent/cli/analyze.ts', typeOnly: false });
    expect(importsOf('rules/a.ts', "import { type A, type B } from '../protocols/p.js';")[0].typeOnly).toBe(true);
    expect(importsOf('rules/a.ts', "import { type A, B } from '../protocols/p.js';")[0].typeOnly).toBe(false);
    expect(importsOf('rules/a.ts', "import '../protocols/p.js';")[0].typeOnly).toBe(false);
  });
});
