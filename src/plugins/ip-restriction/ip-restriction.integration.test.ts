/**
 * ip-restriction through a real gateway that trusts 127.0.0.1 as a proxy, so X-Real-IP stands in
 * for the client address (Kong's realip model: the plugin sees the forwarded IP).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

before(async () => {
  up = await startRecordingUpstream();
  const route = (name: string, config: Record<string, unknown>) => ({ name, paths: [`/${name}`], plugins: [{ name: 'ip-restriction', config }] });
  gw = await startGateway({
    args: ['--trusted-ips', '127.0.0.1', '--real-ip-header', 'X-Real-IP'],
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          route('deny', { deny: ['10.0.0.0/8'] }),
          route('allow', { allow: ['192.168.0.0/16', '127.0.0.1'] }),
          route('both', { allow: ['10.0.0.0/8'], deny: ['10.0.0.5'] }),
          route('custom', { deny: ['1.2.3.4'], status: 401, message: 'Go away' }),
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

const get = (path: string, ip?: string, accept?: string) =>
  fetch(`${gw.proxy}${path}`, { headers: { ...(ip ? { 'x-real-ip': ip } : {}), ...(accept ? { accept } : {}) } });

test('denied client: 403 with Kong\'s error template and the client IP', async () => {
  const r = await get('/deny', '10.1.2.3');
  assert.equal(r.status, 403);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  const body = await r.text();
  assert.match(body, /^\{\n {2}"message":"IP address not allowed: 10\.1\.2\.3"(,\n {2}"request_id":"[0-9a-f]+")?\n\}$/);
  const ok = await get('/deny', '11.1.2.3');
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
});

test('allow list: listed clients pass, the direct peer is matched without a forwarded IP', async () => {
  const a = await get('/allow', '192.168.1.1');
  assert.equal(a.status, 200);
  await a.arrayBuffer();
  const peer = await get('/allow');
  assert.equal(peer.status, 200);
  await peer.arrayBuffer();
  const refused = await get('/allow', '8.8.8.8', 'text/plain');
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /^IP address not allowed: 8\.8\.8\.8\n(request_id: [0-9a-f]+\n)?$/);
});

test('deny wins over allow', async () => {
  const ok = await get('/both', '10.0.0.4');
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
  const r = await get('/both', '10.0.0.5');
  assert.equal(r.status, 403);
  await r.arrayBuffer();
});

test('custom status and message', async () => {
  const r = await get('/custom', '1.2.3.4');
  assert.equal(r.status, 401);
  assert.match(await r.text(), /"message":"Go away"/);
});
