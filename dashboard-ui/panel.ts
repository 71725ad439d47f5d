/**
 * The detail panel beside a list (one alert, one device). It is a non-modal dialog: the list
 * stays usable, Escape or the close button shuts it, and focus goes back where it came from.
 */
import { el } from './dom.js';
import { t } from './context.js';

let returnFocus: HTMLElement | null = null;
/** The same control after the list re-rendered: by its id, or by its row and class. */
let returnSelector: string | null = null;

function selectorOf(e: HTMLElement): string | null {
  if (e.id) return `#${CSS.escape(e.id)}`;
  const row = e.closest('tr');
  const key = row ? [...row.attributes].find((a) => a.name === 'data-alert-id' || a.name === 'data-device-id') : undefined;
  if (!row || !key) return null;
  const cls = e.classList[0];
  return `tr[${key.name}="${CSS.escape(key.value)}"] ${e.tagName.toLowerCase()}${cls ? `.${CSS.escape(cls)}` : ''}`;
}
let onClose: (() => void) | null = null;

function panel(): HTMLElement {
  return document.getElementById('panel')!;
}

export function panelOpen(): boolean {
  return !panel().hidden;
}

/** Show `body` under `title`; `close` is what closing means to the view (usually: drop the id from the URL). */
export function showPanel(title: string, body: readonly Node[], close: () => void, focus = true): void {
  const p = panel();
  const wasOpen = !p.hidden;
  if (!wasOpen && document.activeElement instanceof HTMLElement && document.activeElement !== document.body) {
    returnFocus = document.activeElement;
    returnSelector = selectorOf(returnFocus);
  }
  onClose = close;
  const heading = el('h2', { text: title, attrs: { id: 'panel-title', tabindex: -1 } });
  const closeButton = el('button', { cls: 'close secondary', text: t('close'), attrs: { type: 'button', id: 'panel-close' }, on: { click: () => close() } });
  p.replaceChildren(el('div', { cls: 'panel-head' }, [heading, closeButton]), el('div', { cls: 'panel-body' }, body));
  p.hidden = false;
  document.body.classList.add('with-panel');
  if (focus && !wasOpen) heading.focus();
}

/** Hide the panel (the view's route no longer names an item). */
export function hidePanel(): void {
  const p = panel();
  if (p.hidden) return;
  p.hidden = true;
  p.replaceChildren();
  document.body.classList.remove('with-panel');
  onClose = null;
  const back = returnFocus && document.contains(returnFocus) ? returnFocus : returnSelector ? document.querySelector<HTMLElement>(returnSelector) : null;
  returnFocus = null;
  returnSelector = null;
  back?.focus();
}

export function installPanelKeys(): void {
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && panelOpen() && onClose) {
      ev.preventDefault();
      onClose();
    }
  });
}
