/**
 * The dashboard served by a real gateway (two workers, no prometheus plugin): the route explorer's
 * answers checked against what the proxy really does with the same requests, the config panels
 * (hash, scopes, masked key), the live traffic series summed across workers, and the translation
 * failures of `turnpike run`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, startGateway } from '../../test/harness/gateway-process.ts';
import { startRecordingUpstream } from '../../test/harness/upstreams.ts';
import { freePort } from '../../test/harness/ports.ts';

const upstream = await startRecordingUpstream();
const guiPort = await freePort();
const gui = `http://127.0.0.1:${guiPort}`;
const deadPort = await freePort();
const config = {
  _format_version: '3.0',
  services: [
    { name: 'alpha', url: `${upstream.url}/alpha`, routes: [
      { name: 'a-prefix', paths: ['/a'] },
      { name: 'a-keep', paths: ['/keep'], strip_path: false },
      { name: 'a-regex', paths: ['~/items/\\d+$'] },
    ] },
    { name: 'beta', url: `${upstream.url}/`, routes: [
      { name: 'b-host', hosts: ['api.test'], preserve_host: true },
      { name: 'b-header', paths: ['/a'], headers: { 'x-version': ['v2'] } },
      { name: 'b-post', paths: ['/a'], methods: ['POST'] },
    ] },
    { name: 'echo', url: upstream.url, routes: [
      { name: 'echo', paths: ['/echo'], plugins: [{ name: 'rate-limiting', instance_name: 'rl', config: { minute: 3, policy: 'local' } }] },
    ], plugins: [{ name: 'key-auth' }] },
  ],
  upstreams: [{
    name: 'pool',
    healthchecks: { active: { http_path: '/', healthy: { interval: 1, successes: 1 }, unhealthy: { interval: 1, tcp_failures: 1, http_failures: 1 } } },
    targets: [{ target: `127.0.0.1:${upstream.port}` }, { target: `127.0.0.1:${deadPort}` }],
  }],
  consumers: [{ username: 'alex', keyauth_credentials: [{ key: 'hello_world' }] }],
  plugins: [{ name: 'proxy-cache', config: { strategy: 'memory', content_type: ['application/json'] } }],
};
const gw = await startGateway({ config, workers: 2, args: ['--gui-listen', `127.0.0.1:${guiPort}`] });
after(async () => { await gw.stop(); await upstream.close(); });

/** A proxy request with any Host header (fetch would not send one). */
function proxy(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.proxyPort, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Explained {
  matched: boolean; route: { name: string } | null; exit: { status: number; message: string } | null;
  upstream: { path: string; query: string; host_header: string; url: string } | null;
  plugins: { name: string; scope: string; order: number }[];
}

async function explain(input: object): Promise<Explained> {
  const r = await fetch(`${gui}/api/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  assert.equal(r.status, 200);
  return await r.json() as Explained;
}

const cases: { method: string; path: string; host?: string; headers?: Record<string, string>; route: string | null }[] = [
  { method: 'GET', path: '/a/x?q=1', route: 'a-prefix' },
  { method: 'GET', path: '/keep/y', route: 'a-keep' },
  { method: 'GET', path: '/items/7', route: 'a-regex' },
  { method: 'GET', path: '/a/hdr', headers: { 'X-Version': 'v2' }, route: 'b-header' },
  { method: 'POST', path: '/a/z', route: 'b-post' },
  { method: 'GET', path: '/anything/else', host: 'api.test', route: 'b-host' },
  { method: 'GET', path: '/a/../keep/z', route: 'a-keep' },
  { method: 'GET', path: '/nope', route: null },
];

test('route explorer agrees with the proxy: route, upstream path and query, Host header, 404', async () => {
  for (const c of cases) {
    const e = await explain({ method: c.method, host: c.host, path: c.path, headers: c.headers ?? {} });
    const real = await proxy(c.method, c.path, { ...(c.headers ?? {}), host: c.host ?? `127.0.0.1:${gw.proxyPort}` });
    const what = `${c.method} ${c.host ?? ''}${c.path}`;
    assert.equal(e.route?.name ?? null, c.route, what);
    if (c.route === null) {
      assert.equal(e.exit?.status, 404, what);
      assert.equal(real.status, 404, what);
      assert.equal(JSON.parse(real.body).message, e.exit?.message, what);
      continue;
    }
    assert.equal(real.status, 200, `${what}: ${real.body}`);
    const seen = JSON.parse(real.body) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, e.upstream!.path + (e.upstream!.query ? `?${e.upstream!.query}` : ''), what);
    assert.equal(seen.headers.host, e.upstream!.host_header, what);
  }
});

test('route explorer over GET: the getting-started order on /echo (key-auth, rate-limiting, proxy-cache)', async () => {
  const r = await fetch(`${gui}/api/explain?method=GET&path=${encodeURIComponent('/echo')}&header=apikey:hello_world`);
  const e = await r.json() as Explained;
  assert.equal(e.route?.name, 'echo');
  assert.deepEqual(e.plugins.map((p) => `${p.order}:${p.name}:${p.scope}`), ['1:key-auth:service', '2:rate-limiting:route', '3:proxy-cache:global']);
});

test('overview: config hash and source, plugin scopes, the consumer key masked', async () => {
  const o = await (await fetch(`${gui}/api/overview`)).json() as {
    config: { hash: string; source: string; loadedAt: string };
    routes: { name: string; service: string }[];
    plugins: { name: string; scope: string; applies_to: Record<string, string>; priority: number }[];
    consumers: { username: string; credentials: { type: string; key: string }[] }[];
    node: { workers: number };
  };
  const status = await (await fetch(`${gw.admin}/status`)).json() as { configuration_hash: string };
  assert.equal(o.config.hash, status.configuration_hash);
  assert.match(o.config.source, /^file:.*kong\.json$/);
  assert.ok(Math.abs(Date.parse(o.config.loadedAt) - Date.now()) < 120_000);
  assert.equal(o.node.workers, 2);
  assert.deepEqual(o.routes.map((r) => `${r.name}>${r.service}`).sort(),
    ['a-keep>alpha', 'a-prefix>alpha', 'a-regex>alpha', 'b-header>beta', 'b-host>beta', 'b-post>beta', 'echo>echo']);
  assert.deepEqual(o.plugins.map((p) => [p.name, p.scope, p.priority]), [['key-auth', 'service', 1250], ['rate-limiting', 'route', 910], ['proxy-cache', 'global', 100]]);
  assert.deepEqual(o.plugins[1]!.applies_to, { route: 'echo' });
  assert.deepEqual(o.consumers[0]!.credentials.map((c) => [c.type, c.key]), [['key-auth', 'he********']]);
  const raw = await (await fetch(`${gui}/api/overview`)).text();
  assert.ok(!raw.includes('hello_world'), 'the key never leaves the process');
});

test('upstreams: target health from the active checks', async () => {
  type Overview = { upstreams: { name: string; healthchecks: { active: boolean }; targets: { target: string; health: string }[] }[] };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const o = await (await fetch(`${gui}/api/overview`)).json() as Overview;
    const pool = o.upstreams.find((u) => u.name === 'pool')!;
    assert.equal(pool.healthchecks.active, true);
    const health = Object.fromEntries(pool.targets.map((t) => [t.target, t.health]));
    if (health[`127.0.0.1:${deadPort}`] === 'UNHEALTHY' && health[`127.0.0.1:${upstream.port}`] === 'HEALTHY') break;
    assert.ok(Date.now() < deadline, JSON.stringify(health));
    await new Promise((r) => setTimeout(r, 200));
  }
});

test('traffic: per-second series from both workers without the prometheus plugin', async () => {
  // Only this test sends traffic to route echo; earlier tests' requests were all cache misses.
  const statuses: number[] = [];
  let hits = 0;
  for (let i = 0; i < 4; i++) {
    const r = await proxy('GET', '/echo', { apikey: 'hello_world' });
    statuses.push(r.status);
    if (r.headers['x-cache-status'] === 'Hit') hits++;
  }
  statuses.push((await proxy('GET', '/echo')).status);
  // policy local is exact across workers: three pass, the fourth is limited; no key -> 401.
  assert.deepEqual(statuses, [200, 200, 200, 429, 401]);
  // (Whether a request on the other worker already sees the first response cached is a race.)
  assert.ok(hits >= 1, 'some answers came from the cache');

  type Series = {
    requests: number[]; limited: number[]; cacheHitRatio: (number | null)[];
    totals: { requests: number; limited: number; cacheHits: number; cacheMisses: number; classes: number[] };
    routes: { name: string; requests: number; p50: (number | null)[]; p99: (number | null)[] }[];
  };
  // Workers report once a second and the running second is left out: wait for the numbers.
  const deadline = Date.now() + 30_000;
  let s: Series;
  for (;;) {
    s = await (await fetch(`${gui}/api/traffic`)).json() as Series;
    const echo = s.routes.find((r) => r.name === 'echo');
    if (echo && echo.requests >= 5 && s.totals.limited >= 1 && s.totals.cacheHits >= hits) break;
    assert.ok(Date.now() < deadline, `traffic not reported: ${JSON.stringify(s.totals)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(s.requests.length, 300);
  const echo = s.routes.find((r) => r.name === 'echo')!;
  assert.equal(echo.requests, 5);
  assert.equal(s.totals.limited, 1);
  assert.equal(s.totals.cacheHits, hits);
  assert.ok(s.totals.cacheMisses >= 1);
  assert.ok(s.cacheHitRatio.some((v) => v !== null && v > 0));
  assert.ok(s.limited.some((v) => v === 1));
  assert.ok(echo.p50.some((v) => v !== null && v > 0));
  assert.ok(s.totals.classes[3]! >= 2); // the 429 and the 401
});

test('the dashboard is read-only and self-contained', async () => {
  const page = await fetch(`${gui}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /^text\/html/);
  assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/);
  const html = await page.text();
  assert.ok(!/https?:\/\//.test(html.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, '')), 'no external resources');
  const js = await fetch(`${gui}/dashboard.js`);
  assert.match(js.headers.get('content-type')!, /^text\/javascript/);
  assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(await js.text()));
  assert.equal((await fetch(`${gui}/api/overview`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${gui}/api/explain`, { method: 'DELETE' })).status, 405);
  assert.equal((await fetch(`${gui}/api/explain`, { method: 'POST', body: '{"path": 5}' })).status, 400);
  assert.equal((await fetch(`${gui}/nothing`)).status, 404);
});

