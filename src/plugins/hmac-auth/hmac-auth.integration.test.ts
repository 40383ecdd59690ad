/**
 * hmac-auth end to end through a real gateway: a client signs date + request-line over real
 * HTTP/1.1, the body Digest is checked, failures carry Kong's messages and challenge.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;
interface Seen { headers: Record<string, string>; body: string }

before(async () => {
  up = await startRecordingUpstream();
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          { name: 'hmac', paths: ['/hmac'], plugins: [{ name: 'hmac-auth', config: { hide_credentials: true, enforce_headers: ['date'] } }] },
          { name: 'digest', paths: ['/digest'], plugins: [{ name: 'hmac-auth', config: { validate_request_body: true, realm: 'signed' } }] },
        ],
      }],
      consumers: [{ username: 'alice', hmacauth_credentials: [{ username: 'alice-hmac', secret: 'alice-secret' }] }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

function sign(lines: string[], names: string, secret = 'alice-secret'): string {
  const sig = createHmac('sha256', secret).update(lines.join('\n')).digest('base64');
  return `hmac username="alice-hmac", algorithm="hmac-sha256", headers="${names}", signature="${sig}"`;
}

test('missing Authorization: 401 Unauthorized with WWW-Authenticate: hmac', async () => {
  const r = await fetch(`${gw.proxy}/hmac`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'hmac');
  assert.equal(await r.text(), '{\n  "message":"Unauthorized"\n}');
});

test('no date: the date message', async () => {
  const r = await fetch(`${gw.proxy}/hmac`, { headers: { authorization: 'hmac username="x"' } });
  assert.equal(r.status, 401);
  assert.equal(await r.text(), '{\n  "message":"HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication"\n}');
});

test('date + request-line signed by the client: proxied, Authorization hidden', async () => {
  const date = new Date().toUTCString();
  const auth = sign([`date: ${date}`, 'GET /hmac/items?q=1 HTTP/1.1'], 'date request-line');
  const r = await fetch(`${gw.proxy}/hmac/items?q=1`, { headers: { date, authorization: auth } });
  assert.equal(r.status, 200);
  const seen = await r.json() as Seen;
  assert.equal(seen.headers['x-consumer-username'], 'alice');
  assert.equal(seen.headers['x-credential-identifier'], 'alice-hmac');
  assert.equal(seen.headers['authorization'], undefined);
});

test('signature over another path does not match; enforce_headers missing cannot be verified', async () => {
  const date = new Date().toUTCString();
  const wrong = await fetch(`${gw.proxy}/hmac/other`, { headers: { date, authorization: sign([`date: ${date}`, 'GET /hmac/items HTTP/1.1'], 'date request-line') } });
  assert.equal(await wrong.text(), '{\n  "message":"HMAC signature does not match"\n}');
  const unenforced = await fetch(`${gw.proxy}/hmac`, { headers: { date, authorization: sign(['GET /hmac HTTP/1.1'], 'request-line') } });
  assert.equal(await unenforced.text(), '{\n  "message":"HMAC signature cannot be verified"\n}');
});

test('validate_request_body: Digest checked, body still reaches the upstream', async () => {
  const body = JSON.stringify({ amount: 10 });
  const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
  const date = new Date().toUTCString();
  const auth = sign([`date: ${date}`, `digest: ${digest}`], 'date digest');
  const ok = await fetch(`${gw.proxy}/digest`, { method: 'POST', body, headers: { date, digest, authorization: auth, 'content-type': 'application/json' } });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json() as Seen).body, body);
  const tampered = await fetch(`${gw.proxy}/digest`, { method: 'POST', body: '{"amount":9999}', headers: { date, digest, authorization: auth } });
  assert.equal(tampered.status, 401);
  assert.equal(tampered.headers.get('www-authenticate'), 'hmac realm="signed"');
  assert.equal(await tampered.text(), '{\n  "message":"HMAC signature does not match"\n}');
});
