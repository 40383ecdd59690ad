/**
 * response-transformer through a real gateway: header changes on proxied answers and on exits,
 * JSON bodies rewritten (chunked, no stale Content-Length), non-JSON bodies untouched.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

before(async () => {
  up = await startRecordingUpstream((req, res) => {
    const text = req.url.startsWith('/text');
    const body = text ? 'plain "url" text' : JSON.stringify({ url: `http://upstream${req.url}`, ip: '127.0.0.1', keep: 1 });
    res.writeHead(200, {
      'content-type': text ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(body),
      'access-control-allow-origin': '*', 'x-old': 'moved', 'x-replace': 'orig',
    });
    res.end(body);
  });
  const route = (name: string, config: Record<string, unknown>, more: unknown[] = []) => ({
    name, paths: [`/${name}`], strip_path: false, plugins: [{ name: 'response-transformer', config }, ...more],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          route('remove', { remove: { headers: ['Access-Control-Allow-Origin'], json: ['url'] } }),
          route('headers', {
            rename: { headers: ['x-old:x-new'] }, replace: { headers: ['x-replace:replaced'] },
            add: { headers: ['x-added:yes'] }, append: { headers: ['x-replace:again'] },
          }),
          route('json', {
            replace: { json: ['url:/hello/world'] }, add: { json: ['n:42', 'b:true'], json_types: ['number', 'boolean'] },
            append: { json: ['keep:2'] },
          }),
          route('text', { add: { json: ['k:v'] } }),
          route('exit', { remove: { json: ['ip'] }, add: { headers: ['x-added:on-exit'] } }, [{ name: 'key-auth', config: {} }]),
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

test('remove a header and a JSON member', async () => {
  const r = await fetch(`${gw.proxy}/remove`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  assert.equal(r.headers.get('content-length'), null);
  assert.deepEqual(await r.json(), { ip: '127.0.0.1', keep: 1 });
});

test('header rename, replace, add, append on a streamed answer', async () => {
  const r = await fetch(`${gw.proxy}/headers`);
  assert.equal(r.headers.get('x-old'), null);
  assert.equal(r.headers.get('x-new'), 'moved');
  assert.equal(r.headers.get('x-replace'), 'replaced, again');
  assert.equal(r.headers.get('x-added'), 'yes');
  assert.ok(r.headers.get('content-length') !== null, 'no body change, length kept');
  await r.arrayBuffer();
});

test('JSON replace/add/append with types; body bytes as Kong writes them (append on a number replaces it)', async () => {
  const r = await fetch(`${gw.proxy}/json`);
  assert.equal(r.headers.get('content-length'), null);
  assert.equal(r.headers.get('transfer-encoding'), 'chunked');
  assert.equal(await r.text(), '{"url":"\\/hello\\/world","ip":"127.0.0.1","keep":["2"],"n":42,"b":true}');
});

test('a non-JSON body is not touched', async () => {
  const r = await fetch(`${gw.proxy}/text`);
  assert.equal(r.headers.get('content-length'), '16');
  assert.equal(await r.text(), 'plain "url" text');
});

// Kong collects every plugin of the route even after an earlier one answered, so this plugin's
// header phase runs on a key-auth 401.
test('an exit from an earlier plugin still gets the header changes and a readable body', async () => {
  const r = await fetch(`${gw.proxy}/exit`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('x-added'), 'on-exit');
  assert.deepEqual(await r.json(), { message: 'No API key found in request' });
});
