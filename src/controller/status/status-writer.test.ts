/**
 * The controller's status writes against the test API server, with the controller running in this
 * process and a stand-in gateway Admin API that accepts every config: Ingress load-balancer
 * addresses from the `--publish-service` Service (only for Ingresses in the served config, and only
 * once a LoadBalancer is provisioned), the Gateway's Accepted/Programmed conditions, addresses and
 * listener status with attachedRoutes, nothing at all from a replica that is not the leader, and
 * the publish Service found outside `--watch-namespace`.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { startTestCluster, type TestCluster } from '../../../test/k8s-api/helpers.ts';
import { freePort } from '../../../test/harness/ports.ts';
import { runController, type RunningController } from '../controller.ts';
import { loadKubeConfig, patchStatus, type KubeObject } from '../k8s/index.ts';

const objects = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kong' } },
  { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kong' }, spec: { controller: 'ingress-controllers.konghq.com/kong' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kong-proxy', namespace: 'kong' }, spec: { type: 'LoadBalancer', ports: [{ name: 'proxy', port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'kong' }, spec: { ports: [{ name: 'http', port: 1027 }] } },
  {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'echo-1', namespace: 'kong', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 1027 }], endpoints: [{ addresses: ['10.244.0.9'], conditions: { ready: true } }],
  },
  ...['echo', 'other'].map((name) => ({
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'kong' },
    spec: { ingressClassName: name === 'echo' ? 'kong' : 'nginx', rules: [{ http: { paths: [{ path: `/${name}`, pathType: 'Prefix', backend: { service: { name: 'echo', port: { number: 1027 } } } }] } }] },
  })),
  {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'kong', annotations: { 'konghq.com/gatewayclass-unmanaged': 'true' } },
    spec: { controllerName: 'konghq.com/kic-gateway-controller' },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'kong', namespace: 'kong' },
    spec: { gatewayClassName: 'kong', listeners: [{ name: 'proxy', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }, { name: 'stream', port: 9000, protocol: 'TCP' }] },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'echo', namespace: 'kong' },
    spec: { parentRefs: [{ name: 'kong' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/route' } }], backendRefs: [{ name: 'echo', port: 1027 }] }] },
  },
];

/** A gateway Admin API that takes every config. */
async function startAdminStub(): Promise<{ url: string; pushes: number; close(): void }> {
  let hash = '00000000000000000000000000000000';
  const stub = { url: '', pushes: 0, close: () => { server.closeAllConnections(); server.close(); } };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/config')) {
        stub.pushes++;
        hash = String(body.length).padStart(32, '0');
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      } else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ configuration_hash: hash }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

