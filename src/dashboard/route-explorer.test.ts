/**
 * The route explorer against snapshots compiled from real configs: which route wins (Kong's
 * precedence), the upstream path (strip_path, service path), which plugin configuration each
 * slot resolves to (scope precedence, consumer-dependent slots) and the phase order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { validateConfig } from '../config/validate.ts';
import { compileSnapshot, type Snapshot } from '../gateway/snapshot.ts';
import { loadPluginRegistry } from '../plugins/registry.ts';
import { definePlugin } from '../plugins/api.ts';
import { createLogger, pluginLogger } from '../observability/logger.ts';
import { explainRequest } from './route-explorer.ts';

const bundled = await loadPluginRegistry([]);
/** A global plugin with a rewrite handler (none of the bundled ones has one). */
const rewriter = definePlugin({
  name: 'test-rewriter', version: '1.0.0', priority: 3000, schema: Type.Object({}),
  create: () => ({ rewrite() {}, access() {}, log() {} }),
});
/** A plugin whose config holds a secret. */
const vault = definePlugin({
  name: 'test-vault', version: '1.0.0', priority: 5, schema: Type.Object({ url: Type.String(), client_secret: Type.String() }),
  create: () => ({ access() {} }),
});
const registry = new Map([...bundled, ['test-rewriter', rewriter], ['test-vault', vault]]);
const log = pluginLogger(createLogger('error', {}));

function snapshotOf(config: object): Snapshot {
  const r = validateConfig(config, registry);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return compileSnapshot(r.config, { plugins: registry, log, hash: 'test', activeHealthchecks: false });
}

const gettingStarted = snapshotOf({
  _format_version: '3.0',
  services: [{
    name: 'echo', url: 'http://127.0.0.1:1027',
    routes: [{ name: 'echo', paths: ['/echo'], plugins: [{ name: 'rate-limiting', instance_name: 'rate-limit-5-min', config: { minute: 5, policy: 'local' } }] }],
    plugins: [{ name: 'key-auth' }],
  }],
  consumers: [{ username: 'alex', keyauth_credentials: [{ key: 'hello_world' }] }],
  plugins: [{ name: 'proxy-cache', instance_name: 'proxy-cache-all-endpoints', config: { strategy: 'memory' } }],
});

test('getting started: GET /echo matches route echo; key-auth, rate-limiting, proxy-cache in priority order', () => {
  const r = explainRequest(gettingStarted, { method: 'GET', path: '/echo' });
  assert.equal(r.matched, true);
  assert.equal(r.route?.name, 'echo');
  assert.equal(r.exit, null);
  assert.equal(r.upstream?.url, 'http://127.0.0.1:1027/');
  assert.equal(r.upstream?.stripped_prefix, '/echo');
  assert.deepEqual(r.plugins.map((p) => [p.order, p.name, p.scope, p.priority]), [
    [1, 'key-auth', 'service', 1250], [2, 'rate-limiting', 'route', 910], [3, 'proxy-cache', 'global', 100],
  ]);
  assert.equal(r.plugins[1]!.instance_name, 'rate-limit-5-min');
  assert.deepEqual(r.plugins[1]!.applies_to, { route: 'echo' });
  assert.deepEqual(r.phases.find((p) => p.phase === 'access')?.plugins, ['key-auth', 'rate-limiting', 'proxy-cache']);
});

test('no route: 404 with the proxy message, and only the global plugins', () => {
  const r = explainRequest(gettingStarted, { method: 'GET', path: '/nothing/here' });
  assert.equal(r.matched, false);
  assert.deepEqual(r.exit, { status: 404, message: 'no Route matched with those values' });
  assert.deepEqual(r.plugins.map((p) => p.name), ['proxy-cache']);
  // The proxy answers the 404 itself: the plugin's access phase does not run, its response phases do.
  assert.deepEqual(r.plugins[0]!.phases, ['header', 'body']);
  assert.equal(r.upstream, null);
});

test('no snapshot yet: 404, no plugins', () => {
  const r = explainRequest(null, { path: '/echo' });
  assert.equal(r.exit?.status, 404);
  assert.deepEqual(r.plugins, []);
});

