/**
 * Unit tests of key-auth's access handler over the gateway's real RequestContext (every row of
 * the reference's §4.1 table), plus schema defaults and errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeContext, type FakeRequest } from '../../../test/harness/plugin-context.ts';
import type { PluginExit } from '../api.ts';
import keyAuth from './index.ts';
import { withoutQueryArg } from './access.ts';
import { parseBody } from './body.ts';
import {
  ALICE, ANON, BOB, NO_USERNAME, configOf, keyAuthCredential, validatePluginConfig,
} from './test-fixtures.ts';

const CRED_ALICE = keyAuthCredential('c0000000-0000-4000-8000-00000000000a', ALICE.id, 'alice-key');
const CRED_BOB = keyAuthCredential('c0000000-0000-4000-8000-00000000000b', BOB.id, 'bob-key');
const CRED_NOUSER = keyAuthCredential('c0000000-0000-4000-8000-00000000000c', NO_USERNAME.id, 'nouser-key');
const CRED_EXPIRED = keyAuthCredential('c0000000-0000-4000-8000-00000000000d', BOB.id, 'old-key', 10, Math.floor(Date.now() / 1000) - 60);
const CRED_TTL_LIVE = keyAuthCredential('c0000000-0000-4000-8000-00000000000e', BOB.id, 'fresh-key', 3600, Math.floor(Date.now() / 1000));
const CONFIG = {
  consumers: [ALICE, BOB, ANON, NO_USERNAME],
  keyauth_credentials: [CRED_ALICE, CRED_BOB, CRED_NOUSER, CRED_EXPIRED, CRED_TTL_LIVE],
};

function ctxOf(r: FakeRequest = {}) { return makeContext({ config: CONFIG, ...r }); }

async function run(conf: Record<string, unknown>, r: FakeRequest = {}) {
  const ctx = ctxOf(r);
  const handlers = keyAuth.create(configOf(keyAuth, conf), { entity: {} as never, log: ctx.log });
  const exit = (await handlers.access!(ctx)) ?? null;
  return { ctx, exit: exit as PluginExit | null };
}

function unauthorized(message: string, realm = 'kong'): PluginExit {
  return { status: 401, message, headers: { 'WWW-Authenticate': `Key realm="${realm}"` } };
}

test('schema: Kong defaults', () => {
  assert.deepEqual(configOf(keyAuth), {
    key_names: ['apikey'], hide_credentials: false, anonymous: null, key_in_header: true, key_in_query: true,
    key_in_body: false, run_on_preflight: true, realm: null,
  });
});

test('schema: bad header names, empty strings and unknown fields are refused with Kong messages', () => {
  const r = validatePluginConfig(keyAuth, { key_names: ['good', 'bad name'], anonymous: '', foo: 1 });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors.anonymous, 'length must be at least 1');
  assert.equal(r.errors.foo, 'unknown field');
  const names = r.errors.key_names as (string | null | undefined)[];
  assert.equal(names[1], "bad header name 'bad name', allowed characters are A-Z, a-z, 0-9, '_', and '-'");
});

test('priority and scoping match Kong', () => {
  assert.equal(keyAuth.priority, 1250);
  assert.equal(keyAuth.noConsumer, true);
});

test('no key: 401 "No API key found in request" with WWW-Authenticate: Key realm="kong"', async () => {
  const { exit, ctx } = await run({});
  assert.deepEqual(exit, unauthorized('No API key found in request'));
  assert.equal(ctx.consumer, null);
});

test('configured realm is used in WWW-Authenticate', async () => {
  const { exit } = await run({ realm: 'test-realm' });
  assert.deepEqual(exit, unauthorized('No API key found in request', 'test-realm'));
});

test('empty key header and valueless/empty query arg: "No API key found in request"', async () => {
  assert.deepEqual((await run({}, { headers: { apikey: '' } })).exit, unauthorized('No API key found in request'));
  assert.deepEqual((await run({}, { query: 'apikey' })).exit, unauthorized('No API key found in request'));
  assert.deepEqual((await run({}, { query: 'apikey=' })).exit, unauthorized('No API key found in request'));
});

test('unknown key: 401 "Unauthorized"', async () => {
  assert.deepEqual((await run({}, { headers: { apikey: 'nope' } })).exit, unauthorized('Unauthorized'));
  assert.deepEqual((await run({}, { query: 'apikey=nope' })).exit, unauthorized('Unauthorized'));
});

test('expired ttl key is invalid; a live ttl key works', async () => {
  assert.deepEqual((await run({}, { headers: { apikey: 'old-key' } })).exit, unauthorized('Unauthorized'));
  assert.equal((await run({}, { headers: { apikey: 'fresh-key' } })).exit, null);
});

test('duplicate key in the query or in headers: "Duplicate API key found"', async () => {
  assert.deepEqual((await run({}, { query: 'apikey=a&apikey=b' })).exit, unauthorized('Duplicate API key found'));
  assert.deepEqual((await run({}, { headers: { apikey: ['alice-key', 'bob-key'] } })).exit, unauthorized('Duplicate API key found'));
});

test('key in header: consumer set and upstream consumer headers written', async () => {
  const { exit, ctx } = await run({}, { headers: { apikey: 'alice-key' } });
  assert.equal(exit, null);
  assert.equal(ctx.consumer, ALICE);
  assert.equal(ctx.credential, CRED_ALICE);
  const h = ctx.upstream.headers;
  assert.equal(h['x-consumer-id'], ALICE.id);
  assert.equal(h['x-consumer-custom-id'], 'alice-custom');
  assert.equal(h['x-consumer-username'], 'alice');
  assert.equal(h['x-credential-identifier'], CRED_ALICE.id);
  assert.equal(h['x-anonymous-consumer'], undefined);
  assert.equal(h['apikey'], 'alice-key', 'the key is forwarded unless hide_credentials');
});

test('client-sent consumer headers never reach the upstream', async () => {
  const spoofed = {
    'x-consumer-id': 'spoof', 'x-consumer-custom-id': 'spoof', 'x-consumer-username': 'spoof',
    'x-credential-identifier': 'spoof', 'x-anonymous-consumer': 'spoof',
  };
  const { ctx } = await run({}, { headers: { ...spoofed, apikey: 'bob-key' } });
  const h = ctx.upstream.headers;
  assert.equal(h['x-consumer-id'], BOB.id);
  assert.equal(h['x-consumer-custom-id'], undefined, 'cleared: bob has no custom_id');
  assert.equal(h['x-consumer-username'], 'bob');
  assert.equal(h['x-credential-identifier'], CRED_BOB.id);
  assert.equal(h['x-anonymous-consumer'], undefined);

  const noUser = await run({}, { headers: { ...spoofed, apikey: 'nouser-key' } });
  assert.equal(noUser.ctx.upstream.headers['x-consumer-username'], undefined);
  assert.equal(noUser.ctx.upstream.headers['x-consumer-custom-id'], 'only-custom');

  const anon = await run({ anonymous: 'anonymous' }, { headers: spoofed });
  assert.equal(anon.ctx.upstream.headers['x-consumer-id'], ANON.id);
  assert.equal(anon.ctx.upstream.headers['x-credential-identifier'], undefined);
  assert.equal(anon.ctx.upstream.headers['x-consumer-custom-id'], undefined);
  assert.equal(anon.ctx.upstream.headers['x-anonymous-consumer'], 'true');
});

test('key in query string', async () => {
  const { exit, ctx } = await run({}, { query: 'apikey=bob-key&x=1' });
  assert.equal(exit, null);
  assert.equal(ctx.consumer, BOB);
  assert.equal(ctx.upstream.query, 'apikey=bob-key&x=1');
});

test('key_names are tried in order, header before query for each name', async () => {
  const conf = { key_names: ['first', 'second'] };
  // `first` in the query wins over `second` in a header.
  const a = await run(conf, { query: 'first=alice-key', headers: { second: 'bob-key' } });
  assert.equal(a.ctx.consumer, ALICE);
  // header wins over query for the same name.
  const b = await run(conf, { query: 'first=alice-key', headers: { first: 'bob-key' } });
  assert.equal(b.ctx.consumer, BOB);
  // a valueless `first` is skipped and `second` is used.
  const c = await run(conf, { query: 'first&second=bob-key' });
  assert.equal(c.ctx.consumer, BOB);
});

test('key_in_header=false and key_in_query=false ignore those places', async () => {
  assert.deepEqual((await run({ key_in_header: false }, { headers: { apikey: 'alice-key' } })).exit, unauthorized('No API key found in request'));
  assert.deepEqual((await run({ key_in_query: false }, { query: 'apikey=alice-key' })).exit, unauthorized('No API key found in request'));
});

test('header names: case-insensitive, underscore name also matches hyphenated header', async () => {
  const a = await run({ key_names: ['API_KEY'] }, { headers: { 'api-key': 'alice-key' } });
  assert.equal(a.ctx.consumer, ALICE);
  const b = await run({ key_names: ['api_key'] }, { headers: { 'api_key': 'bob-key' } });
  assert.equal(b.ctx.consumer, BOB);
});

test('key in body: form, JSON, multipart; only with key_in_body', async () => {
  const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&apikey=alice-key' };
  assert.deepEqual((await run({}, form)).exit, unauthorized('No API key found in request'));
  assert.equal((await run({ key_in_body: true }, form)).ctx.consumer, ALICE);

  const json = { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"apikey":"bob-key","n":1}' };
  assert.equal((await run({ key_in_body: true }, json)).ctx.consumer, BOB);

  const boundary = 'XyZ123';
  const mp = `--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nv\r\n`
    + `--${boundary}\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nalice-key\r\n--${boundary}--\r\n`;
  const multipart = { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: mp };
  assert.equal((await run({ key_in_body: true }, multipart)).ctx.consumer, ALICE);
});

test('key in body: duplicates, invalid keys, apikey[] names and unsupported content types', async () => {
  const post = (ct: string, body: string) => ({ method: 'POST', headers: { 'content-type': ct }, body });
  const conf = { key_in_body: true };
  assert.deepEqual((await run(conf, post('application/json', '{"apikey":["a","b"]}'))).exit, unauthorized('Duplicate API key found'));
  assert.deepEqual((await run(conf, post('application/x-www-form-urlencoded', 'apikey=kong&apikey=kong'))).exit, unauthorized('Duplicate API key found'));
  assert.deepEqual((await run(conf, post('application/x-www-form-urlencoded', 'apikey[]=kong&apikey[]=kong'))).exit, unauthorized('No API key found in request'));
  assert.deepEqual((await run(conf, post('application/json', '{"apikey":"123"}'))).exit, unauthorized('Unauthorized'));
  assert.deepEqual((await run(conf, post('text/plain', 'apikey=alice-key'))).exit, unauthorized('No API key found in request'));
  assert.deepEqual((await run(conf, post('application/json', '{broken'))).exit, unauthorized('No API key found in request'));
  assert.deepEqual((await run(conf, post('application/json', '{"apikey":5}'))).exit, unauthorized('No API key found in request'));
});

test('key in the header is preferred and the body is not read', async () => {
  const ctx = ctxOf({ method: 'POST', headers: { apikey: 'alice-key', 'content-type': 'application/json' }, body: '{"apikey":"bob-key"}' });
  const handlers = keyAuth.create(configOf(keyAuth, { key_in_body: true }), { entity: {} as never, log: ctx.log });
  const r = handlers.access!(ctx);
  assert.equal(r, undefined, 'synchronous: no body read needed');
  assert.equal(ctx.consumer, ALICE);
  assert.equal(ctx.request.bodyRead, false);
});

test('hide_credentials strips the key from header, query and body', async () => {
  const h = await run({ hide_credentials: true }, { headers: { apikey: 'alice-key', other: 'x' } });
  assert.equal(h.ctx.upstream.headers['apikey'], undefined);
  assert.equal(h.ctx.upstream.headers['other'], 'x');

  const q = await run({ hide_credentials: true }, { query: 'c=value1&b=value2&apikey=alice-key&a=value3' });
  assert.equal(q.ctx.upstream.query, 'c=value1&b=value2&a=value3');

  const enc = await run({ hide_credentials: true }, { query: 'c=valu%651&b=value2&api%6B%65%79=alice-key&a=valu%653' });
  assert.equal(enc.ctx.upstream.query, 'c=value1&b=value2&a=value3');

  const kept = await run({}, { query: 'c=value1&b=value2&apikey=alice-key&a=value3' });
  assert.equal(kept.ctx.upstream.query, 'c=value1&b=value2&apikey=alice-key&a=value3');

  const form = await run({ hide_credentials: true, key_in_body: true }, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&apikey=alice-key&b=2',
  });
  assert.equal(form.ctx.consumer, ALICE);
  assert.equal(form.ctx.upstream.body?.toString(), 'a=1&b=2');

  const json = await run({ hide_credentials: true, key_in_body: true }, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"apikey":"alice-key","n":1}',
  });
  assert.equal(json.ctx.upstream.body?.toString(), '{"n":1}');

  // Found in the header, still stripped from the body.
  const both = await run({ hide_credentials: true, key_in_body: true }, {
    method: 'POST', headers: { apikey: 'alice-key', 'content-type': 'application/json' }, body: '{"apikey":"alice-key","n":1}',
  });
  assert.equal(both.ctx.upstream.headers['apikey'], undefined);
  assert.equal(both.ctx.upstream.body?.toString(), '{"n":1}');
});

test('hide_credentials: multipart part removed, other parts byte-identical', () => {
  const b = 'BOUND';
  const keep1 = `\r\nContent-Disposition: form-data; name="a"\r\n\r\n1`;
  const drop = `\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nalice-key`;
  const keep2 = `\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\u00ff\u0000bin`;
  const body = Buffer.from(`--${b}${keep1}\r\n--${b}${drop}\r\n--${b}${keep2}\r\n--${b}--\r\n`, 'latin1');
  const parsed = parseBody(`multipart/form-data; boundary="${b}"`, body);
  assert.equal(parsed.get('apikey'), 'alice-key');
  assert.equal(parsed.get('a'), '1');
  const out = parsed.without('apikey')!;
  assert.equal(out.toString('latin1'), `--${b}${keep1}\r\n--${b}${keep2}\r\n--${b}--\r\n`);
  assert.equal(parsed.without('missing'), null);
});

test('withoutQueryArg follows WHATWG serialization like Kong (spaces as %20)', () => {
  assert.equal(withoutQueryArg('a=x+y&apikey=k&b', 'apikey'), 'a=x%20y&b=');
  assert.equal(withoutQueryArg('apikey=k', 'apikey'), '');
});

test('anonymous by username or id: applied on failure, request continues', async () => {
  for (const anonymous of ['anonymous', ANON.id]) {
    const { exit, ctx } = await run({ anonymous }, { headers: { apikey: 'wrong' } });
    assert.equal(exit, null);
    assert.equal(ctx.consumer, ANON);
    assert.equal(ctx.credential, null);
    assert.equal(ctx.upstream.headers['x-anonymous-consumer'], 'true');
    assert.equal(ctx.upstream.headers['x-consumer-username'], 'anonymous');
  }
  const good = await run({ anonymous: 'anonymous' }, { headers: { apikey: 'alice-key' } });
  assert.equal(good.ctx.consumer, ALICE);
  assert.equal(good.ctx.upstream.headers['x-anonymous-consumer'], undefined);
});

test('anonymous consumer that does not exist: 500 naming it', async () => {
  const { exit } = await run({ anonymous: 'ghost' });
  assert.deepEqual(exit, { status: 500, message: "anonymous consumer ghost is configured but doesn't exist" });
});

test('logical OR: with anonymous, an already authenticated credential is kept', async () => {
  const ctx = ctxOf({ headers: { apikey: 'bob-key' } });
  ctx.authenticate(ALICE, { id: 'other-plugin-cred', consumer: { id: ALICE.id } });
  const handlers = keyAuth.create(configOf(keyAuth, { anonymous: 'anonymous' }), { entity: {} as never, log: ctx.log });
  assert.equal(await handlers.access!(ctx), undefined);
  assert.equal(ctx.consumer, ALICE, 'key-auth did nothing');
});

test('logical AND: without anonymous, failure is terminal even if another plugin authenticated', async () => {
  const ctx = ctxOf();
  ctx.authenticate(ALICE, { id: 'other-plugin-cred', consumer: { id: ALICE.id } });
  const handlers = keyAuth.create(configOf(keyAuth, {}), { entity: {} as never, log: ctx.log });
  assert.deepEqual(await handlers.access!(ctx), unauthorized('No API key found in request'));
});

test('run_on_preflight=false lets OPTIONS through untouched; true authenticates OPTIONS', async () => {
  const off = await run({ run_on_preflight: false }, { method: 'OPTIONS' });
  assert.equal(off.exit, null);
  assert.equal(off.ctx.upstream.headers['x-anonymous-consumer'], undefined);
  const on = await run({}, { method: 'OPTIONS' });
  assert.deepEqual(on.exit, unauthorized('No API key found in request'));
});
