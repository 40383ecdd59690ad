import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ObjectStore, type K8sObject } from '../store/index.ts';
import { translate } from './index.ts';

const KINDS: [string, string][] = [
  ['v1', 'Service'],
  ['v1', 'Secret'],
  ['discovery.k8s.io/v1', 'EndpointSlice'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['networking.k8s.io/v1', 'IngressClass'],
  ['gateway.networking.k8s.io/v1', 'GatewayClass'],
  ['gateway.networking.k8s.io/v1', 'Gateway'],
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
  ['gateway.networking.k8s.io/v1beta1', 'ReferenceGrant'],
  ['configuration.konghq.com/v1', 'KongPlugin'],
  ['configuration.konghq.com/v1', 'KongClusterPlugin'],
  ['configuration.konghq.com/v1', 'KongConsumer'],
  ['configuration.konghq.com/v1beta1', 'KongUpstreamPolicy'],
];

const ANNOTATIONS = ['konghq.com/plugins', 'konghq.com/protocols', 'konghq.com/strip-path', 'konghq.com/headers.x', 'konghq.com/upstream-policy', 'konghq.com/protocol', 'kubernetes.io/ingress.class', 'konghq.com/gatewayclass-unmanaged', 'konghq.com/client-cert'];

const objectArb = fc.record({
  kind: fc.constantFrom(...KINDS),
  name: fc.constantFrom('a', 'b', 'kong', 'echo'),
  namespace: fc.constantFrom('default', 'kong'),
  annotations: fc.dictionary(fc.constantFrom(...ANNOTATIONS), fc.constantFrom('', 'a', 'kong', 'a,b', 'x:y', 'true', 'grpc,http')),
  body: fc.dictionary(fc.constantFrom('spec', 'config', 'credentials', 'plugin', 'configFrom', 'configPatches', 'endpoints', 'ports', 'data', 'username'), fc.anything({ maxDepth: 4 })),
});

test('translate never throws on malformed objects', () => {
  fc.assert(
    fc.property(fc.array(objectArb, { maxLength: 12 }), (items) => {
      const objects: K8sObject[] = items.map((i) => ({
        apiVersion: i.kind[0],
        kind: i.kind[1],
        metadata: { name: i.name, namespace: i.namespace, annotations: i.annotations },
        ...i.body,
      }));
      const result = translate(new ObjectStore(objects));
      assert.equal(result.config._format_version, '3.0');
    }),
    { numRuns: 400 },
  );
});

test('translate is deterministic regardless of insertion order', () => {
  const objects: K8sObject[] = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'd' }, spec: { ports: [{ port: 80 }] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i2', namespace: 'd', annotations: { 'kubernetes.io/ingress.class': 'kong' } }, spec: { rules: [{ http: { paths: [{ path: '/b', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i1', namespace: 'd', annotations: { 'kubernetes.io/ingress.class': 'kong' } }, spec: { rules: [{ http: { paths: [{ path: '/a', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } },
  ];
  const a = JSON.stringify(translate(new ObjectStore(objects)).config);
  const b = JSON.stringify(translate(new ObjectStore([...objects].reverse())).config);
  assert.equal(a, b);
});
