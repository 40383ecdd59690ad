/**
 * @module test/k8s-api/resources
 * The resource types the test API server serves: built-in kinds, the Gateway API and Kong CRDs, and
 * anything registered later by POSTing a CustomResourceDefinition. Also builds the documents clients
 * read before they touch a resource: legacy discovery (`/api`, `/apis`, `/apis/<g>/<v>`) and the
 * OpenAPI v3 index and group-version documents. kubectl 1.32 refuses a plain `apply` unless it can
 * prove the server does field validation, which it reads from the PATCH operations (and their
 * `fieldValidation` parameter) of the OpenAPI v3 documents; without them it falls back to /openapi/v2
 * and fails with "failed to download openapi".
 */
import { createHash } from 'node:crypto';

export type JsonObject = Record<string, unknown>;

/** One printed column of `kubectl get` (server-side Table). */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  value: (obj: JsonObject) => unknown;
}

export interface ResourceType {
  group: string;
  /** Served versions; the first is the preferred one. All share one storage. */
  versions: string[];
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Has a `/status` subresource: the main resource ignores status writes and vice versa. */
  statusSubresource: boolean;
  /** metadata.generation is set on create and bumped when anything but metadata/status changes. */
  generation: boolean;
  /** Served from a CRD: list items carry apiVersion/kind and strategic merge patch is refused (415). */
  custom: boolean;
  /** Storage shared with another type (events.k8s.io Events live with core Events). */
  storageKey: string;
  /** Converts between the stored form and this type's wire form (identity when absent). */
  fromStorage?: (obj: JsonObject) => JsonObject;
  toStorage?: (obj: JsonObject) => JsonObject;
  columns: TableColumn[];
}

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as JsonObject)[part];
  }
  return cur;
}

interface TypeInit {
  group: string;
  versions: string[];
  kind: string;
  plural: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  generation?: boolean;
  custom?: boolean;
  storageKey?: string;
  columns?: TableColumn[];
}

export function makeType(t: TypeInit): ResourceType {
  return {
    group: t.group,
    versions: t.versions,
    kind: t.kind,
    listKind: `${t.kind}List`,
    plural: t.plural,
    singular: t.kind.toLowerCase(),
    namespaced: t.namespaced ?? true,
    shortNames: t.shortNames ?? [],
    categories: t.categories ?? [],
    statusSubresource: t.status ?? false,
    generation: t.generation ?? false,
    custom: t.custom ?? false,
    storageKey: t.storageKey ?? `${t.group}/${t.plural}`,
    columns: t.columns ?? [],
  };
}

/** Core Event <-> events.k8s.io/v1 Event: same storage, renamed fields (as the real API converts). */
const eventFieldMap: [core: string, events: string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];

function renameFields(obj: JsonObject, pairs: [string, string][]): JsonObject {
  const out: JsonObject = { ...obj };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out;
}

const kongGroup = 'configuration.konghq.com';
const gwGroup = 'gateway.networking.k8s.io';

