/**
 * Published addresses as KIC derives them: `--publish-status-address` first, else the publish
 * Service (LoadBalancer ingress IPs and hostnames, else cluster IPs), and the Gateway's view of
 * the same Service (load balancer addresses only, in KIC's reversed order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore } from '../store/index.ts';
import type { K8sObject } from '../store/objects.ts';
import { publishedAddresses } from './addresses.ts';

function service(spec: Record<string, unknown>, status: Record<string, unknown> = {}): K8sObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'proxy', namespace: 'kong' }, spec, status } as K8sObject;
}

test('a ClusterIP publish Service gives its cluster IPs to Ingresses and no Gateway addresses', () => {
  const store = new ObjectStore([service({ type: 'ClusterIP', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7', 'fd00::7'] })]);
  const p = publishedAddresses(store, 'kong/proxy', []);
  assert.deepEqual(p.ingress, [{ ip: '10.96.0.7' }, { ip: 'fd00::7' }]);
  assert.equal(p.gateway, undefined);
  assert.equal(p.service?.metadata.name, 'proxy');
});

test('a LoadBalancer publish Service gives its load balancer IPs and hostnames, nothing before it is provisioned', () => {
  const pending = new ObjectStore([service({ type: 'LoadBalancer', clusterIP: '10.96.0.7' }, { loadBalancer: {} })]);
  assert.equal(publishedAddresses(pending, 'kong/proxy', []).ingress, undefined);

  const store = new ObjectStore([service({ type: 'LoadBalancer', clusterIP: '10.96.0.7', externalIPs: ['192.0.2.9'] },
    { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.11', hostname: 'lb2.example.com' }] } })]);
  const p = publishedAddresses(store, 'kong/proxy', []);
  assert.deepEqual(p.ingress, [{ ip: '203.0.113.10' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.11' }, { hostname: 'lb2.example.com' }]);
  assert.deepEqual(p.gateway, [
    { type: 'Hostname', value: 'lb2.example.com' }, { type: 'IPAddress', value: '203.0.113.11' },
    { type: 'Hostname', value: 'lb.example.com' }, { type: 'IPAddress', value: '203.0.113.10' },
  ]);
});

test('--publish-status-address overrides the Service for Ingresses and Gateways', () => {
  const store = new ObjectStore([service({ type: 'ClusterIP', clusterIP: '10.96.0.7' })]);
  const p = publishedAddresses(store, 'kong/proxy', ['198.51.100.4', 'proxy.example.com']);
  assert.deepEqual(p.ingress, [{ ip: '198.51.100.4' }, { hostname: 'proxy.example.com' }]);
  assert.deepEqual(p.gateway, [{ type: 'IPAddress', value: '198.51.100.4' }, { type: 'Hostname', value: 'proxy.example.com' }]);
  assert.ok(p.service, 'the Service is still known (Gateways need it)');
});

test('a missing or headless publish Service publishes nothing', () => {
  assert.deepEqual(publishedAddresses(new ObjectStore(), 'kong/proxy', []), {});
  const headless = new ObjectStore([service({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] })]);
  assert.deepEqual(publishedAddresses(headless, 'kong/proxy', []), {});
  assert.deepEqual(publishedAddresses(new ObjectStore(), undefined, []), {});
});
