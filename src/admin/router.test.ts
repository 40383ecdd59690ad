/**
 * Unit tests for the admin router: Lapis' matching rules and method dispatch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatch, Router } from './router.ts';
import { reply } from './http.ts';

const router = new Router<null>([
  { pattern: '/', methods: { GET: () => reply(200, 'root') } },
  { pattern: '/plugins/:plugins', methods: { GET: (_c, p) => reply(200, `plugin ${p.plugins}`), DELETE: () => reply(204) } },
  { pattern: '/plugins/enabled', methods: { GET: () => reply(200, 'enabled') } },
  { pattern: '/schemas/:name', methods: { GET: (_c, p) => reply(200, `entity ${p.name}`) } },
  { pattern: '/schemas/plugins/:name', methods: { GET: (_c, p) => reply(200, `plugin schema ${p.name}`) } },
]);

test('literal segments beat parameters', async () => {
  assert.equal((await dispatch(router.match('/plugins/enabled')!, 'GET', null)).body, 'enabled');
  assert.equal((await dispatch(router.match('/plugins/abc')!, 'GET', null)).body, 'plugin abc');
  assert.equal((await dispatch(router.match('/schemas/plugins/key-auth')!, 'GET', null)).body, 'plugin schema key-auth');
  assert.equal((await dispatch(router.match('/schemas/services')!, 'GET', null)).body, 'entity services');
});

test('parameters are percent-decoded; a trailing slash is tolerated; empty segments do not match', async () => {
  assert.equal((await dispatch(router.match('/plugins/a%20b')!, 'GET', null)).body, 'plugin a b');
  assert.equal((await dispatch(router.match('/plugins/x/')!, 'GET', null)).body, 'plugin x');
  assert.equal(router.match('/plugins//'), null);
  assert.equal(router.match('/nope'), null);
  assert.equal(router.match('/plugins/%E0%A4%A'), null);
});

test('HEAD runs GET, OPTIONS lists the methods, others are 405', async () => {
  const m = router.match('/plugins/x')!;
  assert.equal((await dispatch(m, 'HEAD', null)).body, 'plugin x');
  const options = await dispatch(m, 'OPTIONS', null);
  assert.equal(options.status, 204);
  assert.equal(options.headers?.Allow, 'DELETE, GET, HEAD, OPTIONS');
  assert.equal(options.headers?.['Access-Control-Allow-Headers'], 'Content-Type');
  assert.deepEqual((await dispatch(m, 'PUT', null)).body, { message: 'Method not allowed' });
});

test('endpoints are listed in Kong form, sorted segment by segment', () => {
  assert.deepEqual(router.endpoints(), ['/', '/plugins/enabled', '/plugins/{plugins}', '/schemas/plugins/{name}', '/schemas/{name}']);
});

test('duplicate patterns are a programming error', () => {
  assert.throws(() => new Router([{ pattern: '/a', methods: {} }, { pattern: '/a', methods: {} }]), /duplicate/);
});
