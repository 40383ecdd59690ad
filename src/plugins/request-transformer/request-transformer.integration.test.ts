/**
 * request-transformer through a real gateway: what the upstream receives after each kind of
 * transformation, templates from regex captures, and that rendered values cannot inject headers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

interface Seen { method: string; url: string; headers: Record<string, string | undefined>; body: string }

before(async () => {
  up = await startRecordingUpstream();
  const route = (name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name, paths: [`/${name}`], ...extra, plugins: [{ name: 'request-transformer', config }],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          route('headers', {
            remove: { headers: ['x-remove'] }, rename: { headers: ['x-old:x-new'] },
            replace: { headers: ['x-replace:replaced'] }, add: { headers: ['x-add:added', 'x-from-query:$(query_params.v)'] },
            append: { headers: ['x-append:second'] },
          }),
          route('query', {
            remove: { querystring: ['drop'] }, rename: { querystring: ['old:new'] }, replace: { querystring: ['rep:replaced'] },
            add: { querystring: ['added:yes', 'lit:#hash'] }, append: { querystring: ['multi:2'] },
          }),
          route('json', { remove: { body: ['drop'] }, add: { body: ['added:yes'] }, replace: { body: ['rep:new'] } }),
          route('form', { rename: { body: ['old:new'] }, append: { body: ['a:2'] } }),
          route('method', { http_method: 'GET' }),
          route('captures', {
            replace: { uri: '/requests/user2/$(uri_captures.user2)/user1/$(uri_captures.user1)' },
            add: { querystring: ["uri_param1:$(uri_captures.user1 or 'default1')"] },
          }, { paths: ['~/captures/user1/(?<user1>\\w+)/user2/(?<user2>\\S+)'], strip_path: false }),
          route('host', { replace: { headers: ['host:replaced.test'] } }),
          route('broken', { add: { headers: ['x-broken:$(headers.a.b)'] } }),
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

async function seen(path: string, init: RequestInit = {}): Promise<Seen> {
  const r = await fetch(`${gw.proxy}${path}`, init);
  assert.equal(r.status, 200, await r.clone().text());
  return await r.json() as Seen;
}

test('headers: remove, rename, replace, add, append, and a template from the query', async () => {
  const s = await seen('/headers?v=from-query', { headers: { 'x-remove': '1', 'x-old': 'moved', 'x-replace': 'orig', 'x-append': 'first' } });
  assert.equal(s.headers['x-remove'], undefined);
  assert.equal(s.headers['x-old'], undefined);
  assert.equal(s.headers['x-new'], 'moved');
  assert.equal(s.headers['x-replace'], 'replaced');
  assert.equal(s.headers['x-add'], 'added');
  assert.equal(s.headers['x-from-query'], 'from-query');
  assert.equal(s.headers['x-append'], 'first, second');
});

test('a rendered value with CR/LF stays one header value', async () => {
  const s = await seen('/headers?v=a%0D%0AX-Injected:%20yes%0Ab');
  assert.equal(s.headers['x-injected'], undefined);
  assert.equal(s.headers['x-from-query'], 'a%0D%0AX-Injected: yes%0Ab');
});

test('query string: every operation, sorted, # kept literal', async () => {
  const s = await seen('/query?zeta=1&drop=x&old=moved&rep=orig&multi=1');
  assert.equal(s.url, '/?added=yes&lit=%23hash&multi=1&multi=2&new=moved&rep=replaced&zeta=1');
});

test('JSON body rewritten with a correct Content-Length', async () => {
  const s = await seen('/json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"drop":1,"rep":"old","keep":true}' });
  assert.deepEqual(JSON.parse(s.body), { rep: 'new', keep: true, added: 'yes' });
  assert.equal(s.headers['content-length'], String(Buffer.byteLength(s.body)));
});

test('urlencoded body rewritten', async () => {
  const s = await seen('/form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'old=v&a=1' });
  assert.equal(s.body, 'a=1&a=2&new=v');
  assert.equal(s.headers['content-length'], String(s.body.length));
});

test('http_method GET: the method changes and form arguments join the query', async () => {
  const s = await seen('/method?q=1', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'b=2' });
  assert.equal(s.method, 'GET');
  assert.equal(s.url, '/?b=2&q=1');
});

test('uri and query from regex captures', async () => {
  const s = await seen('/captures/user1/foo/user2/bar');
  assert.equal(s.url, '/requests/user2/bar/user1/foo?uri_param1=foo');
});

test('Host can be replaced', async () => {
  const s = await seen('/host');
  assert.equal(s.headers['host'], 'replaced.test');
});

test('a template that fails at runtime answers 500', async () => {
  const r = await fetch(`${gw.proxy}/broken`);
  assert.equal(r.status, 500);
  assert.equal(await r.text(), '{\n  "message":"An unexpected error occurred"\n}');
});
