/**
 * What every view shares: the language, the signed-in role, the message line, and the panel
 * that shows one alert or one device beside the list.
 */
import { HttpError } from './api.js';
import { el, formatTime } from './dom.js';
import { LOCALES, translate, type Key, type Lang } from './i18n.js';
import type { Role, Whoami } from './types.js';

export const LANG_KEY = 'muvakt.lang';

let lang: Lang = sessionStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'nb';
let who: Whoami | null = null;

export function currentLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  sessionStorage.setItem(LANG_KEY, l);
  document.documentElement.lang = l;
}

export function t(key: Key, vars?: Readonly<Record<string, string | number>>): string {
  return translate(lang, key, vars);
}

export function time(iso: string | null | undefined): string {
  return formatTime(iso, LOCALES[lang]);
}

export function signedIn(): Whoami | null {
  return who;
}

export function setSignedIn(w: Whoami | null): void {
  who = w;
}

export function role(): Role {
  return who?.role ?? 'viewer';
}

/** An error as the officer should read it, in the chosen language. */
export function explain(e: unknown): string {
  if (e instanceof HttpError) {
    const msg = e.message;
    switch (e.status) {
      case 0:
        return t('eNet', { msg });
      case 401:
        return t('e401', { msg });
      case 403:
        return t('e403', { msg });
      case 404:
        return t('e404', { msg });
      case 409:
        return t('e409', { msg });
      case 429:
        return t('e429', { msg });
      default:
        return t('eN', { status: e.status, msg });
    }
  }
  return t('eNet', { msg: e instanceof Error ? e.message : String(e) });
}

/** The message line keeps a function of the language, so that it follows the switch. */
let lastMessage: { text: () => string; kind: 'ok' | 'error' | '' } | null = null;

export function message(text: (() => string) | string, kind: 'ok' | 'error' | '' = ''): void {
  lastMessage = { text: typeof text === 'string' ? () => text : text, kind };
  renderMessage();
}

export function renderMessage(): void {
  const m = document.getElementById('msg');
  if (!m) return;
  m.textContent = lastMessage?.text() ?? '';
  m.className = `msg${lastMessage?.kind ? ` ${lastMessage.kind}` : ''}`;
}

export function clearMessage(): void {
  lastMessage = null;
  renderMessage();
}

export function severityBadge(sev: string): HTMLElement {
  const known = ['critical', 'high', 'medium', 'low'].includes(sev);
  return el('span', { cls: `sev ${known ? sev : 'low'}`, text: known ? t(`sev.${sev}` as Key) : sev, attrs: { 'data-severity': sev } });
}
