/**
 * request-termination: schema defaults and Kong's cross-field messages, and the handler's
 * answers (default/custom message, raw body, empty body, echo, trigger) on a synthetic context.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginExit } from '../api.ts';
import { makeContext, silentLog, validatePluginConfig } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';


const validate = (config: unknown) => validatePluginConfig(plugin, config);

function handlers(config: Record<string, unknown>) {
  const v = validate(config);
  assert.ok(v.ok, JSON.stringify(v));
  return plugin.create(v.config as never, { entity: {} as never, log: silentLog });
}

async function run(config: Record<string, unknown>, req: Parameters<typeof makeContext>[0] = {}): Promise<PluginExit | void> {
  return handlers(config).access!(makeContext(req));
}

test('defaults: 503, echo false, optional fields absent', () => {
  const v = validate({});
  assert.ok(v.ok);
  assert.deepEqual(v.config, { status_code: 503, echo: false });
});

test('schema errors use Kong\'s messages', () => {
  assert.deepEqual(validate({ status_code: 'abcd' }), { ok: false, errors: { status_code: 'expected an integer' } });
  assert.deepEqual(validate({ status_code: 99 }), { ok: false, errors: { status_code: 'value should be between 100 and 599' } });
  assert.deepEqual(validate({ status_code: 600 }), { ok: false, errors: { status_code: 'value should be between 100 and 599' } });
  assert.deepEqual(validate({ trigger: 'bad header!' }), {
    ok: false, errors: { trigger: "bad header name 'bad header!', allowed characters are A-Z, a-z, 0-9, '_', and '-'" },
  });
});

test('cross-field checks: message vs body/content_type, content_type needs body, echo vs body', () => {
  const entity = (m: string) => ({ ok: false, errors: { '@entity': [m] } });
  assert.deepEqual(validate({ message: 'error', body: 'test' }), entity('message cannot be used with content_type or body'));
  assert.deepEqual(validate({ message: 'error', content_type: 'text/html', body: 'test' }), entity('message cannot be used with content_type or body'));
  assert.deepEqual(validate({ message: 'error', content_type: 'text/html' }), entity('message cannot be used with content_type or body'));
  assert.deepEqual(validate({ content_type: 'text/html' }), entity('content_type requires a body'));
  assert.deepEqual(validate({ echo: true, content_type: 'text/html', body: '<h1>x</h1>' }), entity('echo cannot be used with content_type and body'));
  assert.equal(validate({ content_type: 'text/html', body: '<body><h1>Not found</h1>' }).ok, true);
  assert.equal(validate({ echo: true, trigger: 'header_name' }).ok, true);
  // Empty strings count as absent, as in Kong.
  assert.equal(validate({ message: 'm', body: '' }).ok, true);
});

test('default status and message: 503 {"message":"Service unavailable"}', async () => {
  assert.deepEqual(await run({}), { status: 503, body: '{"message":"Service unavailable"}', headers: { 'Content-Type': 'application/json; charset=utf-8' } });
});

test('status with its default message, and a custom message', async () => {
  assert.deepEqual((await run({ status_code: 404 }))?.body, '{"message":"Not found"}');
  assert.deepEqual((await run({ status_code: 401 }))?.body, '{"message":"Unauthorized"}');
  assert.deepEqual((await run({ status_code: 405 }))?.body, '{"message":"Method not allowed"}');
  assert.deepEqual((await run({ status_code: 500 }))?.body, '{"message":"An unexpected error occurred"}');
  assert.deepEqual((await run({ status_code: 502 }))?.body, '{"message":"Bad Gateway"}');
  assert.deepEqual((await run({ status_code: 406, message: 'Invalid' }))?.body, '{"message":"Invalid"}');
  // cjson escapes slashes.
  assert.deepEqual((await run({ message: 'down / up' }))?.body, '{"message":"down \\/ up"}');
});

test('a status without a default message answers with an empty body', async () => {
  assert.deepEqual(await run({ status_code: 403 }), { status: 403, body: '' });
  assert.deepEqual(await run({ status_code: 204 }), { status: 204, body: '' });
});

test('raw body, with and without content_type', async () => {
  assert.deepEqual(await run({ body: '<html>down</html>' }), { status: 503, body: '<html>down</html>', headers: undefined });
  assert.deepEqual(await run({ status_code: 451, content_type: 'text/html', body: '<h1>x</h1>' }),
    { status: 451, body: '<h1>x</h1>', headers: { 'Content-Type': 'text/html' } });
});

test('trigger: header or query argument present → terminate; absent → continue', async () => {
  const cfg = { trigger: 'Gimme-An-Echo', status_code: 404 };
  assert.equal(await run(cfg), undefined);
  assert.equal((await run(cfg, { headers: { 'gimme-an-echo': 'x' } }))?.status, 404);
  assert.equal((await run(cfg, { query: 'Gimme-An-Echo=1' }))?.status, 404);
  assert.equal((await run(cfg, { query: 'Gimme-An-Echo' }))?.status, 404);
  // Query names are case-sensitive.
  assert.equal(await run(cfg, { query: 'gimme-an-echo=1' }), undefined);
});

test('echo returns the request as JSON', async () => {
  const ctx = makeContext({ method: 'POST', path: '/status/200', query: 'hello=there', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  (ctx as { uriCaptures: Record<string, string> }).uriCaptures = { '0': '/status/200', '1': 'status', parameter: 'status' };
  const exit = await handlers({ echo: true, status_code: 404 }).access!(ctx) as PluginExit;
  assert.equal(exit.status, 404);
  assert.deepEqual(exit.headers, { 'Content-Type': 'application/json; charset=utf-8' });
  const body = JSON.parse(exit.body as string);
  assert.equal(body.message, 'Not found');
  assert.equal(body.kong.worker_pid, process.pid);
  assert.equal(typeof body.kong.node_id, 'string');
  assert.equal(typeof body.kong.hostname, 'string');
  assert.deepEqual(body.request, {
    scheme: 'http', host: 'example.test', port: 8000, method: 'POST', path: '/status/200',
    headers: { host: 'example.test', 'content-type': 'application/json', 'content-length': '7' },
    query: { hello: 'there' }, raw_body: '{"a":1}', body: { a: 1 },
    uri_captures: { named: { parameter: 'status' }, unnamed: ['status'] },
  });
});
