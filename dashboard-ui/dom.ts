/**
 * Building DOM nodes. Text goes in through textContent and attributes through setAttribute only:
 * alert evidence and device names come from the wire, and the page never parses them as markup.
 */
export type Child = Node | string | null | undefined | false;

export interface Opts {
  cls?: string;
  text?: string | number;
  attrs?: Record<string, string | number | boolean | null | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: Opts = {}, children: readonly Child[] = []): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.cls) e.className = opts.cls;
  if (opts.text !== undefined) e.textContent = String(opts.text);
  for (const [k, v] of Object.entries(opts.attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const [k, f] of Object.entries(opts.on ?? {})) e.addEventListener(k, f as EventListener);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/**
 * Replace an element's children, skipping the parts a view leaves out. Views re-render from their
 * data on every change of the URL, so the focused control (found again by its id) keeps the focus
 * and the caret: typing in a filter must not lose the field after the first key.
 */
export function fill(parent: Element, children: readonly Child[]): void {
  const active = document.activeElement;
  const id = active instanceof HTMLElement && parent.contains(active) ? active.id : '';
  const caret = active instanceof HTMLInputElement && ['text', 'search'].includes(active.type) ? [active.selectionStart, active.selectionEnd] : null;
  parent.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  if (!id) return;
  const again = document.getElementById(id);
  if (again === null) return;
  again.focus();
  if (caret && again instanceof HTMLInputElement) again.setSelectionRange(caret[0], caret[1]);
}

/** Marks data from the wire (addresses, rule ids, evidence): not words of the page's language. */
export const DATA = { translate: 'no' } as const;

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`#${id} is missing`);
  return e as T;
}

/** The hospital's clock, whatever the workstation's time zone is set to. */
export const TIME_ZONE = 'Europe/Oslo';

export function formatTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { timeZone: TIME_ZONE, dateStyle: 'short', timeStyle: 'medium' }).format(d);
}

/** The calendar date in Oslo (YYYY-MM-DD), the form the API's `since`/`until` take as whole days. */
export function osloDate(iso: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? String(v) : v.toFixed(1)} ${units[i]}`;
}

/** A sortable column header: a button inside the <th>, with aria-sort on the header. */
export function sortHeader(label: string, key: string, current: { key: string; dir: 'asc' | 'desc' }, title: string, onSort: (key: string) => void): HTMLTableCellElement {
  const active = current.key === key;
  const th = el('th', { attrs: { scope: 'col', 'aria-sort': active ? (current.dir === 'asc' ? 'ascending' : 'descending') : 'none', 'data-sort-key': key } });
  th.append(el('button', { cls: 'sort', text: label + (active ? (current.dir === 'asc' ? ' ▲' : ' ▼') : ''), attrs: { type: 'button', title, id: `sort-${key}` }, on: { click: () => onSort(key) } }));
  return th;
}

export function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Hands a fetched file to the browser's download (an object URL, revoked once the download has it). */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = el('a', { attrs: { href: url, download: filename, hidden: true } });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
