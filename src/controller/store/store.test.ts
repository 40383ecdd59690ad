import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GK, ObjectStore, filterSecrets, groupKind, type K8sObject } from './index.ts';

const svc = (name: string, ns = 'default', rv?: string): K8sObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns, ...(rv ? { resourceVersion: rv } : {}) },
});

test('groupKind keys core kinds by Kind and others by Kind.group', () => {
  assert.equal(groupKind('v1', 'Service'), 'Service');
  assert.equal(groupKind('networking.k8s.io/v1', 'Ingress'), GK.Ingress);
  assert.equal(groupKind('configuration.konghq.com/v1', 'KongPlugin'), GK.KongPlugin);
});

test('ObjectStore lists sorted by namespace/name and gets by key', () => {
  const store = new ObjectStore();
  store.upsert(svc('b', 'x'));
  store.upsert(svc('a', 'y'));
  store.upsert(svc('a', 'x'));
  assert.deepEqual(store.list(GK.Service).map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['x/a', 'x/b', 'y/a']);
  assert.equal(store.get(GK.Service, 'y', 'a')?.metadata.name, 'a');
  assert.equal(store.get(GK.Service, 'z', 'a'), undefined);
  assert.deepEqual(store.list(GK.Ingress), []);
});

test('ObjectStore revision grows on every change and not on no-ops', () => {
  const store = new ObjectStore();
  const r0 = store.revision;
  assert.equal(store.upsert(svc('a', 'x', '1')), true);
  const r1 = store.revision;
  assert.ok(r1 > r0);
  assert.equal(store.upsert(svc('a', 'x', '1')), false, 'same resourceVersion is a no-op');
  assert.equal(store.revision, r1);
  store.upsert(svc('a', 'x', '2'));
  assert.ok(store.revision > r1);
  const r2 = store.revision;
  assert.equal(store.remove(GK.Service, 'x', 'missing'), false);
  assert.equal(store.revision, r2);
  assert.equal(store.remove(GK.Service, 'x', 'a'), true);
  assert.ok(store.revision > r2);
  assert.equal(store.list(GK.Service).length, 0);
  store.replaceAll([svc('c'), svc('d')]);
  assert.equal(store.size, 2);
  assert.ok(store.revision > r2 + 1);
});

test('cluster-scoped kinds are keyed without namespace', () => {
  const store = new ObjectStore([{ apiVersion: 'configuration.konghq.com/v1', kind: 'KongClusterPlugin', metadata: { name: 'p', namespace: 'ignored' } }]);
  assert.equal(store.get(GK.KongClusterPlugin, undefined, 'p')?.metadata.name, 'p');
});

test('filterSecrets keeps labelled and referenced Secrets only', () => {
  const secret = (name: string, labels?: Record<string, string>): K8sObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'ns', ...(labels ? { labels } : {}) } });
  const objects: K8sObject[] = [
    secret('cred', { 'konghq.com/credential': 'key-auth' }),
    secret('ca', { 'konghq.com/ca-cert': 'true' }),
    secret('helm'),
    secret('consumer-ref'),
    secret('plugin-ref'),
    secret('patch-ref'),
    secret('tls'),
    secret('client'),
    { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', metadata: { name: 'c', namespace: 'ns' }, credentials: ['consumer-ref'] },
    { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'p', namespace: 'ns' }, configFrom: { secretKeyRef: { name: 'plugin-ref', key: 'k' } } },
    { apiVersion: 'configuration.konghq.com/v1', kind: 'KongClusterPlugin', metadata: { name: 'kcp' }, configPatches: [{ path: '/a', valueFrom: { secretKeyRef: { namespace: 'ns', name: 'patch-ref', key: 'k' } } }] },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'ns' }, spec: { tls: [{ secretName: 'tls' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns', annotations: { 'konghq.com/client-cert': 'client' } } },
  ];
  const kept = filterSecrets(objects).filter((o) => o.kind === 'Secret').map((o) => o.metadata.name).sort();
  assert.deepEqual(kept, ['ca', 'client', 'consumer-ref', 'cred', 'patch-ref', 'plugin-ref', 'tls']);
});
