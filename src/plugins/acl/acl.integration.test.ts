/**
 * acl end to end through a real gateway behind key-auth: 401/403 bodies and the groups header the
 * upstream receives.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;
interface Seen { headers: Record<string, string> }

before(async () => {
  up = await startRecordingUpstream();
  const withAuth = (name: string, acl: Record<string, unknown>) => ({
    name, paths: [`/${name}`], plugins: [{ name: 'key-auth' }, { name: 'acl', config: acl }],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          withAuth('allow', { allow: ['admin'] }),
          withAuth('deny', { deny: ['banned'] }),
          withAuth('hidden', { allow: ['admin'], hide_groups_header: true }),
          { name: 'noauth', paths: ['/noauth'], plugins: [{ name: 'acl', config: { allow: ['admin'] } }] },
        ],
      }],
      consumers: [
        { username: 'root', keyauth_credentials: [{ key: 'root-key' }], acls: [{ group: 'admin' }, { group: 'ops' }] },
        { username: 'eve', keyauth_credentials: [{ key: 'eve-key' }], acls: [{ group: 'banned' }] },
        { username: 'plain', keyauth_credentials: [{ key: 'plain-key' }] },
      ],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

const get = (path: string, key?: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.proxy}${path}`, { headers: key ? { apikey: key, ...headers } : headers });

test('allowed consumer: X-Consumer-Groups lists all its groups', async () => {
  const r = await get('/allow', 'root-key', { 'x-consumer-groups': 'forged' });
  assert.equal(r.status, 200);
  assert.equal((await r.json() as Seen).headers['x-consumer-groups'], 'admin, ops');
});

test('consumer not in the allow list, or without groups: 403 You cannot consume this service', async () => {
  for (const key of ['eve-key', 'plain-key']) {
    const r = await get('/allow', key);
    assert.equal(r.status, 403);
    assert.equal(await r.text(), '{\n  "message":"You cannot consume this service"\n}');
  }
});

test('deny-mode', async () => {
  const eve = await get('/deny', 'eve-key');
  assert.equal(eve.status, 403);
  await eve.arrayBuffer();
  const plain = await get('/deny', 'plain-key');
  assert.equal(plain.status, 200, 'no groups: allowed in deny-mode');
  await plain.arrayBuffer();
});

test('hide_groups_header', async () => {
  const r = await get('/hidden', 'root-key');
  assert.equal((await r.json() as Seen).headers['x-consumer-groups'], undefined);
});

test('no auth plugin: 401 Unauthorized', async () => {
  const r = await get('/noauth');
  assert.equal(r.status, 401);
  assert.equal(await r.text(), '{\n  "message":"Unauthorized"\n}');
});
