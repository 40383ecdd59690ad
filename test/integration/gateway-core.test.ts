/**
 * Gateway core end to end: a real `turnpike gateway` process, real upstream servers, real
 * sockets. Covers routing, proxying headers, Kong's error statuses and bodies, the Admin API's
 * config contract and workers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startRecordingUpstream, startHangingUpstream, refusingPort, startRawUpstream, type Upstream } from '../harness/upstreams.ts';

const DENY_PLUGIN = fileURLToPath(new URL('../fixtures/deny-plugin.ts', import.meta.url));
const cleanup: (() => Promise<unknown>)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

async function gw(opts: Parameters<typeof startGateway>[0]): Promise<GatewayProcess> {
  const g = await startGateway(opts);
  cleanup.push(() => g.stop());
  return g;
}
async function upstream(): Promise<Upstream> {
  const u = await startRecordingUpstream();
  cleanup.push(() => u.close());
  return u;
}

test('an empty gateway answers 404 on the proxy and 503 on /status/ready', async () => {
  const g = await gw({ waitReady: false });
  const r = await fetch(`${g.proxy}/anything`);
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.match(r.headers.get('server') ?? '', /^turnpike\//);
  assert.ok(r.headers.get('x-kong-response-latency') !== null);
  assert.equal(await r.text(), '{\n  "message":"no Route matched with those values"\n}');
  const ready = await fetch(`${g.status}/status/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { message: 'no configuration available (configuration hash is not initialized)' });
});

test('routes, strips the path and sets the forwarding headers', async () => {
  const u = await upstream();
  const g = await gw({
    config: {
      _format_version: '3.0',
      services: [{ name: 'svc', url: `${u.url}/base`, routes: [
        { name: 'r', paths: ['/api'], strip_path: true },
        { name: 'tx', paths: ['/tx'], plugins: [{ name: 'request-transformer', config: {
          append: { headers: ['x-forwarded-proto:plugin', 'x-real-ip:plugin', 'via:plugin', 'x-kong-request-id:plugin'] },
        } }] },
      ] }],
    },
  });
  // What plugins set under these names gives way to the gateway's values, as Kong's proxy_set_header.
  const tx = await (await fetch(`${g.proxy}/tx`)).json() as { headers: Record<string, string> };
  assert.equal(tx.headers['x-forwarded-proto'], 'http');
  assert.equal(tx.headers['x-real-ip'], '127.0.0.1');
  assert.match(tx.headers['via'] ?? '', /^1\.1 turnpike\/[^,]*$/);
  assert.match(tx.headers['x-kong-request-id'] ?? '', /^[0-9a-f]{32}$/);
  const r = await fetch(`${g.proxy}/api/items?x=1`, { headers: { 'x-forwarded-for': '9.9.9.9', 'x-forwarded-host': 'evil.test' } });
  assert.equal(r.status, 200);
  const seen = await r.json() as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/base/items?x=1');
  assert.equal(seen.headers['x-forwarded-for'], '9.9.9.9, 127.0.0.1');
  assert.equal(seen.headers['x-forwarded-host'], '127.0.0.1', 'client X-Forwarded-Host is not trusted by default');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-port'], String(g.proxyPort));
  assert.equal(seen.headers['x-forwarded-path'], '/api/items');
  assert.equal(seen.headers['x-forwarded-prefix'], '/api');
  assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
  assert.equal(seen.headers['host'], `127.0.0.1:${u.port}`);
  assert.match(seen.headers['via'] ?? '', /^1\.1 turnpike\//);
  assert.match(r.headers.get('via') ?? '', /1\.1 turnpike\//);
  assert.ok(r.headers.get('x-kong-upstream-latency') !== null);
  assert.ok(r.headers.get('x-kong-proxy-latency') !== null);
  assert.equal(r.headers.get('x-kong-response-latency'), null);
});

test('upstream failures map to Kong statuses: 502 refused, 504 timeout, 502 garbage, 503 no service', async () => {
  const refused = await refusingPort();
  const hang = await startHangingUpstream();
  cleanup.push(() => hang.close());
  const garbage = await startRawUpstream((s) => s.end('this is not http\r\n\r\n'));
  cleanup.push(() => garbage.close());
  const g = await gw({
    config: {
      _format_version: '3.0',
      services: [
        { name: 'refused', url: `http://127.0.0.1:${refused}`, retries: 0, routes: [{ paths: ['/refused'] }] },
        { name: 'hang', url: hang.url, read_timeout: 300, routes: [{ paths: ['/hang'] }] },
        { name: 'garbage', url: garbage.url, retries: 0, routes: [{ paths: ['/garbage'] }] },
      ],
      routes: [{ name: 'orphan', paths: ['/orphan'] }],
    },
  });
  // fetch sends Accept: */*, which Kong answers with JSON; text/plain gets the plain template.
  const a = await fetch(`${g.proxy}/refused`);
  assert.equal(a.status, 502);
  assert.equal(await a.text(), '{\n  "message":"An invalid response was received from the upstream server"\n}');
  const a2 = await fetch(`${g.proxy}/refused`, { headers: { accept: 'text/plain' } });
  assert.equal(a2.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await a2.text(), 'An invalid response was received from the upstream server\n');
  const b = await fetch(`${g.proxy}/hang`, { headers: { accept: 'application/json' } });
  assert.equal(b.status, 504);
  assert.equal(await b.text(), '{\n  "message":"The upstream server is timing out"\n}');
  const c = await fetch(`${g.proxy}/garbage`);
  assert.equal(c.status, 502);
  await c.arrayBuffer();
  const d = await fetch(`${g.proxy}/orphan`);
  assert.equal(d.status, 503);
  assert.equal(await d.text(), '{\n  "message":"no Service found with those values"\n}');
});

