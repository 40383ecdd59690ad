/**
 * The always-on traffic counters: what a worker records per request, the delta it ships, and how
 * the primary's five-minute timeline sums deltas into per-second series and latency quantiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LATENCY_BOUNDS, TrafficRecorder } from './traffic-recorder.ts';
import { TrafficTimeline, WINDOW_SECONDS, quantile } from './traffic-timeline.ts';

test('the recorder counts per route: status classes, 429s, cache Hit/Miss, latency buckets', () => {
  const rec = new TrafficRecorder();
  assert.equal(rec.take(), null);
  rec.record('r1', 200, 0.4, 'Miss');
  rec.record('r1', 200, 3, 'Hit');
  rec.record('r1', 429, 7, undefined);
  rec.record(null, 404, 12000, undefined);
  const delta = rec.take()!;
  const r1 = delta.routes.find((r) => r.route === 'r1')!;
  assert.equal(r1.requests, 3);
  assert.deepEqual(r1.classes, [0, 2, 0, 1, 0]);
  assert.equal(r1.limited, 1);
  assert.equal(r1.cacheHits, 1);
  assert.equal(r1.cacheMisses, 1);
  assert.equal(r1.latency[0], 1); // <= 1 ms
  assert.equal(r1.latency[2], 1); // (2, 5]
  assert.equal(r1.latency[3], 1); // (5, 10]
  const none = delta.routes.find((r) => r.route === '')!;
  assert.equal(none.latency[LATENCY_BOUNDS.length], 1); // beyond the last bound
  // Taken rows start from zero; quiet rows are not shipped.
  assert.equal(rec.take(), null);
  rec.record('r1', 500, 1, undefined);
  const next = rec.take()!;
  assert.equal(next.routes.length, 1);
  assert.deepEqual(next.routes[0]!.classes, [0, 0, 0, 0, 1]);
  assert.equal(next.routes[0]!.requests, 1);
});

test('quantiles interpolate inside the bucket', () => {
  const b = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
  assert.equal(quantile(b, 0.5), null);
  b[4] = 10; // (10, 20]
  assert.equal(quantile(b, 0.5), 15);
  assert.equal(quantile(b, 0.99), 19.9);
  b[LATENCY_BOUNDS.length] = 1000;
  assert.equal(quantile(b, 0.99), LATENCY_BOUNDS.at(-1));
});

test('the timeline sums worker deltas per second and keeps five minutes', () => {
  let now = 1_000_000_000;
  const timeline = new TrafficTimeline(() => now);
  const w1 = new TrafficRecorder(), w2 = new TrafficRecorder();
  for (let i = 0; i < 3; i++) w1.record('r1', 200, 15, 'Hit');
  w2.record('r1', 429, 15, undefined);
  w2.record('r2', 200, 150, 'Miss');
  timeline.add(w1.take()!);
  timeline.add(w2.take()!);
  now += 1000; // that second is complete now
  const s = timeline.series((id) => `route-${id}`);
  assert.equal(s.seconds.length, WINDOW_SECONDS);
  assert.equal(s.end, Math.floor(now / 1000) - 1);
  assert.equal(s.requests.at(-1), 5);
  assert.equal(s.classes['2xx'].at(-1), 4);
  assert.equal(s.classes['4xx'].at(-1), 1);
  assert.equal(s.limited.at(-1), 1);
  assert.equal(s.cacheHitRatio.at(-1), 0.75);
  assert.equal(s.cacheHitRatio.at(-2), null);
  assert.deepEqual(s.totals, { requests: 5, limited: 1, cacheHits: 3, cacheMisses: 1, classes: [0, 4, 0, 1, 0] });
  assert.deepEqual(s.routes.map((r) => [r.name, r.requests]), [['route-r1', 4], ['route-r2', 1]]);
  assert.equal(s.routes[0]!.p50.at(-1), 15);
  assert.ok(s.routes[1]!.p99.at(-1)! > 100 && s.routes[1]!.p99.at(-1)! <= 200);

  // Five minutes later the slot is reused and the old second is gone.
  now += WINDOW_SECONDS * 1000;
  const later = timeline.series(String);
  assert.equal(later.totals.requests, 0);
  assert.deepEqual(later.routes, []);
});

test('malformed rows from a worker are ignored', () => {
  let now = 5_000;
  const timeline = new TrafficTimeline(() => now);
  timeline.add({ routes: [{ route: 'x', requests: 1, classes: [1], latency: [], limited: 0, cacheHits: 0, cacheMisses: 0 }] });
  const ok = new TrafficRecorder();
  ok.record('y', 200, 1, undefined);
  timeline.add(ok.take()!);
  now += 1000;
  assert.equal(timeline.series(String).totals.requests, 1);
});
