/**
 * @module gateway/upstream/health/target-health.test
 * The lua-resty-healthcheck state machine on its own: mostly_* states, which counters reset when,
 * disabled thresholds, forced states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthRules, TargetHealth, healthchecksEnabled } from './target-health.ts';
import { defaultHealthchecks } from '../balancer/test-fixtures.ts';

function rules(over: { successes?: number; http?: number; tcp?: number; timeouts?: number }): HealthRules {
  const hc = defaultHealthchecks().passive;
  return new HealthRules({
    healthy: { ...hc.healthy, successes: over.successes ?? 0 },
    unhealthy: { ...hc.unhealthy, http_failures: over.http ?? 0, tcp_failures: over.tcp ?? 0, timeouts: over.timeouts ?? 0 },
  });
}

test('a failure below the threshold makes a target mostly_healthy; reaching it, unhealthy', () => {
  const h = new TargetHealth();
  const r = rules({ http: 3, successes: 2 });
  assert.equal(h.apply({ kind: 'http', status: 500 }, r), false);
  assert.equal(h.state, 'mostly_healthy');
  assert.equal(h.healthy, true);
  h.apply({ kind: 'http', status: 500 }, r);
  assert.equal(h.apply({ kind: 'http', status: 500 }, r), true);
  assert.equal(h.state, 'unhealthy');
  // Failures are not counted any more while fully unhealthy.
  h.apply({ kind: 'http', status: 500 }, r);
  assert.equal(h.httpFailures, 3);
});

test('a success clears every failure counter, a failure clears the success counter only', () => {
  const h = new TargetHealth();
  const r = rules({ http: 5, tcp: 5, timeouts: 5, successes: 3 });
  h.apply({ kind: 'http', status: 500 }, r);
  h.apply({ kind: 'tcp_error' }, r);
  h.apply({ kind: 'timeout' }, r);
  assert.deepEqual([h.httpFailures, h.tcpFailures, h.timeouts], [1, 1, 1]);
  h.apply({ kind: 'http', status: 200 }, r);
  assert.deepEqual([h.httpFailures, h.tcpFailures, h.timeouts, h.successes], [0, 0, 0, 1]);
  assert.equal(h.state, 'mostly_healthy');
  h.apply({ kind: 'tcp_error' }, r);
  assert.deepEqual([h.tcpFailures, h.successes], [1, 0]);
});

test('recovery goes through mostly_unhealthy and needs `successes` in a row', () => {
  const h = new TargetHealth();
  const r = rules({ tcp: 1, successes: 3 });
  h.apply({ kind: 'tcp_error' }, r);
  assert.equal(h.state, 'unhealthy');
  h.apply({ kind: 'http', status: 200 }, r);
  assert.equal(h.state, 'mostly_unhealthy');
  assert.equal(h.healthy, false);
  h.apply({ kind: 'http', status: 302 }, r);
  h.apply({ kind: 'tcp_error' }, r); // back to unhealthy, success count lost
  assert.equal(h.state, 'unhealthy');
  assert.equal(h.successes, 0);
  for (let i = 0; i < 2; i++) h.apply({ kind: 'tcp_success' }, r);
  assert.equal(h.healthy, false);
  assert.equal(h.apply({ kind: 'tcp_success' }, r), true);
  assert.equal(h.state, 'healthy');
});

test('status 0 (no valid status line) is an HTTP failure; unlisted statuses are ignored', () => {
  const h = new TargetHealth();
  const r = rules({ http: 1 });
  h.apply({ kind: 'http', status: 418 }, r);
  assert.equal(h.state, 'healthy');
  h.apply({ kind: 'http', status: 0 }, r);
  assert.equal(h.state, 'unhealthy');
});

test('force sets the state and clears counters; counters cap at 255', () => {
  const h = new TargetHealth();
  const r = rules({ http: 255 });
  for (let i = 0; i < 300; i++) h.apply({ kind: 'http', status: 500 }, r);
  assert.equal(h.httpFailures, 255);
  assert.equal(h.state, 'unhealthy');
  assert.equal(h.force(true), true);
  assert.equal(h.httpFailures, 0);
  assert.equal(h.force(true), false);
});

test('healthchecksEnabled follows Kong: active intervals or passive unhealthy thresholds', () => {
  const hc = defaultHealthchecks();
  assert.equal(healthchecksEnabled(hc), false);
  hc.passive.healthy.successes = 5;
  assert.equal(healthchecksEnabled(hc), false, 'passive successes alone do not count');
  hc.passive.unhealthy.timeouts = 1;
  assert.equal(healthchecksEnabled(hc), true);
  const active = defaultHealthchecks();
  active.active.unhealthy.interval = 5;
  assert.equal(healthchecksEnabled(active), true);
});
