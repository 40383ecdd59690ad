/**
 * Unit tests of hmac-auth (§4.5): date / x-date skew, algorithms, enforce_headers, request-line
 * and @request-target signing, Digest body validation, hide_credentials, anonymous, realm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { makeContext, type FakeRequest } from '../../../test/harness/plugin-context.ts';
import type { PluginExit } from '../api.ts';
import hmacAuth from './index.ts';
import { parseHttpDate } from './access.ts';
import { ALICE, ANON, configOf, hmacCredential, validatePluginConfig } from '../key-auth/test-fixtures.ts';

const CRED = hmacCredential('h0000000-0000-4000-8000-000000000001', ALICE.id, 'alice', 'alice-secret');
const CONFIG = { consumers: [ALICE, ANON], hmacauth_credentials: [CRED] };

async function run(conf: Record<string, unknown>, r: FakeRequest = {}) {
  const ctx = makeContext({ config: CONFIG, ...r });
  const handlers = hmacAuth.create(configOf(hmacAuth, conf), { entity: {} as never, log: ctx.log });
  const exit = (await handlers.access!(ctx)) ?? null;
  return { ctx, exit: exit as PluginExit | null };
}

const exit = (message: string, realm?: string): PluginExit => ({ status: 401, message, headers: { 'WWW-Authenticate': realm ? `hmac realm="${realm}"` : 'hmac' } });

/** What a client computes (independent of the plugin). */
function authorization(opts: { lines: string[]; names: string; alg?: string; secret?: string; user?: string }): string {
  const alg = opts.alg ?? 'hmac-sha256';
  const sig = createHmac(alg.slice(5), opts.secret ?? 'alice-secret').update(opts.lines.join('\n')).digest('base64');
  return `hmac username="${opts.user ?? 'alice'}", algorithm="${alg}", headers="${opts.names}", signature="${sig}"`;
}

const now = () => new Date().toUTCString();

function signedRequest(extra: Partial<{ alg: string; secret: string; names: string; dateHeader: string }> = {}): FakeRequest {
  const date = now();
  const dateHeader = extra.dateHeader ?? 'date';
  return {
    method: 'GET', path: '/resource', query: 'a=1',
    headers: {
      [dateHeader]: date,
      authorization: authorization({ lines: [`${dateHeader}: ${date}`, 'GET /resource?a=1 HTTP/1.1'], names: `${dateHeader} request-line`, alg: extra.alg, secret: extra.secret }),
    },
  };
}

test('schema: defaults, clock_skew > 0, algorithm names', () => {
  assert.deepEqual(configOf(hmacAuth), {
    hide_credentials: false, clock_skew: 300, anonymous: null, validate_request_body: false, enforce_headers: [],
    algorithms: ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'], realm: null,
  });
  assert.equal(hmacAuth.priority, 1030);
  const bad = validatePluginConfig(hmacAuth, { clock_skew: 0, algorithms: ['md5'] });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.equal(bad.errors.clock_skew, 'value must be greater than 0');
    assert.deepEqual(bad.errors.algorithms, ['expected one of: hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512']);
  }
});

test('HTTP dates as nginx parses them', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;
  assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
  assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
  assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), t);
  assert.equal(parseHttpDate('yesterday'), null);
});

test('no Authorization: 401 Unauthorized, WWW-Authenticate: hmac (realm when set)', async () => {
  assert.deepEqual((await run({})).exit, exit('Unauthorized'));
  assert.deepEqual((await run({ realm: 'api' })).exit, exit('Unauthorized', 'api'));
});

test('every algorithm with date + request-line signs correctly', async () => {
  for (const alg of ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']) {
    const { exit: e, ctx } = await run({}, signedRequest({ alg }));
    assert.equal(e, null, alg);
    assert.equal(ctx.consumer, ALICE);
    assert.equal(ctx.upstream.headers['x-credential-identifier'], 'alice');
    assert.equal(ctx.upstream.headers['x-consumer-id'], ALICE.id);
    assert.equal(ctx.upstream.headers['authorization'] !== undefined, true);
  }
});

test('algorithm not allowed by config: cannot be verified', async () => {
  assert.deepEqual((await run({ algorithms: ['hmac-sha512'] }, signedRequest())).exit, exit('HMAC signature cannot be verified'));
});

test('date: missing, unreadable or outside clock_skew; x-date is accepted', async () => {
  const noDate = signedRequest();
  delete noDate.headers!['date'];
  assert.deepEqual((await run({}, noDate)).exit, exit('HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication'));
  const old = signedRequest();
  old.headers!['date'] = new Date(Date.now() - 400_000).toUTCString();
  assert.deepEqual((await run({}, old)).exit, exit('HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication'));
  assert.equal((await run({ clock_skew: 1000 }, old)).exit?.message, 'HMAC signature does not match', 'in skew, but the signed date differs');
  assert.equal((await run({}, signedRequest({ dateHeader: 'x-date' }))).exit, null);
});

