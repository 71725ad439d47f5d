/**
 * Renders docs/guide-references.md from rules/guide-references.ts and the rules that cite it.
 * `npm run docs:guide-references` writes the file; test/unit/rules/guide-references.test.ts
 * fails when the file in the repo differs from what this renders.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_RULES } from '../../rules/index.js';
import { GUIDES, GUIDE_REFERENCES, GUIDE_REF_IN_TEXT, RULES_WITHOUT_GUIDE_REFERENCE } from '../../rules/guide-references.js';

/** When run from dist/, the sources are one level up. */
function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes('/dist/') ? join(here, '../../..') : join(here, '../..');
}

export const DOC_PATH = 'docs/guide-references.md';

/** Where the project prints or mentions guide references: code, docs and the dashboard. */
const SCANNED = ['agent', 'rules', 'dashboard-api', 'dashboard-ui', 'protocols', 'deploy', 'docs', 'README.md'];
/** The table itself and the page rendered from it name references they do not use (annex #15). */
const NOT_SCANNED = new Set(['rules/guide-references.ts', DOC_PATH]);

function filesUnder(root: string, rel: string, out: string[]): void {
  const abs = join(root, rel);
  let st;
  try {
    st = statSync(abs);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(abs)) filesUnder(root, join(rel, name), out);
  } else if (/\.(ts|html|md|ya?ml)$/.test(rel) && !NOT_SCANNED.has(rel)) {
    out.push(rel);
  }
}

/** Every guide reference written anywhere in the scanned sources, with the files it is in. */
export function referencesInSources(root = repoRoot()): Map<string, string[]> {
  const files: string[] = [];
  for (const r of SCANNED) filesUnder(root, r, files);
  const found = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    for (const m of text.matchAll(GUIDE_REF_IN_TEXT)) {
      const list = found.get(m[0]) ?? [];
      if (!list.includes(f)) list.push(f);
      found.set(m[0], list);
    }
  }
  return found;
}

/** Who uses each reference: the rules that cite it, and the other places that print it. */
function usesOf(root: string): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  const add = (ref: string, who: string) => {
    const l = uses.get(ref) ?? [];
    if (!l.includes(who)) l.push(who);
    uses.set(ref, l);
  };
  for (const r of ALL_RULES) for (const g of r.guide_refs) add(g, `\`${r.id}\``);
  for (const [ref, files] of referencesInSources(root)) {
    for (const f of files) {
      if (f.startsWith('agent/inventory/')) add(ref, 'inventory');
      else if (f.startsWith('dashboard-api/') || f.startsWith('dashboard-ui/')) add(ref, 'API/dashboard');
      else if (f.startsWith('agent/store/') || f === 'agent/log.ts') add(ref, 'store/logs');
    }
  }
  return uses;
}

const WORDING_EN: Record<string, string> = { skal: 'shall', 'må': 'must', kreves: 'is required', 'bør': 'should', anbefales: 'is recommended', beskriver: 'describes' };

export function guideReferencesMarkdown(root = repoRoot()): string {
  const uses = usesOf(root);
  const out: string[] = [];
  out.push('# Veilederreferanser / Guide references');
  out.push('');
  out.push('<!-- Generated from rules/guide-references.ts by `npm run docs:guide-references`; do not edit by hand. -->');
  out.push('');
  out.push('Alle henvisninger muvakt skriver ut til Normens veiledere, med hva avsnittet krever, sagt med prosjektets egne ord. ' +
    'Every reference to Normen’s guides that muvakt prints, with what the section asks for, in the project’s own words.');
  out.push('');
  for (const [id, g] of Object.entries(GUIDES)) out.push(`- **${id}**: «${g.title}», versjon ${g.version}, ${g.published} (${g.en}).`);
  out.push('');
  out.push('Form: `MU 4.7` (avsnitt / section), `MU 5.1.2 #4` (punkt 4 i / item 4 of 5.1.2), `MU annex #3` (vedlegget med uønskede hendelser, hendelse 3 / the annex of unwanted events, event 3), `LEV 6.4`. ' +
    'Ordlyd / wording: hvor sterkt veilederen sier det prosjektet bygger på — skal (shall), må (must), kreves (is required), bør (should), anbefales (is recommended), beskriver (describes: a threat, an unwanted event or possible measures, no obligation).');
  out.push('');
  out.push('| Referanse | Overskrift / heading | Ordlyd / wording | Hva avsnittet krever | What it asks for | Brukt av / used by |');
  out.push('|---|---|---|---|---|---|');
  for (const g of GUIDE_REFERENCES) {
    const wording = g.wording.map((w) => `${w} (${WORDING_EN[w]})`).join(', ');
    out.push(`| ${g.ref} | ${g.heading.nb} / ${g.heading.en} | ${wording} | ${g.requires.nb} | ${g.requires.en} | ${(uses.get(g.ref) ?? []).join(', ') || '–'} |`);
  }
  out.push('');
  out.push('## Regler uten veilederreferanse / Rules without a guide reference');
  out.push('');
  for (const [id, why] of Object.entries(RULES_WITHOUT_GUIDE_REFERENCE)) out.push(`- \`${id}\`: ${why.nb} ${why.en}`);
  out.push('');
  out.push('## Ikke sitert / Not cited');
  out.push('');
  out.push('- MU annex #15 (manglende kryptering eller sikring av *trådløs* kommunikasjon / missing encryption of *wireless* communication): ' +
    'en sensor på en kablet speilport ser ikke det trådløse leddet, så ingen regel siterer den; ukryptert kablet trafikk siteres til MU 4.6, MU 5.1.2 #4 og LEV 6.4. ' +
    'A sensor on a wired mirror port does not see the wireless leg, so no rule cites it; wired cleartext cites MU 4.6, MU 5.1.2 #4 and LEV 6.4.');
  out.push('- Vedlegget i MU-veilederen har 22 eksempler på uønskede hendelser; bare de som står i tabellen over, siteres. The MU guide’s annex lists 22 examples of unwanted events; only those in the table above are cited.');
  out.push('');
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = repoRoot();
  writeFileSync(join(root, DOC_PATH), guideReferencesMarkdown(root));
  process.stdout.write(`wrote ${relative(process.cwd(), join(root, DOC_PATH))}\n`);
}
