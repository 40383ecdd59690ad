/**
 * The getting-started walkthrough end to end, as a platform team runs it (reference kic.md §6):
 * the real `kubectl` applies the manifests in examples/getting-started to the Kubernetes API test
 * server, a real `turnpike controller` process translates them and pushes to a real gateway
 * process, and requests go through to the echo server. The Deployment is not run (no kubelet):
 * an EndpointSlice written here plays the endpoint controller's part. The Ingress variant is in
 * walkthrough-kubectl-ingress.test.ts; the shared steps are in walkthrough-harness.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EXAMPLES, echoManifest, eventually, expectEchoRoute, rateLimitCacheAndKeyAuth, startWalkthrough } from './walkthrough-harness.ts';

const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

test('getting started: kubectl apply -> controller -> gateway -> echo', { timeout: 240_000 }, async () => {
  const w = await startWalkthrough(cleanup);

  // Step 0: no route yet.
  await w.kubectl('apply', '-f', join(EXAMPLES, '00-gateway.yaml'));
  await w.controllerReady();
  const r0 = await w.get('/');
  assert.equal(r0.status, 404);
  assert.equal(await r0.text(), '{\n  "message":"no Route matched with those values"\n}');

  // Step 1 + 2: echo Service (without the step-5 annotation yet) and the HTTPRoute.
  await w.apply('echo.yaml', echoManifest(w.echoPort));
  await w.apply('route.yaml', `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: echo
  namespace: kong
  annotations: {konghq.com/strip-path: 'true'}
spec:
  parentRefs: [{name: kong, namespace: kong}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /echo}}]
    backendRefs: [{name: echo, kind: Service, port: 1027}]
`);
  await expectEchoRoute(w);

  // The Gateway reports itself programmed, with the route attached to its listener.
  const gateway = await eventually('Gateway status', async () => {
    const { stdout } = await w.kubectl('get', 'gateway', 'kong', '-n', 'kong', '-o', 'json');
    const g = JSON.parse(stdout) as { status?: { conditions?: { type: string; status: string }[]; listeners?: { name: string; attachedRoutes: number }[] } };
    return g.status?.listeners?.[0]?.attachedRoutes === 1 ? g.status : undefined;
  });
  assert.deepEqual(gateway.conditions?.map((c) => `${c.type}=${c.status}`), ['Accepted=True', 'Programmed=True']);
  assert.equal(gateway.listeners?.[0]?.name, 'proxy');

  await rateLimitCacheAndKeyAuth(w, 'httproute');
});
