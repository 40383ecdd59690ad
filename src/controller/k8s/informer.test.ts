/**
 * Tests for `watchResources` against the test API server: the initial list arrives before `synced`,
 * changes made with kubectl stream in, and the informers survive dropped watches, injected 500s,
 * 410 Expired (relist without losing or repeating objects), API server restarts (with and without
 * state) and CRDs that are installed only later.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, request, sleep, type TestCluster } from '../../../test/k8s-api/helpers.ts';
import { watchResources, type KindSpec, type ResourceEventType, type ResourceWatch } from './index.ts';

const kinds: KindSpec[] = [
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true },
  { group: 'configuration.konghq.com', version: 'v1', plural: 'kongplugins', kind: 'KongPlugin', namespaced: true },
  { group: 'configuration.konghq.com', version: 'v1', plural: 'kongclusterplugins', kind: 'KongClusterPlugin', namespaced: false },
];

interface Obj { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; resourceVersion: string; labels?: Record<string, string> } }

/** Applies informer events to a map, as the controller's store does, and keeps the event log. */
class Collector {
  readonly log: { type: ResourceEventType; key: string }[] = [];
  readonly objects = new Map<string, Obj>();
  private waiters = new Set<() => void>();

  readonly onEvent = (type: ResourceEventType, raw: object) => {
    const obj = raw as Obj;
    const key = `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    this.log.push({ type, key });
    if (type === 'delete') this.objects.delete(key);
    else this.objects.set(key, obj);
    for (const w of [...this.waiters]) w();
  };

  count(type: ResourceEventType, key: string): number {
    return this.log.filter((e) => e.type === type && e.key === key).length;
  }

  waitFor(what: string, predicate: () => boolean, timeoutMs = 8000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; log: ${JSON.stringify(this.log.slice(-10))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

const svc = (name: string, namespace = 'kong') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80 }] } });

describe('watchResources', () => {
  let c: TestCluster;
  let w: ResourceWatch;
  const col = new Collector();
  let syncedCalls = 0;
  const logLines: string[] = [];

  before(async () => {
    c = await startTestCluster({
      initialObjects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kong' } },
        svc('one'), svc('two'), svc('other', 'default'),
        { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'kp', namespace: 'kong' }, plugin: 'key-auth' },
        { apiVersion: 'configuration.konghq.com/v1', kind: 'KongClusterPlugin', metadata: { name: 'kcp', labels: { global: 'true' } }, plugin: 'cors' },
      ],
    });
  });
  after(async () => {
    w?.stop();
    await c.close();
  });

  test('delivers the initial lists (with apiVersion/kind) and then resolves synced', async () => {
    let eventsAtSync = -1;
    w = watchResources({
      kubeconfig: c.kubeconfig,
      kinds,
      onEvent: col.onEvent,
      onSynced: () => { syncedCalls += 1; eventsAtSync = col.log.length; },
      log: (msg) => logLines.push(msg),
      backoff: { initialMs: 50, maxMs: 400 },
    });
    await w.synced;
    assert.equal(w.isSynced, true);
    assert.equal(syncedCalls, 1);
    assert.equal(eventsAtSync, 5);
    assert.deepEqual([...col.objects.keys()].sort(), [
      'KongClusterPlugin//kcp', 'KongPlugin/kong/kp', 'Service/default/other', 'Service/kong/one', 'Service/kong/two',
    ]);
    const one = col.objects.get('Service/kong/one')!;
    assert.equal(one.apiVersion, 'v1');
    assert.equal(one.kind, 'Service');
    assert.equal(col.objects.get('KongClusterPlugin//kcp')!.apiVersion, 'configuration.konghq.com/v1');
    assert.ok(col.log.every((e) => e.type === 'add'));
  });

  test('add, update and delete made with kubectl arrive in order', async () => {
    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'echo', namespace: 'kong' },
      spec: { parentRefs: [{ name: 'kong' }], rules: [{ backendRefs: [{ name: 'one', port: 80 }] }] },
    };
    const r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(route));
    assert.equal(r.code, 0, r.stderr);
    await col.waitFor('route add', () => col.count('add', 'HTTPRoute/kong/echo') === 1);
    const a = await c.kubectl(['annotate', '-n', 'kong', 'service', 'one', 'konghq.com/plugins=kp']);
    assert.equal(a.code, 0, a.stderr);
    await col.waitFor('service update', () => col.count('update', 'Service/kong/one') === 1);
    assert.equal((col.objects.get('Service/kong/one') as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations['konghq.com/plugins'], 'kp');
    const d = await c.kubectl(['delete', '-n', 'kong', 'kongplugin', 'kp']);
    assert.equal(d.code, 0, d.stderr);
    await col.waitFor('plugin delete', () => col.count('delete', 'KongPlugin/kong/kp') === 1);
    assert.equal(col.objects.has('KongPlugin/kong/kp'), false);
  });

  test('survives dropWatches() (graceful and abrupt) without repeating objects', async () => {
    await sleep(100);
    assert.ok(c.server.dropWatches() >= 4);
    c.server.create(svc('after-drop'));
    await col.waitFor('add after graceful drop', () => col.count('add', 'Service/kong/after-drop') === 1);
    await sleep(100);
    c.server.dropWatches({ abrupt: true });
    c.server.create(svc('after-abrupt'));
    await col.waitFor('add after abrupt drop', () => col.count('add', 'Service/kong/after-abrupt') === 1);
    for (const key of ['Service/kong/one', 'Service/kong/two', 'KongClusterPlugin//kcp']) assert.equal(col.count('add', key), 1, key);
  });

  test('survives failNext(3, 500) on the reconnect', async () => {
    await sleep(100);
    c.server.failNext(3, 500);
    c.server.dropWatches({ abrupt: true });
    c.server.create(svc('after-500s'));
    await col.waitFor('add after 500s', () => col.count('add', 'Service/kong/after-500s') === 1);
    assert.ok(c.server.requests.filter((r) => r.status === 500).length >= 3);
    assert.equal(col.count('add', 'Service/kong/two'), 1);
  });

  test('compact() then a dropped watch: 410 Expired, relist, nothing lost or repeated', async () => {
    await sleep(100);
    // Move the cluster resourceVersion past the informers' (a kind they do not watch), then forget history.
    c.server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bump', namespace: 'kong' } });
    c.server.compact();
    const before = col.log.length;
    const requestsBefore = c.server.requests.length;
    c.server.dropWatches();
    const relisted = () => c.server.requests.slice(requestsBefore).some((r) => r.method === 'GET' && !r.query.includes('watch') && r.path.endsWith('/services') && r.status === 200);
    const start = Date.now();
    while (!relisted() && Date.now() - start < 8000) await sleep(20);
    assert.ok(relisted(), 'services were relisted after 410');
    await sleep(200);
    assert.equal(col.log.length, before, 'a relist of unchanged objects emits nothing');
    c.server.create(svc('after-compact'));
    await col.waitFor('add after compact', () => col.count('add', 'Service/kong/after-compact') === 1);
  });

  test('restart() with changes made while down: relist reports exactly the differences', async () => {
    await sleep(100);
    const before = col.log.length;
    await c.server.restart({
      downMs: 300,
      whileDown: () => {
        c.server.create(svc('made-while-down'));
        c.server.remove('v1', 'Service', 'two', 'kong');
        const other = c.server.get('v1', 'Service', 'other', 'default')!;
        c.server.update({ ...other, metadata: { ...(other.metadata as object), labels: { changed: 'yes' } } });
        c.server.compact();
      },
    });
    await col.waitFor('differences after restart', () =>
      col.count('add', 'Service/kong/made-while-down') === 1 && col.count('delete', 'Service/kong/two') === 1 && col.count('update', 'Service/default/other') === 1);
    await sleep(300);
    const since = col.log.slice(before).map((e) => `${e.type}:${e.key}`).sort();
    assert.deepEqual(since, ['add:Service/kong/made-while-down', 'delete:Service/kong/two', 'update:Service/default/other']);
    assert.ok(logLines.some((l) => l.includes('restarting')));
  });

  test('restart() that drops all state: every object is reported deleted, new ones arrive', async () => {
    await sleep(100);
    await c.server.restart({ dropState: true });
    await col.waitFor('everything deleted', () => col.objects.size === 0);
    c.server.create({ apiVersion: 'configuration.konghq.com/v1', kind: 'KongClusterPlugin', metadata: { name: 'fresh' }, plugin: 'cors' });
    await col.waitFor('fresh add', () => col.count('add', 'KongClusterPlugin//fresh') === 1);
  });
});

describe('watchResources with a namespace and a CRD installed later', () => {
  test('watches one namespace; a kind that 404s counts as synced and is picked up once its CRD is created', async () => {
    const c = await startTestCluster({
      omitResources: ['kongupstreampolicies.configuration.konghq.com'],
      initialObjects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kong' } }, svc('in-kong'), svc('elsewhere', 'default')],
    });
    const col = new Collector();
    const logs: string[] = [];
    const w = watchResources({
      kubeconfig: c.kubeconfig,
      namespace: 'kong',
      kinds: [
        { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
        { group: 'configuration.konghq.com', version: 'v1beta1', plural: 'kongupstreampolicies', kind: 'KongUpstreamPolicy', namespaced: true },
      ],
      onEvent: col.onEvent,
      log: (msg) => logs.push(msg),
      backoff: { initialMs: 50, maxMs: 200 },
    });
    try {
      await w.synced;
      assert.deepEqual([...col.objects.keys()], ['Service/kong/in-kong']);
      assert.deepEqual(w.missingKinds, ['KongUpstreamPolicy.configuration.konghq.com']);
      await sleep(600);
      assert.equal(logs.filter((l) => l.includes('not served')).length, 1, 'retries stay quiet');
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'kongupstreampolicies.configuration.konghq.com' },
        spec: { group: 'configuration.konghq.com', scope: 'Namespaced', names: { kind: 'KongUpstreamPolicy', plural: 'kongupstreampolicies' },
          versions: [{ name: 'v1beta1', served: true, storage: true, subresources: { status: {} } }] },
      };
      assert.equal((await request(c.server.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
      const kup = { apiVersion: 'configuration.konghq.com/v1beta1', kind: 'KongUpstreamPolicy', metadata: { name: 'lc' }, spec: { algorithm: 'least-connections' } };
      assert.equal((await request(c.server.url, 'POST', '/apis/configuration.konghq.com/v1beta1/namespaces/kong/kongupstreampolicies', kup)).status, 201);
      await col.waitFor('policy add', () => col.count('add', 'KongUpstreamPolicy/kong/lc') === 1);
      assert.deepEqual(w.missingKinds, []);
      c.server.create(svc('late', 'default'));
      c.server.create(svc('late', 'kong'));
      await col.waitFor('late add', () => col.count('add', 'Service/kong/late') === 1);
      assert.equal(col.count('add', 'Service/default/late'), 0);
    } finally {
      w.stop();
      await c.close();
    }
  });

  test('stop() ends the watches and no events follow', async () => {
    const c = await startTestCluster();
    const col = new Collector();
    const w = watchResources({ kubeconfig: c.kubeconfig, kinds: kinds.slice(0, 1), onEvent: col.onEvent });
    try {
      await w.synced;
      await sleep(100);
      w.stop();
      await sleep(100);
      assert.equal(c.server.openWatches, 0);
      c.server.create(svc('after-stop', 'default'));
      await sleep(200);
      assert.equal(col.count('add', 'Service/default/after-stop'), 0);
    } finally {
      await c.close();
    }
  });
});
