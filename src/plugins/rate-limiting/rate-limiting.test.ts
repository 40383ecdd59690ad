/**
 * rate-limiting: schema checks with Kong's messages, header rules and windows against a real
 * RequestContext, and exactness across two workers through a real gateway.
 */
import { test, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../config/validate.ts';
import { loadPluginRegistry } from '../registry.ts';
import { makeContext } from '../../../test/harness/plugin-context.ts';
import { LocalCounterStore } from '../../gateway/shared-state/local.ts';
import { startGateway } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream } from '../../../test/harness/upstreams.ts';
import plugin from './index.ts';
import { resetSeconds, windowStart } from './windows.ts';

const registry = await loadPluginRegistry();

function configErrors(config: Record<string, unknown>) {
  const r = validateConfig({ _format_version: '3.0', plugins: [{ name: 'rate-limiting', config }] }, registry);
  return r.ok ? null : JSON.stringify(r.error.fields);
}

test('schema: Kong defaults and messages', () => {
  const r = validateConfig({ _format_version: '3.0', plugins: [{ name: 'rate-limiting', config: { minute: 5 } }] }, registry);
  assert.ok(r.ok);
  const c = r.config.plugins[0]!.config;
  assert.equal(c.limit_by, 'consumer');
  assert.equal(c.policy, 'local');
  assert.equal(c.fault_tolerant, true);
  assert.equal(c.error_code, 429);
  assert.equal(c.error_message, 'API rate limit exceeded');
  assert.equal(c.sync_rate, -1);
  assert.deepEqual((c.redis as Record<string, unknown>).port, 6379);
  assert.match(configErrors({})!, /at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'/);
  assert.match(configErrors({ minute: 20, hour: 10 })!, /The limit for hour\(10.0\) cannot be lower than the limit for minute\(20.0\)/);
  assert.match(configErrors({ minute: 5, policy: 'cluster' })!, /expected one of: local, redis/);
  assert.match(configErrors({ minute: 5, limit_by: 'header' })!, /"header_name":"required field missing"/);
  assert.match(configErrors({ minute: 5, policy: 'redis' })!, /"host":"required field missing"/);
  assert.equal(configErrors({ minute: 5, policy: 'redis', redis_host: '127.0.0.1' }), null, 'the flat shorthand satisfies redis.host');
  assert.match(configErrors({ minute: 5, sync_rate: 1 })!, /sync_rate can only be used with the redis policy/);
});

test('windows are aligned to UTC calendar boundaries', () => {
  const t = Date.UTC(2026, 10, 28, 13, 37, 42, 500);
  assert.equal(windowStart('minute', t), Date.UTC(2026, 10, 28, 13, 37));
  assert.equal(windowStart('day', t), Date.UTC(2026, 10, 28));
  assert.equal(windowStart('month', t), Date.UTC(2026, 10, 1));
  assert.equal(windowStart('year', t), Date.UTC(2026, 0, 1));
  assert.equal(resetSeconds('minute', t), 18);
  assert.equal(resetSeconds('second', t), 1);
});

function instance(config: Record<string, unknown>) {
  const r = validateConfig({ _format_version: '3.0', plugins: [{ name: 'rate-limiting', config }] }, registry);
  assert.ok(r.ok);
  const entity = r.config.plugins[0]!;
  return plugin.create(entity.config as never, { entity, log: { debug() {}, info() {}, warn() {}, error() {} } });
}

test('headers: per period, the most constraining period, Retry-After on the block', async () => {
  const h = instance({ minute: 2, hour: 100 });
  const counters = new LocalCounterStore();
  const run = async () => {
    const ctx = makeContext({ counters, clientIp: '10.0.0.1' });
    const exit = await h.access!(ctx);
    if (exit) { ctx.response.status = exit.status; }
    h.header!(ctx);
    return { exit, headers: ctx.response.headers };
  };
  const a = await run();
  assert.equal(a.exit, undefined);
  assert.equal(a.headers['x-ratelimit-limit-hour'], '100');
  assert.equal(a.headers['x-ratelimit-remaining-hour'], '99');
  assert.equal(a.headers['x-ratelimit-limit-minute'], '2');
  assert.equal(a.headers['x-ratelimit-remaining-minute'], '1');
  assert.equal(a.headers['ratelimit-limit'], '2');
  assert.equal(a.headers['ratelimit-remaining'], '1');
  await run();
  const c = await run();
  assert.deepEqual(c.exit, { status: 429, message: 'API rate limit exceeded' });
  assert.equal(c.headers['x-ratelimit-remaining-minute'], '0');
  assert.equal(c.headers['ratelimit-remaining'], '0');
  assert.equal(c.headers['retry-after'], c.headers['ratelimit-reset']);
  // A blocked request is not counted: the other period still shows what was used before it.
  assert.equal(c.headers['x-ratelimit-remaining-hour'], String(100 - 2));
});

test('a new second is a new window, for the same client as for another', async (t) => {
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 29, 5, 0, 0, 100) });
  t.after(() => mock.timers.reset());
  const h = instance({ second: 1, limit_by: 'ip' });
  const counters = new LocalCounterStore();
  const go = async (ip: string) => (await h.access!(makeContext({ counters, clientIp: ip })))?.status ?? 200;
  assert.deepEqual([await go('10.0.0.2'), await go('10.0.0.1'), await go('10.0.0.1')], [200, 200, 429]);
  // The next window opens before the last one's counter expires (it lives a second from its first use).
  mock.timers.tick(900);
  // The same client as the last request before it: its counters are not the last window's.
  assert.deepEqual([await go('10.0.0.1'), await go('10.0.0.1'), await go('10.0.0.2'), await go('10.0.0.2')], [200, 429, 200, 429]);
  counters.close();
});

