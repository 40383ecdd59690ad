/**
 * Tests for the Kubernetes API test server: the real kubectl 1.32 drives the get-started walkthrough
 * (kic.md §6) against it — apply, annotate, label, re-apply a changed file, get, delete, create
 * namespace — and raw HTTP covers what informers depend on: watch replay from a resourceVersion,
 * bookmarks, 410 Expired after compaction, restarts, conflicts, patches, the status subresource.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, request, openWatch, sleep, type TestCluster } from './helpers.ts';

const installManifest = `
apiVersion: v1
kind: Namespace
metadata:
  name: kong
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: kong
  annotations:
    konghq.com/gatewayclass-unmanaged: 'true'
spec:
  controllerName: konghq.com/kic-gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: kong
spec:
  gatewayClassName: kong
  listeners:
  - name: proxy
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: All
`;

const echoManifest = `
apiVersion: v1
kind: Service
metadata:
  labels: {app: echo}
  name: echo
spec:
  ports:
    - {port: 1025, name: tcp,  protocol: TCP, targetPort: 1025}
    - {port: 1026, name: udp,  protocol: TCP, targetPort: 1026}
    - {port: 1027, name: http, protocol: TCP, targetPort: 1027}
    - {port: 1030, name: tls,  protocol: TCP, targetPort: 1030}
  selector: {app: echo}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels: {app: echo}
  name: echo
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
        - image: kong/go-echo:latest
          name: echo
          ports: [{containerPort: 1025}, {containerPort: 1026}, {containerPort: 1027}, {containerPort: 1030}]
          env:
            - {name: NODE_NAME,     valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
            - {name: POD_NAME,      valueFrom: {fieldRef: {fieldPath: metadata.name}}}
            - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
            - {name: POD_IP,        valueFrom: {fieldRef: {fieldPath: status.podIP}}}
`;

const routeManifest = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: echo
  namespace: kong
  annotations:
    konghq.com/strip-path: 'true'
spec:
  parentRefs:
  - name: kong
    namespace: kong
  rules:
  - matches:
    - path: {type: PathPrefix, value: /echo}
    backendRefs:
    - {name: echo, kind: Service, port: 1027}
`;

const pluginsManifest = `
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: rate-limit-5-min
  namespace: kong
  annotations:
    kubernetes.io/ingress.class: kong
plugin: rate-limiting
config:
  minute: 5
  policy: local
---
apiVersion: configuration.konghq.com/v1
kind: KongClusterPlugin
metadata:
  name: proxy-cache-all-endpoints
  namespace: kong
  annotations:
    kubernetes.io/ingress.class: kong
  labels:
    global: 'true'
plugin: proxy-cache
config:
  response_code: [200]
  request_method: [GET, HEAD]
  content_type: ['text/plain; charset=utf-8']
  cache_ttl: 300
  strategy: memory
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: key-auth
  namespace: kong
  annotations:
    kubernetes.io/ingress.class: kong
plugin: key-auth
`;

const consumerManifest = `
apiVersion: v1
kind: Secret
metadata:
  name: alex-key-auth
  namespace: kong
  labels:
    konghq.com/credential: key-auth
stringData:
  key: hello_world
---
apiVersion: configuration.konghq.com/v1
kind: KongConsumer
metadata:
  name: alex
  namespace: kong
  annotations:
    kubernetes.io/ingress.class: kong
username: alex
credentials:
- alex-key-auth
`;

describe('kubectl against the test API server (walkthrough)', () => {
  let c: TestCluster;
  before(async () => { c = await startTestCluster(); });
  after(async () => { await c.close(); });

  test('apply the install manifest with -n kong: Namespace, cluster-scoped GatewayClass, namespaced Gateway', async () => {
    const r = await c.kubectl(['apply', '-n', 'kong', '-f', '-'], installManifest);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace\/kong created/);
    assert.match(r.stdout, /gatewayclass.gateway.networking.k8s.io\/kong created/);
    assert.match(r.stdout, /gateway.gateway.networking.k8s.io\/kong created/);
    const gc = c.server.get('gateway.networking.k8s.io/v1', 'GatewayClass', 'kong')!;
    assert.equal(gc.metadata && (gc.metadata as Record<string, unknown>).namespace, undefined);
    const gw = c.server.get('gateway.networking.k8s.io/v1', 'Gateway', 'kong', 'kong')!;
    const m = gw.metadata as Record<string, unknown>;
    assert.equal(m.generation, 1);
    assert.match(String(m.uid), /^[0-9a-f-]{36}$/);
    assert.match(String(m.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(String(m.resourceVersion), /^\d+$/);
    assert.ok((m.annotations as Record<string, string>)['kubectl.kubernetes.io/last-applied-configuration']);
    // Plain apply validates through the OpenAPI v3 documents and asks the server for strict validation.
    const posts = c.server.requests.filter((x) => x.method === 'POST');
    assert.ok(posts.every((x) => x.query.includes('fieldValidation=Strict')));
  });

  test('apply the echo Service + Deployment, the HTTPRoute, plugins and the consumer', async () => {
    for (const manifest of [echoManifest, routeManifest, pluginsManifest, consumerManifest]) {
      const r = await c.kubectl(['apply', '-n', 'kong', '-f', await c.file('m.yaml', manifest)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /created/);
    }
    const svc = c.server.get('v1', 'Service', 'echo', 'kong')!;
    const spec = svc.spec as Record<string, unknown>;
    assert.equal(spec.type, 'ClusterIP');
    assert.match(String(spec.clusterIP), /^10\.96\./);
    const secret = c.server.get('v1', 'Secret', 'alex-key-auth', 'kong')!;
    assert.deepEqual(secret.data, { key: Buffer.from('hello_world').toString('base64') });
    assert.equal(secret.stringData, undefined);
    assert.equal(secret.type, 'Opaque');
    const kcp = c.server.get('configuration.konghq.com/v1', 'KongClusterPlugin', 'proxy-cache-all-endpoints')!;
    assert.equal((kcp.metadata as Record<string, unknown>).namespace, undefined);
    assert.deepEqual((kcp.metadata as { labels: unknown }).labels, { global: 'true' });
    assert.equal(c.server.list('apps/v1', 'Deployment', 'kong').length, 1);
    assert.equal(c.server.list('gateway.networking.k8s.io/v1', 'HTTPRoute', 'kong').length, 1);
    assert.equal(c.server.get('configuration.konghq.com/v1', 'KongConsumer', 'alex', 'kong')!.username, 'alex');
  });

  test('kubectl get prints server-side tables', async () => {
    const svc = await c.kubectl(['get', 'svc', '-n', 'kong']);
    assert.equal(svc.code, 0, svc.stderr);
    assert.match(svc.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+PORT\(S\)\s+AGE/m);
    assert.match(svc.stdout, /^echo\s+ClusterIP\s+10\.96\.\S+\s+1025\/TCP,1026\/TCP,1027\/TCP,1030\/TCP\s+\d+s/m);
    const kp = await c.kubectl(['get', 'kongplugins', '-A']);
    assert.match(kp.stdout, /^NAMESPACE\s+NAME\s+PLUGIN-TYPE/m);
    assert.match(kp.stdout, /kong\s+key-auth\s+key-auth/);
    assert.match(kp.stdout, /kong\s+rate-limit-5-min\s+rate-limiting/);
    const kcp = await c.kubectl(['get', 'kcp']);
    assert.match(kcp.stdout, /proxy-cache-all-endpoints\s+proxy-cache/);
    const json = await c.kubectl(['get', 'httproute', 'echo', '-n', 'kong', '-o', 'json']);
    assert.equal(JSON.parse(json.stdout).spec.rules[0].backendRefs[0].port, 1027);
    const missing = await c.kubectl(['get', 'svc', 'nope', '-n', 'kong']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Error from server \(NotFound\): services "nope" not found/);
  });

  test('kubectl annotate --overwrite and kubectl label (merge patches)', async () => {
    const a1 = await c.kubectl(['annotate', '-n', 'kong', 'httproute', 'echo', 'konghq.com/plugins=rate-limit-5-min']);
    assert.equal(a1.code, 0, a1.stderr);
    const a2 = await c.kubectl(['annotate', 'service', 'echo', 'konghq.com/plugins=rate-limit-5-min,key-auth', '--overwrite', '-n', 'kong']);
    assert.equal(a2.code, 0, a2.stderr);
    assert.match(a2.stdout, /service\/echo annotated/);
    const svc = c.server.get('v1', 'Service', 'echo', 'kong')!;
    assert.equal((svc.metadata as { annotations: Record<string, string> }).annotations['konghq.com/plugins'], 'rate-limit-5-min,key-auth');
    const route = c.server.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'echo', 'kong')!;
    assert.equal((route.metadata as { annotations: Record<string, string> }).annotations['konghq.com/plugins'], 'rate-limit-5-min');
    // Annotating without --overwrite refuses to change an existing value.
    const a3 = await c.kubectl(['annotate', 'service', 'echo', 'konghq.com/plugins=x', '-n', 'kong']);
    assert.notEqual(a3.code, 0);
    const l = await c.kubectl(['label', '-n', 'kong', 'kongplugin', 'key-auth', 'team=edge']);
    assert.equal(l.code, 0, l.stderr);
    const kp = c.server.get('configuration.konghq.com/v1', 'KongPlugin', 'key-auth', 'kong')!;
    assert.deepEqual((kp.metadata as { labels: unknown }).labels, { team: 'edge' });
    // Metadata-only changes leave generation alone.
    assert.equal((kp.metadata as { generation: number }).generation, 1);
    const patches = c.server.requests.filter((x) => x.method === 'PATCH');
    assert.ok(patches.some((x) => x.path.endsWith('/kongplugins/key-auth') && x.contentType === 'application/merge-patch+json'));
  });

  test('re-applying a changed file patches: strategic merge for built-ins, merge patch for CRDs', async () => {
    const before = c.server.requests.length;
    const changedEcho = echoManifest
      .replace('{port: 1030, name: tls,  protocol: TCP, targetPort: 1030}', '{port: 1031, name: tls,  protocol: TCP, targetPort: 1030}')
      .replace('replicas: 1', 'replicas: 2')
      .replace(/\n\s+- \{name: POD_IP.*\n/, '\n');
    const changedPlugins = pluginsManifest.replace('minute: 5', 'minute: 10');
    const r1 = await c.kubectl(['apply', '-n', 'kong', '-f', await c.file('echo.yaml', changedEcho)]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, /service\/echo configured/);
    assert.match(r1.stdout, /deployment.apps\/echo configured/);
    const r2 = await c.kubectl(['apply', '-n', 'kong', '-f', await c.file('plugins.yaml', changedPlugins)]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /kongplugin.configuration.konghq.com\/rate-limit-5-min configured/);
    assert.match(r2.stdout, /kongclusterplugin.configuration.konghq.com\/proxy-cache-all-endpoints unchanged/);
    const patches = c.server.requests.slice(before).filter((x) => x.method === 'PATCH');
    assert.equal(patches.find((x) => x.path.endsWith('/services/echo'))?.contentType, 'application/strategic-merge-patch+json');
    assert.equal(patches.find((x) => x.path.endsWith('/deployments/echo'))?.contentType, 'application/strategic-merge-patch+json');
    assert.equal(patches.find((x) => x.path.endsWith('/kongplugins/rate-limit-5-min'))?.contentType, 'application/merge-patch+json');

    const svc = c.server.get('v1', 'Service', 'echo', 'kong')!;
    const ports = (svc.spec as { ports: { port: number }[] }).ports.map((p) => p.port);
    assert.deepEqual(ports, [1025, 1026, 1027, 1031]);
    // The annotation added by `kubectl annotate` survives a re-apply (three-way merge).
    assert.equal((svc.metadata as { annotations: Record<string, string> }).annotations['konghq.com/plugins'], 'rate-limit-5-min,key-auth');
    const deploy = c.server.get('apps/v1', 'Deployment', 'echo', 'kong')!;
    assert.equal((deploy.spec as { replicas: number }).replicas, 2);
    const env = (deploy.spec as { template: { spec: { containers: { env: { name: string }[] }[] } } }).template.spec.containers[0].env;
    assert.deepEqual(env.map((e) => e.name), ['NODE_NAME', 'POD_NAME', 'POD_NAMESPACE']);
    assert.equal((deploy.metadata as { generation: number }).generation, 2);
    const kp = c.server.get('configuration.konghq.com/v1', 'KongPlugin', 'rate-limit-5-min', 'kong')!;
    assert.deepEqual(kp.config, { minute: 10, policy: 'local' });
    assert.equal((kp.metadata as { generation: number }).generation, 2);
  });

  test('kubectl create namespace, and deleting a namespace removes what is in it', async () => {
    const r = await c.kubectl(['create', 'namespace', 'scratch']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace\/scratch created/);
    const ns = c.server.get('v1', 'Namespace', 'scratch')!;
    assert.deepEqual(ns.status, { phase: 'Active' });
    const cm = await c.kubectl(['create', 'configmap', 'settings', '-n', 'scratch', '--from-literal=a=b']);
    assert.equal(cm.code, 0, cm.stderr);
    const dup = await c.kubectl(['create', 'namespace', 'scratch']);
    assert.match(dup.stderr, /AlreadyExists.*namespaces "scratch" already exists/);
    const d = await c.kubectl(['delete', 'namespace', 'scratch']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(c.server.list('v1', 'ConfigMap', 'scratch').length, 0);
    const noNs = await c.kubectl(['create', 'configmap', 'x', '-n', 'scratch']);
    assert.match(noNs.stderr, /namespaces "scratch" not found/);
  });

  test('kubectl delete -f removes the objects and waits for them to go', async () => {
    const r = await c.kubectl(['delete', '-n', 'kong', '-f', await c.file('consumer.yaml', consumerManifest)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /secret "alex-key-auth" deleted/);
    assert.match(r.stdout, /kongconsumer.configuration.konghq.com "alex" deleted/);
    assert.equal(c.server.get('v1', 'Secret', 'alex-key-auth', 'kong'), undefined);
    const gone = await c.kubectl(['get', 'kongconsumer', 'alex', '-n', 'kong']);
    assert.match(gone.stderr, /kongconsumers.configuration.konghq.com "alex" not found/);
    const byName = await c.kubectl(['delete', 'kcp', 'proxy-cache-all-endpoints']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(c.server.list('configuration.konghq.com/v1', 'KongClusterPlugin').length, 0);
  });
});

describe('raw API semantics', () => {
  let c: TestCluster;
  before(async () => { c = await startTestCluster({ bookmarkIntervalMs: 200 }); });
  after(async () => { await c.close(); });
  const svc = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { ports: [{ port: 80 }] } });

  test('discovery: /api, /apis, group versions and OpenAPI v3 index', async () => {
    const api = await request(c.server.url, 'GET', '/api');
    assert.deepEqual(api.body.versions, ['v1']);
    const apis = await request(c.server.url, 'GET', '/apis');
    const gw = apis.body.groups.find((g: { name: string }) => g.name === 'gateway.networking.k8s.io');
    assert.equal(gw.preferredVersion.version, 'v1');
    const kong = await request(c.server.url, 'GET', '/apis/configuration.konghq.com/v1');
    const kcp = kong.body.resources.find((r: { name: string }) => r.name === 'kongclusterplugins');
    assert.equal(kcp.namespaced, false);
    assert.ok(kong.body.resources.some((r: { name: string }) => r.name === 'kongplugins/status'));
    const oapi = await request(c.server.url, 'GET', '/openapi/v3');
    assert.ok(oapi.body.paths['apis/configuration.konghq.com/v1'].serverRelativeURL.startsWith('/openapi/v3/apis/configuration.konghq.com/v1?hash='));
    const missing = await request(c.server.url, 'GET', '/apis/nope.example.com/v1');
    assert.equal(missing.status, 404);
  });

  test('create defaults, 409 AlreadyExists, PUT with a stale resourceVersion is a 409 Conflict', async () => {
    const created = await request(c.server.url, 'POST', '/api/v1/namespaces/default/services', svc('a'));
    assert.equal(created.status, 201);
    assert.equal(created.body.metadata.namespace, 'default');
    const again = await request(c.server.url, 'POST', '/api/v1/namespaces/default/services', svc('a'));
    assert.equal(again.status, 409);
    assert.equal(again.body.reason, 'AlreadyExists');
    const obj = created.body;
    obj.spec.ports[0].port = 81;
    const put = await request(c.server.url, 'PUT', '/api/v1/namespaces/default/services/a', obj);
    assert.equal(put.status, 200);
    assert.notEqual(put.body.metadata.resourceVersion, obj.metadata.resourceVersion);
    const stale = await request(c.server.url, 'PUT', '/api/v1/namespaces/default/services/a', obj);
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    assert.match(stale.body.message, /the object has been modified/);
    // A no-op update does not move the resourceVersion.
    const same = await request(c.server.url, 'PUT', '/api/v1/namespaces/default/services/a', put.body);
    assert.equal(same.body.metadata.resourceVersion, put.body.metadata.resourceVersion);
    const invalid = await request(c.server.url, 'POST', '/api/v1/namespaces/default/services', svc('Bad_Name'));
    assert.equal(invalid.status, 422);
  });

  test('patches: JSON patch, merge patch, strategic merge refused for custom resources', async () => {
    const jp = await request(c.server.url, 'PATCH', '/api/v1/namespaces/default/services/a',
      [{ op: 'add', path: '/metadata/labels', value: { x: '1' } }, { op: 'replace', path: '/spec/ports/0/port', value: 82 }], 'application/json-patch+json');
    assert.equal(jp.status, 200);
    assert.equal(jp.body.spec.ports[0].port, 82);
    const bad = await request(c.server.url, 'PATCH', '/api/v1/namespaces/default/services/a', [{ op: 'test', path: '/spec/type', value: 'NodePort' }], 'application/json-patch+json');
    assert.equal(bad.status, 422);
    await request(c.server.url, 'POST', '/apis/configuration.konghq.com/v1/namespaces/default/kongplugins', { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'p' }, plugin: 'key-auth', config: { a: 1, b: 2 } });
    const mp = await request(c.server.url, 'PATCH', '/apis/configuration.konghq.com/v1/namespaces/default/kongplugins/p', { config: { a: null, c: 3 } }, 'application/merge-patch+json');
    assert.deepEqual(mp.body.config, { b: 2, c: 3 });
    const smp = await request(c.server.url, 'PATCH', '/apis/configuration.konghq.com/v1/namespaces/default/kongplugins/p', { config: {} }, 'application/strategic-merge-patch+json');
    assert.equal(smp.status, 415);
  });

  test('status subresource: the main resource ignores status, /status ignores everything else', async () => {
    const base = '/apis/configuration.konghq.com/v1/namespaces/default/kongconsumers';
    const created = await request(c.server.url, 'POST', base, { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', metadata: { name: 'u' }, username: 'u', status: { conditions: [{ type: 'X' }] } });
    assert.equal(created.body.status, undefined);
    const st = await request(c.server.url, 'PATCH', `${base}/u/status`, { status: { conditions: [{ type: 'Programmed', status: 'True' }] }, username: 'changed' }, 'application/merge-patch+json');
    assert.equal(st.status, 200);
    assert.equal(st.body.username, 'u');
    assert.equal(st.body.status.conditions[0].type, 'Programmed');
    assert.equal(st.body.metadata.generation, 1);
    const main = await request(c.server.url, 'PATCH', `${base}/u`, { username: 'v', status: { conditions: [] } }, 'application/merge-patch+json');
    assert.equal(main.body.username, 'v');
    assert.equal(main.body.status.conditions[0].type, 'Programmed');
    assert.equal(main.body.metadata.generation, 2);
  });

  test('list with label and field selectors, limit/continue, and typed lists without item kinds', async () => {
    for (const n of ['s1', 's2', 's3']) await request(c.server.url, 'POST', '/api/v1/namespaces/default/services', svc(n, { tier: n === 's2' ? 'b' : 'a' }));
    const byLabel = await request(c.server.url, 'GET', '/api/v1/namespaces/default/services?labelSelector=tier%3Da');
    assert.deepEqual(byLabel.body.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['s1', 's3']);
    assert.equal(byLabel.body.items[0].kind, undefined);
    assert.equal(byLabel.body.kind, 'ServiceList');
    const inSet = await request(c.server.url, 'GET', '/api/v1/services?labelSelector=' + encodeURIComponent('tier in (b),!missing'));
    assert.deepEqual(inSet.body.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['s2']);
    const byField = await request(c.server.url, 'GET', '/api/v1/services?fieldSelector=metadata.name%3Ds3,metadata.namespace%3Ddefault');
    assert.equal(byField.body.items.length, 1);
    const page1 = await request(c.server.url, 'GET', '/api/v1/namespaces/default/services?limit=2');
    assert.equal(page1.body.items.length, 2);
    const page2 = await request(c.server.url, 'GET', `/api/v1/namespaces/default/services?limit=2&continue=${encodeURIComponent(page1.body.metadata.continue)}`);
    assert.equal(page1.body.items.length + page2.body.items.length, 4);
    const crdList = await request(c.server.url, 'GET', '/apis/configuration.konghq.com/v1/kongplugins');
    assert.equal(crdList.body.items[0].kind, 'KongPlugin');
  });

  test('watch from a resourceVersion replays later events, then streams ADDED/MODIFIED/DELETED', async () => {
    const list = await request(c.server.url, 'GET', '/api/v1/namespaces/default/configmaps');
    const rv = list.body.metadata.resourceVersion;
    await request(c.server.url, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' } });
    const w = await openWatch(c.server.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`);
    assert.equal(w.status, 200);
    await w.waitFor((e) => e.length === 1);
    assert.equal(w.events[0].type, 'ADDED');
    assert.equal(w.events[0].object.metadata.name, 'before');
    assert.equal(w.events[0].object.kind, 'ConfigMap');
    await request(c.server.url, 'PATCH', '/api/v1/namespaces/default/configmaps/before', { data: { k: 'v' } }, 'application/merge-patch+json');
    await request(c.server.url, 'DELETE', '/api/v1/namespaces/default/configmaps/before');
    await w.waitFor((e) => e.length === 3);
    assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    assert.ok(rvs[0] < rvs[1] && rvs[1] < rvs[2]);
    w.close();
  });

  test('watch without a resourceVersion starts with synthetic ADDED events; label changes become ADDED/DELETED', async () => {
    const w = await openWatch(c.server.url, '/api/v1/namespaces/default/services?watch=true&labelSelector=tier%3Da');
    await w.waitFor((e) => e.length === 2);
    assert.deepEqual(w.events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:s1', 'ADDED:s3']);
    await request(c.server.url, 'PATCH', '/api/v1/namespaces/default/services/s1', { metadata: { labels: { tier: 'z' } } }, 'application/merge-patch+json');
    await request(c.server.url, 'PATCH', '/api/v1/namespaces/default/services/s2', { metadata: { labels: { tier: 'a' } } }, 'application/merge-patch+json');
    await w.waitFor((e) => e.length === 4);
    assert.deepEqual(w.events.slice(2).map((e) => `${e.type}:${e.object.metadata.name}`), ['DELETED:s1', 'ADDED:s2']);
    w.close();
  });

  test('bookmarks carry the current resourceVersion; sendInitialEvents ends with the initial-events-end bookmark', async () => {
    const w = await openWatch(c.server.url, '/api/v1/namespaces/default/services?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan');
    await w.waitFor((e) => e.filter((x) => x.type === 'BOOKMARK').length >= 2, 3000);
    const first = w.events.findIndex((e) => e.type === 'BOOKMARK');
    assert.equal(w.events[first].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
    assert.ok(w.events.slice(0, first).every((e) => e.type === 'ADDED'));
    const periodic = w.events.filter((e) => e.type === 'BOOKMARK')[1];
    assert.equal(periodic.object.kind, 'Service');
    assert.equal(periodic.object.metadata.resourceVersion, c.server.resourceVersion);
    w.close();
  });

  test('timeoutSeconds ends the stream', async () => {
    const w = await openWatch(c.server.url, '/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1');
    const t0 = Date.now();
    await w.ended;
    assert.ok(Date.now() - t0 >= 900);
  });

  test('compact(): watching from an older resourceVersion gets an in-stream 410 Expired ERROR', async () => {
    const old = c.server.resourceVersion;
    await request(c.server.url, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-old' } });
    c.server.compact();
    const w = await openWatch(c.server.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old}`);
    await w.ended;
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0].type, 'ERROR');
    assert.equal(w.events[0].object.code, 410);
    assert.equal(w.events[0].object.reason, 'Expired');
    assert.match(w.events[0].object.message, /too old resource version/);
    // Watching from the current version is still fine.
    const ok = await openWatch(c.server.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${c.server.resourceVersion}`);
    await request(c.server.url, 'DELETE', '/api/v1/namespaces/default/configmaps/after-old');
    await ok.waitFor((e) => e.some((x) => x.type === 'DELETED'));
    ok.close();
  });

  test('dropWatches() and failNext() are seen by clients', async () => {
    const w = await openWatch(c.server.url, '/api/v1/namespaces/default/configmaps?watch=1');
    await sleep(50);
    assert.equal(c.server.dropWatches(), 1);
    await w.ended;
    c.server.failNext(2, 500);
    assert.equal((await request(c.server.url, 'GET', '/api/v1/namespaces')).status, 500);
    const second = await request(c.server.url, 'GET', '/api/v1/namespaces');
    assert.equal(second.status, 500);
    assert.equal(second.body.reason, 'InternalError');
    assert.equal((await request(c.server.url, 'GET', '/api/v1/namespaces')).status, 200);
  });

  test('restart() keeps state and port; a watch resumes from its resourceVersion and sees changes made while down', async () => {
    const rv = c.server.resourceVersion;
    const w = await openWatch(c.server.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`);
    const port = c.server.port;
    await c.server.restart({ whileDown: () => { c.server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'made-while-down', namespace: 'default' } }); } });
    await w.ended;
    assert.equal(c.server.port, port);
    const again = await openWatch(c.server.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`);
    await again.waitFor((e) => e.some((x) => x.object.metadata.name === 'made-while-down'));
    again.close();
    assert.ok(c.server.get('v1', 'Service', 's1'));
    await c.server.restart({ dropState: true });
    assert.equal(c.server.get('v1', 'Service', 's1'), undefined);
    const expired = await openWatch(c.server.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`);
    await expired.ended;
    assert.equal(expired.events[0].object.code, 410);
  });

  test('finalizers hold deletion until they are removed', async () => {
    const base = '/api/v1/namespaces/default/configmaps';
    await request(c.server.url, 'POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    const del = await request(c.server.url, 'DELETE', `${base}/fin`);
    assert.equal(del.status, 202);
    assert.ok(del.body.metadata.deletionTimestamp);
    assert.equal((await request(c.server.url, 'GET', `${base}/fin`)).status, 200);
    await request(c.server.url, 'PATCH', `${base}/fin`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    assert.equal((await request(c.server.url, 'GET', `${base}/fin`)).status, 404);
  });

  test('core and events.k8s.io Events share storage; Leases store MicroTime fields', async () => {
    const ev = await request(c.server.url, 'POST', '/api/v1/namespaces/default/events', {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: { kind: 'Service', name: 'a', namespace: 'default' },
      reason: 'Tested', message: 'hello', type: 'Normal', source: { component: 'test' },
    });
    assert.equal(ev.status, 201);
    const v1 = await request(c.server.url, 'GET', '/apis/events.k8s.io/v1/namespaces/default/events/e1');
    assert.equal(v1.body.apiVersion, 'events.k8s.io/v1');
    assert.equal(v1.body.note, 'hello');
    assert.equal(v1.body.regarding.name, 'a');
    const fieldSel = await request(c.server.url, 'GET', '/api/v1/events?fieldSelector=involvedObject.name%3Da,reason%3DTested');
    assert.equal(fieldSel.body.items.length, 1);
    const lease = await request(c.server.url, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'me', renewTime: '2025-01-01T00:00:00.000000Z', leaseDurationSeconds: 15 },
    });
    assert.equal(lease.body.spec.renewTime, '2025-01-01T00:00:00.000000Z');
  });

  test('POSTing a CRD starts serving an omitted kind', async () => {
    const c2 = await startTestCluster({ omitResources: ['kongupstreampolicies.configuration.konghq.com'] });
    try {
      const before = await request(c2.server.url, 'GET', '/apis/configuration.konghq.com/v1beta1/kongupstreampolicies');
      assert.equal(before.status, 404);
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'kongupstreampolicies.configuration.konghq.com' },
        spec: { group: 'configuration.konghq.com', scope: 'Namespaced', names: { kind: 'KongUpstreamPolicy', plural: 'kongupstreampolicies', singular: 'kongupstreampolicy', shortNames: ['kup'] },
          versions: [{ name: 'v1beta1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object' } } }] },
      };
      const r = await c2.kubectl(['apply', '-f', await c2.file('crd.yaml', JSON.stringify(crd))]);
      assert.equal(r.code, 0, r.stderr);
      const kup = await c2.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'configuration.konghq.com/v1beta1', kind: 'KongUpstreamPolicy', metadata: { name: 'sticky', namespace: 'default' }, spec: { algorithm: 'round-robin' } }));
      assert.equal(kup.code, 0, kup.stderr);
      const got = await c2.kubectl(['get', 'kup']);
      assert.match(got.stdout, /sticky/);
    } finally {
      await c2.close();
    }
  });
});
