import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERT_WEIGHTS } from '../../../agent/inventory/classification.js';
import { STRINGS } from '../../../dashboard-ui/i18n.js';
import { ALL_RULES, type Rule } from '../../../rules/index.js';
import { GUIDE_REFERENCES, RULES_WITHOUT_GUIDE_REFERENCE, guideReference, splitGuideRefs } from '../../../rules/guide-references.js';
import { DOC_PATH, guideReferencesMarkdown, referencesInSources } from '../../support/guide-references-doc.js';

const ROOT = join(import.meta.dirname, '../../..');

function rule(id: string): Rule {
  const r = ALL_RULES.find((x) => x.id === id);
  if (!r) throw new Error(`no rule ${id}`);
  return r;
}

/** Every text a rule shows, both languages. */
function texts(r: Rule): { nb: string; en: string } {
  return { nb: `${r.title.nb}\n${r.recommendation.nb}`, en: `${r.title.en}\n${r.recommendation.en}` };
}

describe('guide references: every one the project uses is in the table', () => {
  it('the table has one entry per reference, each with both languages and a wording', () => {
    const seen = new Set<string>();
    for (const g of GUIDE_REFERENCES) {
      expect(seen.has(g.ref), g.ref).toBe(false);
      seen.add(g.ref);
      expect(g.ref.startsWith(`${g.guide} `), g.ref).toBe(true);
      expect(g.wording.length, g.ref).toBeGreaterThan(0);
      expect(g.heading.nb && g.heading.en && g.requires.nb && g.requires.en, g.ref).toBeTruthy();
    }
  });

  it('every rule cites only references in the table; only the listed operational rules cite none', () => {
    for (const r of ALL_RULES) {
      for (const g of r.guide_refs) expect(guideReference(g), `${r.id}: ${g}`).toBeDefined();
      if (r.guide_refs.length === 0) expect(RULES_WITHOUT_GUIDE_REFERENCE[r.id], `${r.id} cites nothing and is not listed as operational`).toBeDefined();
      else expect(RULES_WITHOUT_GUIDE_REFERENCE[r.id], `${r.id} is listed as citing nothing`).toBeUndefined();
    }
    for (const id of Object.keys(RULES_WITHOUT_GUIDE_REFERENCE)) expect(rule(id).guide_refs).toEqual([]);
  });

  it('the inventory’s exposure weights cite references in the table', () => {
    for (const w of ALERT_WEIGHTS) for (const g of splitGuideRefs(w.guide_ref)) expect(guideReference(g), `${w.category}: ${g}`).toBeDefined();
    // Usage scenarios and exposure reasons are literals in agent/inventory: the source check below
    // reads them, and the inventory's corpus test checks the reasons a real device gets.
  });

  it('every reference written in code, docs and the dashboard is in the table, and every entry is used', () => {
    const found = referencesInSources(ROOT);
    const missing = [...found].filter(([ref]) => !guideReference(ref)).map(([ref, files]) => `${ref} (${files.join(', ')})`);
    expect(missing).toEqual([]);
    const unused = GUIDE_REFERENCES.filter((g) => !found.has(g.ref)).map((g) => g.ref);
    expect(unused).toEqual([]);
  });

  it(`${DOC_PATH} is the table as rendered (npm run docs:guide-references)`, () => {
    expect(readFileSync(join(ROOT, DOC_PATH), 'utf8')).toBe(guideReferencesMarkdown(ROOT));
  });

  it('the rule table in docs/requirements.md cites what the rules cite', () => {
    const doc = readFileSync(join(ROOT, 'docs/requirements.md'), 'utf8');
    for (const r of ALL_RULES) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${r.id}\` |`));
      expect(row, r.id).toBeDefined();
      expect(row!.split(' | ')[3], r.id).toBe(r.guide_refs.join(', ') || '–');
    }
  });
});