test('RateLimit-Reset counts down with the clock, second by second, into the next window', async (t) => {
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 28, 13, 37, 42, 500) });
  t.after(() => mock.timers.reset());
  const h = instance({ minute: 100, hour: 1000, limit_by: 'ip' });
  const counters = new LocalCounterStore();
  const reset = async () => {
    const ctx = makeContext({ counters, clientIp: '10.0.0.9' });
    await h.access!(ctx);
    h.header!(ctx);
    return [ctx.response.headers['ratelimit-reset'], ctx.response.headers['ratelimit-remaining']];
  };
  assert.deepEqual(await reset(), ['18', '99']);
  assert.deepEqual(await reset(), ['18', '98'], 'the same second');
  mock.timers.tick(499);
  assert.deepEqual(await reset(), ['18', '97'], '13:37:42.999');
  mock.timers.tick(1);
  assert.deepEqual(await reset(), ['17', '96'], '13:37:43.000');
  mock.timers.tick(16_900);
  assert.deepEqual(await reset(), ['1', '95'], '13:37:59.900');
  mock.timers.tick(200);
  assert.deepEqual(await reset(), ['60', '99'], 'a new minute window: its reset and its own count');
  counters.close();
});

test('limit_by ip, header and hide_client_headers, custom error', async () => {
  const h = instance({ minute: 1, limit_by: 'header', header_name: 'x-team', hide_client_headers: true, error_code: 418, error_message: 'slow down' });
  const counters = new LocalCounterStore();
  const go = async (team: string) => {
    const ctx = makeContext({ counters, headers: { 'x-team': team } });
    const exit = await h.access!(ctx);
    h.header!(ctx);
    return { exit, headers: ctx.response.headers };
  };
  assert.equal((await go('a')).exit, undefined);
  assert.equal((await go('b')).exit, undefined);
  const blocked = await go('a');
  assert.deepEqual(blocked.exit, { status: 418, message: 'slow down' });
  assert.equal(blocked.headers['ratelimit-limit'], undefined);
  assert.equal(blocked.headers['retry-after'], undefined);
});

test('policy local is exact across two workers under concurrent load', async () => {
  const up = await startRecordingUpstream();
  const gw = await startGateway({
    workers: 2,
    config: { _format_version: '3.0', services: [{ name: 's', url: up.url, routes: [{ paths: ['/'] }], plugins: [{ name: 'rate-limiting', config: { hour: 5, limit_by: 'ip' } }] }] },
  });
  after(async () => { await gw.stop(); await up.close(); });
  const results = await Promise.all(Array.from({ length: 30 }, async () => {
    const r = await fetch(`${gw.proxy}/x`);
    await r.arrayBuffer();
    return r.status;
  }));
  assert.equal(results.filter((s) => s === 200).length, 5);
  assert.equal(results.filter((s) => s === 429).length, 25);
  assert.equal(up.requests.length, 5);
});
