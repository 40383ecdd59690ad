/**
 * Status API over a real HTTP server: `/status`, readiness and draining, the read-only upstream
 * routes, metrics, and 404 for everything else (entity routes are Admin API only).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStatusHandler } from './status-api.ts';
import { fakeBackend, IDS, serve, type FakeBackend, type TestServer } from './test-fixtures.ts';

async function call(server: TestServer, path: string, init: RequestInit = {}) {
  const r = await fetch(server.url + path, init);
  const text = await r.text();
  const json = r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
  return { status: r.status, headers: r.headers, text, json };
}

describe('status and upstream routes', () => {
  let backend: FakeBackend;
  let server: TestServer;
  before(async () => {
    backend = fakeBackend();
    backend.health.set(IDS.upstream, [
      { targetId: IDS.target1, target: '10.0.0.1:8080', weight: 100, health: 'HEALTHCHECKS_OFF', addresses: [{ ip: '10.0.0.1', port: 8080, health: 'HEALTHCHECKS_OFF', weight: 100 }] },
    ]);
    backend.metrics = async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# HELP x\n' });
    server = await serve(createStatusHandler(backend));
  });
  after(() => server.close());

  test('GET /status has the Admin API shape', async () => {
    const r = await call(server, '/status?unit=k');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(r.headers.get('server'), 'turnpike/0.1.0');
    assert.equal(r.json.configuration_hash, 'a'.repeat(32));
    assert.equal(r.json.memory.workers_lua_vms[0].http_allocated_gc, '1.50 KiB');
    assert.equal(r.json.server.total_requests, 10);
    assert.equal((await call(server, '/status?unit=x')).status, 400);
  });

  test('read-only upstream health and targets', async () => {
    const health = await call(server, '/upstreams/echo.internal/health');
    assert.equal(health.status, 200);
    const t1 = health.json.data.find((t: { id: string }) => t.id === IDS.target1);
    assert.equal(t1.health, 'HEALTHCHECKS_OFF');
    const t2 = health.json.data.find((t: { id: string }) => t.id === IDS.target2);
    assert.equal(t2.health, 'DNS_ERROR', 'a target the balancer does not know');
    assert.equal(health.json.node_id, backend.nodeId);
    assert.equal((await call(server, '/upstreams/echo.internal/targets')).json.data.length, 2);
    assert.equal((await call(server, '/upstreams/echo.internal/targets/10.0.0.2:8080')).json.id, IDS.target2);
    const write = await call(server, '/upstreams/echo.internal/health', { method: 'POST' });
    assert.equal(write.status, 405);
    assert.deepEqual(write.json, { message: 'Method not allowed' });
    assert.equal((await call(server, '/upstreams/nope/health')).status, 404);
  });

  test('GET /metrics', async () => {
    const r = await call(server, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.text, '# HELP x\n');
  });

  test('everything else is 404', async () => {
    for (const p of ['/services', '/', '/config', '/upstreams', '/status/dns']) {
      const r = await call(server, p);
      assert.equal(r.status, 404, p);
      assert.deepEqual(r.json, { message: 'Not found' });
    }
  });
});

describe('readiness', () => {
  test('200 ready, then 503 draining after POST status=draining (form)', async () => {
    const backend = fakeBackend();
    const server = await serve(createStatusHandler(backend));
    try {
      const ready = await call(server, '/status/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { message: 'ready' });
      const drain = await call(server, '/status/ready', { method: 'POST', body: 'status=draining', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(drain.status, 204);
      assert.equal(drain.text, '');
      assert.equal(backend.draining, true);
      const after = await call(server, '/status/ready');
      assert.equal(after.status, 503);
      assert.deepEqual(after.json, { message: 'draining' });
    } finally {
      await server.close();
    }
  });

  test('draining may be asked with JSON or the query string; anything else is an empty 400', async () => {
    const backend = fakeBackend();
    const server = await serve(createStatusHandler(backend));
    try {
      const bad = await call(server, '/status/ready', { method: 'POST', body: JSON.stringify({ status: 'ready' }), headers: { 'content-type': 'application/json' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.text, '');
      assert.equal((await call(server, '/status/ready', { method: 'POST' })).status, 400);
      assert.equal(backend.draining, false);
      const json = await call(server, '/status/ready', { method: 'POST', body: JSON.stringify({ status: 'draining' }), headers: { 'content-type': 'application/json' } });
      assert.equal(json.status, 204);
      assert.equal(backend.draining, true);
      backend.draining = false;
      assert.equal((await call(server, '/status/ready?status=draining', { method: 'POST' })).status, 204);
      assert.equal(backend.draining, true);
    } finally {
      await server.close();
    }
  });

  test('503 with the reason when no configuration is loaded', async () => {
    const server = await serve(createStatusHandler(fakeBackend(null)));
    try {
      const r = await call(server, '/status/ready');
      assert.equal(r.status, 503);
      assert.deepEqual(r.json, { message: 'no configuration available (configuration hash is not initialized)' });
      const status = await call(server, '/status');
      assert.equal(status.json.configuration_hash, '00000000000000000000000000000000');
      const metrics = await call(server, '/metrics');
      assert.equal(metrics.status, 404, 'no metrics without a backend exporter');
    } finally {
      await server.close();
    }
  });
});
