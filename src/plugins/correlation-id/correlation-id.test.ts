/**
 * correlation-id: schema defaults, each generator's format, keeping an incoming id, the log
 * value and the echo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeContext, silentLog, validatePluginConfig } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

const validate = (config: unknown) => validatePluginConfig(plugin, config);

function handlers(config: Record<string, unknown>) {
  const v = validate(config);
  assert.ok(v.ok, JSON.stringify(v));
  return plugin.create(v.config as never, { entity: {} as never, log: silentLog });
}

function generated(config: Record<string, unknown>, req: Parameters<typeof makeContext>[0] = {}) {
  const h = handlers(config);
  const ctx = makeContext(req);
  h.access!(ctx);
  return { ctx, h, up: ctx.upstream.headers[String(config.header_name ?? 'Kong-Request-ID').toLowerCase()] as string | undefined };
}

test('defaults and generator values', () => {
  assert.deepEqual(validate({}), { ok: true, config: { header_name: 'Kong-Request-ID', generator: 'uuid#counter', echo_downstream: false } });
  assert.deepEqual(validate({ generator: 'random' }), { ok: false, errors: { generator: 'expected one of: uuid, uuid#counter, tracker' } });
});

test('uuid#counter: the worker uuid with an increasing counter', () => {
  const a = generated({}).up!;
  const b = generated({}).up!;
  assert.match(a, new RegExp(`^${UUID}#\\d+$`));
  const [ua, na] = a.split('#');
  const [ub, nb] = b.split('#');
  assert.equal(ua, ub, 'one uuid per worker');
  assert.equal(Number(nb), Number(na) + 1);
});

test('uuid: a fresh UUID per request', () => {
  const a = generated({ generator: 'uuid' }).up!;
  const b = generated({ generator: 'uuid' }).up!;
  assert.match(a, new RegExp(`^${UUID}$`));
  assert.notEqual(a, b);
});

test('tracker: addr-port-pid-connection-requests-seconds.millis', () => {
  const v = generated({ generator: 'tracker' }).up!;
  assert.match(v, new RegExp(`^[^-]*-\\d+-${process.pid}-\\d+-\\d+-\\d+\\.\\d{3}$`));
});

test('an incoming non-empty id is kept and not re-set; an empty one is replaced', () => {
  const kept = generated({ header_name: 'X-Trace' }, { headers: { 'x-trace': 'abc' } });
  assert.equal(kept.up, 'abc');
  assert.equal(kept.ctx.serialize().correlation_id, 'abc');
  const empty = generated({ header_name: 'X-Trace' }, { headers: { 'x-trace': '' } });
  assert.match(empty.up!, /#\d+$/);
});

test('the log entry carries correlation_id', () => {
  const { ctx, up } = generated({});
  assert.equal(ctx.serialize().correlation_id, up);
});

test('echo_downstream: the same id on the response; off: nothing', () => {
  const on = generated({ echo_downstream: true });
  on.h.header!(on.ctx);
  assert.equal(on.ctx.response.headers['kong-request-id'], on.up);
  assert.equal(on.ctx.response.names['kong-request-id'], 'Kong-Request-ID');
  const off = generated({});
  assert.equal(off.h.header, undefined);
});

test('echo when access never ran: the incoming id, else a new one', () => {
  const h = handlers({ echo_downstream: true });
  const withId = makeContext({ headers: { 'kong-request-id': 'given' } });
  h.header!(withId);
  assert.equal(withId.response.headers['kong-request-id'], 'given');
  const without = makeContext();
  h.header!(without);
  assert.match(String(without.response.headers['kong-request-id']), /#\d+$/);
});