test('wrong secret, unknown user, malformed header', async () => {
  assert.deepEqual((await run({}, signedRequest({ secret: 'wrong' }))).exit, exit('HMAC signature does not match'));
  const unknown = signedRequest();
  unknown.headers!['authorization'] = (unknown.headers!['authorization'] as string).replace('username="alice"', 'username="carol"');
  assert.deepEqual((await run({}, unknown)).exit, exit('HMAC signature cannot be verified'));
  const bad = signedRequest();
  bad.headers!['authorization'] = 'hmac nonsense';
  assert.deepEqual((await run({}, bad)).exit, exit('HMAC signature cannot be verified'));
});

test('request-line covers method, path and query: a different query does not match', async () => {
  const r = signedRequest();
  r.query = 'a=2';
  assert.deepEqual((await run({}, r)).exit, exit('HMAC signature does not match'));
});

test('@request-target and plain headers in the signing string; absent header signs as "name:"', async () => {
  const date = now();
  const lines = [`date: ${date}`, '@request-target: post /p', 'x-custom: v', 'x-missing:'];
  const r = await run({}, {
    method: 'POST', path: '/p',
    headers: { date, 'x-custom': 'v', authorization: authorization({ lines, names: 'date @request-target x-custom x-missing' }) },
  });
  assert.equal(r.exit, null);
});

test('enforce_headers must all be signed', async () => {
  assert.deepEqual((await run({ enforce_headers: ['date', 'x-required'] }, signedRequest())).exit, exit('HMAC signature cannot be verified'));
  assert.equal((await run({ enforce_headers: ['date', 'request-line'] }, signedRequest())).exit, null);
});

test('Proxy-Authorization first; hide_credentials removes the header used', async () => {
  const r = signedRequest();
  const auth = r.headers!['authorization'] as string;
  const proxied = await run({ hide_credentials: true }, { ...r, headers: { date: r.headers!['date']!, 'proxy-authorization': auth, authorization: 'Basic keep' } });
  assert.equal(proxied.exit, null);
  assert.equal(proxied.ctx.upstream.headers['proxy-authorization'], undefined);
  assert.equal(proxied.ctx.upstream.headers['authorization'], 'Basic keep');
  const plain = await run({ hide_credentials: true }, r);
  assert.equal(plain.ctx.upstream.headers['authorization'], undefined);
});

test('validate_request_body: Digest must match; no Digest only for an empty body', async () => {
  const body = '{"a":1}';
  const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
  const date = now();
  const lines = [`date: ${date}`, `digest: ${digest}`];
  const base = { method: 'POST', path: '/', body, headers: { date, digest, authorization: authorization({ lines, names: 'date digest' }) } };
  assert.equal((await run({ validate_request_body: true }, base)).exit, null);
  const tampered = { ...base, body: '{"a":2}' };
  assert.deepEqual((await run({ validate_request_body: true }, tampered)).exit, exit('HMAC signature does not match'));
  const noDigestLines = [`date: ${date}`];
  const noDigest = { method: 'POST', path: '/', body, headers: { date, authorization: authorization({ lines: noDigestLines, names: 'date' }) } };
  assert.deepEqual((await run({ validate_request_body: true }, noDigest)).exit, exit('HMAC signature does not match'));
  const empty = { method: 'GET', path: '/', headers: { date, authorization: authorization({ lines: noDigestLines, names: 'date' }) } };
  assert.equal((await run({ validate_request_body: true }, empty)).exit, null);
});

test('anonymous and logical OR', async () => {
  const a = await run({ anonymous: 'anonymous' }, signedRequest({ secret: 'bad' }));
  assert.equal(a.exit, null);
  assert.equal(a.ctx.consumer, ANON);
  assert.equal(a.ctx.upstream.headers['x-anonymous-consumer'], 'true');
  assert.deepEqual((await run({ anonymous: 'ghost' })).exit, { status: 500, message: "anonymous consumer ghost is configured but doesn't exist" });
  const ctx = makeContext({ config: CONFIG });
  ctx.authenticate(ALICE, { id: 'x', consumer: { id: ALICE.id } });
  const h = hmacAuth.create(configOf(hmacAuth, { anonymous: 'anonymous' }), { entity: {} as never, log: ctx.log });
  assert.equal(await h.access!(ctx), undefined);
  assert.equal(ctx.consumer, ALICE);
});
