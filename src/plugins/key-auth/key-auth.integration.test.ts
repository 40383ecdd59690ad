/**
 * key-auth end to end: a real gateway process with a declarative config, a recording upstream,
 * real HTTP. Checks exact statuses, bodies and headers on the wire and what the upstream saw.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';
import { keepAliveClient } from '../../../test/harness/keep-alive-client.ts';

let gw: GatewayProcess;
let up: Upstream;

interface Seen { method: string; url: string; headers: Record<string, string>; body: string }

before(async () => {
  up = await startRecordingUpstream();
  const route = (name: string, config: Record<string, unknown> = {}) => ({
    name, paths: [`/${name}`], plugins: [{ name: 'key-auth', config }],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          route('default'),
          route('realm', { realm: 'test-realm' }),
          route('hide', { hide_credentials: true, key_in_body: true }),
          route('body', { key_in_body: true }),
          route('anon', { anonymous: 'anonymous' }),
          route('ghost', { anonymous: 'ghost' }),
          route('preflight', { run_on_preflight: false }),
          route('names', { key_names: ['first', 'second'] }),
        ],
      }],
      consumers: [
        { username: 'alice', custom_id: 'alice-custom', keyauth_credentials: [{ key: 'alice-key' }] },
        { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }] },
        { username: 'anonymous' },
      ],
    },
  });
});

/** Sends raw bytes, returns the status and body of the (Content-Length framed) answer. */
function rawRequest(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (c: string) => { data += c; });
    sock.on('error', reject);
    sock.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head!)?.[1]), body: rest.join('\r\n\r\n') });
    });
  });
}

after(async () => {
  await gw?.stop();
  await up?.close();
});

test('no key: exact 401 body, 45 bytes, WWW-Authenticate: Key realm="kong"', async () => {
  const r = await fetch(`${gw.proxy}/default`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Key realm="kong"');
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  const body = await r.text();
  assert.equal(body, '{\n  "message":"No API key found in request"\n}');
  assert.equal(Buffer.byteLength(body), 45);
  assert.equal(r.headers.get('content-length'), '45');
});

test('configured realm', async () => {
  const r = await fetch(`${gw.proxy}/realm`);
  assert.equal(r.headers.get('www-authenticate'), 'Key realm="test-realm"');
  assert.equal(await r.text(), '{\n  "message":"No API key found in request"\n}');
});

test('invalid key: 401 Unauthorized; the error template is negotiated by Accept', async () => {
  const r = await fetch(`${gw.proxy}/default`, { headers: { apikey: 'nope' } });
  assert.equal(r.status, 401);
  assert.equal(await r.text(), '{\n  "message":"Unauthorized"\n}');
  const plain = await fetch(`${gw.proxy}/default`, { headers: { apikey: 'nope', accept: 'text/plain' } });
  assert.equal(plain.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.match(await plain.text(), /^Unauthorized\n/);
});

test('duplicate key headers on the wire: 401 Duplicate API key found', async () => {
  // fetch folds repeated headers; send two header lines on a raw socket.
  const res = await rawRequest(gw.proxyPort, 'GET /default HTTP/1.1\r\nHost: x\r\napikey: alice-key\r\napikey: bob-key\r\nConnection: close\r\n\r\n');
  assert.equal(res.status, 401);
  assert.equal(res.body, '{\n  "message":"Duplicate API key found"\n}');
  const q = await fetch(`${gw.proxy}/default?apikey=a&apikey=b`);
  assert.equal(await q.text(), '{\n  "message":"Duplicate API key found"\n}');
});

test('valid key in header: proxied with consumer headers; spoofed ones replaced or removed', async () => {
  const r = await fetch(`${gw.proxy}/default`, {
    headers: {
      apikey: 'bob-key', 'x-consumer-custom-id': 'spoof', 'x-anonymous-consumer': 'true',
      'x-credential-identifier': 'spoof', 'x-consumer-id': 'spoof', 'x-consumer-username': 'spoof',
    },
  });
  assert.equal(r.status, 200);
  const seen = await r.json() as Seen;
  assert.match(seen.headers['x-consumer-id']!, /^[0-9a-f-]{36}$/);
  assert.notEqual(seen.headers['x-consumer-id'], 'spoof');
  assert.equal(seen.headers['x-consumer-username'], 'bob');
  assert.equal(seen.headers['x-consumer-custom-id'], undefined);
  assert.match(seen.headers['x-credential-identifier']!, /^[0-9a-f-]{36}$/);
  assert.equal(seen.headers['x-anonymous-consumer'], undefined);
  assert.equal(seen.headers['apikey'], 'bob-key');
});

test('valid key in query with custom_id consumer', async () => {
  const r = await fetch(`${gw.proxy}/default?apikey=alice-key&x=1`);
  const seen = await r.json() as Seen;
  assert.equal(seen.headers['x-consumer-username'], 'alice');
  assert.equal(seen.headers['x-consumer-custom-id'], 'alice-custom');
  assert.equal(seen.url, '/?apikey=alice-key&x=1', 'strip_path defaults to true');
});

test('key_names order', async () => {
  const r = await fetch(`${gw.proxy}/names?first=alice-key`, { headers: { second: 'bob-key' } });
  assert.equal((await r.json() as Seen).headers['x-consumer-username'], 'alice');
  const s = await fetch(`${gw.proxy}/names`, { headers: { second: 'bob-key' } });
  assert.equal((await s.json() as Seen).headers['x-consumer-username'], 'bob');
});

test('key in body (form, JSON, multipart) reaches the upstream intact', async () => {
  const form = await fetch(`${gw.proxy}/body`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apikey=alice-key&a=1',
  });
  assert.equal(form.status, 200);
  const seen = await form.json() as Seen;
  assert.equal(seen.headers['x-consumer-username'], 'alice');
  assert.equal(seen.body, 'apikey=alice-key&a=1');

  const json = await fetch(`${gw.proxy}/body`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apikey: 'bob-key' }),
  });
  assert.equal((await json.json() as Seen).headers['x-consumer-username'], 'bob');

  const fd = new FormData();
  fd.append('apikey', 'alice-key');
  fd.append('other', 'value');
  const mp = await fetch(`${gw.proxy}/body`, { method: 'POST', body: fd });
  assert.equal(mp.status, 200);
  const mpSeen = await mp.json() as Seen;
  assert.equal(mpSeen.headers['x-consumer-username'], 'alice');
  assert.match(mpSeen.body, /name="other"\r\n\r\nvalue/);
});

