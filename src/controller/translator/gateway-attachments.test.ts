/**
 * Per-listener route attachment (a Gateway's `status.listeners[].attachedRoutes`): a route counts on
 * every listener that accepts it (sectionName, allowed namespaces, hostname intersection), once per
 * listener however many parentRefs lead there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore } from '../store/index.ts';
import type { K8sObject } from '../store/objects.ts';
import { attachHTTPRoutes } from './gateway.ts';

const route = (name: string, namespace: string, spec: Record<string, unknown>) =>
  ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace }, spec: { rules: [{}], ...spec } }) as K8sObject;

test('attachedRoutes counts accepted routes per listener', () => {
  const store = new ObjectStore([
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'kong', annotations: { 'konghq.com/gatewayclass-unmanaged': 'true' } }, spec: { controllerName: 'konghq.com/kic-gateway-controller' } } as K8sObject,
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'kong', namespace: 'kong' },
      spec: {
        gatewayClassName: 'kong', listeners: [
          { name: 'a', port: 80, protocol: 'HTTP', hostname: 'a.example.com' },
          { name: 'b', port: 80, protocol: 'HTTP', hostname: 'b.example.com' },
          { name: 'any', port: 8080, protocol: 'HTTP' },
          { name: 'stream', port: 9000, protocol: 'TCP' },
        ],
      },
    } as K8sObject,
    route('to-a', 'kong', { hostnames: ['a.example.com'], parentRefs: [{ name: 'kong' }, { name: 'kong', sectionName: 'a' }] }),
    route('to-b-only', 'kong', { parentRefs: [{ name: 'kong', sectionName: 'b' }] }),
    route('wildcard', 'kong', { hostnames: ['*.example.com'], parentRefs: [{ name: 'kong' }] }),
    route('elsewhere', 'apps', { parentRefs: [{ name: 'kong', namespace: 'kong' }] }),
  ]);
  const { attachments, accepted } = attachHTTPRoutes(store, 'konghq.com/kic-gateway-controller');
  assert.deepEqual(accepted.map((a) => a.route.metadata.name).sort(), ['to-a', 'to-b-only', 'wildcard']);
  assert.deepEqual(Object.fromEntries(attachments.get('kong/kong') ?? []), { a: 2, any: 2, b: 2 });
});
