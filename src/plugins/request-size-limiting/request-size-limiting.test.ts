/**
 * request-size-limiting: defaults, units, the 413/417/411 answers and the body-counting path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginExit } from '../api.ts';
import { makeContext, silentLog, validatePluginConfig } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';


const validate = (config: unknown) => validatePluginConfig(plugin, config);

async function run(config: Record<string, unknown>, req: Parameters<typeof makeContext>[0], dropLength = false): Promise<PluginExit | void> {
  const v = validate(config);
  assert.ok(v.ok, JSON.stringify(v));
  const ctx = makeContext(req);
  if (dropLength) delete (ctx.request.headers as Record<string, unknown>)['content-length'];
  return plugin.create(v.config as never, { entity: {} as never, log: silentLog }).access!(ctx);
}

const TOO_LARGE = { status: 413, message: 'Request size limit exceeded' };

test('defaults: 128 megabytes, Content-Length not required', () => {
  assert.deepEqual(validate({}), { ok: true, config: { allowed_payload_size: 128, size_unit: 'megabytes', require_content_length: false } });
  assert.deepEqual(validate({ size_unit: 'gigabytes' }), { ok: false, errors: { size_unit: 'expected one of: megabytes, kilobytes, bytes' } });
  assert.deepEqual(validate({ allowed_payload_size: 1.5 }), { ok: false, errors: { allowed_payload_size: 'expected an integer' } });
});

test('by Content-Length: at the limit passes, one byte more is 413', async () => {
  assert.equal(await run({ allowed_payload_size: 10, size_unit: 'bytes' }, { method: 'POST', body: 'x'.repeat(10) }), undefined);
  assert.deepEqual(await run({ allowed_payload_size: 10, size_unit: 'bytes' }, { method: 'POST', body: 'x'.repeat(11) }), TOO_LARGE);
});

test('units: kilobytes = 1024 bytes, megabytes = 1048576 bytes', async () => {
  const kb = { allowed_payload_size: 1, size_unit: 'kilobytes' };
  assert.equal(await run(kb, { method: 'POST', headers: { 'content-length': '1024' } }), undefined);
  assert.deepEqual(await run(kb, { method: 'POST', headers: { 'content-length': '1025' } }), TOO_LARGE);
  const mb = { allowed_payload_size: 1 };
  assert.equal(await run(mb, { method: 'POST', headers: { 'content-length': '1048576' } }), undefined);
  assert.deepEqual(await run(mb, { method: 'POST', headers: { 'content-length': '1048577' } }), TOO_LARGE);
});

test('Expect: 100-continue turns 413 into 417', async () => {
  assert.deepEqual(await run({ allowed_payload_size: 1, size_unit: 'bytes' }, { method: 'POST', headers: { expect: ' 100-Continue ', 'content-length': '5' } }),
    { status: 417, message: 'Request size limit exceeded' });
});

test('require_content_length: 411 without it, unless the body is chunked', async () => {
  const cfg = { require_content_length: true };
  assert.deepEqual(await run(cfg, { method: 'POST' }), { status: 411, message: 'A valid Content-Length header is required' });
  assert.equal(await run(cfg, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'abc' }, true), undefined);
  assert.equal(await run(cfg, { method: 'POST', headers: { 'content-length': '3' } }), undefined);
});

test('chunked body: counted as read', async () => {
  const cfg = { allowed_payload_size: 4, size_unit: 'bytes' };
  assert.equal(await run(cfg, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'abcd' }, true), undefined);
  assert.deepEqual(await run(cfg, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'abcde' }, true), TOO_LARGE);
});
