/**
 * request-termination through a real gateway: the upstream is never called, and the client sees
 * Kong's statuses, bodies and headers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

before(async () => {
  up = await startRecordingUpstream();
  const route = (name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name, paths: [`/${name}`], ...extra, plugins: [{ name: 'request-termination', config }],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          route('default', {}),
          route('notfound', { status_code: 404 }),
          route('custom', { status_code: 406, message: 'Invalid' }),
          route('html', { status_code: 451, content_type: 'text/html', body: '<html><body><h1>Service is down due to content infringement</h1></body></html>' }),
          route('rawjson', { body: '{"code": 1, "message": "Service unavailable"}' }),
          route('nocontent', { status_code: 204 }),
          route('forbidden', { status_code: 403 }),
          route('echo', { echo: true, status_code: 404 }, { paths: ['~/echo/(?<parameter>[^/]+)/200'], strip_path: false }),
          route('trigger', { echo: true, trigger: 'gimme-an-echo', status_code: 404 }),
        ],
      }],
      // Kong runs plugins on a route without a service, so request-termination still answers.
      routes: [{ name: 'noservice', paths: ['/noservice'], plugins: [{ name: 'request-termination', config: {} }] }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

test('default: 503 {"message":"Service unavailable"} as compact JSON, with Server header', async () => {
  const r = await fetch(`${gw.proxy}/default`);
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(await r.text(), '{"message":"Service unavailable"}');
  assert.match(r.headers.get('server') ?? '', /^turnpike\//);
  assert.equal(up.requests.length, 0);
});

test('a route without a service still gets the plugin\'s answer', async () => {
  const r = await fetch(`${gw.proxy}/noservice`);
  assert.equal(r.status, 503);
  assert.equal(await r.text(), '{"message":"Service unavailable"}');
});

test('status with default message and with custom message', async () => {
  const a = await fetch(`${gw.proxy}/notfound`);
  assert.equal(a.status, 404);
  assert.deepEqual(await a.json(), { message: 'Not found' });
  const b = await fetch(`${gw.proxy}/custom`);
  assert.equal(b.status, 406);
  assert.deepEqual(await b.json(), { message: 'Invalid' });
});

test('raw body with content type, raw body without content type', async () => {
  const a = await fetch(`${gw.proxy}/html`);
  assert.equal(a.status, 451);
  assert.equal(a.headers.get('content-type'), 'text/html');
  assert.equal(await a.text(), '<html><body><h1>Service is down due to content infringement</h1></body></html>');
  const b = await fetch(`${gw.proxy}/rawjson`);
  assert.equal(b.status, 503);
  assert.equal(b.headers.get('content-type'), null);
  assert.deepEqual(await b.json(), { code: 1, message: 'Service unavailable' });
});

test('204 has no body and no Content-Length; 403 without a default message has an empty body', async () => {
  const a = await fetch(`${gw.proxy}/nocontent`);
  assert.equal(a.status, 204);
  assert.equal(a.headers.get('content-length'), null);
  assert.equal(await a.text(), '');
  const b = await fetch(`${gw.proxy}/forbidden`);
  assert.equal(b.status, 403);
  assert.equal(await b.text(), '');
});

test('echo: the request comes back with route captures and the matched route', async () => {
  const r = await fetch(`${gw.proxy}/echo/status/200?hello=there`, { method: 'POST', body: 'cool body' });
  assert.equal(r.status, 404);
  const json = await r.json() as { request: Record<string, unknown>; matched_route: { name: string }; matched_service: { name: string } };
  assert.equal(json.matched_route.name, 'echo');
  assert.equal(json.matched_service.name, 'svc');
  assert.equal(json.request.method, 'POST');
  assert.equal(json.request.path, '/echo/status/200');
  assert.equal(json.request.raw_body, 'cool body');
  assert.equal(json.request.port, gw.proxyPort);
  assert.deepEqual(json.request.query, { hello: 'there' });
  assert.deepEqual(json.request.uri_captures, { named: { parameter: 'status' }, unnamed: ['status'] });
  assert.equal((json.request.headers as Record<string, string>)['content-length'], '9');
});

test('trigger: proxied without it, echoed with it as header or query argument', async () => {
  const plain = await fetch(`${gw.proxy}/trigger`);
  assert.equal(plain.status, 200);
  await plain.arrayBuffer();
  const byHeader = await fetch(`${gw.proxy}/trigger`, { headers: { 'Gimme-An-Echo': 'anything will do' } });
  assert.equal(byHeader.status, 404);
  assert.equal(((await byHeader.json()) as { message: string }).message, 'Not found');
  const byQuery = await fetch(`${gw.proxy}/trigger?gimme-an-echo=yes`);
  assert.equal(byQuery.status, 404);
  await byQuery.arrayBuffer();
});
