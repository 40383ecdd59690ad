/**
 * rate-limiting with `policy: redis` against a real redis-server: counting shared by two gateways,
 * Redis stopped mid-test (fault_tolerant true passes requests, false answers 500), slowed beyond
 * `redis.timeout` (no request waits longer), and counting resumes when Redis is back. The client
 * itself: a take made as it is created waits for its first connection; one whose first connection
 * fails fails fast; closing it after Redis went away leaves no rejection behind.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream } from '../../../test/harness/upstreams.ts';
import { startRedis } from '../../../test/harness/redis-server.ts';
import { RedisCounters } from './redis-policy.ts';

test('redis policy: shared counters, faults and recovery', async () => {
  const redis = await startRedis();
  const up = await startRecordingUpstream();
  const config = (faultTolerant: boolean) => ({
    _format_version: '3.0',
    services: [{
      name: 's', url: up.url,
      routes: [{ name: 'tolerant', paths: ['/t'], plugins: [{ name: 'rate-limiting', config: { hour: 4, limit_by: 'ip', policy: 'redis', fault_tolerant: true, redis: { host: '127.0.0.1', port: redis.port, timeout: 300 } } }] },
        { name: 'strict', paths: ['/s'], plugins: [{ name: 'rate-limiting', config: { hour: 1000, limit_by: 'ip', policy: 'redis', fault_tolerant: faultTolerant, redis_host: '127.0.0.1', redis_port: redis.port, redis_timeout: 300 } }] }],
    }],
  });
  const a = await startGateway({ config: config(false) });
  const b = await startGateway({ config: config(false) });
  after(async () => { await a.stop(); await b.stop(); await up.close(); await redis.stop(); });

  // Two gateways share the 4 per hour.
  const statuses: number[] = [];
  for (const g of [a, b, a, b, a, b]) {
    const r = await fetch(`${g.proxy}/t`);
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);

  // Redis down: fault_tolerant passes without headers, fault_tolerant false answers 500.
  await redis.stop();
  const t0 = Date.now();
  const tolerant = await fetch(`${a.proxy}/t`);
  await tolerant.arrayBuffer();
  assert.equal(tolerant.status, 200);
  assert.equal(tolerant.headers.get('ratelimit-limit'), null);
  const strict = await fetch(`${a.proxy}/s`);
  assert.equal(strict.status, 500);
  assert.equal(await strict.text(), '{\n  "message":"An unexpected error occurred"\n}');
  assert.ok(Date.now() - t0 < 2000, 'no request waits on a dead Redis');

  // Back: counting resumes (the old counters died with the server).
  await redis.start();
  const back = await eventually(async () => {
    const r = await fetch(`${a.proxy}/t`);
    await r.arrayBuffer();
    return r.headers.get('ratelimit-remaining') === '3' ? r : undefined;
  });
  assert.equal(back.status, 200);

  // Slow: a Redis that blocks longer than redis.timeout does not hold requests.
  redis.freeze(2000);
  await new Promise((r) => setTimeout(r, 100));
  const t1 = Date.now();
  const slow = await fetch(`${a.proxy}/t`);
  await slow.arrayBuffer();
  assert.equal(slow.status, 200);
  assert.ok(Date.now() - t1 < 1500, `waited ${Date.now() - t1} ms with redis.timeout 300`);
});

test('a take in the same tick as the plugin is created waits for the first connection and counts', async () => {
  const redis = await startRedis();
  const errors: Error[] = [];
  const counters = new RedisCounters({ host: '127.0.0.1', port: redis.port, timeout: 2000, database: 0, ssl: false, ssl_verify: false },
    -1, (err) => errors.push(err));
  after(async () => { counters.close(); await redis.stop(); });
  // The client library loads and connects on first use: a config just applied must still count.
  const spec = [{ key: `first-take-${Date.now()}`, limit: 10, ttl: 60 }];
  assert.deepEqual(await counters.take(spec, 1), [0]);
  assert.deepEqual(await counters.take(spec, 1), [1]);
  assert.deepEqual(errors, []);
});

test('a first connection that fails settles at once: requests fail fast, not after the timeout', async () => {
  const redis = await startRedis();
  const port = redis.port;
  await redis.stop();
  const counters = new RedisCounters({ host: '127.0.0.1', port, timeout: 2000, database: 0, ssl: false, ssl_verify: false }, -1, () => {});
  after(() => { counters.close(); });
  const t0 = Date.now();
  await assert.rejects(counters.take([{ key: 'k', limit: 1, ttl: 1 }], 1), /redis is not connected/);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
});

async function eventually<T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
