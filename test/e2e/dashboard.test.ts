import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { candidateOf } from '../../agent/alerts.js';
import { MemorySink } from '../support/memory-sink.js';
import { InventorySink } from '../../agent/inventory/sink.js';
import { FlowHistory } from '../../agent/flows/flow-history.js';
import { policyZones } from '../../agent/sensor/flow-history-writer.js';
import { SqliteStore } from '../../agent/store/index.js';
import { tokenHash } from '../../dashboard-api/plugins/auth.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../rules/index.js';
import { GUIDE_REFERENCES } from '../../rules/guide-references.js';
import { factInBokmal, reasonInBokmal } from '../../agent/inventory/reason-text.js';
import { STRINGS } from '../../dashboard-ui/i18n.js';
import { analyzeFiles } from '../support/analyze.js';
import { examplePolicy } from '../support/rules.js';
import { TOKENS, tempDir } from '../unit/api/helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const PAGE = join(ROOT, 'dist/dashboard/index.html');
const CHROMIUM = process.env.MUVAKT_CHROMIUM ?? '/usr/bin/chromium';
const CORPUS = (f: string) => join(ROOT, 'fixtures/corpus', f);
const CAPTURES = ['14_vnc_from_external.pcap', '02_dicom_cstore_ct_mr.pcap', '10_telnet_login.pcap', '05_dicom_user_identity.pcap'].map(CORPUS);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Screenshots of every step stay here after the run (the directory is ignored by git). */
const OUT = process.env.MUVAKT_TEST_OUTPUT ?? join(ROOT, 'test-output/dashboard');
const AXE = join(ROOT, 'node_modules/axe-core/axe.min.js');
/** Old alerts seeded beside the captures' (more than the list's page of 100). */
const OLD_ALERTS = 150;
/** The oldest of them: last on the last page, so only a search brings it onto the first. */
const OLDEST_IP = '10.77.60.1';

interface ApiAlert {
  id: string;
  rule_id: string;
  severity: string;
  status: string;
  first_seen: string;
  last_seen: string;
  guide_refs: string[];
  evidence: Record<string, unknown>;
  subject: { src_ip: string; dst_ip: string; zone_src: string; zone_dst: string };
  history?: { actor: string; action: string; comment: string }[];
}

/** The calendar day in Oslo, as the page's date filters take it. */
const osloDay = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

/**
 * The security officer's workbench in headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against `muvakt serve` from dist/ — so the built page is what is tested, found
 * where an installed muvakt finds it. The store is filled from corpus captures as
 * `muvakt analyze --policy --db` does. Every step leaves a screenshot under test-output/dashboard/.
 */