describe('status writer', () => {
  let c: TestCluster;
  let admin: Awaited<ReturnType<typeof startAdminStub>>;
  const running: RunningController[] = [];
  before(async () => {
    c = await startTestCluster({ initialObjects: objects });
    admin = await startAdminStub();
  });
  after(async () => {
    for (const r of running) await r.stop();
    admin.close();
    await c.close();
  });

  const start = async (extra: { leaderElection: boolean; namespace?: string }) => {
    const ctl = await runController({
      kubeconfig: c.kubeconfig, translate: {}, gatewayAdminUrls: [admin.url], kongAdminPortNames: [],
      publishService: 'kong/kong-proxy', publishStatusAddress: [],
      healthListen: `127.0.0.1:${await freePort()}`, metricsListen: `127.0.0.1:${await freePort()}`,
      electionId: 'status-test', electionNamespace: 'kong', log: pino({ level: 'silent' }), ...extra,
    });
    running.push(ctl);
    return ctl;
  };
  const status = (apiVersion: string, kind: string, name: string) =>
    (c.server.get(apiVersion, kind, name, 'kong')?.status ?? {}) as Record<string, unknown>;

  test('a replica that is not the leader writes no status', async () => {
    c.server.create({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'status-test', namespace: 'kong' },
      spec: { holderIdentity: 'someone-else', leaseDurationSeconds: 60, renewTime: new Date().toISOString().replace('Z', '000Z'), acquireTime: new Date().toISOString().replace('Z', '000Z') },
    });
    const follower = await start({ leaderElection: true });
    const report = await follower.sync.sync();
    assert.ok(report, 'a pass ran');
    assert.equal(admin.pushes, 0, 'a follower does not push');
    assert.equal(c.server.get('gateway.networking.k8s.io/v1', 'Gateway', 'kong', 'kong')?.status, undefined);
    assert.equal(c.server.get('gateway.networking.k8s.io/v1', 'GatewayClass', 'kong')?.status, undefined);
    await follower.stop();
    running.pop();
    c.server.remove('coordination.k8s.io/v1', 'Lease', 'status-test', 'kong');
  });

  test('the leader writes Gateway status and, once the load balancer exists, Ingress addresses', async () => {
    const leader = await start({ leaderElection: false });
    const first = await leader.sync.sync();
    assert.equal(first?.ok, true);

    const gw = status('gateway.networking.k8s.io/v1', 'Gateway', 'kong') as { conditions: Record<string, unknown>[]; listeners: Record<string, unknown>[]; addresses?: unknown };
    assert.deepEqual(gw.conditions.map((x) => [x.type, x.status, x.reason, x.observedGeneration]), [['Accepted', 'True', 'Accepted', 1], ['Programmed', 'True', 'Programmed', 1]]);
    assert.equal(gw.addresses, undefined, 'the load balancer is not provisioned yet');
    const [proxy, stream] = gw.listeners as { name: string; attachedRoutes: number; supportedKinds: unknown[]; conditions: { type: string; status: string; reason: string }[] }[];
    assert.equal(proxy!.name, 'proxy');
    assert.equal(proxy!.attachedRoutes, 1);
    assert.deepEqual(proxy!.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
    assert.deepEqual(proxy!.conditions.map((x) => `${x.type}=${x.status}`), ['Accepted=True', 'Conflicted=False', 'Programmed=True', 'ResolvedRefs=True']);
    assert.equal(stream!.attachedRoutes, 0);
    assert.deepEqual(stream!.conditions.map((x) => `${x.type}=${x.status}/${x.reason}`), ['Accepted=False/UnsupportedProtocol', 'Programmed=False/Invalid']);
    assert.deepEqual(status('networking.k8s.io/v1', 'Ingress', 'echo').loadBalancer ?? {}, {}, 'no address before the load balancer is provisioned');

    // The cloud provider provisions the load balancer.
    const kc = loadKubeConfig(c.kubeconfig);
    const svc = c.server.get('v1', 'Service', 'kong-proxy', 'kong') as KubeObject;
    await patchStatus(kc, svc, { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { hostname: 'lb.example.com' }] } });
    for (let i = 0; i < 100 && !(leader.store.get('Service', 'kong', 'kong-proxy')?.['status'] as { loadBalancer?: { ingress?: unknown } } | undefined)?.loadBalancer?.ingress; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await leader.sync.sync();
    assert.deepEqual(status('networking.k8s.io/v1', 'Ingress', 'echo').loadBalancer, { ingress: [{ ip: '203.0.113.10' }, { hostname: 'lb.example.com' }] });
    assert.deepEqual(status('networking.k8s.io/v1', 'Ingress', 'other').loadBalancer ?? {}, {}, 'an Ingress of another class is not ours');
    const after = status('gateway.networking.k8s.io/v1', 'Gateway', 'kong') as { addresses: unknown; conditions: { lastTransitionTime: string }[] };
    assert.deepEqual(after.addresses, [{ type: 'Hostname', value: 'lb.example.com' }, { type: 'IPAddress', value: '203.0.113.10' }]);
    assert.equal(after.conditions[0]!.lastTransitionTime, gw.conditions[0]!.lastTransitionTime, 'an unchanged condition keeps its transition time');
  });

  test('with --watch-namespace the publish Service is still read from its own namespace', async () => {
    while (running.length > 0) await running.pop()!.stop();
    c.server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
    c.server.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'apps' }, spec: { ports: [{ name: 'http', port: 80 }] } });
    c.server.create({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'apps' },
      spec: { ingressClassName: 'kong', rules: [{ http: { paths: [{ path: '/web', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    const scoped = await start({ leaderElection: false, namespace: 'apps' });
    const report = await scoped.sync.sync();
    assert.equal(report?.ok, true);
    assert.deepEqual((c.server.get('networking.k8s.io/v1', 'Ingress', 'web', 'apps')?.status as { loadBalancer?: unknown } | undefined)?.loadBalancer,
      { ingress: [{ ip: '203.0.113.10' }, { hostname: 'lb.example.com' }] });
  });
});
