import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES_WITHOUT_GUIDE_REFERENCE, guideReference } from '../../rules/guide-references.js';
import { ALL_RULES } from '../../rules/index.js';
import { findingsFor } from '../support/rules.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');
const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8'));

/** The corpus names findings in its own words; these are the rules that raise them. */
const RULE_FOR: Record<string, string> = {
  'remote-access-telnet': 'remote-access-session',
  'remote-access-ssh': 'remote-access-session',
  'remote-access-vnc': 'remote-access-session',
  'segmentation-mu-to-office': 'flow-not-allowed',
};
const RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

interface Capture {
  file: string;
  expected_findings: string[];
  must_not_raise?: string[];
}

function expectedIds(c: Capture): string[] {
  return c.expected_findings.filter((f) => !f.startsWith('info:')).map((f) => f.split(/[\s(]/)[0]);
}

describe('rules on the corpus with the example policy', () => {
  it.each(manifest.captures as Capture[])('$file', async (c) => {
    const findings = await findingsFor([join(CORPUS, c.file)]);
    const raised = new Set(findings.map((f) => f.rule.id));
    for (const id of expectedIds(c)) {
      const rule = RULE_FOR[id] ?? id;
      expect(raised, `${c.file}: expected ${id} (rule ${rule}); raised ${[...raised].join(', ')}`).toContain(rule);
      if (id.startsWith('remote-access-') && RULE_FOR[id]) {
        expect(findings.some((f) => f.rule.id === rule && f.evidence.protocol === id.slice('remote-access-'.length))).toBe(true);
      }
    }
    for (const id of c.must_not_raise ?? []) expect(raised, `${c.file}: must not raise ${id}`).not.toContain(RULE_FOR[id] ?? id);
    if (expectedIds(c).length === 0) {
      // Benign captures: nothing at medium or above.
      expect(findings.filter((f) => RANK[f.severity] >= RANK.medium).map((f) => `${f.rule.id}:${f.severity}`)).toEqual([]);
    }
    // Evidence never carries a planted value.
    const text = JSON.stringify(findings.map((f) => ({ s: f.subject, e: f.evidence })));
    for (const s of (c as unknown as { planted_secrets: string[] }).planted_secrets ?? []) expect(text).not.toContain(s);
  });

  it('every rule cites the guides and has both languages', () => {
    const ids = new Set<string>();
    for (const r of ALL_RULES) {
      expect(ids.has(r.id), r.id).toBe(false);
      ids.add(r.id);
      // Rules about the sensor's own input cite nothing, and say why (rules/guide-references.ts).
      if (!RULES_WITHOUT_GUIDE_REFERENCE[r.id]) expect(r.guide_refs.length, r.id).toBeGreaterThan(0);
      for (const g of r.guide_refs) expect(guideReference(g), `${r.id}: ${g}`).toBeDefined();
      expect(r.title.nb && r.title.en && r.recommendation.nb && r.recommendation.en, r.id).toBeTruthy();
    }
  });
});
