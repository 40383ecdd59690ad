import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { InactivityTimer } from './inactivity-timer.ts';

/** Mocked intervals, advanced 1 ms at a time: `now` is the virtual clock. */
function virtualClock(t: TestContext): { now: () => number; advance: (ms: number) => void } {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => { for (let i = 0; i < ms; i++) { now++; t.mock.timers.tick(1); } },
  };
}

/** A timer set to `ms` that never sees activity, and the virtual times it fired at. */
function silentTimer(t: TestContext, ms: number) {
  const clock = virtualClock(t);
  const fired: number[] = [];
  const timer = new InactivityTimer(() => 0, () => fired.push(clock.now()));
  timer.set(ms);
  return { clock, fired, timer };
}

test('InactivityTimer: silence from set() times out at ms (a multiple of 8), then again every ms', (t) => {
  const { clock, fired, timer } = silentTimer(t, 80);
  clock.advance(79);
  assert.deepEqual(fired, [], 'not before ms');
  clock.advance(1);
  assert.deepEqual(fired, [80]);
  clock.advance(80);
  assert.deepEqual(fired, [80, 160]);
  timer.clear();
});

test('InactivityTimer: activity keeps it quiet; it fires ms to ms + ms/8 after the last activity', (t) => {
  const clock = virtualClock(t);
  let activity = 0;
  let firedAt = -1;
  const timer = new InactivityTimer(() => activity, () => { firedAt = clock.now(); });
  timer.set(80);
  for (let i = 0; i < 20; i++) { clock.advance(70); activity++; }
  assert.equal(firedAt, -1, 'activity every 70 ms for 1.4 s: no timeout');
  // Whatever the phase of the last activity against the ticks, the silence before the timeout is
  // at least ms and at most one tick (ms/8) longer.
  for (let phase = 0; phase < 10; phase++) {
    clock.advance(phase);
    activity++;
    const last = clock.now();
    firedAt = -1;
    while (firedAt < 0 && clock.now() - last < 1000) clock.advance(1);
    const silence = firedAt - last;
    assert.ok(silence >= 80 && silence <= 90, `phase ${phase}: timed out ${silence} ms after the last activity (ms 80)`);
  }
  timer.clear();
});

test('InactivityTimer: set(0) and clear() disarm it; a new ms restarts the count', (t) => {
  const clock = virtualClock(t);
  let fired = 0;
  const a = new InactivityTimer(() => 0, () => { fired++; });
  a.set(30);
  a.set(0);
  assert.equal(a.ms, 0);
  const b = new InactivityTimer(() => 0, () => { fired++; });
  b.set(30);
  b.clear();
  clock.advance(200);
  assert.equal(fired, 0, 'disarmed timers never fire');

  const firedAt: number[] = [];
  const start = clock.now();
  const c = new InactivityTimer(() => 0, () => firedAt.push(clock.now() - start));
  c.set(40);
  clock.advance(30);
  c.set(100); // silent 30 ms of 40: the new timeout counts from here
  assert.equal(c.ms, 100);
  clock.advance(99);
  assert.deepEqual(firedAt, [], 'not at the old 40 ms, nor before 100 ms from the change');
  clock.advance(13);
  assert.equal(firedAt.length, 1);
  assert.ok(firedAt[0]! >= 130 && firedAt[0]! <= 130 + 100 / 8, `fired at ${firedAt[0]} (100 ms after the change at 30)`);
  c.clear();
});

test('InactivityTimer: a timeout under 8 ms is counted in 1 ms ticks', (t) => {
  const { clock, fired, timer } = silentTimer(t, 3);
  clock.advance(7);
  assert.deepEqual(fired, [3, 6]);
  timer.clear();
});
