/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
 * gateway running the getting-started config (echo service, key-auth, rate-limit-5-min, global
 * proxy cache, consumer alex). Checks every panel, a live chart, the route explorer through the
 * form, and saves a screenshot (docs/dashboard.png when DASHBOARD_SCREENSHOT says so).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startGateway } from '../../test/harness/gateway-process.ts';
import { freePort } from '../../test/harness/ports.ts';
import { startEchoServer } from '../echo/echo-server.ts';

const CHROMIUM = '/usr/bin/chromium';
// Refresh the README's picture with DASHBOARD_SCREENSHOT=docs/dashboard.png; a plain run leaves the tree clean.
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT ?? join(tmpdir(), `turnpike-dashboard-${process.pid}.png`);

if (!existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: the dashboard browser test needs Debian's chromium package (apt-get install chromium)`);
}

const echo = await startEchoServer('127.0.0.1', 0);
const kongYml = readFileSync(new URL('../../examples/declarative/kong.yml', import.meta.url), 'utf8')
  .replace('http://127.0.0.1:1027', `http://127.0.0.1:${echo.port}`);
const guiPort = await freePort();
const gw = await startGateway({ config: kongYml, args: ['--gui-listen', `127.0.0.1:${guiPort}`] });
const profile = mkdtempSync(join(tmpdir(), 'turnpike-chromium-'));
let browser: BrowserContext | null = null;
after(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  await gw.stop();
  echo.server.close();
});

async function send(path: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const r = await fetch(`${gw.proxy}${path}`, { headers });
    await r.arrayBuffer();
    return r.status;
  } catch (err) {
    // fetch says only "fetch failed": name the socket error and show what the gateway printed.
    const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
    throw new Error(`GET ${path} failed: ${cause?.code ?? ''} ${cause?.message ?? String(err)}\ngateway output:\n${gw.output()}`);
  }
}

/** Texts of the cells in one column of a panel's table. */
function column(page: Page, section: string, index: number): Promise<string[]> {
  return page.locator(`#${section} tbody tr td:nth-child(${index})`).allTextContents();
}

test('the dashboard shows the getting-started gateway in Chromium', async () => {
  // Traffic first: 200s (Miss then Hits), then 429s past the 5/minute limit, 401s and a 404.
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) statuses.push(await send('/echo', { apikey: 'hello_world' }));
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  assert.equal(await send('/echo'), 401);
  assert.equal(await send('/nowhere'), 404);

  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  // Nothing may be loaded from anywhere but the dashboard itself.
  const foreign: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(`http://127.0.0.1:${guiPort}/`) && !r.url().startsWith('data:')) foreign.push(r.url()); });

  await page.goto(`http://127.0.0.1:${guiPort}/`);

  // Header: the config hash is the Admin API's, and where it came from.
  const status = await (await fetch(`${gw.admin}/status`)).json() as { configuration_hash: string };
  await page.locator('#config-hash', { hasText: status.configuration_hash }).waitFor();
  assert.match(await page.locator('#config-source').innerText(), /^file:.*kong\.yml$/);

  // Panels.
  await page.locator('#routes tbody tr', { hasText: 'echo' }).waitFor();
  assert.deepEqual(await column(page, 'services', 1), ['echo']);
  assert.match((await column(page, 'services', 2))[0]!, new RegExp(`http://127.0.0.1:${echo.port}`));
  assert.deepEqual(await column(page, 'routes', 1), ['echo']);
  assert.deepEqual(await column(page, 'routes', 5), ['/echo']);
  assert.deepEqual(await column(page, 'plugins', 1), ['key-auth', 'rate-limiting', 'proxy-cache']);
  assert.deepEqual(await column(page, 'plugins', 2), ['–', 'rate-limit-5-min', 'proxy-cache-all-endpoints']);
  assert.deepEqual(await column(page, 'plugins', 3), ['service', 'route', 'global']);
  assert.deepEqual(await column(page, 'plugins', 4), ['service: echo', 'route: echo', '–']);
  assert.deepEqual(await column(page, 'consumers', 1), ['alex']);
  assert.deepEqual(await column(page, 'consumers', 3), ['key-auth: he********']);
  assert.ok(!(await page.content()).includes('hello_world'), 'the key is masked everywhere');
  assert.deepEqual(await column(page, 'upstreams', 1), ['none']);

  // Live charts: keep a little traffic flowing until the charts have drawn several seconds of it.
  const chartPoints = (id: string) => page.locator(`#${id} svg`).getAttribute('data-points').then((v) => Number(v ?? 0));
  const deadline = Date.now() + 20_000;
  while ((await chartPoints('chart-requests')) < 5 || (await chartPoints('chart-cache')) < 1) {
    assert.ok(Date.now() < deadline, 'the request chart never filled');
    await send('/echo', { apikey: 'hello_world' });
    await send('/echo');
    // The page polls once a second: wait for its next poll (and a tick to draw it).
    await page.waitForResponse((r) => r.url().endsWith('/api/traffic'));
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
  }
  assert.ok(await chartPoints('chart-status') > 0);
  assert.ok(await chartPoints('chart-limited') > 0, 'the 429s are charted');
  assert.ok(await chartPoints('chart-latency') > 0);
  assert.ok(await page.locator('#chart-requests svg path.series').count() >= 1);
  assert.ok(Number(await page.locator('#traffic-totals [data-total="429"] b').innerText()) >= 2);
  const legend = await page.locator('#chart-latency .legend').innerText();
  assert.match(legend, /echo p50/);

  // Route explorer through the form.
  await page.selectOption('#explorer-method', 'GET');
  await page.fill('#explorer-path', '/echo');
  await page.click('#explorer-submit');
  await page.locator('#explorer-route', { hasText: 'echo' }).waitFor();
  assert.match(await page.locator('#explorer-verdict').innerText(), /proxied\s+matched route echo/);
  assert.equal(await page.locator('#explorer-upstream-url').innerText(), `http://127.0.0.1:${echo.port}/`);
  assert.deepEqual(await page.locator('#explorer-plugins tbody td.plugin-name').allTextContents(), ['key-auth', 'rate-limiting', 'proxy-cache']);
  assert.deepEqual(await page.locator('#explorer-plugins tbody tr td:nth-child(5)').allTextContents(), ['1250', '910', '100']);
  assert.match(await page.locator('#explorer-phases').innerText(), /access\s*key-auth → rate-limiting → proxy-cache/);

  // The last minute reads better than five in a picture of a few seconds of traffic.
  await page.click('.window button[data-window="60"]');
  assert.match(await page.locator('#chart-requests svg').innerHTML(), />-60s</);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(existsSync(SCREENSHOT));

  // A path no route takes: the proxy's 404.
  await page.fill('#explorer-path', '/nowhere');
  await page.click('#explorer-submit');
  await page.locator('#explorer-route', { hasText: 'no route matched' }).waitFor();
  assert.match(await page.locator('#explorer-verdict').innerText(), /404/);

  assert.deepEqual(problems, []);
  assert.deepEqual(foreign, []);
});
