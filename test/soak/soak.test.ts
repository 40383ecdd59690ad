/**
 * The CI soak (issue: "a 60-second version runs in CI"): bench/soak's run, shortened, with the
 * properties that must hold at any length. scripts/run-tests.sh runs this file after the rest of
 * the suite so its load does not disturb timing-sensitive tests. SOAK_SECONDS overrides the length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from '../../bench/soak/soak.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);

test(`soak ${SECONDS} s at 80% of capacity with config pushes, key-auth, rate limiting and caching: no 5xx, no leak, stable p99`, { timeout: (SECONDS + 90) * 1000 }, async () => {
  const r = await runSoak({ durationS: SECONDS, workers: 2, windowS: 5, warmupS: Math.min(20, SECONDS / 3), configEveryMs: 1_000 });
  const { windows, ...summary } = r;
  const detail = JSON.stringify({ summary, windows });
  assert.ok(r.totals.requests > SECONDS * 50, `too little load to mean anything: ${detail}`);
  assert.equal(r.totals.s5xx, 0, `5xx from the gateway: ${detail}`);
  assert.equal(r.totals.errors, 0, `socket errors: ${detail}`);
  assert.ok(r.totals.configsPosted >= SECONDS / 2, `config pushes: ${detail}`);
  assert.equal(r.totals.configsRefused, 0, `a valid config was refused: ${detail}`);
  assert.ok(r.totals.cacheHits > 0, 'the cache served hits');
  assert.ok(r.totals.s4xx > 0, 'the tight rate limit answered 429s');
  // Flat RSS after warm-up: a leak of even a few hundred bytes per request grows far past this.
  assert.ok(r.rss.growthPct < 20, `RSS grew ${r.rss.growthPct}% after warm-up: ${detail}`);
  assert.ok(r.p99.lateMs <= 3 * r.p99.earlyMs + 50, `p99 drifted from ${r.p99.earlyMs} to ${r.p99.lateMs} ms: ${detail}`);
});
