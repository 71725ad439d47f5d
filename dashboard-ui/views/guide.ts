/**
 * The guide view: every section muvakt cites, with what it asks for in the project's words
 * (the table docs/guide-references.md is rendered from). `#guide?ref=<reference>` opens at one.
 */
import { currentLang, t } from '../context.js';
import { el, fill } from '../dom.js';
import { anchorOf, GUIDE_REFERENCES, GUIDES } from '../guide.js';
import type { Key } from '../i18n.js';
import type { Route } from '../state.js';

export class GuideView {
  private route: Route = { view: 'guide', params: new URLSearchParams() };

  constructor(private readonly root: HTMLElement) {}

  async update(route: Route): Promise<void> {
    this.route = route;
    this.render();
    const ref = route.params.get('ref');
    const target = ref ? document.getElementById(anchorOf(ref)) : null;
    if (target) {
      target.scrollIntoView({ block: 'start' });
      target.focus();
    }
  }

  render(): void {
    const lang = currentLang();
    const chosen = this.route.params.get('ref');
    fill(this.root, [
      el('h1', { text: t('guideTitle') }),
      el('p', { text: t('guideIntro') }),
      el('ul', { cls: 'small' }, Object.entries(GUIDES).map(([id, g]) => el('li', {}, [el('strong', { text: `${id}: ` }), t('guideSource', { title: lang === 'nb' ? g.title : g.en, version: g.version, published: g.published })]))),
      el(
        'div',
        { cls: 'guide-list', attrs: { id: 'guide' } },
        GUIDE_REFERENCES.map((g) =>
          el('section', { cls: `guide-section${g.ref === chosen ? ' chosen' : ''}`, attrs: { id: anchorOf(g.ref), 'data-ref': g.ref, tabindex: -1, 'aria-labelledby': `${anchorOf(g.ref)}-h` } }, [
            el('h2', { text: `${g.ref} – ${g.heading[lang]}`, attrs: { id: `${anchorOf(g.ref)}-h` } }),
            el('p', { cls: 'small', text: `${t('wording')}: ${g.wording.map((w) => t(`w.${w}` as Key)).join(', ')}` }),
            el('p', { cls: 'guide-text', text: g.requires[lang] }),
          ]),
        ),
      ),
    ]);
  }
}
