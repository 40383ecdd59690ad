/**
 * Unit tests of basic-auth (§4.2): header order, parsing, hashed and plain stored passwords,
 * realm, hide_credentials, anonymous, consumer headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeContext, type FakeRequest } from '../../../test/harness/plugin-context.ts';
import type { PluginExit } from '../api.ts';
import basicAuth from './index.ts';
import { kongPasswordHash, parseBasic } from './access.ts';
import { hashBasicAuthPassword } from '../../config/normalize.ts';
import { ALICE, ANON, BOB, basicAuthCredential, configOf, validatePluginConfig } from '../key-auth/test-fixtures.ts';

const HASHED = basicAuthCredential('b0000000-0000-4000-8000-00000000000a', ALICE.id, 'alice', kongPasswordHash('open sesame', ALICE.id));
const PLAIN = basicAuthCredential('b0000000-0000-4000-8000-00000000000b', BOB.id, 'bob', 'plain:pass');
const CONFIG = { consumers: [ALICE, BOB, ANON], basicauth_credentials: [HASHED, PLAIN] };

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function run(conf: Record<string, unknown>, r: FakeRequest = {}) {
  const ctx = makeContext({ config: CONFIG, ...r });
  const handlers = basicAuth.create(configOf(basicAuth, conf), { entity: {} as never, log: ctx.log });
  const exit = (await handlers.access!(ctx)) ?? null;
  return { ctx, exit: exit as PluginExit | null };
}

const UNAUTHORIZED = (realm = 'service'): PluginExit => ({ status: 401, message: 'Unauthorized', headers: { 'WWW-Authenticate': `Basic realm="${realm}"` } });

test('schema defaults, priority, no consumer scoping', () => {
  assert.deepEqual(configOf(basicAuth), { anonymous: null, hide_credentials: false, realm: 'service' });
  assert.equal(basicAuth.priority, 1100);
  assert.equal(basicAuth.noConsumer, true);
  const bad = validatePluginConfig(basicAuth, { realm: 5 });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(bad.errors, { realm: 'expected a string' });
});

test('the hash is the one the declarative loader stores', () => {
  assert.equal(kongPasswordHash('pw', ALICE.id), hashBasicAuthPassword('pw', ALICE.id));
});

test('no header: 401 Unauthorized with WWW-Authenticate: Basic realm="service"', async () => {
  assert.deepEqual((await run({})).exit, UNAUTHORIZED());
  assert.deepEqual((await run({ realm: 'api' })).exit, UNAUTHORIZED('api'));
});

test('hashed stored password: right password passes, wrong fails, sending the hash fails', async () => {
  const ok = await run({}, { headers: { authorization: `Basic ${b64('alice:open sesame')}` } });
  assert.equal(ok.exit, null);
  assert.equal(ok.ctx.consumer, ALICE);
  assert.equal(ok.ctx.credential, HASHED);
  assert.deepEqual((await run({}, { headers: { authorization: `Basic ${b64('alice:nope')}` } })).exit, UNAUTHORIZED());
  assert.deepEqual((await run({}, { headers: { authorization: `Basic ${b64(`alice:${HASHED.password}`)}` } })).exit, UNAUTHORIZED());
});

test('plain stored password (from a _transform: false file) is compared as plain text', async () => {
  const ok = await run({}, { headers: { authorization: `Basic ${b64('bob:plain:pass')}` } });
  assert.equal(ok.ctx.consumer, BOB);
  assert.deepEqual((await run({}, { headers: { authorization: `Basic ${b64('bob:plain')}` } })).exit, UNAUTHORIZED());
});

test('unknown user, malformed header, bad base64: 401 Unauthorized', async () => {
  for (const authorization of [`Basic ${b64('carol:x')}`, 'Bearer abc', 'Basic !!!!', `Basic ${b64('nocolon')}`, `Basic ${b64(':pw')}`]) {
    assert.deepEqual((await run({}, { headers: { authorization } })).exit, UNAUTHORIZED(), authorization);
  }
});

test('parsing follows Kong: [Bb]asic, password may contain colons, empty password allowed', () => {
  assert.deepEqual(parseBasic(`basic ${b64('u:a:b')}`), { username: 'u', password: 'a:b' });
  assert.deepEqual(parseBasic(`Basic ${b64('u:')}`), { username: 'u', password: '' });
  assert.equal(parseBasic(`BASIC ${b64('u:p')}`), null);
  assert.equal(parseBasic(`Basic ${b64('u:p').slice(0, 1)}`), null);
});

test('Proxy-Authorization is tried first, then Authorization', async () => {
  const both = await run({}, { headers: {
    'proxy-authorization': `Basic ${b64('bob:plain:pass')}`, authorization: `Basic ${b64('alice:open sesame')}`,
  } });
  assert.equal(both.ctx.consumer, BOB);
  // Unknown user in Proxy-Authorization: falls back to Authorization.
  const fallback = await run({}, { headers: {
    'proxy-authorization': `Basic ${b64('nobody:x')}`, authorization: `Basic ${b64('alice:open sesame')}`,
  } });
  assert.equal(fallback.ctx.consumer, ALICE);
  // Known user with a wrong password in Proxy-Authorization: no fallback.
  const wrong = await run({}, { headers: {
    'proxy-authorization': `Basic ${b64('bob:bad')}`, authorization: `Basic ${b64('alice:open sesame')}`,
  } });
  assert.deepEqual(wrong.exit, UNAUTHORIZED());
});

test('consumer headers: X-Credential-Identifier is the username; spoofed copies replaced', async () => {
  const { ctx } = await run({}, { headers: {
    authorization: `Basic ${b64('alice:open sesame')}`, 'x-anonymous-consumer': 'true', 'x-consumer-id': 'spoof',
  } });
  const h = ctx.upstream.headers;
  assert.equal(h['x-consumer-id'], ALICE.id);
  assert.equal(h['x-consumer-username'], 'alice');
  assert.equal(h['x-consumer-custom-id'], 'alice-custom');
  assert.equal(h['x-credential-identifier'], 'alice');
  assert.equal(h['x-anonymous-consumer'], undefined);
  assert.equal(h['authorization'], `Basic ${b64('alice:open sesame')}`);
});

test('hide_credentials removes the header that was used', async () => {
  const { ctx } = await run({ hide_credentials: true }, { headers: { authorization: `Basic ${b64('alice:open sesame')}` } });
  assert.equal(ctx.upstream.headers['authorization'], undefined);
  const proxy = await run({ hide_credentials: true }, { headers: { 'proxy-authorization': `Basic ${b64('alice:open sesame')}`, authorization: 'keep' } });
  assert.equal(proxy.ctx.upstream.headers['proxy-authorization'], undefined);
  assert.equal(proxy.ctx.upstream.headers['authorization'], 'keep');
});

test('anonymous: applied on failure; logical OR keeps an earlier credential; missing anonymous is a 500', async () => {
  const anon = await run({ anonymous: 'anonymous' }, { headers: { authorization: `Basic ${b64('alice:bad')}` } });
  assert.equal(anon.exit, null);
  assert.equal(anon.ctx.consumer, ANON);
  assert.equal(anon.ctx.upstream.headers['x-anonymous-consumer'], 'true');
  assert.equal(anon.ctx.upstream.headers['x-credential-identifier'], undefined);

  const ctx = makeContext({ config: CONFIG });
  ctx.authenticate(BOB, { id: 'k', consumer: { id: BOB.id } });
  const h = basicAuth.create(configOf(basicAuth, { anonymous: ANON.id }), { entity: {} as never, log: ctx.log });
  assert.equal(await h.access!(ctx), undefined);
  assert.equal(ctx.consumer, BOB);

  const andCtx = makeContext({ config: CONFIG });
  andCtx.authenticate(BOB, { id: 'k', consumer: { id: BOB.id } });
  const and = basicAuth.create(configOf(basicAuth, {}), { entity: {} as never, log: andCtx.log });
  assert.deepEqual(await and.access!(andCtx), UNAUTHORIZED());

  assert.deepEqual((await run({ anonymous: 'ghost' })).exit, { status: 500, message: "anonymous consumer ghost is configured but doesn't exist" });
});
