/**
 * @module controller/store/objects
 * The minimal shape every Kubernetes object has once it reaches the controller, whether it came from
 * the API server or from manifest files, plus the helpers that name an object's group, version and
 * kind. Everything past `metadata` stays untyped here; the translator reads it defensively.
 */

/** K8sObjectMeta is the part of `metadata` the controller reads. */
export interface K8sObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  generation?: number;
  resourceVersion?: string;
  [key: string]: unknown;
}

/** K8sObject is any Kubernetes object: apiVersion, kind, metadata, and whatever else the kind carries. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: K8sObjectMeta;
  [key: string]: unknown;
}

/** splitApiVersion turns `group/version` (or core `version`) into its parts; core has group `""`. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** groupKind is the store key of a kind: `Kind.group` (`Service` for core, like kubectl's resource names). */
export function groupKind(apiVersion: string, kind: string): string {
  const { group } = splitApiVersion(apiVersion);
  return group === '' ? kind : `${kind}.${group}`;
}

/** Group names of the API groups the controller reads. */
export const Groups = {
  core: '',
  networking: 'networking.k8s.io',
  discovery: 'discovery.k8s.io',
  gateway: 'gateway.networking.k8s.io',
  kong: 'configuration.konghq.com',
} as const;

/** GK holds the store keys (`groupKind`) of every kind the translator lists or gets. */
export const GK = {
  Service: 'Service',
  Secret: 'Secret',
  ConfigMap: 'ConfigMap',
  EndpointSlice: 'EndpointSlice.discovery.k8s.io',
  Ingress: 'Ingress.networking.k8s.io',
  IngressClass: 'IngressClass.networking.k8s.io',
  GatewayClass: 'GatewayClass.gateway.networking.k8s.io',
  Gateway: 'Gateway.gateway.networking.k8s.io',
  HTTPRoute: 'HTTPRoute.gateway.networking.k8s.io',
  ReferenceGrant: 'ReferenceGrant.gateway.networking.k8s.io',
  KongPlugin: 'KongPlugin.configuration.konghq.com',
  KongClusterPlugin: 'KongClusterPlugin.configuration.konghq.com',
  KongConsumer: 'KongConsumer.configuration.konghq.com',
  KongConsumerGroup: 'KongConsumerGroup.configuration.konghq.com',
  KongUpstreamPolicy: 'KongUpstreamPolicy.configuration.konghq.com',
  KongIngress: 'KongIngress.configuration.konghq.com',
  IngressClassParameters: 'IngressClassParameters.configuration.konghq.com',
} as const;

/** Kinds that exist at cluster scope (no namespace); everything else is namespaced. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
  'IngressClass',
  'GatewayClass',
  'KongClusterPlugin',
  'KongVault',
  'KongLicense',
]);

/** isClusterScoped says whether a kind has no namespace. */
export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED_KINDS.has(kind);
}

/** objectKey is `namespace/name` (or `name` for cluster-scoped objects). */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** isK8sObject checks the minimum needed to store an object: apiVersion, kind and metadata.name. */
export function isK8sObject(value: unknown): value is K8sObject {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const meta = v['metadata'];
  return (
    typeof v['apiVersion'] === 'string' &&
    typeof v['kind'] === 'string' &&
    meta !== null &&
    typeof meta === 'object' &&
    typeof (meta as Record<string, unknown>)['name'] === 'string'
  );
}
