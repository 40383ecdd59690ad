/**
 * proxy-cache: Kong's cache key, the Content-Type rule, and Miss/Hit/Refresh/Bypass through a real
 * gateway with two workers (the cache is shared), vary rules, and the compressed-body rule.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startGateway } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream } from '../../../test/harness/upstreams.ts';
import { cacheKey } from './cache-key.ts';
import { contentTypeMatches } from './rules.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test("cache key: Kong's prefix|method|uri|params|headers, with the request-line quirk", () => {
  const base = { consumerId: null, routeId: 'r1', method: 'GET', httpVersion: '1.1', headers: { 'x-v': '2' } };
  assert.equal(cacheKey({ ...base, requestUri: '/a', query: {} }, null, null, false), sha('r1|GET|GET /a HTTP/1.1||'));
  assert.equal(cacheKey({ ...base, requestUri: '/a?b=2&a=1&a=0&c', query: { b: '2', a: ['1', '0'], c: true } }, null, ['x-v'], false),
    sha('r1|GET|GET /a|a=0,1:b=2:c|x-v=2'));
  assert.equal(cacheKey({ ...base, consumerId: 'c1', requestUri: '/A?q=1', query: { q: '1', z: '9' } }, ['q'], null, true),
    sha('c1:r1|GET|get /a|q=1|'));
  assert.equal(cacheKey({ ...base, routeId: null, requestUri: '/', query: {} }, null, null, false), sha('default|GET|GET / HTTP/1.1||'));
});

test('cache key: a repeated request reuses the last digest, and any input that differs makes its own', () => {
  const base = { consumerId: 'c1', routeId: 'r1', method: 'GET', requestUri: '/p?x=1', httpVersion: '1.1', query: { x: '1' }, headers: { 'x-v': '1' } };
  const expected = (b: typeof base, uri = b.requestUri.split('?')[0]) =>
    sha(`${b.consumerId ? `${b.consumerId}:${b.routeId}` : b.routeId}|${b.method}|${b.method} ${uri}|x=1|`);
  // The Kong quirk: with a query, the request line is cut at its `?`, the version with it.
  assert.equal(cacheKey(base, null, null, false), expected(base, '/p'));
  assert.equal(cacheKey({ ...base }, null, null, false), expected(base, '/p'));
  for (const change of [{ consumerId: 'c2' }, { routeId: 'r2' }, { method: 'HEAD' }] as Partial<typeof base>[]) {
    const other = { ...base, ...change };
    assert.equal(cacheKey(other, null, null, false), expected(other), JSON.stringify(change));
    assert.equal(cacheKey(base, null, null, false), expected(base), `after ${JSON.stringify(change)}`);
  }
  assert.equal(cacheKey({ ...base, requestUri: '/q?x=1' }, null, null, false), expected(base, '/q'));
  assert.equal(cacheKey({ ...base, requestUri: '/p', httpVersion: '1.0', query: {} }, null, null, false), sha('c1:r1|GET|GET /p HTTP/1.0||'));
  assert.equal(cacheKey({ ...base, requestUri: '/p', httpVersion: '1.1', query: {} }, null, null, false), sha('c1:r1|GET|GET /p HTTP/1.1||'));
  // ignore_uri_case lower-cases the whole cut request line, method included.
  assert.equal(cacheKey(base, null, null, true), sha('c1:r1|GET|get /p|x=1|'));
  assert.equal(cacheKey({ ...base, requestUri: '/P?x=1' }, null, null, true), sha('c1:r1|GET|get /p|x=1|'));
  assert.equal(cacheKey({ ...base, requestUri: '/P?x=1' }, null, null, false), expected(base, '/P'));
  // Vary headers: never from the memo.
  assert.equal(cacheKey(base, null, ['x-v'], false), sha('c1:r1|GET|GET /p|x=1|x-v=1'));
  assert.equal(cacheKey({ ...base, headers: { 'x-v': '2' } }, null, ['x-v'], false), sha('c1:r1|GET|GET /p|x=1|x-v=2'));
});

test('content type: parameters must match exactly (Kong #6103)', () => {
  assert.ok(contentTypeMatches('text/plain; charset=utf-8', ['text/plain; charset=utf-8']));
  assert.ok(!contentTypeMatches('text/plain; charset=utf-8', ['text/plain']));
  assert.ok(contentTypeMatches('application/json', ['application/*']));
  assert.ok(!contentTypeMatches(undefined, ['text/plain']));
});

test('Miss, Hit shared by two workers, Bypass, vary, and no gzip for clients that did not ask', async () => {
  let n = 0;
  const up = await startRecordingUpstream((req, res) => {
    n++;
    if (req.url.startsWith('/gz')) {
      const body = gzipSync('compressed body');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': body.length });
      return res.end(body);
    }
    const type = req.url.startsWith('/json-utf8') ? 'application/json; charset=utf-8' : 'text/plain';
    res.writeHead(req.url.startsWith('/missing') ? 500 : 200, { 'content-type': type });
    res.end(`body ${n}`);
  });
  const gw = await startGateway({
    workers: 2,
    config: {
      _format_version: '3.0',
      services: [{ name: 's', url: up.url, routes: [{ name: 'r', paths: ['/'] }] }],
      plugins: [{ name: 'proxy-cache', config: { strategy: 'memory', vary_headers: ['x-lang'] } }],
    },
  });
  after(async () => { await gw.stop(); await up.close(); });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${gw.proxy}${path}`, { headers });
    return { r, body: await r.text() };
  };
  const first = await get('/a');
  assert.equal(first.r.headers.get('x-cache-status'), 'Miss');
  assert.match(first.r.headers.get('x-cache-key') ?? '', /^[0-9a-f]{64}$/);
  for (let i = 0; i < 6; i++) {
    const again = await get('/a');
    assert.equal(again.r.headers.get('x-cache-status'), 'Hit');
    assert.equal(again.body, first.body);
    assert.equal(again.r.headers.get('x-cache-key'), first.r.headers.get('x-cache-key'));
    assert.ok(Number(again.r.headers.get('age')) >= 0);
  }
  assert.equal(n, 1, 'one upstream request for seven client requests');
  // Admin purge of one key, then of everything.
  const key = first.r.headers.get('x-cache-key')!;
  const entry = await fetch(`${gw.admin}/proxy-cache/${key}`);
  assert.equal(entry.status, 200);
  assert.equal(((await entry.json()) as { status: number }).status, 200);
  assert.equal((await fetch(`${gw.admin}/proxy-cache/${key}`, { method: 'DELETE' })).status, 204);
  assert.equal((await fetch(`${gw.admin}/proxy-cache/${key}`)).status, 404);
  assert.equal((await get('/a')).r.headers.get('x-cache-status'), 'Miss');
  assert.equal((await get('/a')).r.headers.get('x-cache-status'), 'Hit');
  assert.equal((await fetch(`${gw.admin}/proxy-cache`, { method: 'DELETE' })).status, 204);
  assert.equal((await get('/a')).r.headers.get('x-cache-status'), 'Miss');
  assert.equal((await get('/a', { 'x-lang': 'fr' })).r.headers.get('x-cache-status'), 'Miss', 'vary_headers splits the key');
  assert.equal((await get('/a', { 'x-lang': 'fr' })).r.headers.get('x-cache-status'), 'Hit');
  assert.equal((await fetch(`${gw.proxy}/a`, { method: 'POST', body: 'x' })).headers.get('x-cache-status'), 'Bypass');
  assert.equal((await get('/json-utf8')).r.headers.get('x-cache-status'), 'Bypass', 'content type with parameters is not application/json');
  assert.equal((await get('/missing')).r.headers.get('x-cache-status'), 'Bypass');

  const zipped = await fetch(`${gw.proxy}/gz`, { headers: { 'accept-encoding': 'gzip' } });
  await zipped.arrayBuffer();
  assert.equal(zipped.headers.get('x-cache-status'), 'Miss');
  // fetch always sends Accept-Encoding; a raw request without one must not get the gzip entry.
  const http = await import('node:http');
  const plain = await new Promise<{ status: string | undefined; encoding: string | undefined }>((resolve, reject) => {
    http.get(`${gw.proxy}/gz`, (res) => { res.resume(); resolve({ status: res.headers['x-cache-status'] as string, encoding: res.headers['content-encoding'] }); }).on('error', reject);
  });
  assert.notEqual(plain.status, 'Hit');
});
