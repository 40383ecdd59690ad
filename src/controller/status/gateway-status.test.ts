/**
 * Gateway status as KIC computes it for an unmanaged Gateway: Accepted/Programmed with
 * observedGeneration, addresses, and per-listener supportedKinds, attachedRoutes and conditions
 * (unsupported protocols, ports the publish Service lacks, protocol and hostname conflicts,
 * invalid route kinds and certificate references).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore } from '../store/index.ts';
import type { K8sObject } from '../store/objects.ts';
import { buildGatewayStatus, type ListenerStatus } from './gateway-status.ts';

const NOW = '2026-01-01T00:00:00Z';
const publishService = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'proxy', namespace: 'kong' },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.7', ports: [{ port: 80 }, { port: 443 }] },
} as K8sObject;

function gateway(listeners: unknown[], generation = 3): K8sObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'kong', namespace: 'kong', generation }, spec: { gatewayClassName: 'kong', listeners } } as K8sObject;
}

function summary(l: ListenerStatus): Record<string, string> {
  return Object.fromEntries(l.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
}

test('an HTTP listener on a published port is accepted and programmed, with its attached routes', () => {
  const store = new ObjectStore([publishService]);
  const s = buildGatewayStatus(store, gateway([{ name: 'proxy', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }]), {
    attachedRoutes: new Map([['proxy', 2]]), published: { service: publishService }, publishServiceConfigured: true, configured: true, now: NOW,
  });
  assert.deepEqual(s.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration]), [['Accepted', 'True', 'Accepted', 3], ['Programmed', 'True', 'Programmed', 3]]);
  assert.equal(s.addresses, undefined);
  assert.equal(s.listeners.length, 1);
  const l = s.listeners[0]!;
  assert.equal(l.name, 'proxy');
  assert.equal(l.attachedRoutes, 2);
  assert.deepEqual(l.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
  assert.deepEqual(l.conditions.map((c) => c.type), ['Accepted', 'Conflicted', 'Programmed', 'ResolvedRefs']);
  assert.deepEqual(summary(l), { Accepted: 'True/Accepted', Conflicted: 'False/NoConflicts', Programmed: 'True/Programmed', ResolvedRefs: 'True/ResolvedRefs' });
  assert.ok(l.conditions.every((c) => c.observedGeneration === 3 && c.lastTransitionTime === NOW));
});

test('Programmed waits for the gateways and for the publish Service', () => {
  const store = new ObjectStore();
  const gw = gateway([{ name: 'proxy', port: 80, protocol: 'HTTP' }]);
  const notPushed = buildGatewayStatus(store, gw, { published: {}, publishServiceConfigured: false, configured: false, now: NOW });
  assert.deepEqual(notPushed.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=True/Accepted', 'Programmed=False/Pending']);
  const noService = buildGatewayStatus(store, gw, { published: {}, publishServiceConfigured: true, configured: true, now: NOW });
  assert.equal(noService.conditions[1]!.status, 'False');
  const withAddresses = buildGatewayStatus(store, gw, { published: { gateway: [{ type: 'IPAddress', value: '198.51.100.4' }] }, publishServiceConfigured: false, configured: true, now: NOW });
  assert.equal(withAddresses.conditions[1]!.status, 'True');
  assert.deepEqual(withAddresses.addresses, [{ type: 'IPAddress', value: '198.51.100.4' }]);
  // Without a publish Service no port is checked.
  assert.deepEqual(summary(withAddresses.listeners[0]!).Accepted, 'True/Accepted');
});

test('unsupported protocols, unpublished ports, conflicts and bad route kinds are reported per listener', () => {
  const store = new ObjectStore([publishService]);
  const s = buildGatewayStatus(store, gateway([
    { name: 'stream', port: 9000, protocol: 'TCP' },
    { name: 'alt', port: 8080, protocol: 'HTTP' },
    { name: 'a', port: 80, protocol: 'HTTP', hostname: 'a.example.com' },
    { name: 'a-again', port: 80, protocol: 'HTTP', hostname: 'a.example.com' },
    { name: 'tls', port: 443, protocol: 'HTTPS', allowedRoutes: { kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { kind: 'TCPRoute' }] } },
    { name: 'clash', port: 443, protocol: 'HTTP' },
  ]), { published: { service: publishService }, publishServiceConfigured: true, configured: true, now: NOW });
  const by = new Map(s.listeners.map((l) => [l.name, l]));
  assert.deepEqual(summary(by.get('stream')!), { Accepted: 'False/UnsupportedProtocol', Programmed: 'False/Invalid' });
  assert.deepEqual(by.get('stream')!.supportedKinds, []);
  assert.deepEqual(summary(by.get('alt')!), { Accepted: 'False/PortUnavailable', Programmed: 'False/Invalid' });
  assert.deepEqual(summary(by.get('a')!), { Accepted: 'True/Accepted', Conflicted: 'True/HostnameConflict', Programmed: 'False/Invalid', ResolvedRefs: 'True/ResolvedRefs' });
  assert.deepEqual(summary(by.get('a-again')!), { Accepted: 'True/Accepted', Conflicted: 'True/HostnameConflict', Programmed: 'False/Invalid' });
  assert.deepEqual(summary(by.get('tls')!), { Accepted: 'True/Accepted', Conflicted: 'True/ProtocolConflict', Programmed: 'False/Invalid', ResolvedRefs: 'False/InvalidRouteKinds' });
  assert.deepEqual(by.get('tls')!.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
  assert.deepEqual(summary(by.get('clash')!), { Accepted: 'True/Accepted', Conflicted: 'True/ProtocolConflict', Programmed: 'False/Invalid' });
});

test('certificate references must name a TLS Secret that exists, across namespaces only with a ReferenceGrant', () => {
  const pem = (label: string) => Buffer.from(`-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`).toString('base64');
  const store = new ObjectStore([
    publishService,
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'kong' }, type: 'kubernetes.io/tls', data: { 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY') } } as K8sObject,
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'certs' }, data: { 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY') } } as K8sObject,
  ]);
  const listener = (name: string, ref: Record<string, unknown>) => ({ name, port: 443, protocol: 'HTTPS', hostname: `${name}.example.com`, tls: { certificateRefs: [ref] } });
  const s = buildGatewayStatus(store, gateway([
    listener('good', { name: 'cert' }),
    listener('missing', { name: 'nope' }),
    listener('remote', { name: 'cert', namespace: 'certs' }),
    listener('configmap', { name: 'cert', kind: 'ConfigMap' }),
  ]), { published: { service: publishService }, publishServiceConfigured: true, configured: true, now: NOW });
  const refs = Object.fromEntries(s.listeners.map((l) => [l.name, summary(l).ResolvedRefs]));
  assert.deepEqual(refs, { good: 'True/ResolvedRefs', missing: 'False/InvalidCertificateRef', remote: 'False/RefNotPermitted', configmap: 'False/InvalidCertificateRef' });
});
