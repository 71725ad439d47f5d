import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { candidateOf } from '../../agent/alerts.js';
import { MemorySink } from '../support/memory-sink.js';
import { InventorySink } from '../../agent/inventory/sink.js';
import { FlowHistory } from '../../agent/flows/flow-history.js';
import { policyZones } from '../../agent/sensor/flow-history-writer.js';
import { SqliteStore } from '../../agent/store/index.js';
import { buildApp } from '../../dashboard-api/app.js';
import { storeAssets } from '../../dashboard-api/routes/assets.js';
import { dashboardRoutes } from '../../dashboard-api/routes/dashboard.js';
import type { ApiInstance } from '../../dashboard-api/types.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../rules/index.js';
import { analyzeFiles } from '../support/analyze.js';
import { examplePolicy } from '../support/rules.js';
import { AUTH, TOKENS, tempDir } from '../unit/api/helpers.js';

const CHROMIUM = process.env.MUVAKT_CHROMIUM ?? '/usr/bin/chromium';
const CORPUS = (f: string) => join(import.meta.dirname, '../../fixtures/corpus', f);
const CAPTURES = ['14_vnc_from_external.pcap', '02_dicom_cstore_ct_mr.pcap'].map(CORPUS);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * The officer's dashboard in headless Chromium (Debian's `chromium` package, driven by
 * playwright-core). The store is filled from captures, as `muvakt analyze --policy --db` does:
 * the pipeline runs in-process over the VNC-from-outside and the DICOM captures, the rules judge
 * the events into alerts, the inventory ranks the devices, the flow history goes to the store.
 * Then: sign in with a token, see the alert in bokmål and in English, the device list and the
 * zone matrix, be refused as a viewer, acknowledge as the officer, leave a screenshot.
 */
