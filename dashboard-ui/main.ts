/**
 * The security officer's workbench: sign-in, the header (who, which role, language), the
 * navigation between views, and the route in the URL deciding what is shown. The page is
 * bundled into one inline script (scripts/build-dashboard.ts) and run under the route's CSP.
 */
import { api, HttpError, TOKEN_KEY, token } from './api.js';
import { clearMessage, currentLang, explain, renderMessage, setLang, setSignedIn, signedIn, t } from './context.js';
import { byId, el } from './dom.js';
import type { Key } from './i18n.js';
import { hidePanel, installPanelKeys } from './panel.js';
import { parseRoute, routeHref, VIEWS, type Route, type View } from './state.js';
import { AcceptancesView } from './views/acceptances.js';
import { AlertsView } from './views/alerts.js';
import { DevicesView } from './views/devices.js';
import { FlowsView } from './views/flows.js';
import { GuideView } from './views/guide.js';

interface ViewImpl {
  update(route: Route): Promise<void>;
  render(): void;
}

const NAV: Record<View, Key> = { alerts: 'nav.alerts', devices: 'nav.devices', flows: 'nav.flows', acceptances: 'nav.acceptances', guide: 'nav.guide' };

let views: Record<View, ViewImpl> | null = null;
let shownView: View | null = null;
let loginMessage = '';

function shell(): void {
  const root = byId('root');
  root.replaceChildren(
    el('a', { cls: 'skip', attrs: { href: '#main', id: 'skip' } }),
    el('header', { cls: 'top' }, [
      el('p', { cls: 'brand', attrs: { id: 'brand' } }),
      el('nav', { attrs: { id: 'nav' } }, [el('ul', {}, VIEWS.map((v) => el('li', {}, [el('a', { attrs: { href: routeHref(v), 'data-view': v, id: `nav-${v}` } })])))]),
      el('div', { cls: 'who' }, [
        el('span', { attrs: { id: 'who' } }),
        el('span', { cls: 'role', attrs: { id: 'role' } }),
        el('button', { cls: 'secondary', attrs: { type: 'button', id: 'lang' }, on: { click: () => switchLang() } }),
        el('button', { cls: 'secondary', attrs: { type: 'button', id: 'logout' }, on: { click: () => logout('') } }),
      ]),
    ]),
    el('p', { cls: 'msg', attrs: { id: 'msg', role: 'status', 'aria-live': 'polite' } }),
    el('div', { cls: 'layout' }, [el('main', { attrs: { id: 'main', tabindex: -1 } }), el('aside', { cls: 'panel', attrs: { id: 'panel', role: 'dialog', 'aria-labelledby': 'panel-title', hidden: true } })]),
  );
  // The main element is reached by the skip link only; the fragment is the route, so the link must not change it.
  byId('skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    byId('main').focus();
  });
}

/** The texts of the header and the sign-in form, in the language chosen. */
function labels(): void {
  const lang = currentLang();
  document.documentElement.lang = lang;
  const route = parseRoute();
  document.title = t('docTitle', { view: t(NAV[route.view]) });
  byId('skip').textContent = t('skip');
  byId('brand').textContent = t('appTitle');
  byId('nav').setAttribute('aria-label', t('nav.label'));
  for (const v of VIEWS) {
    const a = byId(`nav-${v}`);
    a.textContent = t(NAV[v]);
    if (v === route.view && signedIn()) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const who = signedIn();
  byId('who').textContent = who ? t('signedInAs', { name: who.name }) : '';
  byId('role').textContent = who ? t('roleLabel', { role: t(`role.${who.role}` as Key) }) : '';
  byId('role').setAttribute('data-role', who?.role ?? '');
  const other = lang === 'nb' ? 'en' : 'nb';
  const langButton = byId('lang');
  langButton.textContent = t('switchLang');
  langButton.setAttribute('lang', other);
  langButton.setAttribute('data-lang', lang);
  byId('logout').textContent = t('logout');
  byId('logout').hidden = who === null;
  byId('nav').hidden = who === null;
  renderMessage();
}

function loginForm(): void {
  hidePanel();
  const input = el('input', { attrs: { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false' } });
  const form = el('form', { cls: 'card login', attrs: { id: 'login-form', autocomplete: 'off' } }, [
    el('h1', { text: t('login') }),
    el('label', { text: t('token'), attrs: { for: 'token' } }),
    input,
    el('button', { text: t('login'), attrs: { type: 'submit', id: 'login-button' } }),
    el('p', { cls: 'small', text: t('tokenNote') }),
    el('p', { cls: `msg${loginMessage ? ' error' : ''}`, text: loginMessage, attrs: { id: 'login-msg', role: 'alert' } }),
  ]);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const tk = input.value.trim();
    if (!tk) return;
    sessionStorage.setItem(TOKEN_KEY, tk);
    input.value = '';
    loginMessage = '';
    void start();
  });
  byId('main').replaceChildren(form);
  input.focus();
}

function logout(reason: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  setSignedIn(null);
  views = null;
  shownView = null;
  loginMessage = reason;
  clearMessage();
  labels();
  loginForm();
}

async function start(): Promise<void> {
  try {
    setSignedIn(await api.whoami());
  } catch (e) {
    logout(explain(e));
    return;
  }
  const main = byId('main');
  views = { alerts: new AlertsView(main), devices: new DevicesView(main), flows: new FlowsView(main), acceptances: new AcceptancesView(main), guide: new GuideView(main) };
  shownView = null;
  labels();
  await show();
}

/** Show what the URL names; a view reloads from the API only when its API filters changed. */
async function show(): Promise<void> {
  if (!views) return;
  const route = parseRoute();
  if (route.view !== shownView) {
    hidePanel();
    clearMessage();
    shownView = route.view;
  }
  labels();
  try {
    await views[route.view].update(route);
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) logout(explain(e));
    else throw e;
  }
}

function switchLang(): void {
  setLang(currentLang() === 'nb' ? 'en' : 'nb');
  labels();
  if (views && shownView) views[shownView].render();
  else loginForm();
}

shell();
installPanelKeys();
window.addEventListener('hashchange', () => void show());
setLang(currentLang());
labels();
if (token()) void start();
else loginForm();
