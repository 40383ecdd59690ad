/**
 * request-transformer on synthetic contexts: schema defaults and Kong's entry messages, then
 * every operation on headers, query string, JSON/urlencoded/multipart bodies, uri and method,
 * in Kong's order, with templates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginExit } from '../api.ts';
import { makeContext, silentLog, validatePluginConfig } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';


const validate = (config: unknown) => validatePluginConfig(plugin, config);

type Req = Parameters<typeof makeContext>[0];

async function run(config: Record<string, unknown>, req: Req = {}, captures?: Record<string, string>) {
  const v = validate(config);
  assert.ok(v.ok, JSON.stringify(v));
  const ctx = makeContext(req);
  if (captures) (ctx as { uriCaptures: Record<string, string> }).uriCaptures = captures;
  const exit = await plugin.create(v.config as never, { entity: {} as never, log: silentLog }).access!(ctx) as PluginExit | undefined;
  const up = ctx.upstream as unknown as { headers: Record<string, unknown>; query: string; path: string; method: string; body: Buffer | null };
  return { exit, headers: { ...up.headers }, query: up.query, path: up.path, method: up.method, body: up.body?.toString() ?? null };
}

test('defaults: every list empty, no method, no uri', () => {
  const empty = { body: [], headers: [], querystring: [] };
  assert.deepEqual(validate({}), { ok: true, config: {
    remove: empty, rename: empty, replace: empty, add: empty, append: empty,
  } });
});

test('schema messages: method, missing values, bad templates, header names, colon entries', () => {
  assert.deepEqual(validate({ http_method: 'HELLO!' }), { ok: false, errors: { http_method: 'invalid value: HELLO!' } });
  assert.deepEqual(validate({ add: { querystring: ['uri_param1:$(uri_captures.user1)', 'uri_param2:'] } }),
    { ok: false, errors: { add: { querystring: [null, "key 'uri_param2' has no value"] } } });
  const bad = validate({ add: { querystring: ['uri_param2:$(uri_captures user2)'] } });
  assert.equal(bad.ok, false);
  assert.match(JSON.stringify(bad), /value '\$\(uri_captures user2\)' is not in supported format, error:/);
  assert.deepEqual(validate({ add: { headers: ['x-ok:1', 'bad name:v'] } }), { ok: false, errors: { add: { headers: [null, "'bad name' is not a valid header"] } } });
  assert.deepEqual(validate({ add: { headers: ['novalue'] } }), { ok: false, errors: { add: { headers: ['invalid value: novalue'] } } });
  assert.deepEqual(validate({ rename: { headers: ['x-a:x b'] } }), { ok: false, errors: { rename: { headers: ["'x b' is not a valid header"] } } });
  assert.deepEqual(validate({ remove: { headers: ['bad name'] } }), { ok: false, errors: { remove: { headers: ["'bad name' is not a valid header"] } } });
  assert.match(JSON.stringify(validate({ replace: { uri: '/x/$(ERROR())' } })), /"uri":"value '\/x\/\$\(ERROR\(\)\)' is not in supported format/);
  assert.equal(validate({ add: { querystring: ['q1:#literal'] } }).ok, true);
});

test('headers: remove, rename, replace only present, add only absent, append, in that order', async () => {
  const r = await run({
    remove: { headers: ['x-remove', 'x-absent'] },
    rename: { headers: ['x-old:x-new'] },
    replace: { headers: ['x-replace:new', 'x-missing:nope'] },
    add: { headers: ['x-add:added', 'x-replace:not-added'] },
    append: { headers: ['x-append:two', 'x-fresh:one'] },
  }, { headers: { 'x-remove': '1', 'x-old': 'moved', 'x-replace': 'old', 'x-append': 'one' } });
  assert.deepEqual(r.headers, {
    'x-new': 'moved', 'x-replace': 'new', 'x-add': 'added', 'x-append': ['one', 'two'], 'x-fresh': 'one',
  });
});

test('remove then add the same header: the added value wins', async () => {
  const cfg = { remove: { headers: ['authorization'] }, add: { headers: ['authorization:Basic test'] } };
  assert.equal((await run(cfg, { headers: { authorization: 'Basic dGVzdDp0ZXN0' } })).headers['authorization'], 'Basic test');
  assert.equal((await run(cfg)).headers['authorization'], 'Basic test');
});

test('Host can be replaced but not added', async () => {
  assert.equal((await run({ replace: { headers: ['host:new.test'] } })).headers['host'], 'new.test');
  assert.equal((await run({ add: { headers: ['host:new.test'] } })).headers['host'], undefined);
});

test('header templates: CR/LF in a rendered value never starts a new header', async () => {
  const r = await run({ add: { headers: ['x-q:$(query_params.v)', 'x-h:$(headers["x-in"])'] } },
    { query: 'v=a%0D%0AX-Injected:%20yes', headers: { 'x-in': 'ok' } });
  assert.equal(r.headers['x-q'], 'a%0D%0AX-Injected: yes');
  assert.equal(r.headers['x-injected'], undefined);
  assert.equal(r.headers['x-h'], 'ok');
});

test('templates see the headers as they were before this plugin changed them', async () => {
  const r = await run({
    remove: { headers: ['x-remove-header'] },
    add: { headers: ['x-test-header:$(headers["x-remove-header"])'], querystring: ['q2:$(headers["x-remove-header"])'] },
  }, { headers: { 'x-remove-header': 'its a test' } });
  assert.equal(r.headers['x-remove-header'], undefined);
  assert.equal(r.headers['x-test-header'], 'its a test');
  assert.equal(r.query, 'q2=its%20a%20test');
});

test('query string: remove, rename, replace, add, append; re-encoded sorted', async () => {
  const r = await run({
    remove: { querystring: ['drop'] },
    rename: { querystring: ['old:new'] },
    replace: { querystring: ['rep:replaced', 'absent:x'] },
    add: { querystring: ['added:a b', 'rep:no'] },
    append: { querystring: ['multi:2', 'one:1'] },
  }, { query: 'zeta=1&drop=x&old=moved&rep=orig&multi=1&flag' });
  assert.equal(r.query, 'added=a%20b&flag&multi=1&multi=2&new=moved&one=1&rep=replaced&zeta=1');
});

test('query string: templates from captures and headers, brackets encoded, # literal', async () => {
  const r = await run({
    add: { querystring: ['uri_param1:$(uri_captures.user1)', 'uri_param2[some_index][1]:$(uri_captures.user2)', 'lit:#x'] },
  }, { query: 'q1=20' }, { '1': 'foo', '2': 'bar', user1: 'foo', user2: 'bar' });
  assert.equal(r.query, 'lit=%23x&q1=20&uri_param1=foo&uri_param2%5Bsome_index%5D%5B1%5D=bar');
});

test('uri: replaced from a template and escaped; a value not starting with / fails with 500', async () => {
  const caps = { '1': 'foo', '2': 'bar', user1: 'foo', user2: 'bar' };
  const r = await run({ replace: { uri: '/requests/user2/$(uri_captures.user2)/user1/$(uri_captures.user1)' } }, { path: '/x' }, caps);
  assert.equal(r.path, '/requests/user2/bar/user1/foo');
  assert.equal((await run({ replace: { uri: '/a b/ü' } })).path, '/a%20b/%C3%BC');
  assert.deepEqual((await run({ replace: { uri: 'no-slash' } })).exit, { status: 500, message: 'An unexpected error occurred' });
});

test('a template error at runtime answers 500', async () => {
  assert.deepEqual((await run({ add: { headers: ['x:$(headers.a.b)'] } })).exit, { status: 500, message: 'An unexpected error occurred' });
});

test('http_method: changed; GET takes urlencoded body arguments into the query string', async () => {
  assert.equal((await run({ http_method: 'PUT' }, { method: 'POST' })).method, 'PUT');
  const r = await run({ http_method: 'GET' }, {
    method: 'POST', query: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=2&b=3',
  });
  assert.equal(r.method, 'GET');
  assert.equal(r.query, 'a=1&a=2&b=3');
});

test('JSON body: remove, rename, replace, add, append; Content-Length follows', async () => {
  const r = await run({
    remove: { body: ['drop'] },
    rename: { body: ['old:new'] },
    replace: { body: ['rep:replaced', 'absent:x', 'no:x'] },
    add: { body: ['added:a/b', 'rep:no', 'no:yes'] },
    append: { body: ['list:2', 'str:2', 'fresh:1'] },
  }, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ drop: 1, old: 'moved', rep: 'orig', no: false, list: ['1'], str: '1', n: 1.5 }) });
  assert.equal(r.body, '{"rep":"replaced","no":"yes","list":["1","2"],"str":["1","2"],"n":1.5,"new":"moved","added":"a\\/b","fresh":["1"]}');
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body!)));
});

test('JSON body: add to an empty body; invalid JSON is left alone', async () => {
  const empty = await run({ add: { body: ['k:v'] } }, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
  assert.equal(empty.body, '{"k":"v"}');
  const invalid = await run({ add: { body: ['k:v'] } }, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
  assert.equal(invalid.body, null);
  // remove/rename/replace need a body; add does not.
  const noBody = await run({ remove: { body: ['x'] } }, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
  assert.equal(noBody.body, null);
});

test('urlencoded body: every operation', async () => {
  const r = await run({
    remove: { body: ['drop'] },
    rename: { body: ['old:new'] },
    replace: { body: ['rep:replaced'] },
    add: { body: ['added:a b'] },
    append: { body: ['rep:again'] },
  }, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'drop=1&old=moved&rep=orig' });
  assert.equal(r.body, 'rep=replaced&rep=again&new=moved&added=a%20b');
});

test('multipart body: rename, remove, replace, add (no append), boundary kept', async () => {
  const b = 'XyZ';
  const part = (name: string, value: string) => `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = part('drop', '1') + part('old', 'moved') + part('rep', 'orig') + `--${b}--\r\n`;
  const r = await run({
    remove: { body: ['drop'] }, rename: { body: ['old:new'] }, replace: { body: ['rep:replaced'] },
    add: { body: ['added:yes'] }, append: { body: ['ignored:x'] },
  }, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${b}` }, body });
  assert.equal(r.body, part('new', 'moved') + part('rep', 'replaced') + part('added', 'yes') + `--${b}--\r\n`);
});

test('body types other than JSON/urlencoded/multipart are not touched', async () => {
  const r = await run({ add: { body: ['k:v'] } }, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  assert.equal(r.body, null);
});

test('a header template can read query params and shared values', async () => {
  const v = validate({ add: { headers: ['x-q:$(query_params.q1)', 'x-s:$(shared.ver)'] } });
  assert.ok(v.ok);
  const ctx = makeContext({ query: 'q1=20' });
  ctx.shared['ver'] = '1.2.3';
  await plugin.create(v.config as never, { entity: {} as never, log: silentLog }).access!(ctx);
  assert.equal(ctx.upstream.headers['x-q'], '20');
  assert.equal(ctx.upstream.headers['x-s'], '1.2.3');
});
