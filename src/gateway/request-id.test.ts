import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextRequestId } from './request-id.ts';

test('request ids are 32 hex digits, distinct, and share the process part', () => {
  const ids = Array.from({ length: 5000 }, () => nextRequestId());
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(new Set(ids).size, ids.length);
  // Consecutive ids differ only in their counter (the last 8 digits), which counts up by one.
  const [a, b] = [ids[0]!, ids[1]!];
  assert.equal(a.slice(0, 24), b.slice(0, 24));
  assert.equal(parseInt(b.slice(24), 16), parseInt(a.slice(24), 16) + 1);
  // The time part is this block's start: within the last minute, in ms.
  assert.ok(Math.abs(Date.now() - parseInt(a.slice(12, 24), 16)) < 60_000);
});
