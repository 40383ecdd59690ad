/**
 * cors: schema defaults and regex validation, origin normalization, preflight answers and the
 * headers added to ordinary responses, on synthetic contexts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../config/validate.ts';
import type { PluginDefinition, PluginExit } from '../api.ts';
import { makeContext, silentLog, validatePluginConfig } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';
import { normalizeOrigin } from './origin.ts';

const PLUGINS = new Map<string, PluginDefinition>([[plugin.name, plugin as unknown as PluginDefinition]]);

const validate = (config: unknown) => validatePluginConfig(plugin, config);

function handlers(config: Record<string, unknown>) {
  const v = validate(config);
  assert.ok(v.ok, JSON.stringify(v));
  return plugin.create(v.config as never, { entity: {} as never, log: silentLog });
}

/** Runs a preflight; returns the exit (or undefined when the plugin lets it through). */
function preflight(config: Record<string, unknown>, headers: Record<string, string>): PluginExit | void {
  const ctx = makeContext({ method: 'OPTIONS', headers: { 'access-control-request-method': 'GET', ...headers } });
  return handlers(config).access!(ctx) as PluginExit | void;
}

/** Runs access + header on an ordinary response; returns the response headers. */
function simple(config: Record<string, unknown>, headers: Record<string, string>, upstream: Record<string, string> = {}, method = 'GET') {
  const h = handlers(config);
  const ctx = makeContext({ method, headers });
  assert.equal(h.access!(ctx), undefined);
  ctx.response.status = 200;
  for (const [k, v] of Object.entries(upstream)) ctx.response.setHeader(k, v);
  h.header!(ctx);
  return { ...ctx.response.headers };
}

test('defaults', () => {
  const v = validate({});
  assert.ok(v.ok);
  assert.deepEqual(v.config, {
    methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'],
    credentials: false, private_network: false, preflight_continue: false, allow_origin_absent: true,
  });
});

test('schema errors: invalid regex origin, unknown method, consumer scoping refused', () => {
  assert.deepEqual(validate({ origins: ['example.com', '[a-z'] }), { ok: false, errors: { origins: [null, "'[a-z' is not a valid regex"] } });
  assert.deepEqual(validate({ methods: ['GET', 'FOO'] }), {
    ok: false, errors: { methods: [null, 'expected one of: GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, TRACE, CONNECT'] },
  });
  assert.equal(validate({ origins: ['*', 'http://a.test', '(.*)\\.b\\.test'] }).ok, true);
  const r = validateConfig({
    _format_version: '3.0', consumers: [{ username: 'c', plugins: [{ name: 'cors' }] }],
  }, PLUGINS);
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual(r.error.fields, { consumers: [{ plugins: [{ consumer: 'value must be null' }] }] });
});