test('a test plugin short-circuits with the 45-byte 401 and the header phase still runs', async () => {
  const u = await upstream();
  const g = await gw({
    args: ['--plugin', DENY_PLUGIN],
    config: {
      _format_version: '3.0',
      services: [{ name: 's', url: u.url, routes: [{ paths: ['/echo'] }], plugins: [{ name: 'test-deny' }] }],
    },
  });
  const r = await fetch(`${g.proxy}/echo`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Key realm="kong"');
  assert.equal(r.headers.get('content-length'), '45');
  assert.equal(r.headers.get('x-test-phase'), 'header-exit');
  assert.equal(await r.text(), '{\n  "message":"No API key found in request"\n}');
  const ok = await fetch(`${g.proxy}/echo`, { headers: { 'x-let-me-in': '1' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-test-phase'), 'header-service');
  const seen = await ok.json() as { headers: Record<string, string> };
  assert.equal(seen.headers['x-test-deny'], 'passed');
});

test('POST /config: 201, 304 with check_hash, 400 refused whole while the old config keeps serving', async () => {
  const u = await upstream();
  const g = await gw({ waitReady: false, workers: 2 });
  const good = { _format_version: '3.0', services: [{ name: 's', url: u.url, routes: [{ name: 'r', paths: ['/v1'] }] }] };
  const r1 = await g.postConfig(good);
  assert.equal(r1.status, 201);
  // Kong's 201 body: the loaded entities by collection and id (made while the workers compiled).
  assert.equal(r1.headers.get('content-type'), 'application/json; charset=utf-8');
  const loaded = await r1.json() as { services: Record<string, { id: string; name: string; port: number }>; routes: Record<string, { paths: string[]; service: { id: string } }> };
  const [service] = Object.values(loaded.services);
  assert.equal(service?.name, 's');
  assert.equal(service?.port, u.port);
  assert.equal(loaded.services[service.id], service);
  assert.deepEqual(Object.values(loaded.routes).map((r) => [r.paths, r.service.id]), [[['/v1'], service.id]]);
  // Both workers serve it as soon as POST /config answered.
  for (let i = 0; i < 10; i++) assert.equal((await fetch(`${g.proxy}/v1`)).status, 200);
  const r2 = await g.postConfig(good, '?check_hash=1');
  assert.equal(r2.status, 304);
  // A JSON body that carries `_format_version` itself is hashed as sent, as Kong hashes a raw body.
  const { configuration_hash: hash } = await (await fetch(`${g.admin}/status`)).json() as { configuration_hash: string };
  assert.equal(hash, createHash('md5').update(JSON.stringify(good)).digest('hex'));
  const bad = { _format_version: '3.0', services: [{ name: 's', routes: [{ paths: ['/v2'] }] }] };
  const r3 = await g.postConfig(bad, '?flatten_errors=1');
  assert.equal(r3.status, 400);
  const err = await r3.json() as { code: number; name: string; flattened_errors: { entity_type: string; errors: { field?: string; message: string }[] }[] };
  assert.equal(err.code, 14);
  assert.equal(err.name, 'invalid declarative configuration');
  assert.equal(err.flattened_errors[0]!.entity_type, 'service');
  assert.ok(err.flattened_errors[0]!.errors.some((e) => e.field === 'host' && e.message === 'required field missing'));
  assert.equal((await fetch(`${g.proxy}/v1`)).status, 200, 'old config still serving');
  const hashBefore = (await (await fetch(`${g.admin}/status`)).json() as { configuration_hash: string }).configuration_hash;
  // Valid, but its certificate cannot be loaded: the primary's compile (which overlaps the
  // workers') fails, every worker refuses it too, and the old config keeps serving on both.
  const unloadable = {
    _format_version: '3.0',
    services: [{ name: 's2', url: u.url, routes: [{ name: 'r2', paths: ['/v3'] }] }],
    certificates: [{
      cert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----',
      key: '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----',
      snis: [{ name: 'example.test' }],
    }],
  };
  const r4 = await g.postConfig(unloadable);
  assert.equal(r4.status, 400);
  const err4 = await r4.json() as { code: number; message: string };
  assert.equal(err4.code, 14);
  assert.match(err4.message, /asn1|PEM|certificate/i);
  for (let i = 0; i < 10; i++) {
    assert.equal((await fetch(`${g.proxy}/v1`)).status, 200, 'old config still serving on every worker');
    assert.equal((await fetch(`${g.proxy}/v3`)).status, 404);
  }
  const hashAfter = (await (await fetch(`${g.admin}/status`)).json() as { configuration_hash: string }).configuration_hash;
  assert.equal(hashAfter, hashBefore);
  const ready = await fetch(`${g.status}/status/ready`);
  assert.equal(ready.status, 200);
  const st = await (await fetch(`${g.admin}/status`)).json() as { configuration_hash: string };
  assert.match(st.configuration_hash, /^[0-9a-f]{32}$/);
});

test('writes to entity endpoints are refused with 405 in DB-less mode', async () => {
  const g = await gw({ waitReady: false });
  const r = await fetch(`${g.admin}/routes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(r.status, 405);
  assert.deepEqual(await r.json(), { code: 12, name: 'operation unsupported', message: "cannot create 'routes' entities when not using a database" });
});

test('round-robin over upstream targets, and retries move a refused connection to a healthy target', async () => {
  const a = await upstream();
  const b = await startRecordingUpstream((_req, res) => res.end('b'));
  cleanup.push(() => b.close());
  const dead = await refusingPort();
  const g = await gw({
    config: {
      _format_version: '3.0',
      upstreams: [{ name: 'pool.internal', targets: [{ target: `127.0.0.1:${a.port}` }, { target: `127.0.0.1:${b.port}` }] },
        { name: 'flaky.internal', targets: [{ target: `127.0.0.1:${dead}` }, { target: `127.0.0.1:${b.port}` }] }],
      services: [
        { name: 'pool', host: 'pool.internal', port: 80, routes: [{ paths: ['/pool'] }] },
        { name: 'flaky', host: 'flaky.internal', port: 80, retries: 3, routes: [{ paths: ['/flaky'] }] },
      ],
    },
  });
  for (let i = 0; i < 10; i++) await (await fetch(`${g.proxy}/pool`)).arrayBuffer();
  assert.equal(a.requests.length, 5);
  assert.equal(b.requests.length, 5);
  for (let i = 0; i < 6; i++) {
    const r = await fetch(`${g.proxy}/flaky`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'b');
  }
});

test('SIGTERM drains: an in-flight request completes', async () => {
  const slow = await startRecordingUpstream((_req, res) => setTimeout(() => res.end('late'), 500));
  cleanup.push(() => slow.close());
  const g = await gw({ config: { _format_version: '3.0', services: [{ name: 's', url: slow.url, routes: [{ paths: ['/'] }] }] } });
  const pending = fetch(`${g.proxy}/x`);
  await new Promise((r) => setTimeout(r, 100));
  const code = g.stop('SIGTERM');
  const r = await pending;
  assert.equal(await r.text(), 'late');
  assert.equal(await code, 0);
  await assert.rejects(new Promise((resolve, reject) => {
    const s = net.connect(g.proxyPort, '127.0.0.1', () => { s.destroy(); resolve(null); });
    s.on('error', reject);
  }));
});

test('a body over --client-max-body-size gets 413 Payload too large', async () => {
  const u = await upstream();
  const g = await gw({ args: ['--client-max-body-size', '1k'], config: { _format_version: '3.0', services: [{ name: 's', url: u.url, routes: [{ paths: ['/'] }] }] } });
  const big = await fetch(`${g.proxy}/up`, { method: 'POST', body: 'x'.repeat(2000), headers: { accept: 'application/json' } });
  assert.equal(big.status, 413);
  assert.equal(await big.text(), '{\n  "message":"Payload too large"\n}');
  const small = await fetch(`${g.proxy}/up`, { method: 'POST', body: 'x'.repeat(1000) });
  assert.equal(small.status, 200);
  await small.arrayBuffer();
  assert.equal(u.requests.length, 1);
});

test('an upstream that resets before answering gets 502; a slow drip streams through intact', async () => {
  const reset = await startRawUpstream((sock) => sock.destroy());
  cleanup.push(() => reset.close());
  const drip = await startRecordingUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let i = 0;
    const t = setInterval(() => { res.write(`chunk${i}\n`); if (++i === 5) { clearInterval(t); res.end(); } }, 60);
  });
  cleanup.push(() => drip.close());
  const g = await gw({
    config: {
      _format_version: '3.0',
      services: [
        { name: 'reset', url: reset.url, retries: 0, routes: [{ paths: ['/reset'] }] },
        { name: 'drip', url: drip.url, read_timeout: 1000, routes: [{ paths: ['/drip'] }] },
      ],
    },
  });
  const r = await fetch(`${g.proxy}/reset`);
  assert.equal(r.status, 502);
  await r.arrayBuffer();
  const d = await fetch(`${g.proxy}/drip`);
  assert.equal(d.status, 200);
  assert.equal(await d.text(), 'chunk0\nchunk1\nchunk2\nchunk3\nchunk4\n');
});

test('passive health checks take a failing target out and traffic moves to the healthy one', async () => {
  const bad = await startRecordingUpstream((_req, res) => { res.writeHead(500); res.end('bad'); });
  const good = await startRecordingUpstream((_req, res) => res.end('good'));
  cleanup.push(() => bad.close(), () => good.close());
  const g = await gw({
    config: {
      _format_version: '3.0',
      upstreams: [{
        name: 'pool.internal',
        healthchecks: { passive: { unhealthy: { http_failures: 2, http_statuses: [500] } } },
        targets: [{ target: `127.0.0.1:${bad.port}` }, { target: `127.0.0.1:${good.port}` }],
      }],
      services: [{ name: 's', host: 'pool.internal', port: 80, routes: [{ paths: ['/'] }] }],
    },
  });
  const bodies: string[] = [];
  for (let i = 0; i < 12; i++) bodies.push(await (await fetch(`${g.proxy}/x`)).text());
  assert.equal(bad.requests.length, 2, 'two failures mark the target down');
  assert.deepEqual(bodies.slice(-6), Array(6).fill('good'));
  const health = await (await fetch(`${g.admin}/upstreams/pool.internal/health`)).json() as { data: { target: string; health: string }[] };
  assert.equal(health.data.find((t) => t.target.endsWith(`:${good.port}`))?.health, 'HEALTHY');
  assert.equal(health.data.find((t) => t.target.endsWith(`:${bad.port}`))?.health, 'UNHEALTHY', 'a worker\'s passive result reaches the Admin API');
});
