/**
 * http-log through a real gateway and a real log receiver: entries delivered after the receiver
 * failed the first attempts (retries with backoff), batches as JSON arrays, Basic auth from the
 * endpoint's userinfo plus configured headers, and a receiver that never answers not delaying any
 * response.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startHangingUpstream, startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

interface Delivery { path: string; status: number; headers: http.IncomingHttpHeaders; body: string; at: number }

/** A log server that records every delivery attempt and fails the first `failFirst[path]` ones. */
async function startReceiver(failFirst: Record<string, number>) {
  const attempts: Delivery[] = [];
  const seen: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      const path = req.url!.split('?')[0]!;
      seen[path] = (seen[path] ?? 0) + 1;
      const status = seen[path]! <= (failFirst[path] ?? 0) ? 503 : 200;
      attempts.push({ path, status, headers: req.headers, body, at: performance.now() });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port, attempts,
    delivered: (path: string) => attempts.filter((a) => a.path === path && a.status === 200),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

let gw: GatewayProcess;
let up: Upstream;
let hanging: Upstream;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

before(async () => {
  up = await startRecordingUpstream();
  hanging = await startHangingUpstream();
  receiver = await startReceiver({ '/single': 3, '/batched': 1 });
  const endpoint = (path: string, userinfo = '') => `http://${userinfo}127.0.0.1:${receiver.port}${path}`;
  const fastRetry = { initial_retry_delay: 0.05, max_retry_delay: 0.2, max_retry_time: 10 };
  gw = await startGateway({
    workers: 1,
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          { name: 'single', paths: ['/single'], plugins: [{ name: 'http-log', config: {
            http_endpoint: endpoint('/single', 'logger:s%3Acret@'), headers: { 'X-Log-Source': 'turnpike' }, queue: fastRetry,
          } }] },
          { name: 'batched', paths: ['/batched'], plugins: [{ name: 'http-log', config: {
            http_endpoint: endpoint('/batched'), method: 'PUT', content_type: 'application/json; charset=utf-8',
            queue: { ...fastRetry, max_batch_size: 5, max_coalescing_delay: 0.5 },
          } }] },
          { name: 'hanging', paths: ['/hanging'], plugins: [{ name: 'http-log', config: {
            http_endpoint: `http://127.0.0.1:${hanging.port}/`, timeout: 300, queue: { max_retry_time: 1 },
          } }] },
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await receiver?.close();
  await up?.close();
  await hanging?.close();
});

async function get(path: string): Promise<number> {
  const r = await fetch(`${gw.proxy}${path}`);
  await r.text();
  return r.status;
}

async function until(cond: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}

test('max_batch_size 1: each entry is one JSON object; delivered after the receiver failed three times', async () => {
  const t0 = performance.now();
  assert.equal(await get('/single/a?x=1'), 200);
  assert.ok(performance.now() - t0 < 500, 'the response does not wait for the log');
  await until(() => receiver.delivered('/single').length >= 1);
  const tries = receiver.attempts.filter((a) => a.path === '/single');
  assert.deepEqual(tries.map((a) => a.status), [503, 503, 503, 200]);
  // Backoff: ~50, ~100, ~200 ms between attempts.
  const gaps = tries.slice(1).map((a, i) => a.at - tries[i]!.at);
  assert.ok(gaps[0]! >= 40 && gaps[1]! >= 90 && gaps[2]! >= 180, `gaps ${gaps.map(Math.round).join(', ')}`);
  const ok = tries[3]!;
  assert.ok(tries.every((a) => a.body === ok.body), 'the same entry is sent again');
  const entry = JSON.parse(ok.body) as Record<string, any>;
  assert.ok(!Array.isArray(entry));
  assert.equal(entry.request.uri, '/single/a?x=1');
  assert.equal(entry.response.status, 200);
  assert.equal(entry.route.name, 'single');
  assert.equal(ok.headers['content-type'], 'application/json');
  assert.equal(ok.headers['authorization'], `Basic ${Buffer.from('logger:s%3Acret').toString('base64')}`);
  assert.equal(ok.headers['x-log-source'], 'turnpike');
  assert.equal(Number(ok.headers['content-length']), Buffer.byteLength(ok.body));
});

test('max_batch_size 5: entries coalesce into one JSON array; a failed batch is sent again whole', async () => {
  for (let i = 0; i < 5; i++) assert.equal(await get(`/batched/${i}`), 200);
  await until(() => receiver.delivered('/batched').length >= 1);
  const tries = receiver.attempts.filter((a) => a.path === '/batched');
  assert.deepEqual(tries.map((a) => a.status), [503, 200]);
  const batch = JSON.parse(tries[1]!.body) as Record<string, any>[];
  assert.ok(Array.isArray(batch));
  assert.deepEqual(batch.map((e) => e.request.uri), ['/batched/0', '/batched/1', '/batched/2', '/batched/3', '/batched/4']);
  assert.equal(tries[0]!.body, tries[1]!.body);
  assert.equal(tries[1]!.headers['content-type'], 'application/json; charset=utf-8');

  // Fewer than a batch: sent when max_coalescing_delay has passed.
  const t0 = performance.now();
  assert.equal(await get('/batched/late'), 200);
  await until(() => receiver.delivered('/batched').length >= 2);
  const late = receiver.delivered('/batched')[1]!;
  assert.ok(late.at - t0 >= 400, `waited ${Math.round(late.at - t0)} ms for more entries`);
  assert.deepEqual((JSON.parse(late.body) as { request: { uri: string } }[]).map((e) => e.request.uri), ['/batched/late']);
});

test('a log server that never answers does not slow requests down', async () => {
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) assert.equal(await get(`/hanging/${i}`), 200);
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 1500, `10 requests took ${Math.round(elapsed)} ms`);
});
