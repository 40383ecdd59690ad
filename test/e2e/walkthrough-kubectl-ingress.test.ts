/**
 * The getting-started walkthrough with an Ingress instead of an HTTPRoute (reference kic.md §6,
 * "Ingress alternative"), end to end with the real `kubectl`, a real controller and gateway
 * process: the same answers at every step. The controller runs with `--publish-service` naming
 * the proxy's LoadBalancer Service, so once the load balancer is provisioned the Ingress shows its
 * address, as `kubectl get ingress` does on a cluster running KIC.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { echoManifest, eventually, expectEchoRoute, rateLimitCacheAndKeyAuth, startWalkthrough } from './walkthrough-harness.ts';

const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

test('getting started with an Ingress: kubectl apply -> controller -> gateway -> echo', { timeout: 240_000 }, async () => {
  const w = await startWalkthrough(cleanup, ['--publish-service', 'kong/kong-gateway-proxy']);

  // Step 0: what the Helm chart installs (the IngressClass and the proxy Service); no route yet.
  await w.apply('install.yaml', `
apiVersion: v1
kind: Namespace
metadata: {name: kong}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kong}
spec: {controller: ingress-controllers.konghq.com/kong}
---
apiVersion: v1
kind: Service
metadata: {name: kong-gateway-proxy, namespace: kong}
spec:
  type: LoadBalancer
  ports: [{name: kong-proxy, port: 80, targetPort: 8000, protocol: TCP}]
`);
  await w.controllerReady();
  const r0 = await w.get('/');
  assert.equal(r0.status, 404);
  assert.equal(await r0.text(), '{\n  "message":"no Route matched with those values"\n}');

  // Step 1 + 2: echo Service and the Ingress.
  await w.apply('echo.yaml', echoManifest(w.echoPort));
  await w.apply('ingress.yaml', `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
  namespace: kong
  annotations:
    konghq.com/strip-path: 'true'
spec:
  ingressClassName: kong
  rules:
  - http:
      paths:
      - path: /echo
        pathType: ImplementationSpecific
        backend: {service: {name: echo, port: {number: 1027}}}
`);
  await expectEchoRoute(w);

  // The cloud provisions the load balancer; the Ingress then carries its address.
  await w.kubectl('patch', 'service', 'kong-gateway-proxy', '-n', 'kong', '--subresource=status', '--type=merge',
    '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"}]}}}');
  const address = await eventually('Ingress address', async () => {
    const { stdout } = await w.kubectl('get', 'ingress', 'echo', '-n', 'kong', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}');
    return stdout === '' ? undefined : stdout;
  });
  assert.equal(address, '203.0.113.10');

  await rateLimitCacheAndKeyAuth(w, 'ingress');
});