const routing = snapshotOf({
  _format_version: '3.0',
  upstreams: [{ name: 'pool.internal', targets: [{ target: '10.0.0.1:8080' }, { target: '10.0.0.2:8080' }] }],
  services: [
    { name: 'a', host: 'pool.internal', port: 8080, path: '/base', routes: [
      { name: 'prefix', paths: ['/api'] },
      { name: 'keep', paths: ['/keep'], strip_path: false },
      { name: 'dotdot', paths: ['/dots'] },
    ] },
    { name: 'b', url: 'https://b.example.com/v2/', routes: [
      { name: 'regex', paths: ['~/items/(?<id>\\d+)$'], strip_path: false },
      { name: 'by-host', hosts: ['api.example.com'], methods: ['POST'], preserve_host: true },
      { name: 'by-header', paths: ['/api'], headers: { 'x-version': ['v2'] } },
    ] },
  ],
  routes: [{ name: 'maintenance', paths: ['/maint'], plugins: [{ name: 'request-termination', config: { status_code: 503, message: 'later' } }] }],
});

test('strip_path and the service path give the upstream URL; targets of the upstream are listed', () => {
  const r = explainRequest(routing, { path: '/api/users?limit=5' });
  assert.equal(r.route?.name, 'prefix');
  assert.equal(r.upstream?.path, '/base/users');
  assert.equal(r.upstream?.url, 'http://pool.internal:8080/base/users?limit=5');
  assert.equal(r.upstream?.upstream, 'pool.internal');
  assert.deepEqual(r.upstream?.targets, ['10.0.0.1:8080', '10.0.0.2:8080']);
  assert.equal(r.upstream?.host_header, 'pool.internal:8080');

  const keep = explainRequest(routing, { path: '/keep/x' });
  assert.equal(keep.route?.name, 'keep');
  assert.equal(keep.upstream?.path, '/base/keep/x');
  assert.equal(keep.upstream?.stripped_prefix, null);
});

test('the path is normalized as the proxy does before matching', () => {
  const r = explainRequest(routing, { path: '/keep/../api/%2e%2e/api/v' });
  assert.equal(r.request.normalized_path, '/api/v');
  assert.equal(r.route?.name, 'prefix');
  assert.equal(r.upstream?.path, '/base/v');
});

test('regex paths report their captures; a header match outranks the plain prefix', () => {
  const r = explainRequest(routing, { path: '/items/42' });
  assert.equal(r.route?.name, 'regex');
  assert.equal(r.uri_captures['0'], '/items/42');
  assert.equal(r.uri_captures['1'], '42');
  assert.equal(r.uri_captures['id'], '42');
  assert.equal(r.upstream?.url, 'https://b.example.com/v2/items/42');

  const h = explainRequest(routing, { path: '/api/x', headers: { 'X-Version': 'v2' } });
  assert.equal(h.route?.name, 'by-header');
  assert.equal(h.upstream?.url, 'https://b.example.com/v2/x');
  assert.equal(explainRequest(routing, { path: '/api/x', headers: { 'X-Version': 'v1' } }).route?.name, 'prefix');
});

test('hosts and methods: the route needs both; preserve_host keeps the client Host', () => {
  assert.equal(explainRequest(routing, { method: 'GET', host: 'api.example.com', path: '/z' }).matched, false);
  const r = explainRequest(routing, { method: 'POST', host: 'API.example.com', path: '/z' });
  assert.equal(r.route?.name, 'by-host');
  assert.equal(r.upstream?.host_header, 'API.example.com');
  assert.equal(r.upstream?.url, 'https://b.example.com/v2/z');
});

test('a route without a service: its plugins still run, then 503', () => {
  const r = explainRequest(routing, { path: '/maint' });
  assert.equal(r.route?.name, 'maintenance');
  assert.deepEqual(r.exit, { status: 503, message: 'no Service found with those values' });
  assert.deepEqual(r.plugins.map((p) => [p.name, p.scope]), [['request-termination', 'route']]);
});

test('an http request to an https-only route gets the 426 the proxy sends', () => {
  const s = snapshotOf({
    _format_version: '3.0', plugins: [{ name: 'test-rewriter' }],
    services: [{ name: 's', url: 'http://x.internal', routes: [{ name: 'tls', paths: ['/'], protocols: ['https'] }] }],
  });
  const r = explainRequest(s, { path: '/' });
  assert.deepEqual(r.exit, { status: 426, message: 'Please use HTTPS protocol' });
  // Only what ran before routing is involved, and it sees the 426.
  assert.deepEqual(r.plugins.map((p) => [p.name, p.phases]), [['test-rewriter', ['rewrite', 'log']]]);
  const tls = explainRequest(s, { path: '/', scheme: 'https' });
  assert.equal(tls.exit, null);
  assert.deepEqual(tls.plugins.map((p) => [p.name, p.phases]), [['test-rewriter', ['rewrite', 'access', 'log']]]);
});

