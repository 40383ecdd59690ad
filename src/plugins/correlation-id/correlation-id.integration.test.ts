/**
 * correlation-id through a real gateway: generated ids reach the upstream, incoming ids are
 * kept, the echo reaches the client (also on a 404 from a later plugin's exit).
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
  const route = (name: string, config: Record<string, unknown>, more: unknown[] = []) => ({
    name, paths: [`/${name}`], plugins: [{ name: 'correlation-id', config }, ...more],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          route('default', {}),
          route('uuid', { generator: 'uuid', header_name: 'X-Correlation' }),
          route('tracker', { generator: 'tracker', echo_downstream: true }),
          route('echo', { echo_downstream: true }),
          route('exit', { echo_downstream: true }, [{ name: 'request-termination', config: { status_code: 404 } }]),
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

test('uuid#counter by default: sent upstream, not echoed', async () => {
  const r = await fetch(`${gw.proxy}/default`);
  const seen = await r.json() as Seen;
  assert.match(seen.headers['kong-request-id']!, /^[0-9a-f-]{36}#\d+$/);
  assert.equal(r.headers.get('kong-request-id'), null);
  const again = await (await fetch(`${gw.proxy}/default`)).json() as Seen;
  const [u1, n1] = seen.headers['kong-request-id']!.split('#');
  const [u2, n2] = again.headers['kong-request-id']!.split('#');
  assert.equal(u1, u2);
  assert.ok(Number(n2) > Number(n1));
});

test('uuid generator with a custom header name', async () => {
  const seen = await (await fetch(`${gw.proxy}/uuid`)).json() as Seen;
  assert.match(seen.headers['x-correlation']!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('tracker generator: server address, port, pid, connection, request count, time', async () => {
  const r = await fetch(`${gw.proxy}/tracker`);
  const seen = await r.json() as Seen;
  const id = seen.headers['kong-request-id']!;
  assert.match(id, new RegExp(`^127\\.0\\.0\\.1-${gw.proxyPort}-\\d+-\\d+-\\d+-\\d+\\.\\d{3}$`));
  assert.equal(r.headers.get('kong-request-id'), id);
});

test('an incoming id is kept and echoed', async () => {
  const r = await fetch(`${gw.proxy}/echo`, { headers: { 'Kong-Request-ID': 'from-client' } });
  const seen = await r.json() as Seen;
  assert.equal(seen.headers['kong-request-id'], 'from-client');
  assert.equal(r.headers.get('kong-request-id'), 'from-client');
});

test('echo on a response made by a later plugin', async () => {
  const r = await fetch(`${gw.proxy}/exit`);
  assert.equal(r.status, 404);
  assert.match(r.headers.get('kong-request-id') ?? '', /#\d+$/);
  await r.arrayBuffer();
});
