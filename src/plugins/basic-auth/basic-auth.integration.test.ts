/**
 * basic-auth end to end through a real gateway: Kong's 401 body and challenge, hashed passwords
 * from the declarative file, consumer headers and hide_credentials upstream, and the "logical OR"
 * of two auth plugins with anonymous, guarded by acl.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;
interface Seen { url: string; headers: Record<string, string> }
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

before(async () => {
  up = await startRecordingUpstream();
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          { name: 'basic', paths: ['/basic'], plugins: [{ name: 'basic-auth' }] },
          { name: 'hidden', paths: ['/hidden'], plugins: [{ name: 'basic-auth', config: { hide_credentials: true, realm: 'private' } }] },
          {
            name: 'either', paths: ['/either'], plugins: [
              { name: 'key-auth', config: { anonymous: 'anonymous' } },
              { name: 'basic-auth', config: { anonymous: 'anonymous' } },
              { name: 'acl', config: { allow: ['users'] } },
            ],
          },
          {
            name: 'both', paths: ['/both'], plugins: [{ name: 'key-auth' }, { name: 'basic-auth' }],
          },
        ],
      }],
      consumers: [
        {
          username: 'alice', custom_id: 'c-alice',
          basicauth_credentials: [{ username: 'alice', password: 'open sesame' }],
          keyauth_credentials: [{ key: 'alice-key' }],
          acls: [{ group: 'users' }],
        },
        { username: 'anonymous' },
      ],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

test('no credentials: 401 Unauthorized, WWW-Authenticate: Basic realm="service"', async () => {
  const r = await fetch(`${gw.proxy}/basic`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Basic realm="service"');
  assert.equal(await r.text(), '{\n  "message":"Unauthorized"\n}');
});

test('wrong password: 401 Unauthorized', async () => {
  const r = await fetch(`${gw.proxy}/basic`, { headers: { authorization: basic('alice', 'nope') } });
  assert.equal(r.status, 401);
  assert.equal(await r.text(), '{\n  "message":"Unauthorized"\n}');
});

test('right password (stored hashed by the loader): proxied with consumer headers', async () => {
  const r = await fetch(`${gw.proxy}/basic`, { headers: { authorization: basic('alice', 'open sesame'), 'x-anonymous-consumer': 'true' } });
  assert.equal(r.status, 200);
  const seen = await r.json() as Seen;
  assert.equal(seen.headers['x-consumer-username'], 'alice');
  assert.equal(seen.headers['x-consumer-custom-id'], 'c-alice');
  assert.equal(seen.headers['x-credential-identifier'], 'alice');
  assert.equal(seen.headers['x-anonymous-consumer'], undefined);
  assert.equal(seen.headers['authorization'], basic('alice', 'open sesame'));
});

test('hide_credentials and realm', async () => {
  const r = await fetch(`${gw.proxy}/hidden`, { headers: { authorization: basic('alice', 'open sesame') } });
  const seen = await r.json() as Seen;
  assert.equal(seen.headers['authorization'], undefined);
  const denied = await fetch(`${gw.proxy}/hidden`);
  assert.equal(denied.headers.get('www-authenticate'), 'Basic realm="private"');
  await denied.arrayBuffer();
});

test('logical OR: either credential passes; none falls to anonymous, which acl refuses', async () => {
  const byKey = await fetch(`${gw.proxy}/either`, { headers: { apikey: 'alice-key' } });
  assert.equal(byKey.status, 200);
  const keySeen = await byKey.json() as Seen;
  assert.equal(keySeen.headers['x-consumer-username'], 'alice');
  assert.equal(keySeen.headers['x-consumer-groups'], 'users');

  const byBasic = await fetch(`${gw.proxy}/either`, { headers: { authorization: basic('alice', 'open sesame') } });
  assert.equal(byBasic.status, 200);
  assert.equal((await byBasic.json() as Seen).headers['x-credential-identifier'], 'alice');

  const none = await fetch(`${gw.proxy}/either`);
  assert.equal(none.status, 401);
  assert.equal(await none.text(), '{\n  "message":"Unauthorized"\n}');
});

test('logical AND: both plugins must pass', async () => {
  const one = await fetch(`${gw.proxy}/both`, { headers: { apikey: 'alice-key' } });
  assert.equal(one.status, 401);
  assert.equal(one.headers.get('www-authenticate'), 'Basic realm="service"');
  await one.arrayBuffer();
  const both = await fetch(`${gw.proxy}/both`, { headers: { apikey: 'alice-key', authorization: basic('alice', 'open sesame') } });
  assert.equal(both.status, 200);
  await both.arrayBuffer();
});