describe('citations the guides do not support are gone', () => {
  it('annex references name one of the MU annex’s 22 examples of unwanted events', () => {
    for (const g of GUIDE_REFERENCES.filter((x) => x.ref.startsWith('MU annex #'))) {
      const n = Number(g.ref.slice('MU annex #'.length));
      expect(n >= 1 && n <= 22, g.ref).toBe(true);
    }
  });

  it('no rule cites the wireless annex event (#15): a wired SPAN port cannot see it', () => {
    for (const r of ALL_RULES) expect(r.guide_refs, r.id).not.toContain('MU annex #15');
  });

  it('MU 4.7 (remote support) only on remote-access rules', () => {
    for (const r of ALL_RULES.filter((x) => x.guide_refs.includes('MU 4.7'))) expect(r.events, r.id).toContain('remote_access');
    for (const id of ['dicom-cleartext-phi', 'hl7-cleartext-phi', 'phi-cleartext', 'dicom-user-identity-cleartext-password', 'cleartext-to-external', 'cleartext-credentials', 'tls-weak-version', 'tls-certificate-untrusted']) {
      expect(rule(id).guide_refs, id).not.toContain('MU 4.7');
    }
  });

  it('MU 4.6’s encryption duty (networks the hospital does not control) is not cited for internal-only phi-cleartext', () => {
    expect(rule('phi-cleartext').guide_refs).not.toContain('MU 4.6');
  });

  it('MU 4.9.1 (transfers abroad) only where the rule checks the country', () => {
    expect(rule('phi-in-vendor-callhome').guide_refs).not.toContain('MU 4.9.1');
    for (const r of ALL_RULES.filter((x) => x.guide_refs.includes('MU 4.9.1'))) expect(r.id).toBe('destination-country-not-allowed');
  });

  it('certificates, truncated captures, unencrypted remote access, AE spoofing and malformed PDUs', () => {
    expect(rule('tls-certificate-untrusted').guide_refs).toEqual(['LEV 6.4']);
    expect(rule('capture-truncated').guide_refs).not.toContain('LEV 6.3');
    expect(rule('remote-access-unencrypted').guide_refs).not.toContain('LEV 10.1');
    for (const id of ['dicom-ae-spoofing', 'malformed-dicom-pdu']) {
      expect(rule(id).guide_refs, id).toContain('MU 5.1.2 #5');
      for (const a of ['MU annex #10', 'MU annex #13', 'MU annex #14']) expect(rule(id).guide_refs, id).not.toContain(a);
    }
  });

  it('the inventory weighs cleartext credentials by MU 4.4 and annex #3, not a bare MU 5.1.2', () => {
    const w = ALERT_WEIGHTS.find((x) => x.category === 'cleartext credentials')!;
    expect(splitGuideRefs(w.guide_ref)).toEqual(expect.arrayContaining(['MU 4.4', 'MU annex #3']));
    expect(splitGuideRefs(w.guide_ref)).not.toContain('MU 5.1.2');
  });
});

describe('rule texts say no more than the guides, in one bokmål term set', () => {
  it('no claims the guides do not make', () => {
    for (const r of ALL_RULES) {
      const { nb, en } = texts(r);
      expect(nb, r.id).not.toMatch(/NSM anbefaler|AES-GCM|ChaCha20|tidsvindu|Normen 5\.3\.5|skal ikke krysse/i);
      expect(en, r.id).not.toMatch(/NSM recommends|AES-GCM|ChaCha20|time window|Normen 5\.3\.5|must not cross/i);
    }
    // LEV 6.4 says "bør" for encryption: a "skal" in a sentence that quotes the supplier guide
    // belongs to the MU guide (4.6, external networks), and the sentence must say so.
    for (const r of ALL_RULES) {
      const { nb, en } = texts(r);
      for (const s of nb.split(/[.;]\s/).filter((x) => /leverandørveilederen/i.test(x) && /\bskal\b/.test(x))) expect(s, r.id).toMatch(/MU-veilederen[^.;]*\bskal\b/);
      for (const s of en.split(/[.;]\s/).filter((x) => /supplier guide/i.test(x) && /\bshall\b/.test(x))) expect(s, r.id).toMatch(/MU guide[^.;]*\bshall\b/);
    }
    // LEV 6.4 says "bør" for encryption in general; "skal" only where MU 4.6 (external networks) or MU 4.7 (remote support) applies.
    expect(rule('phi-cleartext').recommendation.nb).toMatch(/bør krypteres/);
    expect(rule('phi-cleartext').recommendation.nb).not.toMatch(/skal/);
  });

  it('one term for the guides’ "helse- og personopplysninger", and natural bokmål', () => {
    for (const r of ALL_RULES) {
      const { nb, en } = texts(r);
      expect(nb, r.id).not.toMatch(/pasientopplysning|pasientdata|(?<!helse- og )helseopplysning|legitimasjon|hoppvert|baselinje|fullt disk|\bcommunity\b|soner som ikke er tillatt/i);
      expect(en, r.id).not.toMatch(/\bpatient data\b|\bhealth data\b/i);
    }
  });

  it('the workbench’s bokmål strings use the same terms', () => {
    for (const [key, text] of Object.entries(STRINGS.nb)) {
      expect(text, key).not.toMatch(/pasientopplysning|pasientdata|(?<!helse- og )helseopplysning|legitimasjon|hoppvert|baselinje|fullt disk|soner som ikke er tillatt/i);
    }
  });

  it('DICOM and HL7 alerts have their own texts', () => {
    for (const r of ALL_RULES.filter((x) => x.id.startsWith('dicom-') || x.events.every((e) => e.startsWith('dicom.')))) {
      expect(`${texts(r).nb}${texts(r).en}`, r.id).not.toMatch(/HL7/);
    }
    for (const r of ALL_RULES.filter((x) => x.id.startsWith('hl7-') || x.events.every((e) => e.startsWith('hl7.')))) {
      expect(`${texts(r).nb}${texts(r).en}`, r.id).not.toMatch(/DICOM/);
    }
  });

  it('health and personal data in technical logs is a deviation to handle before anything is deleted', () => {
    const { nb, en } = rule('phi-in-syslog').recommendation;
    expect(nb).toMatch(/avvik/);
    expect(nb).toMatch(/meld/);
    expect(nb).not.toMatch(/slett/i);
    expect(en).toMatch(/deviation/);
    expect(en).not.toMatch(/delete/i);
  });
});
