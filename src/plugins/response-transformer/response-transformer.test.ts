/**
 * response-transformer: schema, header operations (against the headers as they came), the JSON
 * body operations with json_types and Kong's value quirks, and when Content-Length goes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginHandlers } from '../api.ts';
import { makeContext, silentLog, validatePluginConfig } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';
import { isJsonContentType } from './handler.ts';


const validate = (config: unknown) => validatePluginConfig(plugin, config);

function handlers(config: Record<string, unknown>): PluginHandlers {
  const v = validate(config);
  assert.ok(v.ok, JSON.stringify(v));
  return plugin.create(v.config as never, { entity: {} as never, log: silentLog });
}

function headersAfter(config: Record<string, unknown>, upstream: Record<string, string | string[]>, source: 'service' | 'exit' = 'service') {
  const ctx = makeContext();
  ctx.response.status = 200;
  (ctx.response as { source: string }).source = source;
  for (const [k, v] of Object.entries(upstream)) ctx.response.setHeader(k, v);
  handlers(config).header!(ctx);
  return { ...ctx.response.headers };
}

async function body(config: Record<string, unknown>, json: string, contentType = 'application/json'): Promise<string> {
  const ctx = makeContext();
  ctx.response.setHeader('Content-Type', contentType);
  const out = await handlers(config).response!(ctx, Buffer.from(json));
  return out ? out.toString() : json;
}

test('defaults and schema messages', () => {
  const v = validate({});
  assert.ok(v.ok);
  assert.deepEqual(v.config, {
    remove: { json: [], headers: [] }, rename: { json: [], headers: [] },
    replace: { json: [], json_types: [], headers: [] }, add: { json: [], json_types: [], headers: [] },
    append: { json: [], json_types: [], headers: [] },
  });
  assert.deepEqual(validate({ add: { json: ['novalue'] } }), { ok: false, errors: { add: { json: ['invalid value: novalue'] } } });
  assert.deepEqual(validate({ add: { json_types: ['object'] } }), { ok: false, errors: { add: { json_types: ['expected one of: boolean, number, string'] } } });
  assert.deepEqual(validate({ rename: { headers: ['x-a:x b'] } }), { ok: false, errors: { rename: { headers: ["'x b' is not a valid header"] } } });
});

test('no JSON operations: no response handler, so responses keep streaming', () => {
  assert.equal(handlers({ add: { headers: ['x:1'] } }).response, undefined);
  assert.equal(typeof handlers({ add: { json: ['x:1'] } }).response, 'function');
});

test('headers: remove, rename, replace, add, append', () => {
  const h = headersAfter({
    remove: { headers: ['X-Remove'] },
    rename: { headers: ['x-old:x-new'] },
    replace: { headers: ['x-replace:new', 'x-absent:nope'] },
    add: { headers: ['x-add:added', 'x-replace:no'] },
    append: { headers: ['x-append:two', 'x-fresh:one'] },
  }, { 'X-Remove': '1', 'X-Old': 'moved', 'X-Replace': 'old', 'X-Append': 'one' });
  assert.deepEqual(h, { 'x-new': 'moved', 'x-replace': 'new', 'x-add': 'added', 'x-append': ['one', 'two'], 'x-fresh': 'one' });
});

test('presence is judged on the headers as they arrived: remove then add does not add', () => {
  const h = headersAfter({ remove: { headers: ['x-a'] }, add: { headers: ['x-a:new'] } }, { 'x-a': 'old' });
  assert.deepEqual(h, {});
});

test('Content-Length goes when JSON changes are configured and the response is JSON from the service', () => {
  const json = { add: { json: ['k:v'] } };
  assert.equal(headersAfter(json, { 'Content-Type': 'application/json', 'Content-Length': '2' })['content-length'], undefined);
  assert.equal(headersAfter(json, { 'Content-Type': 'text/plain', 'Content-Length': '2' })['content-length'], '2');
  assert.equal(headersAfter({ add: { headers: ['x:1'] } }, { 'Content-Type': 'application/json', 'Content-Length': '2' })['content-length'], '2');
  assert.equal(headersAfter(json, { 'Content-Type': 'application/json', 'Content-Length': '2' }, 'exit')['content-length'], '2');
});

test('JSON content types: application/json, +json suffixes, lists; not others', () => {
  assert.equal(isJsonContentType('application/json'), true);
  assert.equal(isJsonContentType('application/json; charset=utf-8'), true);
  assert.equal(isJsonContentType('Application/JSON'), true);
  assert.equal(isJsonContentType('application/problem+json'), true);
  assert.equal(isJsonContentType('text/html, application/json'), true);
  assert.equal(isJsonContentType('text/json'), false);
  assert.equal(isJsonContentType('application/jsonx'), false);
  assert.equal(isJsonContentType(undefined), false);
});

const ADD = { add: { json: ['p1:v1', 'p3:value:3', 'p4:"v1"', 'p5:-1', 'p6:false', 'p7:true'], json_types: ['string', 'string', 'string', 'number', 'boolean', 'boolean'] } };

test('add with json_types', async () => {
  assert.deepEqual(JSON.parse(await body(ADD, '{"p2":"v1"}')), { p2: 'v1', p1: 'v1', p3: 'value:3', p4: '"v1"', p5: -1, p6: false, p7: true });
  // An existing false member counts as missing for add; empty arrays stay arrays.
  assert.deepEqual(JSON.parse(await body({ add: { json: ['p2:x'] } }, '{"p2":false,"a":[]}')), { p2: 'x', a: [] });
  assert.deepEqual(JSON.parse(await body({ add: { json: ['p2:x'] } }, '{"p2":null}')), { p2: null });
});

test('append: new key becomes a list; a string grows into a list; typed values', async () => {
  const cfg = { append: { json: ['p1:v1', 'p3:"v1"', 'p4:-1', 'p5:false', 'p6:true'], json_types: ['string', 'string', 'number', 'boolean', 'boolean'] } };
  assert.deepEqual(JSON.parse(await body(cfg, '{"p2":"v1"}')), { p2: 'v1', p1: ['v1'], p3: ['"v1"'], p4: [-1], p5: [false], p6: [true] });
  assert.deepEqual(JSON.parse(await body(cfg, '{"p1":"v2"}')), { p1: ['v2', 'v1'], p3: ['"v1"'], p4: [-1], p5: [false], p6: [true] });
  assert.deepEqual(JSON.parse(await body({ append: { json: ['l:b'] } }, '{"l":["a"]}')), { l: ['a', 'b'] });
});

test('remove leaves {} when everything goes', async () => {
  assert.equal(await body({ remove: { json: ['p1', 'p2'] } }, '{"p1" : "v1", "p2" : "v1"}'), '{}');
});

test('rename moves a member; missing members are ignored', async () => {
  assert.deepEqual(JSON.parse(await body({ rename: { json: ['p1:k1', 'nope:k2'] } }, '{"p1":"v1","p2":"v2"}')), { p2: 'v2', k1: 'v1' });
});

test('replace only members that exist (and are not false); slashes and quotes as Kong writes them', async () => {
  const cfg = { replace: { json: ['headers:/hello/world', 'uri_args:this is a / test', 'url:"wot"', 'absent:x'] } };
  const out = await body(cfg, '{"headers":{},"uri_args":{},"url":"http://x/y"}');
  assert.equal(out, '{"headers":"\\/hello\\/world","uri_args":"this is a \\/ test","url":"\\"wot\\""}');
  assert.deepEqual(JSON.parse(out), { headers: '/hello/world', uri_args: 'this is a / test', url: '"wot"' });
  assert.deepEqual(JSON.parse(await body({ replace: { json: ['n:5'], json_types: ['number'] } }, '{"n":1}')), { n: 5 });
  assert.deepEqual(JSON.parse(await body({ replace: { json: ['n:abc'], json_types: ['number'] } }, '{"n":1}')), { n: 1 });
});

test('order: remove → rename → replace → add → append', async () => {
  const cfg = { remove: { json: ['a'] }, rename: { json: ['b:a'] }, replace: { json: ['a:replaced'] }, add: { json: ['a:added', 'c:added'] }, append: { json: ['c:more'] } };
  assert.deepEqual(JSON.parse(await body(cfg, '{"a":1,"b":2}')), { a: 'replaced', c: ['added', 'more'] });
});

test('bodies left alone: not JSON content, invalid JSON, top-level arrays', async () => {
  assert.equal(await body({ add: { json: ['k:v'] } }, '{"a":1}', 'text/plain'), '{"a":1}');
  assert.equal(await body({ add: { json: ['k:v'] } }, '{nope'), '{nope');
  assert.equal(await body({ add: { json: ['k:v'] } }, '[1,2]'), '[1,2]');
});