test('turnpike run: translation failures show as Events on the dashboard', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-dashboard-k8s-'));
  const examples = fileURLToPath(new URL('../../examples/getting-started/', import.meta.url));
  for (const f of readdirSync(examples)) copyFileSync(join(examples, f), join(dir, f));
  writeFileSync(join(dir, 'broken.yaml'), [
    'apiVersion: networking.k8s.io/v1', 'kind: Ingress',
    'metadata: {name: broken, namespace: kong, annotations: {konghq.com/plugins: does-not-exist}}',
    'spec:', '  ingressClassName: kong',
    '  rules: [{http: {paths: [{path: /broken, pathType: Prefix, backend: {service: {name: echo, port: {number: 1027}}}}]}}]', '',
  ].join('\n'));
  const [proxyPort, statusPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, [BIN, 'run', '-f', dir, '--no-watch', '--backend', `kong/echo=127.0.0.1:${upstream.port}`,
    '--proxy-listen', `127.0.0.1:${proxyPort}`, '--admin-listen', 'off', '--status-listen', `127.0.0.1:${statusPort}`,
    '--gui-listen', `127.0.0.1:${uiPort}`, '--workers', '1', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  t.after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  type Overview = { controller: { outcome: string; source: string; events: { reason: string; kind: string; namespace: string; name: string; message: string }[] } | null };
  const deadline = Date.now() + 30_000;
  let o: Overview | null = null;
  for (;;) {
    assert.ok(child.exitCode === null, out);
    try { o = await (await fetch(`http://127.0.0.1:${uiPort}/api/overview`)).json() as Overview; } catch { /* not listening yet */ }
    if (o?.controller) break;
    assert.ok(Date.now() < deadline, `no controller report:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const k = o!.controller!;
  assert.equal(k.outcome, 'applied');
  assert.equal(k.source, 'manifests');
  const broken = k.events.filter((e) => e.kind === 'Ingress' && e.name === 'broken');
  assert.ok(broken.length > 0, JSON.stringify(k.events));
  assert.ok(broken.every((e) => e.reason === 'KongConfigurationTranslationFailed' && e.namespace === 'kong'));
  assert.ok(broken.some((e) => e.message.includes('"does-not-exist" does not exist')), JSON.stringify(broken));
});
