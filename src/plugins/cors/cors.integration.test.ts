/**
 * cors through a real gateway: preflights answered before authentication, headers on proxied
 * answers and on a key-auth 401, preflight_continue, and a route that does not allow OPTIONS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

interface Answer { status: number; headers: http.IncomingHttpHeaders; raw: string[]; body: string }

function send(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.proxy}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, raw: res.rawHeaders, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** All values of one response header, in order. */
function all(a: Answer, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.raw.length; i += 2) if (a.raw[i]!.toLowerCase() === name) out.push(a.raw[i + 1]!);
  return out;
}

before(async () => {
  up = await startRecordingUpstream((req, res) => {
    // The upstream answers with its own Vary (and a CORS header) to see how they combine.
    res.writeHead(200, { 'content-type': 'application/json', vary: 'Accept-Encoding', 'access-control-allow-origin': 'http://upstream.test' });
    res.end(JSON.stringify({ method: req.method, url: req.url }));
  });
  const route = (name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name, paths: [`/${name}`], ...extra, plugins: [{ name: 'cors', config }, ...((extra.plugins as unknown[]) ?? [])],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          route('default', {}),
          route('full', {
            origins: ['http://example.com', '(.*)\\.allowed\\.test'], headers: ['x-one', 'x-two'], exposed_headers: ['x-exposed'],
            methods: ['GET', 'POST'], max_age: 600, credentials: true, private_network: true,
          }),
          route('single', { origins: ['http://example.com'] }),
          route('continue', { preflight_continue: true }),
          { ...route('auth', { origins: ['http://example.com', 'http://other.test'], credentials: true }), plugins: [
            { name: 'cors', config: { origins: ['http://example.com', 'http://other.test'], credentials: true } },
            { name: 'key-auth', config: {} },
          ] },
          route('getonly', {}, { methods: ['GET'] }),
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

test('preflight with defaults: 200, empty body, wildcard origin, all methods, echoed request headers', async () => {
  const r = await send('OPTIONS', '/default', { origin: 'http://a.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-custom' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.equal(r.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT');
  assert.equal(r.headers['access-control-allow-headers'], 'x-custom');
  assert.equal(r.headers['vary'], undefined);
  assert.equal(r.headers['access-control-max-age'], undefined);
  assert.equal(r.headers['content-length'], '0');
  assert.equal(up.requests.some((q) => q.method === 'OPTIONS'), false, 'preflight is not proxied');
});

test('preflight with full config and a regex-matched origin', async () => {
  const r = await send('OPTIONS', '/full', {
    origin: 'https://app.allowed.test', 'access-control-request-method': 'GET', 'access-control-request-private-network': 'true',
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'https://app.allowed.test');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-allow-headers'], 'x-one,x-two');
  assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
  assert.equal(r.headers['access-control-max-age'], '600');
  assert.equal(r.headers['access-control-allow-private-network'], 'true');
  assert.equal(r.headers['vary'], 'Origin');
});

test('preflight from an origin that does not match: no Access-Control-Allow-Origin', async () => {
  const r = await send('OPTIONS', '/full', { origin: 'https://evil.test', 'access-control-request-method': 'GET' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  assert.equal(r.headers['vary'], 'Origin');
});

test('proxied request: ACAO replaces the upstream value, Vary: Origin added to the upstream Vary, exposed headers', async () => {
  const r = await send('GET', '/full', { origin: 'http://example.com:80' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'http://example.com');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-expose-headers'], 'x-exposed');
  assert.deepEqual(all(r, 'vary'), ['Accept-Encoding', 'Origin']);
  const denied = await send('GET', '/full', { origin: 'http://nope.test' });
  assert.equal(denied.headers['access-control-allow-origin'], undefined, 'the upstream\'s own value is removed too');
});

test('single plain origin is sent whatever the request origin; default config sends *', async () => {
  assert.equal((await send('GET', '/single', { origin: 'http://x.test' })).headers['access-control-allow-origin'], 'http://example.com');
  assert.equal((await send('GET', '/default')).headers['access-control-allow-origin'], '*');
});

test('preflight_continue: the OPTIONS request reaches the upstream, its answer is left alone', async () => {
  const before = up.requests.length;
  const r = await send('OPTIONS', '/continue', { origin: 'http://a.test', 'access-control-request-method': 'GET' });
  assert.equal(r.status, 200);
  assert.equal(up.requests.length, before + 1);
  assert.equal(up.requests.at(-1)!.method, 'OPTIONS');
  assert.equal(r.headers['access-control-allow-origin'], 'http://upstream.test');
  assert.equal(r.headers['access-control-allow-methods'], undefined);
});

test('preflight is answered before key-auth; a key-auth 401 carries the CORS headers', async () => {
  const pre = await send('OPTIONS', '/auth', { origin: 'http://other.test', 'access-control-request-method': 'GET' });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers['access-control-allow-origin'], 'http://other.test');
  const denied = await send('GET', '/auth', { origin: 'http://other.test' });
  assert.equal(denied.status, 401);
  assert.equal(denied.body, '{\n  "message":"No API key found in request"\n}');
  assert.equal(denied.headers['access-control-allow-origin'], 'http://other.test');
  assert.equal(denied.headers['access-control-allow-credentials'], 'true');
  assert.equal(denied.headers['vary'], 'Origin');
});

test('a route that only allows GET does not match the preflight (Kong: 404)', async () => {
  const r = await send('OPTIONS', '/getonly', { origin: 'http://a.test', 'access-control-request-method': 'GET' });
  assert.equal(r.status, 404);
});
