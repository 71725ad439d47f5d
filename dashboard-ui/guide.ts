/**
 * The guide sections the rules and the inventory cite, from the same table that
 * docs/guide-references.md is rendered from (rules/guide-references.ts): the page shows the
 * project's own words for each, never a sentence of the guide.
 */
import { GUIDES, GUIDE_REFERENCES, type GuideReference } from '../rules/guide-references.js';

export { GUIDES, GUIDE_REFERENCES, type GuideReference };

const BY_REF = new Map(GUIDE_REFERENCES.map((g) => [g.ref, g]));

/**
 * The known sections a reference text names. The inventory writes lists (two references joined
 * by a comma) and references followed by words (a usage scenario's name): both resolve to the table.
 */
export function sectionsIn(text: string): GuideReference[] {
  const out: GuideReference[] = [];
  for (const part of text.split(/\s*,\s*/)) {
    let hit = BY_REF.get(part.trim());
    if (hit === undefined) {
      // The longest known reference the text starts with.
      for (const g of GUIDE_REFERENCES) if (part.startsWith(`${g.ref} `) && (hit === undefined || g.ref.length > hit.ref.length)) hit = g;
    }
    if (hit !== undefined && !out.includes(hit)) out.push(hit);
  }
  return out;
}

export function section(ref: string): GuideReference | undefined {
  return BY_REF.get(ref);
}

/** An id usable in the fragment and as an element id: spaces, dots and `#` become hyphens. */
export function anchorOf(ref: string): string {
  return `guide-${ref.replace(/[^A-Za-z0-9]+/g, '-').replace(/-+$/, '')}`;
}
