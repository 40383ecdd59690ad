/**
 * openid-connect when the provider is not there: a gateway whose provider is down at start
 * answers 500 (it can neither accept nor blame a token) and never crashes; once the provider is up
 * the same gateway authenticates; cached keys are refreshed in the background after `cache_ttl`
 * and keep serving while the provider is down again.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';
import { startOidcIssuer, type OidcIssuer } from '../../../test/harness/oidc-issuer.ts';
import { freePort } from '../../../test/harness/ports.ts';

let gw: GatewayProcess;
let up: Upstream;
let idp: OidcIssuer | undefined;
let idpPort: number;

before(async () => {
  [up, idpPort] = await Promise.all([startRecordingUpstream(), freePort()]);
  const issuer = `http://127.0.0.1:${idpPort}/realms/test`;
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          { name: 'api', paths: ['/api'], plugins: [{ name: 'openid-connect', config: { issuer, cache_ttl: 1, timeout: 2000 } }] },
          { name: 'anon', paths: ['/anon'], plugins: [{ name: 'openid-connect', config: { issuer, anonymous: 'guest' } }] },
        ],
      }],
      consumers: [{ username: 'guest' }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await Promise.all([up?.close(), idp?.close()]);
});

/** A proxied request that fails, with the gateway's log, rather than hang the file until its time limit. */
async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(`${gw.proxy}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`GET ${path}: ${(err as Error).message}\n--- gateway output ---\n${gw.output()}`);
  }
}

/** Repeats `probe` until it returns true (the gateway retries the provider about once a second). */
async function eventually(probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('provider down at start: 500, also with anonymous; the gateway stays up', async () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
  for (const path of ['/api', '/anon']) {
    const r = await get(path, { authorization: `Bearer ${token}` });
    assert.equal(r.status, 500);
    assert.match(await r.text(), /An unexpected error occurred/);
  }
  // A request without any token is still a plain 401: no provider needed to say so.
  const none = await get('/api');
  assert.equal(none.status, 401);
  await none.arrayBuffer();
  assert.equal(gw.child.exitCode, null);
});

test('provider comes up: tokens verify; after cache_ttl keys refresh in the background; an outage keeps cached keys', async () => {
  idp = await startOidcIssuer({ port: idpPort });
  const provider = idp;
  const ok = async () => {
    const r = await get('/api', { authorization: `Bearer ${provider.token()}` });
    await r.arrayBuffer();
    return r.status === 200;
  };
  await eventually(ok);
  const first = provider.served.discovery;
  // cache_ttl is 1 s: a later request triggers a refresh that it does not wait for.
  await eventually(async () => (await ok()) && provider.served.discovery > first);
  await provider.close();
  idp = undefined;
  // A broken provider in its place: every connection is cut. Once the cache is stale again the
  // gateway tries it (in the background) and keeps verifying with the keys it has.
  let attempts = 0;
  const broken = net.createServer((s) => { attempts++; s.destroy(); });
  await new Promise<void>((r) => broken.listen(idpPort, '127.0.0.1', () => r()));
  try {
    await eventually(async () => {
      assert.equal(await ok(), true);
      return attempts > 0;
    });
    assert.equal(await ok(), true);
  } finally {
    await new Promise<void>((r) => broken.close(() => r()));
  }
});