/** The kinds served from the start (unless omitted by the server options). */
export function builtinTypes(): ResourceType[] {
  const eventsV1 = makeType({ group: 'events.k8s.io', versions: ['v1'], kind: 'Event', plural: 'events', shortNames: ['ev'], storageKey: '/events' });
  eventsV1.fromStorage = (o) => renameFields(o, eventFieldMap);
  eventsV1.toStorage = (o) => renameFields(o, eventFieldMap.map(([a, b]) => [b, a]));
  return [
    makeType({
      group: '', versions: ['v1'], kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], status: true,
      columns: [{ name: 'Status', type: 'string', value: (o) => get(o, 'status.phase') }],
    }),
    makeType({
      group: '', versions: ['v1'], kind: 'Service', plural: 'services', shortNames: ['svc'], categories: ['all'], status: true,
      columns: [
        { name: 'Type', type: 'string', value: (o) => get(o, 'spec.type') },
        { name: 'Cluster-IP', type: 'string', value: (o) => get(o, 'spec.clusterIP') ?? '<none>' },
        {
          name: 'Port(s)', type: 'string',
          value: (o) => ((get(o, 'spec.ports') as JsonObject[] | undefined) ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>',
        },
      ],
    }),
    makeType({
      group: '', versions: ['v1'], kind: 'Secret', plural: 'secrets',
      columns: [
        { name: 'Type', type: 'string', value: (o) => o.type },
        { name: 'Data', type: 'integer', value: (o) => Object.keys((o.data as JsonObject | undefined) ?? {}).length },
      ],
    }),
    makeType({ group: '', versions: ['v1'], kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'] }),
    makeType({ group: '', versions: ['v1'], kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'] }),
    makeType({
      group: '', versions: ['v1'], kind: 'Event', plural: 'events', shortNames: ['ev'],
      columns: [
        { name: 'Type', type: 'string', value: (o) => o.type },
        { name: 'Reason', type: 'string', value: (o) => o.reason },
        { name: 'Object', type: 'string', value: (o) => `${String(get(o, 'involvedObject.kind') ?? '').toLowerCase()}/${String(get(o, 'involvedObject.name') ?? '')}` },
        { name: 'Message', type: 'string', value: (o) => o.message },
      ],
    }),
    makeType({ group: '', versions: ['v1'], kind: 'Pod', plural: 'pods', shortNames: ['po'], categories: ['all'], status: true }),
    eventsV1,
    makeType({ group: 'coordination.k8s.io', versions: ['v1'], kind: 'Lease', plural: 'leases',
      columns: [{ name: 'Holder', type: 'string', value: (o) => get(o, 'spec.holderIdentity') ?? '' }] }),
    makeType({ group: 'discovery.k8s.io', versions: ['v1'], kind: 'EndpointSlice', plural: 'endpointslices' }),
    makeType({ group: 'apps', versions: ['v1'], kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'], status: true, generation: true }),
    makeType({ group: 'networking.k8s.io', versions: ['v1'], kind: 'Ingress', plural: 'ingresses', shortNames: ['ing'], status: true, generation: true,
      columns: [{ name: 'Class', type: 'string', value: (o) => get(o, 'spec.ingressClassName') ?? '<none>' }] }),
    makeType({ group: 'networking.k8s.io', versions: ['v1'], kind: 'IngressClass', plural: 'ingressclasses', namespaced: false, generation: true,
      columns: [{ name: 'Controller', type: 'string', value: (o) => get(o, 'spec.controller') }] }),
    makeType({ group: 'apiextensions.k8s.io', versions: ['v1'], kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, shortNames: ['crd', 'crds'], status: true, generation: true }),
    makeType({ group: gwGroup, versions: ['v1', 'v1beta1'], kind: 'GatewayClass', plural: 'gatewayclasses', namespaced: false, shortNames: ['gc'], categories: ['gateway-api'], status: true, generation: true, custom: true,
      columns: [{ name: 'Controller', type: 'string', value: (o) => get(o, 'spec.controllerName') }] }),
    makeType({ group: gwGroup, versions: ['v1', 'v1beta1'], kind: 'Gateway', plural: 'gateways', shortNames: ['gtw'], categories: ['gateway-api'], status: true, generation: true, custom: true,
      columns: [{ name: 'Class', type: 'string', value: (o) => get(o, 'spec.gatewayClassName') }] }),
    makeType({ group: gwGroup, versions: ['v1', 'v1beta1'], kind: 'HTTPRoute', plural: 'httproutes', categories: ['gateway-api'], status: true, generation: true, custom: true,
      columns: [{ name: 'Hostnames', type: 'string', value: (o) => ((get(o, 'spec.hostnames') as string[] | undefined) ?? []).join(',') }] }),
    makeType({ group: gwGroup, versions: ['v1beta1'], kind: 'ReferenceGrant', plural: 'referencegrants', shortNames: ['refgrant'], categories: ['gateway-api'], generation: true, custom: true }),
    makeType({ group: kongGroup, versions: ['v1'], kind: 'KongPlugin', plural: 'kongplugins', shortNames: ['kp'], categories: ['kong-ingress-controller'], status: true, generation: true, custom: true,
      columns: [{ name: 'Plugin-Type', type: 'string', value: (o) => o.plugin }, { name: 'Disabled', type: 'string', value: (o) => o.disabled ?? '' }] }),
    makeType({ group: kongGroup, versions: ['v1'], kind: 'KongClusterPlugin', plural: 'kongclusterplugins', namespaced: false, shortNames: ['kcp'], categories: ['kong-ingress-controller'], status: true, generation: true, custom: true,
      columns: [{ name: 'Plugin-Type', type: 'string', value: (o) => o.plugin }, { name: 'Disabled', type: 'string', value: (o) => o.disabled ?? '' }] }),
    makeType({ group: kongGroup, versions: ['v1'], kind: 'KongConsumer', plural: 'kongconsumers', shortNames: ['kc'], categories: ['kong-ingress-controller'], status: true, generation: true, custom: true,
      columns: [{ name: 'Username', type: 'string', value: (o) => o.username ?? '' }] }),
    makeType({ group: kongGroup, versions: ['v1'], kind: 'KongIngress', plural: 'kongingresses', shortNames: ['ki'], categories: ['kong-ingress-controller'], generation: true, custom: true }),
    makeType({ group: kongGroup, versions: ['v1beta1'], kind: 'KongUpstreamPolicy', plural: 'kongupstreampolicies', shortNames: ['kup'], categories: ['kong-ingress-controller'], status: true, generation: true, custom: true }),
    makeType({ group: kongGroup, versions: ['v1beta1'], kind: 'KongConsumerGroup', plural: 'kongconsumergroups', shortNames: ['kcg'], categories: ['kong-ingress-controller'], status: true, generation: true, custom: true }),
    makeType({ group: kongGroup, versions: ['v1beta1'], kind: 'TCPIngress', plural: 'tcpingresses', categories: ['kong-ingress-controller'], status: true, generation: true, custom: true }),
    makeType({ group: kongGroup, versions: ['v1beta1'], kind: 'UDPIngress', plural: 'udpingresses', categories: ['kong-ingress-controller'], status: true, generation: true, custom: true }),
  ];
}

/** The resource type a CustomResourceDefinition describes (only served versions). */
export function typeFromCrd(crd: JsonObject): ResourceType | undefined {
  const spec = crd.spec as JsonObject | undefined;
  const names = spec?.names as JsonObject | undefined;
  if (!spec || !names || typeof spec.group !== 'string' || typeof names.plural !== 'string' || typeof names.kind !== 'string') return undefined;
  const versions = ((spec.versions as JsonObject[] | undefined) ?? []).filter((v) => v.served !== false);
  // The storage version goes first: it is the preferred version in discovery.
  versions.sort((a, b) => Number(b.storage === true) - Number(a.storage === true));
  if (versions.length === 0) return undefined;
  const t = makeType({
    group: spec.group,
    versions: versions.map((v) => String(v.name)),
    kind: names.kind,
    plural: names.plural,
    namespaced: spec.scope !== 'Cluster',
    shortNames: (names.shortNames as string[] | undefined) ?? [],
    categories: (names.categories as string[] | undefined) ?? [],
    status: versions.some((v) => (v.subresources as JsonObject | undefined)?.status !== undefined),
    generation: true,
    custom: true,
  });
  if (typeof names.singular === 'string' && names.singular) t.singular = names.singular;
  if (typeof names.listKind === 'string' && names.listKind) t.listKind = names.listKind;
  return t;
}

export function groupVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** `services` for core, `ingresses.networking.k8s.io` otherwise (the name errors use). */
export function qualifiedResource(t: ResourceType): string {
  return t.group === '' ? t.plural : `${t.plural}.${t.group}`;
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** APIResourceList for one group/version (legacy discovery). */
export function apiResourceList(types: ResourceType[], group: string, version: string): JsonObject {
  const resources: JsonObject[] = [];
  for (const t of types) {
    if (t.group !== group || !t.versions.includes(version)) continue;
    const r: JsonObject = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: allVerbs };
    if (t.shortNames.length) r.shortNames = t.shortNames;
    if (t.categories.length) r.categories = t.categories;
    r.storageVersionHash = createHash('sha256').update(`${t.group}/${t.versions[0]}/${t.kind}`).digest('base64').slice(0, 11);
    resources.push(r);
    if (t.statusSubresource) {
      resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources };
}

/** The non-core groups, in the order types were registered. */
export function apiGroups(types: ResourceType[]): JsonObject[] {
  const groups = new Map<string, string[]>();
  for (const t of types) {
    if (t.group === '') continue;
    const versions = groups.get(t.group) ?? [];
    for (const v of t.versions) if (!versions.includes(v)) versions.push(v);
    groups.set(t.group, versions);
  }
  return [...groups].map(([name, versions]) => ({
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
  }));
}

/** Every served group/version, as OpenAPI v3 path keys (`api/v1`, `apis/<g>/<v>`). */
export function openApiV3Paths(types: ResourceType[]): string[] {
  const keys = new Set<string>();
  for (const t of types) for (const v of t.versions) keys.add(t.group === '' ? `api/${v}` : `apis/${t.group}/${v}`);
  return [...keys];
}

/**
 * The OpenAPI v3 document of one group/version: paths with the operations kubectl inspects (PATCH
 * with `x-kubernetes-group-version-kind` and a `fieldValidation` parameter). Component schemas are
 * left out on purpose: kubectl then computes strategic merge patches from its compiled-in types,
 * which is what it does for every built-in kind anyway.
 */
export function openApiV3Document(types: ResourceType[], group: string, version: string): JsonObject {
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const queryParams = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
    name, in: 'query', uniqueItems: true, schema: { type: name === 'force' ? 'boolean' : 'string' },
  }));
  const paths: JsonObject = {};
  for (const t of types) {
    if (t.group !== group || !t.versions.includes(version)) continue;
    const gvk = { group, version, kind: t.kind };
    const base = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.plural}` : `${prefix}/${t.plural}`;
    const op = (action: string, params: JsonObject[] = []) => ({
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: params,
      responses: { '200': { description: 'OK' } },
    });
    paths[base] = { get: op('list'), post: op('post', queryParams.slice(0, 3)), delete: op('deletecollection') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put', queryParams.slice(0, 3)), patch: op('patch', queryParams), delete: op('delete') };
    if (t.statusSubresource) {
      paths[`${base}/{name}/status`] = { get: op('get'), put: op('put', queryParams.slice(0, 3)), patch: op('patch', queryParams) };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}