const precedence = snapshotOf({
  _format_version: '3.0',
  services: [{ name: 'svc', url: 'http://svc.internal', routes: [{ name: 'r1', paths: ['/r1'] }, { name: 'r2', paths: ['/r2'] }] }],
  consumers: [{ username: 'alice', custom_id: 'c-alice' }, { username: 'bob' }],
  plugins: [
    { name: 'test-rewriter' },
    { name: 'cors', config: { origins: ['*'] } },
    { name: 'rate-limiting', instance_name: 'global-rl', config: { minute: 100, policy: 'local' } },
    { name: 'rate-limiting', instance_name: 'svc-rl', service: 'svc', config: { minute: 50, policy: 'local' } },
    { name: 'rate-limiting', instance_name: 'r1-rl', route: 'r1', config: { minute: 10, policy: 'local' } },
    { name: 'rate-limiting', instance_name: 'alice-rl', consumer: 'alice', config: { minute: 1000, policy: 'local' } },
    { name: 'rate-limiting', instance_name: 'bob-r2-rl', consumer: 'bob', route: 'r2', config: { minute: 2, policy: 'local' } },
  ],
});

test('scope precedence: route beats service beats global; consumer-only beats route', () => {
  const r1 = explainRequest(precedence, { path: '/r1' });
  const rl1 = r1.plugins.find((p) => p.name === 'rate-limiting')!;
  assert.equal(rl1.instance_name, 'r1-rl');
  assert.equal(rl1.scope, 'route');
  assert.equal(rl1.consumer_dependent, true);
  assert.equal(explainRequest(precedence, { path: '/r2' }).plugins.find((p) => p.name === 'rate-limiting')!.instance_name, 'svc-rl');

  const alice = explainRequest(precedence, { path: '/r1', consumer: 'alice' });
  assert.equal(alice.consumer?.username, 'alice');
  const rlA = alice.plugins.find((p) => p.name === 'rate-limiting')!;
  assert.equal(rlA.instance_name, 'alice-rl');
  assert.equal(rlA.scope, 'consumer');
  assert.equal(rlA.consumer_dependent, false);
  assert.equal(explainRequest(precedence, { path: '/r1', consumer: 'c-alice' }).consumer?.username, 'alice');

  const bob = explainRequest(precedence, { path: '/r2', consumer: 'bob' }).plugins.find((p) => p.name === 'rate-limiting')!;
  assert.equal(bob.instance_name, 'bob-r2-rl');
  assert.equal(bob.scope, 'route+consumer');
  assert.deepEqual(bob.applies_to, { route: 'r2', consumer: 'bob' });
});

test('phases: the global rewrite plugin runs first, then access by priority, then the response phases', () => {
  const r = explainRequest(precedence, { path: '/r1' });
  assert.deepEqual(r.plugins.map((p) => p.name), ['test-rewriter', 'cors', 'rate-limiting']);
  assert.deepEqual(r.plugins[0]!.phases, ['rewrite', 'access', 'log']);
  assert.deepEqual(r.phases.map((p) => p.phase), ['rewrite', 'access', 'header', 'log']);
  assert.deepEqual(r.phases[0]!.plugins, ['test-rewriter']);
  assert.deepEqual(r.phases[1]!.plugins, ['test-rewriter', 'cors', 'rate-limiting']);
});

test('secrets in plugin configs are masked', () => {
  const s = snapshotOf({
    _format_version: '3.0',
    services: [{ name: 's', url: 'http://x.internal', routes: [{ name: 'r', paths: ['/'] }] }],
    plugins: [{ name: 'test-vault', config: { url: 'https://vault.internal', client_secret: 'hunter22-very-secret' } }],
  });
  const text = JSON.stringify(explainRequest(s, { path: '/' }));
  assert.ok(!text.includes('hunter22-very-secret'));
  assert.ok(text.includes('"client_secret":"hu********"'));
  assert.ok(text.includes('"url":"https://vault.internal"'));
});