test('origin normalization drops default ports and keeps other forms', () => {
  assert.deepEqual(normalizeOrigin('http://example.com:80'), { domain: 'http://example.com', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('https://example.com:443'), { domain: 'https://example.com', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('http://example.com:8080'), { domain: 'http://example.com:8080', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('https://example.com:80'), { domain: 'https://example.com:80', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('http://user@example.com/path'), { domain: 'http://example.com', host: 'example.com' });
  assert.deepEqual(normalizeOrigin('null'), { domain: 'null', host: 'null' });
  assert.deepEqual(normalizeOrigin('example.com'), { domain: 'example.com', host: 'example.com' });
});

test('preflight with default config: 200, ACAO *, methods, echoed request headers, no Vary', () => {
  const exit = preflight({}, { origin: 'http://a.test', 'access-control-request-headers': 'X-Foo, X-Bar' });
  assert.deepEqual(exit, {
    status: 200,
    headers: {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'X-Foo, X-Bar',
      'Access-Control-Allow-Methods': 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT',
    },
  });
});

test('preflight with configured headers, methods, max_age, credentials and a plain origin', () => {
  const exit = preflight({
    origins: ['http://example.com'], headers: ['x-one', 'x-two'], methods: ['GET', 'POST'], max_age: 23, credentials: true,
  }, { origin: 'http://other.test', 'access-control-request-headers': 'ignored' });
  assert.deepEqual(exit, {
    status: 200,
    headers: {
      Vary: 'Origin',
      'Access-Control-Allow-Origin': 'http://example.com',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Headers': 'x-one,x-two',
      'Access-Control-Allow-Methods': 'GET,POST',
      'Access-Control-Max-Age': '23',
    },
  });
});

test('preflight: credentials with wildcard echo the request origin', () => {
  const exit = preflight({ credentials: true }, { origin: 'http://a.test' }) as PluginExit;
  assert.equal(exit.headers!['Access-Control-Allow-Origin'], 'http://a.test');
  assert.equal(exit.headers!['Access-Control-Allow-Credentials'], 'true');
  assert.equal(exit.headers!['Vary'], 'Origin');
});

test('preflight: private network only when enabled and requested', () => {
  const on = { private_network: true };
  assert.equal((preflight(on, { origin: 'http://a.test', 'access-control-request-private-network': 'true' }) as PluginExit)
    .headers!['Access-Control-Allow-Private-Network'], 'true');
  assert.equal((preflight(on, { origin: 'http://a.test' }) as PluginExit).headers!['Access-Control-Allow-Private-Network'], undefined);
  assert.equal((preflight({}, { origin: 'http://a.test', 'access-control-request-private-network': 'true' }) as PluginExit)
    .headers!['Access-Control-Allow-Private-Network'], undefined);
});

test('not a preflight: no Origin, no Access-Control-Request-Method, or not OPTIONS', () => {
  const h = handlers({});
  assert.equal(h.access!(makeContext({ method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } })), undefined);
  assert.equal(h.access!(makeContext({ method: 'OPTIONS', headers: { origin: 'http://a.test' } })), undefined);
  assert.equal(h.access!(makeContext({ method: 'GET', headers: { origin: 'http://a.test', 'access-control-request-method': 'GET' } })), undefined);
});

test('preflight_continue: passed on and no CORS headers added to the upstream answer', () => {
  const h = handlers({ preflight_continue: true });
  const ctx = makeContext({ method: 'OPTIONS', headers: { origin: 'http://a.test', 'access-control-request-method': 'GET' } });
  assert.equal(h.access!(ctx), undefined);
  ctx.response.status = 204;
  h.header!(ctx);
  assert.deepEqual({ ...ctx.response.headers }, {});
});

test('the header phase of an answered preflight adds nothing more', () => {
  const h = handlers({ exposed_headers: ['x-e'] });
  const ctx = makeContext({ method: 'OPTIONS', headers: { origin: 'http://a.test', 'access-control-request-method': 'GET' } });
  const exit = h.access!(ctx) as PluginExit;
  for (const [k, v] of Object.entries(exit.headers!)) ctx.response.setHeader(k, v);
  h.header!(ctx);
  assert.equal(ctx.response.headers['access-control-expose-headers'], undefined);
});

test('simple request, no origins configured: ACAO * even without an Origin', () => {
  assert.deepEqual(simple({}, {}), { 'access-control-allow-origin': '*' });
  assert.deepEqual(simple({}, { origin: 'http://a.test' }), { 'access-control-allow-origin': '*' });
});

test('allow_origin_absent=false: nothing added without an Origin', () => {
  assert.deepEqual(simple({ allow_origin_absent: false }, {}), {});
  assert.deepEqual(simple({ allow_origin_absent: false }, { origin: 'http://a.test' }), { 'access-control-allow-origin': '*' });
});

test('single plain origin: sent as configured whatever the client origin, with Vary', () => {
  const h = simple({ origins: ['http://example.com'] }, { origin: 'http://evil.test' });
  assert.deepEqual(h, { vary: 'Origin', 'access-control-allow-origin': 'http://example.com' });
});

test('several origins: exact match on the normalized origin, else no ACAO; Vary added to upstream Vary', () => {
  const cfg = { origins: ['http://a.test', 'https://b.test:8443'] };
  assert.deepEqual(simple(cfg, { origin: 'http://a.test:80' }, { Vary: 'Accept-Encoding' }),
    { vary: ['Accept-Encoding', 'Origin'], 'access-control-allow-origin': 'http://a.test' });
  assert.deepEqual(simple(cfg, { origin: 'https://b.test:8443' }), { vary: 'Origin', 'access-control-allow-origin': 'https://b.test:8443' });
  assert.deepEqual(simple(cfg, { origin: 'http://c.test' }, { 'Access-Control-Allow-Origin': '*' }), { vary: 'Origin' });
  assert.deepEqual(simple(cfg, {}), { vary: 'Origin' });
});

test('regex origins: anchored; by host unless the entry has a colon', () => {
  const byHost = { origins: ['(.*)\\.example\\.com'] };
  assert.equal(simple(byHost, { origin: 'https://api.example.com' })['access-control-allow-origin'], 'https://api.example.com');
  assert.equal(simple(byHost, { origin: 'http://api.example.com:8080' })['access-control-allow-origin'], 'http://api.example.com:8080');
  assert.equal(simple(byHost, { origin: 'https://api.example.com.evil.test' })['access-control-allow-origin'], undefined);
  assert.equal(simple(byHost, { origin: 'https://example.com' })['access-control-allow-origin'], undefined);
  const byDomain = { origins: ['^https://(.*)\\.example\\.com$', 'http://x.test'] };
  assert.equal(simple(byDomain, { origin: 'https://a.example.com' })['access-control-allow-origin'], 'https://a.example.com');
  assert.equal(simple(byDomain, { origin: 'http://a.example.com' })['access-control-allow-origin'], undefined);
  // Alternatives are all anchored at the start.
  const alt = { origins: ['a\\.test|b\\.test'] };
  assert.equal(simple(alt, { origin: 'http://xb.test' })['access-control-allow-origin'], undefined);
  assert.equal(simple(alt, { origin: 'http://b.test' })['access-control-allow-origin'], 'http://b.test');
});

test('a * among several origins allows everything once an Origin is sent', () => {
  assert.deepEqual(simple({ origins: ['http://a.test', '*'] }, { origin: 'http://z.test' }), { vary: 'Origin', 'access-control-allow-origin': '*' });
  assert.deepEqual(simple({ origins: ['http://a.test', '*'] }, {}), { vary: 'Origin' });
});

test('credentials: ACAC true; with wildcard the origin is echoed and Vary added', () => {
  assert.deepEqual(simple({ origins: ['http://a.test'], credentials: true }, { origin: 'http://a.test' }),
    { vary: 'Origin', 'access-control-allow-origin': 'http://a.test', 'access-control-allow-credentials': 'true' });
  assert.deepEqual(simple({ credentials: true }, { origin: 'http://z.test' }),
    { vary: 'Origin', 'access-control-allow-origin': 'http://z.test', 'access-control-allow-credentials': 'true' });
  assert.deepEqual(simple({ credentials: true }, {}), { 'access-control-allow-origin': '*' });
});

test('exposed headers joined with commas', () => {
  assert.equal(simple({ exposed_headers: ['x-a', 'x-b'] }, { origin: 'http://a.test' })['access-control-expose-headers'], 'x-a,x-b');
});

test('headers are added to exits made by later plugins (a 401)', () => {
  const h = handlers({ origins: ['http://a.test'], credentials: true, exposed_headers: ['x-e'] });
  const ctx = makeContext({ headers: { origin: 'http://a.test' } });
  h.access!(ctx);
  ctx.response.status = 401;
  (ctx.response as { source: string }).source = 'exit';
  ctx.response.setHeader('Content-Type', 'application/json; charset=utf-8');
  h.header!(ctx);
  assert.equal(ctx.response.headers['access-control-allow-origin'], 'http://a.test');
  assert.equal(ctx.response.headers['access-control-allow-credentials'], 'true');
  assert.equal(ctx.response.headers['access-control-expose-headers'], 'x-e');
});
