/**
 * The getting-started series (kic.md §6, steps 2–5) in declarative form, through a real gateway
 * with two workers and the echo server: /echo strip_path -> echo; key-auth's 45-byte 401; alex's
 * key; rate-limit-5-min (five 200s, then 429 with Kong's headers); the global proxy cache (Miss,
 * then Hit; the 429 carries no X-Cache-Status).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SOURCE_BIN, startGateway } from '../harness/gateway-process.ts';
import { startEchoServer } from '../../src/echo/echo-server.ts';

const KONG_YML = fileURLToPath(new URL('../../examples/declarative/kong.yml', import.meta.url));

test('getting started, declarative: 401, then Miss, Hit x4, 429', async () => {
  const echo = await startEchoServer('127.0.0.1', 0, { NODE_NAME: 'n1', POD_NAME: 'echo-1', POD_NAMESPACE: 'kong', POD_IP: '10.0.0.7' });
  const config = readFileSync(KONG_YML, 'utf8').replace('http://127.0.0.1:1027', `http://127.0.0.1:${echo.port}`);
  // The sources through tsx, as `npm start` runs them (most other tests run the bundle).
  const gw = await startGateway({ config, workers: 2, entry: SOURCE_BIN });
  after(async () => { await gw.stop(); echo.server.closeAllConnections(); echo.server.close(); });

  const denied = await fetch(`${gw.proxy}/echo`);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get('www-authenticate'), 'Key realm="kong"');
  assert.equal(denied.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(denied.headers.get('content-length'), '45');
  assert.equal(await denied.text(), '{\n  "message":"No API key found in request"\n}');

  // Stay clear of a minute boundary so the five requests share one window.
  const s = new Date().getUTCSeconds();
  if (s > 50) await new Promise((r) => setTimeout(r, (61 - s) * 1000));
  const seen: { status: number; cache: string | null; remaining: string | null; body: string; retry: string | null; limit: string | null }[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await fetch(`${gw.proxy}/echo`, { headers: { apikey: 'hello_world' } });
    seen.push({ status: r.status, cache: r.headers.get('x-cache-status'), remaining: r.headers.get('x-ratelimit-remaining-minute'),
      body: await r.text(), retry: r.headers.get('retry-after'), limit: r.headers.get('ratelimit-limit') });
  }
  assert.deepEqual(seen.map((x) => x.status), [200, 200, 200, 200, 200, 429]);
  assert.deepEqual(seen.map((x) => x.cache), ['Miss', 'Hit', 'Hit', 'Hit', 'Hit', null]);
  assert.deepEqual(seen.map((x) => x.remaining), ['4', '3', '2', '1', '0', '0']);
  assert.ok(seen.every((x) => x.limit === '5'));
  assert.equal(seen[0]!.body, 'Welcome, you are connected to node n1.\nRunning on Pod echo-1.\nIn namespace kong.\nWith IP address 10.0.0.7.\n\n');
  assert.equal(seen[1]!.body, seen[0]!.body);
  assert.equal(seen[5]!.body, '{\n  "message":"API rate limit exceeded"\n}');
  assert.ok(Number(seen[5]!.retry) >= 1 && Number(seen[5]!.retry) <= 60);
});