test('hide_credentials: key removed from header, query and body upstream', async () => {
  const h = await fetch(`${gw.proxy}/hide?c=1&apikey=alice-key&a=2`, { headers: { apikey: 'alice-key' } });
  const hs = await h.json() as Seen;
  assert.equal(hs.headers['apikey'], undefined);
  assert.equal(hs.url, '/?c=1&a=2');

  const form = await fetch(`${gw.proxy}/hide`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&apikey=alice-key&b=2',
  });
  const fs = await form.json() as Seen;
  assert.equal(fs.body, 'a=1&b=2');
  assert.equal(fs.headers['content-length'], '7');

  const fd = new FormData();
  fd.append('apikey', 'bob-key');
  fd.append('other', 'value');
  const mp = await fetch(`${gw.proxy}/hide`, { method: 'POST', body: fd });
  const ms = await mp.json() as Seen;
  assert.equal(ms.headers['x-consumer-username'], 'bob');
  assert.doesNotMatch(ms.body, /bob-key/);
  assert.match(ms.body, /name="other"\r\n\r\nvalue/);
});

test('anonymous: failure continues as the anonymous consumer with X-Anonymous-Consumer: true', async () => {
  const r = await fetch(`${gw.proxy}/anon`, { headers: { apikey: 'wrong', 'x-credential-identifier': 'spoof' } });
  assert.equal(r.status, 200);
  const seen = await r.json() as Seen;
  assert.equal(seen.headers['x-consumer-username'], 'anonymous');
  assert.equal(seen.headers['x-anonymous-consumer'], 'true');
  assert.equal(seen.headers['x-credential-identifier'], undefined);
  const ok = await fetch(`${gw.proxy}/anon`, { headers: { apikey: 'alice-key' } });
  const okSeen = await ok.json() as Seen;
  assert.equal(okSeen.headers['x-consumer-username'], 'alice');
  assert.equal(okSeen.headers['x-anonymous-consumer'], undefined);
});

test('anonymous consumer missing: 500 with Kong message', async () => {
  const r = await fetch(`${gw.proxy}/ghost`);
  assert.equal(r.status, 500);
  assert.equal(await r.text(), '{\n  "message":"anonymous consumer ghost is configured but doesn\'t exist"\n}');
});

test('run_on_preflight', async () => {
  const off = await fetch(`${gw.proxy}/preflight`, { method: 'OPTIONS' });
  assert.equal(off.status, 200);
  await off.arrayBuffer();
  const on = await fetch(`${gw.proxy}/default`, { method: 'OPTIONS' });
  assert.equal(on.status, 401);
  assert.equal(await on.text(), '{\n  "message":"No API key found in request"\n}');
});

test('a key accepted on a keep-alive connection is refused on it once a new config drops it', async () => {
  // The gateway remembers the last key accepted per connection, for one config only.
  const own = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{ name: 'echo', url: up.url, routes: [{ name: 'r', paths: ['/r'], plugins: [{ name: 'key-auth' }] }] }],
      consumers: [{ username: 'carol', keyauth_credentials: [{ key: 'carol-old' }] }],
    },
  });
  const client = keepAliveClient(own.proxyPort);
  const get = async (apikey: string) => (await client.get('/r', { apikey })).status;
  try {
    assert.equal(await get('carol-old'), 200);
    assert.equal(await get('carol-old'), 200);
    const posted = await own.postConfig({
      _format_version: '3.0',
      services: [{ name: 'echo', url: up.url, routes: [{ name: 'r', paths: ['/r'], plugins: [{ name: 'key-auth' }] }] }],
      consumers: [{ username: 'carol', keyauth_credentials: [{ key: 'carol-new' }] }],
    });
    assert.equal(posted.status, 201);
    assert.equal(await get('carol-old'), 401, 'the old key no longer passes on the connection that used it');
    assert.equal(await get('carol-new'), 200);
    assert.equal(client.connections(), 1, 'every request went on the same connection');
  } finally {
    client.close();
    await own.stop();
  }
});
