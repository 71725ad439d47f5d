/**
 * The page's state lives in the URL fragment (`#alerts?zone=MU&since=2026-11-23&alert=…`), so a
 * link is shareable and the back button works. Only the language and the token are kept in
 * sessionStorage: the token must never be in a link.
 */
export type View = 'alerts' | 'devices' | 'flows' | 'acceptances' | 'guide';
export const VIEWS: readonly View[] = ['alerts', 'devices', 'flows', 'acceptances', 'guide'];

export interface Route {
  view: View;
  params: URLSearchParams;
}

export function parseRoute(hash: string = location.hash): Route {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const name = q < 0 ? body : body.slice(0, q);
  const view = (VIEWS as readonly string[]).includes(name) ? (name as View) : 'alerts';
  return { view, params: new URLSearchParams(q < 0 ? '' : body.slice(q + 1)) };
}

export function routeHref(view: View, params: URLSearchParams | Record<string, string | undefined> = {}): string {
  const p = params instanceof URLSearchParams ? new URLSearchParams(params) : new URLSearchParams();
  if (!(params instanceof URLSearchParams)) for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, v);
  for (const [k, v] of [...p]) if (v === '') p.delete(k);
  const s = p.toString();
  return `#${view}${s ? `?${s}` : ''}`;
}

/** Change the URL; `replace` for refinements that should not each make a history entry. */
export function navigate(view: View, params: URLSearchParams, replace = false): void {
  const href = routeHref(view, params);
  if (href === location.hash) return;
  if (replace) {
    history.replaceState(null, '', href);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = href;
}

export function withParam(params: URLSearchParams, key: string, value: string | null): URLSearchParams {
  const p = new URLSearchParams(params);
  if (value === null || value === '') p.delete(key);
  else p.set(key, value);
  return p;
}
