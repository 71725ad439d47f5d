import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { AlertStore } from '../../agent/store/index.js';
import { buildApp } from '../../dashboard-api/app.js';
import { dashboardRoutes } from '../../dashboard-api/routes/dashboard.js';
import type { ApiInstance } from '../../dashboard-api/types.js';
import { AUTH, TOKENS, tempDir } from '../unit/api/helpers.js';

const CHROMIUM = process.env.MUVAKT_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * The officer's dashboard in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core): sign in with a token, see the stored alert, be refused as a viewer,
 * acknowledge it as the officer, and leave a screenshot in the test output.
 */
describe('dashboard page in headless Chromium', () => {
  const dir = tempDir('muvakt-dashboard-');
  let store: AlertStore;
  let app: ApiInstance;
  let base: string;
  let browser: Browser | null = null;
  let alertId: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's package ("apt-get install -y chromium") or set MUVAKT_CHROMIUM`);
    }
    store = AlertStore.open(dir.db());
    const r = store.upsertAlerts([
      {
        rule_id: 'dicom-cleartext-phi',
        title: 'Patient data in unencrypted DICOM',
        severity: 'medium',
        guide_refs: ['LEV 6.4', 'MU 4.6'],
        subject: { src_ip: '10.77.10.21', dst_ip: '10.77.20.9', zone_src: 'mu-radiology', zone_dst: 'pacs' },
        evidence: { calling_ae: 'CT_01', called_ae: 'PACS', command: 'C-STORE-RQ', phi_fields: ['PatientName', 'PatientID'] },
        recommendation: 'Encrypt the transfer.',
        ts: new Date().toISOString(),
      },
    ]);
    expect(r.created).toHaveLength(1);
    alertId = r.created[0].id;
    app = await buildApp({ store, auth: AUTH, processMetrics: false });
    // Until app.ts registers the dashboard itself.
    if (!app.hasRoute({ method: 'GET', url: '/dashboard' })) await app.register(dashboardRoutes);
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    store?.close();
    if (process.env.MUVAKT_KEEP_SCREENSHOT === undefined) dir.cleanup();
  });

  async function openPage(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1400, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m: ConsoleMessage) => {
      // Script errors and CSP violations ("Refused to …"); HTTP statuses (the viewer's 403, /favicon.ico) are asserted where they matter.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
    });
    return page;
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${base}/dashboard`);
    await page.fill('#token', token);
    await page.click('#login-button');
  }

  it('is served with a strict Content-Security-Policy and no external resources', async () => {
    for (const path of ['/', '/dashboard']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/connect-src 'self'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
      const html = await res.text();
      expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
      expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it('a viewer sees the alert but may not acknowledge it', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.viewer);
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('Pasientopplysninger i ukryptert DICOM');
    expect(await row.textContent()).toContain('10.77.10.21 → 10.77.20.9');
    expect(await row.textContent()).toContain('mu-radiology → pacs');
    expect(await row.textContent()).toContain('LEV 6.4, MU 4.6');
    expect(await row.locator('td.status').getAttribute('data-status')).toBe('open');
    expect(await page.locator('.count.medium .n').textContent()).toBe('1');
    // The token lives in this tab's sessionStorage only.
    expect(await page.evaluate(() => sessionStorage.getItem('muvakt.token'))).toBe(TOKENS.viewer);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    await row.locator('button.ack').click();
    await page.locator('#msg.error').waitFor({ timeout: 10_000 });
    expect(await page.locator('#msg').textContent()).toMatch(/403|Rollen din/);
    expect(await row.locator('td.status').getAttribute('data-status')).toBe('open');
    await page.context().close();
  });

  it('an officer acknowledges it with a comment; the status changes; screenshot saved', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.officer);
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator('input[name=comment]').fill('Leverandør kontaktet (vendor contacted)');
    await row.locator('button.ack').click();
    await page.locator(`tr[data-alert-id="${alertId}"] td.status[data-status="acknowledged"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('#msg').textContent()).toContain('kvittert');
    expect(await page.locator('.count.medium .n').textContent()).toBe('0');

    const stored = store.getAlert(alertId)!;
    expect(stored.status).toBe('acknowledged');
    expect(stored.history.at(-1)).toMatchObject({ actor: 'sikkerhetsleder', action: 'ack', comment: 'Leverandør kontaktet (vendor contacted)' });

    const shot = join(dir.dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`dashboard screenshot: ${shot}`);
    await page.context().close();
    expect(pageErrors).toEqual([]);
  });
});
