/**
 * Tests for the controller's writes against the test API server: core/v1 Events as KIC records them
 * (listed back through the API and through kubectl), repeated events folded into `count`, and status
 * updates through the `/status` subresource for namespaced and cluster-scoped custom resources.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, request, type TestCluster } from '../../../test/k8s-api/helpers.ts';
import { createEvent, patchStatus, loadKubeConfig, KubeApiError, type KubeObject } from './index.ts';

describe('createEvent and patchStatus', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({
      initialObjects: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kong' } },
        { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', metadata: { name: 'alex', namespace: 'kong' }, username: 'alex' },
        { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'kong' }, spec: { controllerName: 'konghq.com/kic-gateway-controller' } },
      ],
    });
  });
  after(async () => { await c.close(); });

  test('an Event about a namespaced object is written and listed back', async () => {
    const kc = loadKubeConfig(c.kubeconfig);
    const consumer = c.server.get('configuration.konghq.com/v1', 'KongConsumer', 'alex', 'kong') as KubeObject;
    const created = await createEvent(kc, consumer, 'Warning', 'KongConfigurationTranslationFailed', 'credential "x" not found');
    assert.equal(created.metadata?.namespace, 'kong');
    assert.match(String(created.metadata?.name), /^alex\.[0-9a-f]+$/);
    const list = await request(c.server.url, 'GET', '/api/v1/namespaces/kong/events?fieldSelector=involvedObject.name%3Dalex');
    assert.equal(list.body.items.length, 1);
    const ev = list.body.items[0];
    assert.deepEqual(
      { ...ev.involvedObject },
      { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', name: 'alex', namespace: 'kong', uid: consumer.metadata?.uid, resourceVersion: consumer.metadata?.resourceVersion },
    );
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.reason, 'KongConfigurationTranslationFailed');
    assert.equal(ev.message, 'credential "x" not found');
    assert.equal(ev.source.component, 'kong-client');
    assert.equal(ev.count, 1);
    assert.match(ev.firstTimestamp, /Z$/);
    const k = await c.kubectl(['get', 'events', '-n', 'kong']);
    assert.match(k.stdout, /Warning\s+KongConfigurationTranslationFailed\s+kongconsumer\/alex\s+credential "x" not found/);
  });

  test('a repeated Event bumps count on the same object', async () => {
    const kc = loadKubeConfig(c.kubeconfig);
    const consumer = c.server.get('configuration.konghq.com/v1', 'KongConsumer', 'alex', 'kong') as KubeObject;
    const first = await createEvent(kc, consumer, 'Normal', 'Repeated', 'same thing');
    const second = await createEvent(kc, consumer, 'Normal', 'Repeated', 'same thing');
    assert.equal(second.metadata?.name, first.metadata?.name);
    assert.equal(second.count, 2);
    const list = await request(c.server.url, 'GET', '/api/v1/namespaces/kong/events?fieldSelector=reason%3DRepeated');
    assert.equal(list.body.items.length, 1);
  });

  test('an Event about a cluster-scoped object, given as a reference, lands in default', async () => {
    const kc = loadKubeConfig(c.kubeconfig);
    const created = await createEvent(kc, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', name: 'kong' }, 'Normal', 'KongConfigurationSucceeded', 'ok');
    assert.equal(created.metadata?.namespace, 'default');
    const v1 = await request(c.server.url, 'GET', `/apis/events.k8s.io/v1/namespaces/default/events/${String(created.metadata?.name)}`);
    assert.equal(v1.body.regarding.kind, 'GatewayClass');
    assert.equal(v1.body.note, 'ok');
  });

  test('patchStatus writes only the status, for namespaced and cluster-scoped kinds', async () => {
    const kc = loadKubeConfig(c.kubeconfig);
    const consumer = c.server.get('configuration.konghq.com/v1', 'KongConsumer', 'alex', 'kong') as KubeObject;
    const cond = { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Object was successfully configured in Kong.', observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z' };
    const updated = await patchStatus(kc, consumer, { conditions: [cond] });
    assert.deepEqual((updated.status as { conditions: unknown[] }).conditions, [cond]);
    assert.equal(updated.username, 'alex');
    assert.equal(updated.metadata?.generation, 1);
    const stored = c.server.get('configuration.konghq.com/v1', 'KongConsumer', 'alex', 'kong')!;
    assert.deepEqual((stored.status as { conditions: unknown[] }).conditions, [cond]);
    // A second write replaces the list rather than appending to it.
    await patchStatus(kc, consumer, { conditions: [{ ...cond, status: 'False', reason: 'Invalid' }] });
    assert.equal((c.server.get('configuration.konghq.com/v1', 'KongConsumer', 'alex', 'kong')!.status as { conditions: unknown[] }).conditions.length, 1);
    const gc = c.server.get('gateway.networking.k8s.io/v1', 'GatewayClass', 'kong') as KubeObject;
    await patchStatus(kc, gc, { conditions: [{ type: 'Accepted', status: 'True' }] });
    assert.equal((c.server.get('gateway.networking.k8s.io/v1', 'GatewayClass', 'kong')!.status as { conditions: { type: string }[] }).conditions[0].type, 'Accepted');
    const requests = c.server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status'));
    assert.ok(requests.every((r) => r.contentType === 'application/merge-patch+json'));
  });

  test('patchStatus on a missing object rejects with a 404 KubeApiError', async () => {
    const kc = loadKubeConfig(c.kubeconfig);
    await assert.rejects(
      patchStatus(kc, { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', metadata: { name: 'ghost', namespace: 'kong' } }, { conditions: [] }),
      (err: unknown) => err instanceof KubeApiError && err.statusCode === 404 && /kongconsumers.configuration.konghq.com "ghost" not found/.test(err.message),
    );
  });
});
