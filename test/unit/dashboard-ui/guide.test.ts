import { describe, expect, it } from 'vitest';
import { anchorOf, GUIDE_REFERENCES, sectionsIn } from '../../../dashboard-ui/guide.js';
import { STRINGS } from '../../../dashboard-ui/i18n.js';
import { ALL_RULES } from '../../../rules/index.js';

describe('the workbench finds the project text for every reference it is shown', () => {
  it('every guide reference a rule cites opens its own section', () => {
    for (const r of ALL_RULES) for (const ref of r.guide_refs) expect(sectionsIn(ref).map((g) => g.ref), `${r.id}: ${ref}`).toEqual([ref]);
  });

  it('the inventory’s forms: a comma list is several sections; words after a reference do not hide it', () => {
    expect(sectionsIn('MU 5.1, MU 5.2.1').map((g) => g.ref)).toEqual(['MU 5.1', 'MU 5.2.1']);
    expect(sectionsIn('MU 5.1.2 #6, MU annex #16, MU annex #17').map((g) => g.ref)).toEqual(['MU 5.1.2 #6', 'MU annex #16', 'MU annex #17']);
    expect(sectionsIn('MU 4.7 (remote access)').map((g) => g.ref)).toEqual(['MU 4.7']);
    expect(sectionsIn('not a reference')).toEqual([]);
  });

  it('each section has its own anchor', () => {
    const anchors = GUIDE_REFERENCES.map((g) => anchorOf(g.ref));
    expect(new Set(anchors).size).toBe(anchors.length);
    for (const a of anchors) expect(a).toMatch(/^guide-[A-Za-z0-9-]+$/);
  });

  it('bokmål and English fill the same placeholders', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, nb] of Object.entries(STRINGS.nb)) expect(names(STRINGS.en[key as keyof typeof STRINGS.en]), key).toEqual(names(nb));
  });
});
