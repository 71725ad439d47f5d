/**
 * The API client: every request carries the token from this tab's sessionStorage, never a
 * cookie, and errors keep the API's status and message so the page can say what went wrong.
 */
import type { Lang } from './i18n.js';
import type { Alert, AlertDetail, Asset, AssetDetail, FlowPeers, FlowSummary, Page, RiskAcceptance, Whoami } from './types.js';

const API = '/api/v1';
export const TOKEN_KEY = 'muvakt.token';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Params = ReadonlyArray<readonly [string, string]>;

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function request(path: string, init: { method?: string; body?: unknown; accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token() ?? ''}`, accept: init.accept ?? 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(API + path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new HttpError(0, e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) {
    let message = res.statusText;
    try {
      const body = (await res.json()) as { message?: unknown };
      if (typeof body.message === 'string') message = body.message;
    } catch {
      // not JSON: keep the status text
    }
    throw new HttpError(res.status, message);
  }
  return res;
}

async function json<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  return (await (await request(path, init)).json()) as T;
}

/** A file the API serves as a download: fetched with the token (a plain link could not carry it), to be saved. */
async function file(path: string, fallback: string): Promise<{ blob: Blob; filename: string }> {
  const res = await request(path, { accept: '*/*' });
  const disposition = res.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallback;
  return { blob: await res.blob(), filename };
}

const qs = (params: Params) => (params.length ? `?${new URLSearchParams(params as [string, string][]).toString()}` : '');

export const api = {
  whoami: () => json<Whoami>('/whoami'),
  alerts: (params: Params) => json<Page<Alert>>(`/alerts${qs(params)}`),
  alert: (id: string) => json<AlertDetail>(`/alerts/${encodeURIComponent(id)}`),
  change: (id: string, what: 'ack' | 'resolve', comment: string) =>
    json<AlertDetail>(`/alerts/${encodeURIComponent(id)}/${what}`, { method: 'POST', body: comment.trim() ? { comment: comment.trim() } : {} }),
  accept: (body: Record<string, string>) => json<{ id: string }>('/risk-acceptances', { method: 'POST', body }),
  assets: (params: Params) => json<Page<Asset>>(`/assets${qs(params)}`),
  /** One device, its facts and exposure reasons in the page's language. */
  asset: (id: string, lang: Lang) => json<AssetDetail>(`/assets/${encodeURIComponent(id)}${qs([['lang', lang]])}`),
  flows: (params: Params) => json<FlowSummary>(`/flows/summary${qs(params)}`),
  cellFlows: (params: Params) => json<FlowPeers>(`/flows/peers${qs(params)}`),
  assetFlows: (id: string, params: Params = []) => json<FlowPeers>(`/assets/${encodeURIComponent(id)}/flows${qs(params)}`),
  acceptances: () => json<{ items: RiskAcceptance[] }>('/risk-acceptances'),
  /** The evidence bundle as a file, its text in the page's language. */
  evidence: (id: string, format: 'json' | 'html', lang: Lang) => file(`/assets/${encodeURIComponent(id)}/evidence${qs([['format', format], ['lang', lang]])}`, `evidence.${format}`),
  /** Every alert the filter matches, as CSV (the API pages through them). */
  alertsCsv: (params: Params) => file(`/alerts.csv${qs(params)}`, 'muvakt-alerts.csv'),
  acceptancesCsv: (params: Params) => file(`/risk-acceptances.csv${qs(params)}`, 'muvakt-risk-acceptances.csv'),
};