describe('the workbench in headless Chromium against muvakt serve', () => {
  const dir = tempDir('muvakt-dashboard-');
  let serve: ChildProcess | null = null;
  let base: string;
  let browser: Browser | null = null;
  let alertId: string;
  let alertsAtStart: ApiAlert[];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's package ("apt-get install -y chromium") or set MUVAKT_CHROMIUM`);
    if (!existsSync(CLI) || !existsSync(PAGE)) throw new Error(`${CLI} or ${PAGE} is missing: run "npm run build" first`);
    // Only this run's screenshots, so that a reader sees the steps of one walk.
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const db = dir.db();
    const store = SqliteStore.open(db);
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
    // Older alerts than the captures' (a month before), more than a page of the list: a free-text
    // search must find one of them although the page loaded only the newest 100.
    const oldest = Math.min(...findings.map((f) => Date.parse(candidateOf(f).ts))) - 30 * 86_400_000;
    await store.upsertAlerts(
      Array.from({ length: OLD_ALERTS }, (_, i) => ({
        rule_id: 'mu-device-to-external',
        title: 'Medical device talks to the internet',
        severity: 'medium' as const,
        guide_refs: ['MU 3.7'],
        subject: { src_ip: `10.77.60.${i + 1}`, dst_ip: '198.51.100.200', zone_src: 'lab', zone_dst: 'external' },
        evidence: { app: 'https', dst_port: 443 },
        recommendation: 'Block the flow or add it to allowed_flows.',
        ts: new Date(oldest - (OLD_ALERTS - i) * 60_000).toISOString(),
      })),
    );
    const alerts = (await store.listAlerts({ limit: 1000 })).items.filter((a) => !a.subject.src_ip.startsWith('10.77.60.'));
    expect(await inventory.save(store, alerts)).toBeGreaterThan(0);
    const remote = alerts.find((a) => a.rule_id === 'remote-access-from-external');
    expect(remote, `alerts from the captures: ${alerts.map((a) => a.rule_id).join(', ')}`).toBeDefined();
    alertId = remote!.id;
    store.close();

    const auth = join(dir.dir, 'auth.yaml');
    writeFileSync(
      auth,
      `tokens:\n  - {name: soc-viewer, role: viewer, sha256: "${tokenHash(TOKENS.viewer)}"}\n  - {name: sikkerhetsleder, role: officer, sha256: "${tokenHash(TOKENS.officer)}"}\n`,
    );
    const proc = spawn(process.execPath, [CLI, 'serve', '--db', db, '--auth', auth, '--listen', '127.0.0.1:0', '--sensor', 'serve-dash'], { stdio: ['ignore', 'ignore', 'pipe'] });
    serve = proc;
    base = await new Promise<string>((resolve, reject) => {
      let err = '';
      proc.stderr!.on('data', (c: Buffer) => {
        err += String(c);
        const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(err);
        if (m) resolve(m[1]);
      });
      proc.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    alertsAtStart = await apiGet<{ items: ApiAlert[] }>('/api/v1/alerts?limit=1000', TOKENS.officer).then((r) => r.items);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    if (serve && serve.exitCode === null) {
      const p = serve;
      p.removeAllListeners('exit');
      await new Promise((resolve) => {
        p.on('exit', resolve);
        p.kill('SIGTERM');
      });
    }
    dir.cleanup();
  });

  async function apiGet<T>(path: string, token: string): Promise<T> {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }

  async function openPage(width = 1400, height = 900): Promise<Page> {
    // A workstation set to another zone: the page must still show Oslo time.
    const context = await browser!.newContext({ viewport: { width, height }, acceptDownloads: true, timezoneId: 'America/New_York', locale: 'en-US' });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m: ConsoleMessage) => {
      // Script errors and CSP violations ("Refused to …"); HTTP statuses are asserted where they matter.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
    });
    return page;
  }

  async function signIn(page: Page, token: string, hash = ''): Promise<void> {
    await page.goto(`${base}/dashboard${hash}`);
    await page.fill('#token', token);
    await page.click('#login-button');
    await page.locator('#role[data-role]:not([data-role=""])').waitFor({ timeout: 10_000 });
  }

  let step = 0;
  /** The whole page; `viewport`: what the window shows (a panel scrolled to a section). */
  async function shot(page: Page, name: string, viewport = false): Promise<void> {
    const file = join(OUT, `${String(++step).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: !viewport });
    expect(statSync(file).size).toBeGreaterThan(5_000);
  }

  /** No horizontal scrolling: the page fits the window it is shown in. */
  async function noOverflow(page: Page, what: string): Promise<void> {
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scroll, `${what}: scrollWidth ${scroll} > ${client}`).toBeLessThanOrEqual(client);
  }

  it('is served by muvakt serve from dist/ under a strict Content-Security-Policy, with no external resources', async () => {
    for (const path of ['/', '/dashboard']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/connect-src 'self'/);
      expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
      const html = await res.text();
      expect(html).toBe(readFileSync(PAGE, 'utf8'));
      expect(html.match(/<script>/g)).toHaveLength(1);
      expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
      expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
      expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it('a viewer sees the header with the viewer role and no action anywhere', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.viewer);
    expect(await page.locator('#who').textContent()).toContain('soc-viewer');
    expect(await page.locator('#role').getAttribute('data-role')).toBe('viewer');
    expect(await page.locator('#role').textContent()).toBe('rolle: leser');
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('.title').textContent()).toBe('Fjerntilgang fra ukjent ekstern adresse');
    const lastSeen = alertsAtStart.find((a) => a.id === alertId)!.last_seen;
    const oslo = new Intl.DateTimeFormat('nb-NO', { timeZone: 'Europe/Oslo', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(lastSeen));
    expect(await row.locator('td.time').textContent()).toBe(oslo);
    // The token stays in this tab: sessionStorage only, never localStorage or the URL.
    expect(await page.evaluate(() => sessionStorage.getItem('muvakt.token'))).toBe(TOKENS.viewer);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(TOKENS.viewer);
    await row.locator('button.title').click();
    await page.locator('#panel #evidence').waitFor({ timeout: 10_000 });
    await shot(page, 'viewer-alert');
    for (const sel of ['#bulk', '#select-all', 'input.select', '#detail-ack', '#detail-resolve', '#detail-comment', 'button.ack', 'button.resolve', '#accept-submit', '#accept-reason']) {
      expect(await page.locator(sel).count(), sel).toBe(0);
    }
    expect(await page.locator('main button, #panel button').evaluateAll((bs) => bs.map((b) => b.textContent ?? ''))).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/Kvitter|Løs/)]),
    );
    await page.context().close();
  });

  it('an officer filters by zone and time, reads the evidence and the guide, acknowledges with a comment, and the link is shareable', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.officer);
    expect(await page.locator('#role').getAttribute('data-role')).toBe('officer');
    expect(await page.locator('#who').textContent()).toContain('sikkerhetsleder');
    const target = alertsAtStart.find((a) => a.id === alertId)!;
    await page.locator(`tr[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });

    // Filter: the zone the alert is in, and the days it spans in Oslo.
    await page.fill('#f-zone', 'MU');
    await page.fill('#f-since', osloDay(target.last_seen));
    await page.fill('#f-until', osloDay(target.first_seen));
    await page.click('#apply-filters');
    await page.waitForFunction(() => location.hash.includes('zone=MU'));
    const hash = await page.evaluate(() => location.hash);
    expect(hash).toContain(`since=${osloDay(target.last_seen)}`);
    expect(hash).toContain(`until=${osloDay(target.first_seen)}`);
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    await row.waitFor({ timeout: 10_000 });
    const zones = await page.locator('#alert-rows td.zones').allTextContents();
    expect(zones.length).toBeGreaterThan(0);
    for (const z of zones) expect(z.split(' → ')).toContain('MU');
    await shot(page, 'officer-filtered');

    // The same filter as CSV, headed in the page's language: every alert it matches, none other.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#alerts-csv')]);
    expect(csv.suggestedFilename()).toBe('muvakt-alerts.csv');
    const csvFile = join(OUT, 'alerts-filtered.csv');
    await csv.saveAs(csvFile);
    const csvLines = readFileSync(csvFile, 'utf8').split('\r\n').filter(Boolean);
    expect(csvLines[0]).toMatch(/^id,regel,alvorlighet,status,tittel,/);
    const filtered = await apiGet<{ items: ApiAlert[] }>(
      `/api/v1/alerts?zone=MU&since=${osloDay(target.last_seen)}&until=${osloDay(target.first_seen)}&status=open,acknowledged&limit=1000`,
      TOKENS.officer,
    );
    expect(filtered.items.length).toBeGreaterThan(0);
    expect(csvLines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual(filtered.items.map((a) => a.id).sort());
    expect(csvLines.find((l) => l.startsWith(`${alertId},`))).toContain('Fjerntilgang fra ukjent ekstern adresse');
    await page.locator('#msg.ok').waitFor({ timeout: 10_000 });
    expect(await page.locator('#msg').textContent()).toBe('Varslene er lastet ned som CSV.');

    // Sorting by a column reorders the rows and says so to assistive technology.
    await page.click('th[data-sort-key="count"] button');
    await page.locator('th[data-sort-key="count"][aria-sort="descending"]').waitFor();
    const counts = (await page.locator('#alert-rows td.num').allTextContents()).map(Number);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));

    // Free text goes to the API once typing pauses; the field keeps the focus.
    await page.locator('#f-text').pressSequentially('fjerntilgang');
    await page.waitForFunction(() => location.hash.includes('q=fjerntilgang'));
    await page.waitForFunction(() => {
      const titles = [...document.querySelectorAll('#alert-rows .title')].map((e) => (e.textContent ?? '').toLowerCase());
      return titles.length > 0 && titles.every((x) => x.includes('fjerntilgang'));
    }, undefined, { timeout: 10_000 });
    const titles = await page.locator('#alert-rows .title').allTextContents();
    expect(titles.length).toBeGreaterThan(0);
    for (const title of titles) expect(title.toLowerCase()).toContain('fjerntilgang');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-text');
    await page.locator('#f-text').fill('');

    // The detail: the evidence exactly as the API returned it, and the guide in the project's words.
    await row.locator('button.title').click();
    await page.locator('#panel #evidence').waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => location.hash.includes('alert='));
    const keys = await page.locator('#evidence tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect(keys.sort()).toEqual(Object.keys(target.evidence).sort());
    for (const [k, v] of Object.entries(target.evidence)) {
      if (typeof v === 'string' || typeof v === 'number') expect(await page.locator(`#evidence tr[data-key="${k}"] td`).textContent()).toBe(String(v));
    }
    for (const ref of target.guide_refs) {
      const g = GUIDE_REFERENCES.find((x) => x.ref === ref)!;
      expect(await page.locator(`#detail-guide .guide-ref[data-ref="${ref}"] .guide-text`).textContent()).toBe(g.requires.nb);
    }
    await shot(page, 'officer-alert-detail');

    // The guide view from the link, and back.
    const firstRef = target.guide_refs[0];
    await page.locator(`#detail-guide .guide-ref[data-ref="${firstRef}"] a`).click();
    await page.locator(`.guide-section.chosen[data-ref="${firstRef}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator(`.guide-section[data-ref="${firstRef}"] .guide-text`).textContent()).toBe(GUIDE_REFERENCES.find((x) => x.ref === firstRef)!.requires.nb);
    await shot(page, 'guide-section');
    await page.goBack();
    await page.locator('#panel #detail-comment').waitFor({ timeout: 10_000 });

    // Acknowledge with a comment: the status and the history follow.
    const comment = 'Leverandør kontaktet, økten stengt';
    await page.fill('#detail-comment', comment);
    await page.click('#detail-ack');
    await page.locator('#detail-status[data-status="acknowledged"]').waitFor({ timeout: 10_000 });
    const entry = page.locator('#history li[data-action="ack"]');
    await entry.waitFor({ timeout: 10_000 });
    expect(await entry.textContent()).toContain('sikkerhetsleder');
    expect(await entry.locator('q.comment').textContent()).toBe(comment);
    expect(await page.locator('#msg').textContent()).toBe('Varselet er kvittert.');
    await page.locator(`tr[data-alert-id="${alertId}"] td.status[data-status="acknowledged"]`).waitFor({ timeout: 10_000 });
    const stored = await apiGet<ApiAlert>(`/api/v1/alerts/${alertId}`, TOKENS.officer);
    expect(stored.status).toBe('acknowledged');
    expect(stored.history!.at(-1)).toMatchObject({ actor: 'sikkerhetsleder', action: 'ack', comment });
    await shot(page, 'officer-acknowledged');

    // Record the accepted risk with an expiry: the alert stays, shown as accepted.
    const until = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
    await page.locator('#accept-reason').waitFor({ timeout: 10_000 });
    await page.fill('#accept-reason', 'Kan ikke oppgraderes før utskifting');
    await page.fill('#accept-owner', 'Avdelingsleder radiologi');
    await page.fill('#accept-reference', 'ROS-2026-031');
    await page.fill('#accept-expires', until);
    await page.click('#accept-submit');
    await page.locator('#detail-accepted').waitFor({ timeout: 10_000 });
    expect(await page.locator('#detail-accepted').textContent()).toContain(`Akseptert til og med ${until} av Avdelingsleder radiologi (ROS: ROS-2026-031)`);
    expect(await page.locator('#accept-submit').count()).toBe(0);
    const accepted = await apiGet<ApiAlert & { accepted?: { reference: string; expires: string } }>(`/api/v1/alerts/${alertId}`, TOKENS.officer);
    expect(accepted.status).toBe('acknowledged');
    expect(accepted.accepted).toMatchObject({ reference: 'ROS-2026-031', expires: until });
    await shot(page, 'officer-accepted-risk');

    // Escape closes the panel and gives focus back to the row that opened it.
    await page.locator(`tr[data-alert-id="${alertId}"] button.title`).focus();
    await page.keyboard.press('Enter');
    await page.locator('#panel:not([hidden])').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#panel[hidden]').waitFor({ state: 'attached', timeout: 5_000 });
    expect(await page.evaluate(() => location.hash.includes('alert='))).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('data-alert-id'))).toBe(alertId);

    // The URL is the state: a fresh tab with the same link shows the same filters and the alert.
    const link = await page.evaluate(() => location.hash);
    const other = await openPage();
    await signIn(other, TOKENS.officer, `${link}&alert=${encodeURIComponent(alertId)}`);
    await other.locator('#panel #evidence').waitFor({ timeout: 10_000 });
    expect(await other.locator('#f-zone').inputValue()).toBe('MU');
    expect(await other.locator('#f-since').inputValue()).toBe(osloDay(target.last_seen));
    await other.context().close();
    await page.context().close();
  });

  it('an officer acknowledges several alerts at once with one comment', async () => {
    const others = alertsAtStart.filter((a) => a.id !== alertId && a.status === 'open').slice(0, 2);
    expect(others.length).toBe(2);
    const page = await openPage();
    await signIn(page, TOKENS.officer);
    for (const a of others) {
      await page.locator(`tr[data-alert-id="${a.id}"] input.select`).check();
    }
    expect(await page.locator('#bulk .bulk-count').textContent()).toBe('2 valgt');
    await page.fill('#bulk-comment', 'Kjent vedlikeholdsvindu');
    await page.click('#bulk-ack');
    await page.locator('#msg.ok').waitFor({ timeout: 10_000 });
    expect(await page.locator('#msg').textContent()).toBe('2 av 2 endret.');
    for (const a of others) {
      const stored = await apiGet<ApiAlert>(`/api/v1/alerts/${a.id}`, TOKENS.officer);
      expect(stored.status).toBe('acknowledged');
      expect(stored.history!.at(-1)).toMatchObject({ action: 'ack', comment: 'Kjent vedlikeholdsvindu' });
    }
    await shot(page, 'officer-bulk');
    await page.context().close();
  });

  it('the accepted risks are listed with what they cover, their alerts one click away, and download as CSV in bokmål', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.viewer, '#acceptances');
    const row = page.locator('#acceptance-rows tr').filter({ hasText: 'ROS-2026-031' });
    await row.waitFor({ timeout: 10_000 });
    const listed = await apiGet<{ items: { id: string; rule_id: string; covers_alerts?: number }[] }>('/api/v1/risk-acceptances', TOKENS.viewer);
    expect(await page.locator('#acceptance-rows tr').count()).toBe(listed.items.length);
    const recorded = listed.items.find((x) => x.rule_id === alertsAtStart.find((a) => a.id === alertId)!.rule_id)!;
    expect(await row.getAttribute('data-acceptance-id')).toBe(recorded.id);
    expect(await row.getAttribute('data-active')).toBe('true');
    expect(await row.textContent()).toContain('Avdelingsleder radiologi');
    expect(await row.textContent()).toContain('gjeldende');
    expect(await row.locator('td.num').textContent()).toBe(String(recorded.covers_alerts));
    expect(recorded.covers_alerts).toBeGreaterThan(0);
    await shot(page, 'acceptances');
    // Only the expired or revoked: none yet.
    await page.selectOption('#acc-state', 'inactive');
    await page.locator('#acceptances-empty').waitFor({ timeout: 5_000 });
    expect(page.url()).toContain('state=inactive');
    await page.selectOption('#acc-state', 'all');
    await row.waitFor({ timeout: 5_000 });

    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#acceptances-csv')]);
    expect(csv.suggestedFilename()).toBe('muvakt-risk-acceptances.csv');
    const file = join(OUT, 'risk-acceptances.csv');
    await csv.saveAs(file);
    const [head, ...rows] = readFileSync(file, 'utf8').split('\r\n').filter(Boolean);
    expect(head).toMatch(/^id,regel,gjelder,enhet,kilde_ip,mål_ip,/);
    expect(rows.find((l) => l.startsWith(`${recorded.id},`))).toMatch(/,ROS-2026-031,.*,ja,/);

    // The rule links to its alerts: the accepted alert is among them.
    await row.locator('a').first().click();
    await page.locator('#nav-alerts[aria-current="page"]').waitFor({ timeout: 5_000 });
    await page.locator(`tr[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });
    await page.context().close();
  });

  it('free text searches every stored alert: an alert beyond the first page is found, with paging still right', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.officer);
    await page.locator(`tr[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('#alert-rows tr').count()).toBe(100);
    const oldest = page.locator(`#alert-rows tr:has(td.addresses:text-is("${OLDEST_IP} → 198.51.100.200"))`);
    expect(await oldest.count()).toBe(0);
    expect(await page.locator('#alerts-more').count()).toBe(1);
    await page.locator('#f-text').pressSequentially(OLDEST_IP);
    await page.waitForFunction((ip) => location.hash.includes(`q=${ip}`), OLDEST_IP);
    await oldest.waitFor({ timeout: 10_000 });
    // `10.77.60.1` is also the start of .10–.19 and .100–.150: all of them, and nothing else.
    await page.waitForFunction(() => document.querySelectorAll('#alert-rows tr').length === 62 && !document.querySelector('#alerts-more'), undefined, { timeout: 10_000 });
    const shown = await page.locator('#alert-rows td.addresses').allTextContents();
    for (const a of shown) expect(a.split(' → ')[0].startsWith(OLDEST_IP)).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-text');
    await shot(page, 'alerts-search');
    // A Norwegian title word finds the alert whose stored title is English.
    await page.locator('#f-text').fill('fjerntilgang fra ukjent');
    await page.locator(`tr[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => document.querySelectorAll('#alert-rows tr').length < 100);
    for (const title of await page.locator('#alert-rows .title').allTextContents()) expect(title).toContain('Fjerntilgang fra ukjent');
    // Text the API refuses is said so, in words.
    await page.locator('#f-text').fill('<x>');
    await page.locator('#msg.error').waitFor({ timeout: 10_000 });
    expect(await page.locator('#msg').textContent()).toMatch(/q: expected 1–100 letters/);
    await page.context().close();
  });

  it('the address filter takes a CIDR prefix, from the form and from a link', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.viewer);
    await page.locator(`tr[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });
    await page.fill('#f-ip', '10.77.60.0/26');
    await page.click('#apply-filters');
    await page.waitForFunction(() => location.hash.includes('ip=10.77.60.0%2F26'));
    // The seeded old alerts come from 10.77.60.1 upwards: .1 to .63 are inside the /26.
    await page.waitForFunction(() => document.querySelectorAll('#alert-rows tr').length === 63, undefined, { timeout: 10_000 });
    for (const a of await page.locator('#alert-rows td.addresses').allTextContents()) {
      const last = Number(a.split(' → ')[0].split('.')[3]);
      expect(a.startsWith('10.77.60.') && last >= 1 && last <= 63, a).toBe(true);
    }
    const link = await page.evaluate(() => location.hash);
    const other = await openPage();
    await signIn(other, TOKENS.viewer, link);
    await other.waitForFunction(() => document.querySelectorAll('#alert-rows tr').length === 63, undefined, { timeout: 10_000 });
    expect(await other.locator('#f-ip').inputValue()).toBe('10.77.60.0/26');
    await other.context().close();
    await page.context().close();
  });

  it('an officer opens a device and downloads its evidence bundle', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.officer, '#devices');
    const vnc = page.locator('#device-rows tr[data-ips~="10.77.10.50"]');
    await vnc.waitFor({ timeout: 10_000 });
    const deviceId = (await vnc.getAttribute('data-device-id'))!;
    const detail = await apiGet<{ exposure: { reasons: { fact: string }[] }; roles: { facts: string[] }[]; properties: Record<string, { facts: string[] }>; scenario: { facts: string[] } }>(
      `/api/v1/assets/${encodeURIComponent(deviceId)}`,
      TOKENS.officer,
    );
    await vnc.locator('button.device').click();
    await page.locator('#panel #device-facts').waitFor({ timeout: 10_000 });
    expect(await page.locator('#device-reasons > li').count()).toBe(detail.exposure.reasons.length);
    // The reasons' lead-ins in bokmål.
    const reasons = (await page.locator('#device-reasons .fact').allTextContents()).join('\n');
    expect(reasons).toContain('nettverkstilkoblet');
    expect(reasons).not.toContain('networked (seen on the wire)');

    // Every role, property and scenario fact and exposure reason of the device in the panel, in
    // the page's language and not in the other: bokmål as the evidence bundle writes it, English
    // after the language button (the open device fetched again), bokmål again after the next.
    const panelTexts = [
      ...detail.roles.flatMap((r) => r.facts).map((en) => ({ en, nb: factInBokmal(en) })),
      ...Object.values(detail.properties).flatMap((p) => p.facts).map((en) => ({ en, nb: factInBokmal(en) })),
      ...detail.scenario.facts.map((en) => ({ en, nb: factInBokmal(en) })),
      ...detail.exposure.reasons.map(({ fact: en }) => ({ en, nb: reasonInBokmal(en) })),
    ];
    expect(panelTexts.length).toBeGreaterThan(8);
    const panelShows = async (lang: 'nb' | 'en'): Promise<void> => {
      const other = lang === 'nb' ? 'en' : 'nb';
      // A reason in the language asked for: the panel has its texts from the new fetch.
      await page.waitForFunction((want) => [...document.querySelectorAll('#device-reasons .fact')].some((e) => e.textContent === want), panelTexts.find((x) => x.en === detail.exposure.reasons[0].fact)![lang]);
      const shown = (await page.locator('#device-facts, #device-reasons, #device-properties').allTextContents()).join('\n');
      for (const x of panelTexts) expect({ ...x, [`${lang}_shown`]: shown.includes(x[lang]!), [`${other}_shown`]: shown.includes(x[other]!) }).toEqual({ ...x, [`${lang}_shown`]: true, [`${other}_shown`]: false });
    };
    await panelShows('nb');
    expect(await page.locator('#role-facts li').count()).toBe(detail.roles.length);
    expect(await page.locator('#scenario-facts li').count()).toBe(detail.scenario.facts.length);
    await page.click('#lang');
    await page.locator('html[lang="en"]').waitFor({ timeout: 5_000 });
    await panelShows('en');
    await shot(page, 'device-detail-english');
    await page.click('#lang');
    await page.locator('html[lang="nb"]').waitFor({ timeout: 5_000 });
    await panelShows('nb');
    await page.locator(`#device-alerts li[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });
    await shot(page, 'device-detail');

    // Peers and flows over time, from the address-pair history, as the API answers them.
    const flows = await apiGet<{ items: { client_ip: string; server_ip: string; app: string; flows: number }[]; series: { flows: number }[] }>(`/api/v1/assets/${encodeURIComponent(deviceId)}/flows`, TOKENS.officer);
    expect(flows.items.length).toBeGreaterThan(0);
    const remote = alertsAtStart.find((a) => a.id === alertId)!;
    const peer = remote.subject.src_ip === '10.77.10.50' ? remote.subject.dst_ip : remote.subject.src_ip;
    const peerRow = page.locator(`#device-peers tr[data-peer="${peer}"]`).first();
    await peerRow.waitFor({ timeout: 10_000 });
    expect(await page.locator('#device-peers tbody tr').count()).toBe(flows.items.length);
    expect(await peerRow.textContent()).toContain('inn: enheten er tjener');
    expect(await page.locator('#device-series tbody tr').count()).toBe(flows.series.length);
    const seriesFlows = (await page.locator('#device-series tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-flows'))))).reduce((n, x) => n + x, 0);
    expect(seriesFlows).toBe(flows.items.reduce((n, i) => n + i.flows, 0));
    // The risk acceptance recorded on the alert earlier in this walk covers the device.
    const exception = page.locator('#device-exceptions li').filter({ hasText: 'ROS-2026-031' });
    await exception.waitFor({ timeout: 10_000 });
    expect(await exception.textContent()).toContain('gjeldende');
    await page.locator('#device-peers').scrollIntoViewIfNeeded();
    await shot(page, 'device-peers', true);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#evidence-json')]);
    expect(download.suggestedFilename()).toMatch(/^evidence-.+\.json$/);
    const saved = join(OUT, download.suggestedFilename());
    await download.saveAs(saved);
    const bundle = JSON.parse(readFileSync(saved, 'utf8')) as { kind: string; device: { id: string }; alerts: { id: string }[] };
    expect(bundle.kind).toBe('muvakt.evidence');
    expect(bundle.device.id).toBe(deviceId);
    expect(bundle.alerts.map((a) => a.id)).toContain(alertId);
    await page.locator('#msg.ok').waitFor({ timeout: 10_000 });
    // The same download as the API answers it.
    const res = await fetch(`${base}/api/v1/assets/${encodeURIComponent(deviceId)}/evidence?format=html`, { headers: { authorization: `Bearer ${TOKENS.officer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="evidence-.+\.html"$/);

    // The HTML bundle follows the page's language: every role, property and scenario fact of the
    // device in bokmål on the Norwegian page, in English after the switch, none in the other.
    const facts = [...detail.roles.flatMap((r) => r.facts), ...Object.values(detail.properties).flatMap((p) => p.facts), ...detail.scenario.facts];
    expect(facts.length).toBeGreaterThan(5);
    const escaped = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
    const htmlBundle = async (): Promise<string> => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click('#evidence-html')]);
      const file = join(OUT, `${await page.evaluate(() => document.documentElement.lang)}-${d.suggestedFilename()}`);
      await d.saveAs(file);
      return readFileSync(file, 'utf8');
    };
    const nb = await htmlBundle();
    expect(nb).toContain('<html lang="nb">');
    await page.click('#lang');
    await page.locator('html[lang="en"]').waitFor({ timeout: 5_000 });
    const en = await htmlBundle();
    expect(en).toContain('<html lang="en">');
    for (const fact of facts) {
      const bokmal = factInBokmal(fact);
      expect({ fact, bokmal, in_nb: nb.includes(escaped(bokmal ?? fact)), en_in_nb: nb.includes(escaped(fact)), in_en: en.includes(escaped(fact)), nb_in_en: en.includes(escaped(bokmal ?? '')) }).toEqual({
        fact,
        bokmal: expect.any(String),
        in_nb: true,
        en_in_nb: false,
        in_en: true,
        nb_in_en: false,
      });
    }
    await page.click('#lang');
    await page.locator('html[lang="nb"]').waitFor({ timeout: 5_000 });

    // The device's alert opens the alert panel.
    await page.locator(`#device-alerts li[data-alert-id="${alertId}"] a`).click();
    await page.locator('#panel #evidence').waitFor({ timeout: 10_000 });
    await page.waitForFunction((id) => location.hash.startsWith('#alerts') && location.hash.includes(`alert=${encodeURIComponent(id)}`), alertId);
    await page.context().close();
  });

  it('a matrix cell opens, by keyboard, its apps, its address pairs and the alerts on them', async () => {
    const target = alertsAtStart.find((a) => a.id === alertId)!;
    const { zone_src: src, zone_dst: dst } = target.subject;
    const page = await openPage();
    await signIn(page, TOKENS.officer, '#flows');
    const cell = page.locator(`#flow-matrix td.cell[data-src="${src}"][data-dst="${dst}"] button.cell-open`);
    await cell.waitFor({ timeout: 10_000 });
    expect(await cell.getAttribute('title')).toBe(`Vis flytene ${src} → ${dst}`);
    await cell.focus();
    await page.keyboard.press('Enter');
    await page.locator('#panel #cell-apps').waitFor({ timeout: 10_000 });
    expect(await page.locator('#panel-title').textContent()).toBe(`Flyter ${src} → ${dst}`);
    const summary = await apiGet<{ items: { zone_src: string; zone_dst: string; app: string; encrypted: boolean }[] }>('/api/v1/flows/summary', TOKENS.officer);
    const apps = summary.items.filter((i) => i.zone_src === src && i.zone_dst === dst);
    expect(await page.locator('#cell-apps tbody tr').evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-app')} ${tr.getAttribute('data-encrypted')}`).sort())).toEqual(
      apps.map((i) => `${i.app} ${i.encrypted}`).sort(),
    );
    await page.locator(`#cell-pairs tr[data-client="${target.subject.src_ip}"][data-server="${target.subject.dst_ip}"]`).first().waitFor({ timeout: 10_000 });
    const pairs = await apiGet<{ items: unknown[] }>(`/api/v1/flows/peers?zone_src=${encodeURIComponent(src)}&zone_dst=${encodeURIComponent(dst)}`, TOKENS.officer);
    expect(await page.locator('#cell-pairs tbody tr').count()).toBe(pairs.items.length);
    await page.locator(`#cell-alerts li[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });
    await noOverflow(page, 'flow cell panel');
    await shot(page, 'flows-cell');
    // Escape closes it and gives the focus back to the cell.
    await page.keyboard.press('Escape');
    await page.locator('#panel[hidden]').waitFor({ state: 'attached', timeout: 5_000 });
    expect(await page.evaluate(() => document.activeElement?.closest('td')?.getAttribute('data-src'))).toBe(src);
    // The cell's alert opens the alert panel.
    await page.keyboard.press('Enter');
    await page.locator(`#cell-alerts li[data-alert-id="${alertId}"] a`).click();
    await page.locator('#panel #evidence').waitFor({ timeout: 10_000 });
    await page.context().close();
  });

  it('one control switches every string between bokmål and English; back on bokmål no English string is left', async () => {
    const page = await openPage();
    await signIn(page, TOKENS.officer);
    await page.locator(`tr[data-alert-id="${alertId}"]`).waitFor({ timeout: 10_000 });
    await page.click('#lang');
    await page.locator('html[lang="en"]').waitFor({ timeout: 5_000 });
    expect(await page.locator(`tr[data-alert-id="${alertId}"] .title`).textContent()).toBe('Remote access from an unknown external address');
    expect(await page.locator('#role').textContent()).toBe('role: security officer');
    await shot(page, 'english');
    await page.click('#lang');
    await page.locator('html[lang="nb"]').waitFor({ timeout: 5_000 });

    const english = englishOnlyStrings();
    expect(english.length).toBeGreaterThan(50);
    const views: [string, string][] = [
      ['alerts', `#alerts?alert=${encodeURIComponent(alertId)}`],
      ['devices', '#devices'],
      ['flows', '#flows'],
      ['acceptances', '#acceptances'],
      ['guide', '#guide'],
    ];
    for (const [name, hash] of views) {
      await page.evaluate((h) => (location.hash = h), hash);
      await page.waitForFunction((v) => document.querySelector(`#nav-${v}[aria-current="page"]`) !== null, name);
      if (name === 'alerts') await page.locator('#panel #evidence').waitFor({ timeout: 10_000 });
      if (name === 'devices') {
        await page.locator('#device-rows tr[data-ips~="10.77.10.50"] button.device').click();
        await page.locator('#panel #device-facts').waitFor({ timeout: 10_000 });
      }
      if (name === 'flows') {
        await page.locator('#flow-matrix').waitFor({ timeout: 10_000 });
        await page.locator('#flow-matrix button.cell-open').first().click();
        await page.locator('#panel #cell-apps').waitFor({ timeout: 10_000 });
      }
      if (name === 'devices') await page.locator('#panel #device-peers').waitFor({ timeout: 10_000 });
      if (name === 'acceptances') await page.locator('#acceptance-rows tr').first().waitFor({ timeout: 10_000 });
      // The page's own words: text outside <script>/<style> and outside data from the wire (translate="no").
      const text = await page.evaluate(() => {
        const parts = [document.title];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
          acceptNode: (n) =>
            n instanceof Element && (n.tagName === 'SCRIPT' || n.tagName === 'STYLE' || n.getAttribute('translate') === 'no') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
        });
        for (let n = walk.nextNode(); n; n = walk.nextNode()) if (n.nodeType === Node.TEXT_NODE) parts.push(n.textContent ?? '');
        for (const e of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
          for (const a of ['aria-label', 'title', 'placeholder']) if (e.getAttribute(a)) parts.push(e.getAttribute(a)!);
        }
        return parts.join('\n');
      });
      const left = english.filter((s) => s.test.test(text)).map((s) => s.text);
      expect(left, `English on the Norwegian ${name} view`).toEqual([]);
      await shot(page, `bokmal-${name}`);
    }
    await page.context().close();
  });

  it('fits 1024 px without horizontal scrolling and stays usable at 800 px', async () => {
    for (const width of [1024, 800]) {
      const page = await openPage(width, 800);
      await signIn(page, TOKENS.officer, `#alerts?alert=${encodeURIComponent(alertId)}`);
      await page.locator('#panel #evidence').waitFor({ timeout: 10_000 });
      await noOverflow(page, `alerts at ${width}`);
      await shot(page, `alerts-${width}`);
      for (const view of ['devices', 'flows', 'acceptances', 'guide']) {
        await page.click(`#nav-${view}`);
        await page.locator(`#nav-${view}[aria-current="page"]`).waitFor();
        if (view === 'devices') await page.locator('#device-rows tr').first().waitFor({ timeout: 10_000 });
        if (view === 'flows') await page.locator('#flow-matrix').waitFor({ timeout: 10_000 });
        if (view === 'acceptances') await page.locator('#acceptance-rows tr').first().waitFor({ timeout: 10_000 });
        await noOverflow(page, `${view} at ${width}`);
        await shot(page, `${view}-${width}`);
        // The new panels: a device's peers and flows, a matrix cell's flows.
        if (view === 'devices' || view === 'flows') {
          await page.locator(view === 'devices' ? '#device-rows tr[data-ips~="10.77.10.50"] button.device' : '#flow-matrix button.cell-open').first().click();
          await page.locator(view === 'devices' ? '#panel #device-peers' : '#panel #cell-pairs').waitFor({ timeout: 10_000 });
          await noOverflow(page, `${view} panel at ${width}`);
          await shot(page, `${view}-panel-${width}`);
          await page.keyboard.press('Escape');
          await page.locator('#panel[hidden]').waitFor({ state: 'attached', timeout: 5_000 });
        }
      }
      await page.context().close();
    }
  });

  it('axe-core finds no serious or critical violation on any view', async () => {
    const axe = readFileSync(AXE, 'utf8');
    const devices = await apiGet<{ items: { id: string; ips: string[] }[] }>('/api/v1/assets?limit=1000', TOKENS.officer);
    const deviceIdOf = (ip: string) => devices.items.find((d) => d.ips.includes(ip))!.id;
    const cellOf = () => {
      const s = alertsAtStart.find((a) => a.id === alertId)!.subject;
      return { src: s.zone_src, dst: s.zone_dst };
    };
    const page = await openPage();
    await signIn(page, TOKENS.officer);
    const views: [string, string, string][] = [
      ['alerts', `#alerts?alert=${encodeURIComponent(alertId)}`, '#panel #evidence'],
      ['devices', '#devices', '#device-rows tr'],
      ['flows', '#flows', '#flow-matrix'],
      ['acceptances', '#acceptances', '#acceptance-rows tr'],
      ['guide', '#guide', '#guide'],
      ['device panel', `#devices?device=${encodeURIComponent(deviceIdOf('10.77.10.50'))}`, '#panel #device-peers'],
      ['flow cell panel', `#flows?src=${encodeURIComponent(cellOf().src)}&dst=${encodeURIComponent(cellOf().dst)}`, '#panel #cell-pairs'],
    ];
    for (const [name, hash, ready] of views) {
      await page.evaluate((h) => (location.hash = h), hash);
      await page.locator(ready).first().waitFor({ timeout: 10_000 });
      // Evaluated over the DevTools protocol, not as a page script: the page's CSP stays as served.
      await page.evaluate(axe);
      const violations = await page.evaluate(async () => {
        const r = await (window as unknown as { axe: { run: (c: Document, o: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
      });
      expect(violations, name).toEqual([]);
    }
    await page.context().close();
    expect(pageErrors).toEqual([]);
  });
});

/**
 * The page's English strings that must not show on the Norwegian page: those that differ from
 * every bokmål string (a word both languages share, such as "Status", proves nothing). The
 * inventory's facts and exposure reasons are the API's text, not the page's: they are checked
 * on the device panel above instead. A `{value}` is any text.
 */
function englishOnlyStrings(): { text: string; test: RegExp }[] {
  const nb = Object.values(STRINGS.nb);
  const out: { text: string; test: RegExp }[] = [];
  for (const [key, en] of Object.entries(STRINGS.en)) {
    const literal = en.split(/\{\w+\}/).map((s) => s.trim()).filter((s) => s.length >= 3);
    for (const part of literal) {
      if (nb.some((n) => n.includes(part))) continue;
      const escaped = part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      out.push({ text: part, test: new RegExp(`(?<![\\p{L}])${escaped}(?![\\p{L}])`, 'u') });
    }
  }
  return out;
}
