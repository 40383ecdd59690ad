/**
 * The plugin queue (Kong's kong/tools/queue.lua semantics): batching and coalescing, retries with
 * exponential backoff bounded by max_retry_time, drop-oldest at max_entries and max_bytes with
 * Kong's log messages, unlimited concurrency, and one queue per name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordingLog } from '../../../test/harness/plugin-context.ts';
import { Queue, enqueue, getQueue, type QueueParams } from './queue.ts';

function params(over: Partial<QueueParams> = {}): QueueParams {
  return {
    name: 'q', logTag: 'http-log plugin test', maxBatchSize: 1, maxCoalescingDelay: 1, maxEntries: 10_000, maxBytes: null,
    maxRetryTime: 60, initialRetryDelay: 0.01, maxRetryDelay: 60, concurrencyLimit: 1, ...over,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('max_batch_size 1: every entry is its own batch, sent at once', async () => {
  const batches: string[][] = [];
  const q = new Queue(params(), async (b) => { batches.push(b); }, recordingLog());
  const t0 = performance.now();
  q.enqueue('a'); q.enqueue('b'); q.enqueue('c');
  await q.drain();
  assert.deepEqual(batches, [['a'], ['b'], ['c']]);
  assert.ok(performance.now() - t0 < 200, 'no coalescing delay for single entries');
});

test('max_batch_size > 1: a full batch goes at once, a partial one after max_coalescing_delay', async () => {
  const batches: { at: number; b: string[] }[] = [];
  const t0 = performance.now();
  const q = new Queue(params({ maxBatchSize: 3, maxCoalescingDelay: 0.3 }), async (b) => { batches.push({ at: performance.now() - t0, b }); }, recordingLog());
  for (const e of ['1', '2', '3', '4', '5']) q.enqueue(e);
  await q.drain();
  assert.deepEqual(batches.map((x) => x.b), [['1', '2', '3'], ['4', '5']]);
  assert.ok(batches[0]!.at < 150, `full batch at once (${batches[0]!.at} ms)`);
  assert.ok(batches[1]!.at >= 250, `partial batch waited for the delay (${batches[1]!.at} ms)`);
});

test('coalescing: entries arriving within the delay join the batch that is waiting', async () => {
  const batches: string[][] = [];
  const q = new Queue(params({ maxBatchSize: 10, maxCoalescingDelay: 0.2 }), async (b) => { batches.push(b); }, recordingLog());
  q.enqueue('a');
  await sleep(50);
  q.enqueue('b');
  await sleep(50);
  q.enqueue('c');
  await q.drain();
  assert.deepEqual(batches, [['a', 'b', 'c']]);
});

test('a failing batch is retried with exponential backoff from initial_retry_delay, capped by max_retry_delay', async () => {
  const attempts: number[] = [];
  const log = recordingLog();
  const t0 = performance.now();
  const q = new Queue(params({ initialRetryDelay: 0.02, maxRetryDelay: 0.08 }), async () => {
    attempts.push(performance.now() - t0);
    if (attempts.length < 5) throw new Error(`boom ${attempts.length}`);
  }, log);
  q.enqueue('x');
  await q.drain();
  assert.equal(attempts.length, 5);
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  // 20, 40, 80 (cap), 80 (cap) ms
  const expected = [20, 40, 80, 80];
  gaps.forEach((g, i) => assert.ok(g >= expected[i]! - 5 && g < expected[i]! + 150, `gap ${i}: ${g} ms, expected ~${expected[i]}`));
  assert.match(log.lines[0]!, /^warn: \[http-log plugin test\] queue q: handler could not process entries: boom 1$/);
  assert.equal(q.lost, 0);
});

test('max_retry_time: a batch that keeps failing is dropped and the loss logged; later entries still go', async () => {
  const log = recordingLog();
  const sent: string[] = [];
  const q = new Queue(params({ maxRetryTime: 0.1, initialRetryDelay: 0.02, maxRetryDelay: 0.02 }), async (b) => {
    if (b[0] === 'bad') throw new Error('refused');
    sent.push(...b);
  }, log);
  q.enqueue('bad');
  q.enqueue('good');
  await q.drain();
  assert.deepEqual(sent, ['good']);
  assert.equal(q.lost, 1);
  assert.ok(log.lines.some((l) => l === 'error: [http-log plugin test] queue q: could not send entries due to max_retry_time exceeded. 1 queue entries were lost'));
});

test('max_retry_time -1: no retry at all', async () => {
  let calls = 0;
  const q = new Queue(params({ maxRetryTime: -1 }), async () => { calls++; throw new Error('no'); }, recordingLog());
  q.enqueue('x');
  await q.drain();
  assert.equal(calls, 1);
  assert.equal(q.lost, 1);
});

test('max_entries: the oldest entries are dropped with an error log; 80% capacity warns once', async () => {
  const log = recordingLog();
  const sent: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const q = new Queue(params({ maxEntries: 5 }), async (b) => { await gate; sent.push(...b); }, log);
  for (let i = 0; i < 9; i++) q.enqueue(String(i));
  // '0' is being sent (waiting on the gate); 1..8 queued in 5 slots: 1, 2, 3 dropped.
  assert.equal(q.count, 5);
  assert.equal(log.lines.filter((l) => l.includes('queue at 80% capacity')).length, 1);
  assert.ok(log.lines.includes('error: [http-log plugin test] queue q: queue full, dropping old entries until processing is successful again'));
  release();
  await q.drain();
  assert.deepEqual(sent, ['0', '4', '5', '6', '7', '8']);
  assert.ok(log.lines.includes('info: [http-log plugin test] queue q: queue resumed processing'));
});

test('max_bytes: entries too large are refused; others make room by dropping the oldest', async () => {
  const log = recordingLog();
  const sent: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const q = new Queue(params({ maxBytes: 10 }), async (b) => { await gate; sent.push(...b); }, log);
  assert.equal(q.enqueue('first'), true); // taken by the handler at once
  assert.equal(q.enqueue('this is too long'), false);
  assert.ok(log.lines.includes("error: [http-log plugin test] queue q: string to be queued is longer (16 bytes) than the queue's max_bytes (10 bytes)"));
  q.enqueue('aaaa'); q.enqueue('bbbb'); q.enqueue('cccc');
  assert.ok(log.lines.includes('error: [http-log plugin test] queue q: byte capacity exceeded, 1 queue entries were dropped'));
  release();
  await q.drain();
  assert.deepEqual(sent, ['first', 'bbbb', 'cccc']);
});

test('concurrency_limit -1: entries are sent at once, in parallel, without waiting for each other', async () => {
  let inFlight = 0;
  let peak = 0;
  const done: string[] = [];
  const q = new Queue(params({ concurrencyLimit: -1 }), async (b) => {
    inFlight++; peak = Math.max(peak, inFlight);
    await sleep(30);
    inFlight--; done.push(...b);
  }, recordingLog());
  q.enqueue('a'); q.enqueue('b'); q.enqueue('c');
  await sleep(80);
  assert.equal(peak, 3);
  assert.deepEqual(done.sort(), ['a', 'b', 'c']);
});

test('enqueue() by name: one queue per name, the newest handler wins, the queue goes away when idle', async () => {
  const seen: string[] = [];
  const p = params({ name: 'shared-by-name', maxBatchSize: 2, maxCoalescingDelay: 0.1 });
  enqueue(p, async (b) => { seen.push(`old:${b.join('+')}`); }, recordingLog(), 'a');
  const q = getQueue('shared-by-name')!;
  enqueue(p, async (b) => { seen.push(`new:${b.join('+')}`); }, recordingLog(), 'b');
  assert.equal(getQueue('shared-by-name'), q);
  await q.drain();
  assert.deepEqual(seen, ['new:a+b']);
  await sleep(5);
  assert.equal(getQueue('shared-by-name'), undefined);
});
