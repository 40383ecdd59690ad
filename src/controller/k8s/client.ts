/**
 * @module controller/k8s/client
 * The controller's small REST client for the Kubernetes API, on top of @kubernetes/client-node's
 * KubeConfig (which supplies the server, TLS agent and credentials). The typed client-node APIs
 * deserialize into classes (timestamps become Date objects) and need per-kind code; the controller
 * works with plain JSON objects of any kind, so requests go out as JSON over node:http(s) with the
 * agent and headers the KubeConfig produces.
 */
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/** What the controller needs to know to list and watch one kind. */
export interface KindSpec {
  /** API group; `""` for the core group. */
  group: string;
  version: string;
  /** Resource name in URLs (`services`, `httproutes`). */
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** A plain Kubernetes object as it travels in JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A non-2xx answer from the API server; `status` is its Status object when it sent one. */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  readonly status?: Record<string, unknown>;
  /** Same as statusCode: client-node's ListWatch looks at `code`/`statusCode` for 410. */
  readonly code: number;
  constructor(statusCode: number, status: Record<string, unknown> | undefined, fallbackMessage: string) {
    super(typeof status?.message === 'string' ? status.message : fallbackMessage);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.code = statusCode;
    this.status = status;
    this.reason = typeof status?.reason === 'string' ? status.reason : http.STATUS_CODES[statusCode] ?? 'Unknown';
  }
}

/**
 * Loads a KubeConfig: an instance is used as is, a string is a kubeconfig file; otherwise the
 * in-cluster service account when running in a Pod, else the default loading rules ($KUBECONFIG,
 * ~/.kube/config).
 */
export function loadKubeConfig(kubeconfig?: string | KubeConfig): KubeConfig {
  if (kubeconfig instanceof KubeConfig) return kubeconfig;
  const kc = new KubeConfig();
  if (typeof kubeconfig === 'string') kc.loadFromFile(kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export function groupVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function apiPrefix(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** The collection URL path of a kind, in one namespace or across all. */
export function collectionPath(spec: KindSpec, namespace?: string): string {
  const prefix = apiPrefix(spec.group, spec.version);
  return spec.namespaced && namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${spec.plural}` : `${prefix}/${spec.plural}`;
}

/** The URL path of one object. */
export function objectPath(spec: KindSpec, name: string, namespace?: string): string {
  return `${collectionPath(spec, spec.namespaced ? namespace ?? 'default' : undefined)}/${encodeURIComponent(name)}`;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
}

/** One JSON request; resolves with the parsed body, rejects with KubeApiError on non-2xx. */
export async function kubeRequest<T = Record<string, unknown>>(kc: KubeConfig, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const reqOpts: https.RequestOptions = {
    method,
    headers: {
      Accept: 'application/json',
      'User-Agent': 'turnpike-controller',
      ...(payload ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': String(payload.length) } : {}),
    },
  };
  await kc.applyToHTTPSOptions(reqOpts);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<T>((resolve, reject) => {
    const req = transport.request(url, reqOpts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) { resolve(parsed as T); return; }
        const status = parsed !== null && typeof parsed === 'object' && (parsed as { kind?: unknown }).kind === 'Status' ? parsed as Record<string, unknown> : undefined;
        reject(new KubeApiError(code, status, `${method} ${url.pathname}: HTTP ${code} ${text.slice(0, 200)}`));
      });
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Built-in knowledge of the kinds the controller writes to, so no discovery round trip is needed. */
/** The kinds the controller knows without asking discovery. */
export const KNOWN_KINDS: readonly KindSpec[] = [
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses', kind: 'IngressClass', namespaced: false },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gatewayclasses', kind: 'GatewayClass', namespaced: false },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', kind: 'Gateway', namespaced: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true },
  { group: 'gateway.networking.k8s.io', version: 'v1beta1', plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true },
  { group: 'configuration.konghq.com', version: 'v1', plural: 'kongplugins', kind: 'KongPlugin', namespaced: true },
  { group: 'configuration.konghq.com', version: 'v1', plural: 'kongclusterplugins', kind: 'KongClusterPlugin', namespaced: false },
  { group: 'configuration.konghq.com', version: 'v1', plural: 'kongconsumers', kind: 'KongConsumer', namespaced: true },
  { group: 'configuration.konghq.com', version: 'v1beta1', plural: 'kongconsumergroups', kind: 'KongConsumerGroup', namespaced: true },
  { group: 'configuration.konghq.com', version: 'v1beta1', plural: 'kongupstreampolicies', kind: 'KongUpstreamPolicy', namespaced: true },
];

const discovered = new WeakMap<KubeConfig, Map<string, KindSpec>>();

/**
 * The KindSpec of an apiVersion/kind: from the built-in table when the group is known (any served
 * version of it), else from the API server's discovery document for that group/version (cached).
 */
export async function resolveKind(kc: KubeConfig, apiVersion: string, kind: string): Promise<KindSpec> {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const known = KNOWN_KINDS.find((k) => k.group === group && k.kind === kind);
  if (known) return { ...known, version };
  let cache = discovered.get(kc);
  if (!cache) { cache = new Map(); discovered.set(kc, cache); }
  const key = `${apiVersion}/${kind}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const list = await kubeRequest<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(kc, 'GET', apiPrefix(group, version));
  const r = (list.resources ?? []).find((x) => x.kind === kind && !x.name.includes('/'));
  if (!r) throw new Error(`the server does not serve ${kind} in ${apiVersion}`);
  const spec: KindSpec = { group, version, plural: r.name, kind, namespaced: r.namespaced };
  cache.set(key, spec);
  return spec;
}