describe('dashboard page in headless Chromium', () => {
  const dir = tempDir('muvakt-dashboard-');
  let store: SqliteStore;
  let app: ApiInstance;
  let base: string;
  let browser: Browser | null = null;
  let alertId: string;
  let openCritical: number;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's package ("apt-get install -y chromium") or set MUVAKT_CHROMIUM`);
    }
    store = SqliteStore.open(dir.db());
    const policy = examplePolicy();
    const written: Promise<unknown>[] = [];
    const history = new FlowHistory({ sensor: 'sensor-dash', zonesOf: policyZones(policy), onReady: () => written.push(store.addFlowHistory(history.drain())) });
    const { events, error } = await analyzeFiles(CAPTURES, { history });
    expect(error).toBeUndefined();
    written.push(store.addFlowHistory(history.drain()));
    await Promise.all(written);
    const findings: EngineFinding[] = [];
    const engine = new RuleEngine(policy, ALL_RULES, (f) => findings.push(f));
    const inventory = new InventorySink(new MemorySink(), policy);
    for (const e of events) {
      engine.evaluate(e as RuleEvent);
      inventory.write(e);
    }
    await store.upsertAlerts(findings.map(candidateOf));
    const alerts = (await store.listAlerts({ limit: 1000 })).items;
    expect(await inventory.save(store, alerts)).toBeGreaterThan(0);
    const remote = alerts.find((a) => a.rule_id === 'remote-access-from-external');
    expect(remote, `alerts from the captures: ${alerts.map((a) => a.rule_id).join(', ')}`).toBeDefined();
    alertId = remote!.id;
    openCritical = alerts.filter((a) => a.severity === 'critical' && a.status === 'open').length;
    expect((await store.flowMatrix()).items.some((f) => f.zone_src === 'external' && f.zone_dst === 'MU')).toBe(true);
    app = await buildApp({ store, auth: AUTH, processMetrics: false, assets: storeAssets(store) });
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

  it('a viewer sees the captured alert (bokmål, then English), the devices and the zone matrix, but may not acknowledge', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.viewer);
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('.title').textContent()).toBe('Fjerntilgang fra ukjent ekstern adresse');
    expect(await row.textContent()).toContain('remote-access-from-external');
    expect(await row.textContent()).toContain('Anbefaling: Økten kommer fra en ekstern adresse');
    expect(await row.textContent()).toContain('external → MU');
    expect(await row.textContent()).toContain('MU 4.7');
    expect(await row.locator('td.status').getAttribute('data-status')).toBe('open');
    expect(await page.locator('.count.critical .n').textContent()).toBe(String(openCritical));
    expect(await page.locator('html').getAttribute('lang')).toBe('nb');

    // The device list: the VNC workstation, with its exposure rank and the reasons behind it.
    const vnc = page.locator('#device-rows tr[data-ips~="10.77.10.50"]');
    await vnc.waitFor({ timeout: 10_000 });
    const stored = (await storeAssets(store).list({ limit: 1000 })).items.find((a) => a.ips.includes('10.77.10.50'))!;
    expect(stored).toBeDefined();
    expect(await vnc.locator('td.exposure').getAttribute('data-level')).toBe(stored.exposure.level);
    expect(await vnc.locator('td.exposure').getAttribute('data-score')).toBe(String(stored.exposure.score));
    expect(await vnc.locator('td.zone').textContent()).toBe(stored.zone);
    expect(await vnc.locator('td.reasons > ul > li').count()).toBe(Math.min(3, stored.exposure.reasons.length));
    if (stored.exposure.reasons.length) expect(await vnc.locator('td.reasons').textContent()).toContain(stored.exposure.reasons.sort((a, b) => b.points - a.points)[0].guide_ref);
    // Most exposed first.
    const scores = (await page.locator('#device-rows td.exposure').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-score')))));
    expect(scores.length).toBeGreaterThan(1);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    // The zone matrix: source zones as rows, destination zones as columns.
    const cell = page.locator('#flow-matrix td[data-src="external"][data-dst="MU"]');
    await cell.waitFor({ timeout: 10_000 });
    expect(await cell.textContent()).toContain('external → MU');
    expect(Number(await cell.getAttribute('data-flows'))).toBeGreaterThan(0);
    expect(await cell.locator('.app').count()).toBeGreaterThan(0);
    expect(await page.locator('#flow-matrix tr[data-zone-src="external"] th').textContent()).toBe('external');
    // From the stored flow history: the cell's bytes are the store's, the sensor is offered, and
    // a range back from the newest data (the last hour of the captures) still shows the matrix.
    const storedFlows = (await store.flowMatrix()).items.filter((f) => f.zone_src === 'external' && f.zone_dst === 'MU');
    expect(Number(await cell.getAttribute('data-bytes'))).toBe(storedFlows.reduce((n, f) => n + f.bytes, 0));
    expect(await page.locator('#flow-sensor option[value="sensor-dash"]').count()).toBe(1);
    expect(await page.locator('#flow-span').textContent()).not.toBe('');
    await page.selectOption('#flow-range', '3600000');
    await page.selectOption('#flow-sensor', 'sensor-dash');
    await page.locator('#flow-matrix td[data-src="external"][data-dst="MU"]').waitFor({ timeout: 10_000 });
    await page.selectOption('#flow-sensor', '');

    // English, remembered for this tab.
    await page.click('#lang');
    await page.locator('html[lang="en"]').waitFor({ timeout: 5_000 });
    expect(await row.locator('.title').textContent()).toBe('Remote access from an unknown external address');
    expect(await row.textContent()).toContain('Recommendation: The session comes from an external address');
    expect(await row.textContent()).not.toContain('Fjerntilgang');
    expect(await page.locator('#devices thead').textContent()).toContain('Exposure');
    expect(await page.evaluate(() => sessionStorage.getItem('muvakt.lang'))).toBe('en');
    await page.reload();
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('.title').textContent()).toBe('Remote access from an unknown external address');
    await page.click('#lang');
    await page.locator('html[lang="nb"]').waitFor({ timeout: 5_000 });
    expect(await row.locator('.title').textContent()).toBe('Fjerntilgang fra ukjent ekstern adresse');

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
    expect(await page.locator('.count.critical .n').textContent()).toBe(String(openCritical - 1));

    const stored = (await store.getAlert(alertId))!;
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
