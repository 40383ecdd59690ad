/**
 * @module test/k8s-api/server
 * A Kubernetes API server for tests: one process, in memory, plain HTTP, faithful enough that the
 * real kubectl 1.32 (client-side apply, annotate, label, get, delete, create namespace) and
 * @kubernetes/client-node informers work against it unchanged.
 *
 * What it models: legacy discovery and the OpenAPI v3 documents kubectl needs; list (label and field
 * selectors, limit/continue, server-side Tables for `kubectl get`); watch (replay from a
 * resourceVersion, synthetic ADDED for RV 0/unset, BOOKMARKs, `timeoutSeconds`, `sendInitialEvents`,
 * 410 Expired as an in-stream ERROR event once history is compacted); get/create/update/patch/delete
 * with uid, creationTimestamp, resourceVersion, generation, 409 conflicts, finalizers and the `/status`
 * subresource; namespace existence checks and cascading namespace deletion; Secret `stringData`;
 * Service defaults (clusterIP, protocol, targetPort); core/v1 and events.k8s.io/v1 Events sharing one
 * storage; Leases; CRDs, which start serving their kind when POSTed.
 *
 * Simplifications (documented, deliberate): no authn/authz or admission webhooks; no schema
 * validation beyond names (`fieldValidation` is accepted and ignored); strategic merge patch is
 * approximated (see patch.ts); server-side apply is a merge patch that creates when missing (no
 * managedFields, no conflicts); namespace deletion is immediate (no Terminating phase); a too-new
 * resourceVersion is treated as "now"; dropping state on restart keeps the resourceVersion counter
 * and expires all older versions, so clients relist instead of seeing RVs go backwards.
 *
 * Fault injection for informer tests: `dropWatches()`, `failNext(n, status)`, `compact()`,
 * `restart()`; and direct, in-process access to the store (`create`, `get`, `list`, `remove`).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID, createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import {
  type JsonObject, type ResourceType, builtinTypes, typeFromCrd, groupVersion, qualifiedResource,
  apiResourceList, apiGroups, openApiV3Paths, openApiV3Document,
} from './resources.ts';
import { PatchError, clone, jsonPatch, mergePatch, strategicMerge } from './patch.ts';
import { decodeKubernetesProtobuf } from './protobuf.ts';
import { type Matcher, SelectorError, parseFieldSelector, parseLabelSelector } from './selectors.ts';

export interface KubeApiServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Objects present at start (Namespaces and CRDs are created first). */
  initialObjects?: object[];
  /** Built-in types (`plural.group`, e.g. `kongplugins.configuration.konghq.com`) not served until their CRD is POSTed. */
  omitResources?: string[];
  /** How often watches that asked for bookmarks get one (the real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** Watch history kept per server; older entries are compacted away. */
  historyLimit?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  contentType?: string;
  accept?: string;
  status?: number;
}

export interface RestartOptions {
  /** Forget every object (default namespaces are recreated); older resourceVersions become expired. */
  dropState?: boolean;
  /** Runs while the port is closed: mutate the store here to make clients miss events. */
  whileDown?: () => void | Promise<void>;
  /** Extra time the port stays closed. */
  downMs?: number;
}

export interface KubeApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order (method, path, query, content type, answered status). */
  readonly requests: RequestRecord[];
  /** The current cluster-wide resourceVersion. */
  readonly resourceVersion: string;
  /** Number of watch streams open now. */
  readonly openWatches: number;
  stop(): Promise<void>;
  /** Closes every connection and the port, then listens again on the same port. */
  restart(options?: RestartOptions): Promise<void>;
  /** Ends all open watch streams (gracefully, or by destroying the sockets). Returns how many. */
  dropWatches(options?: { abrupt?: boolean }): number;
  /** The next n requests (that `match`, if given) are answered with this status and a Status body. */
  failNext(n: number, status: number, match?: (req: { method: string; path: string }) => boolean): void;
  /** Cancels failures queued by failNext that have not fired yet. */
  clearFailures(): void;
  /** Forgets watch history: a watch from any resourceVersion older than the current one gets 410 Expired. */
  compact(): void;
  /** Writes a kubeconfig for kubectl and client-node (plain http, insecure-skip-tls-verify). */
  writeKubeconfig(path: string, options?: { namespace?: string }): Promise<string>;
  /** In-process store access (goes through the same defaulting and watch notification as HTTP). */
  create(obj: object): JsonObject;
  get(apiVersion: string, kind: string, name: string, namespace?: string): JsonObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): JsonObject[];
  update(obj: object): JsonObject;
  remove(apiVersion: string, kind: string, name: string, namespace?: string): void;
}

/** An error answered as a Kubernetes Status object. */
class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: JsonObject) {
    super(message);
  }
}

const reasons: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  409: 'Conflict', 410: 'Expired', 415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests',
  500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

function statusBody(code: number, reason: string, message: string, details?: JsonObject): JsonObject {
  const s: JsonObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEntry {
  rv: number;
  storageKey: string;
  type: EventType;
  obj: JsonObject;
  prev?: JsonObject;
}

interface Watcher {
  storageKey: string;
  onEntry(entry: HistoryEntry): void;
  close(abrupt: boolean): void;
}

function meta(obj: JsonObject): JsonObject {
  if (obj.metadata === null || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) obj.metadata = {};
  return obj.metadata as JsonObject;
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** kubectl's short age format (`45s`, `3m20s`, `2h`, `5d`). */
function age(timestamp: unknown): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Everything except metadata and status: what bumps metadata.generation. */
function specPart(obj: JsonObject): string {
  const { metadata: _m, status: _s, ...rest } = obj;
  return JSON.stringify(rest);
}

function sameObject(a: JsonObject, b: JsonObject): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The in-memory cluster: types, objects, resourceVersions, history, watchers. */
class ClusterState {
  types: ResourceType[] = [];
  /** Built-ins held back until their CRD is created, by `plural.group`. */
  omitted = new Map<string, ResourceType>();
  objects = new Map<string, Map<string, JsonObject>>();
  rv = 0;
  compactedRv = 0;
  history: HistoryEntry[] = [];
  watchers = new Set<Watcher>();
  private nextClusterIp = 10;

  constructor(omit: string[], readonly historyLimit: number) {
    for (const t of builtinTypes()) {
      const name = qualifiedResource(t);
      if (omit.includes(name) || omit.includes(t.plural)) this.omitted.set(name, t);
      else this.types.push(t);
    }
    this.createDefaultNamespaces();
  }

  createDefaultNamespaces(): void {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.create(this.typeFor('v1', 'Namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined, false);
    }
  }

  private crdRegistered = new Set<string>();

  typeFor(apiVersion: string, kind: string): ResourceType {
    const slash = apiVersion.lastIndexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const t = this.types.find((x) => x.group === group && x.kind === kind && x.versions.includes(version));
    if (!t) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (no ${kind} in ${apiVersion})`);
    return t;
  }

  typeForPath(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((x) => x.group === group && x.plural === plural && x.versions.includes(version));
  }

  bucket(t: ResourceType): Map<string, JsonObject> {
    let b = this.objects.get(t.storageKey);
    if (!b) { b = new Map(); this.objects.set(t.storageKey, b); }
    return b;
  }

  key(namespace: string | undefined, name: string): string {
    return `${namespace ?? ''}/${name}`;
  }

  /** The wire form of a stored object for one served version. */
  view(t: ResourceType, version: string, stored: JsonObject): JsonObject {
    const converted = t.fromStorage ? t.fromStorage(stored) : stored;
    const { apiVersion: _a, kind: _k, ...rest } = clone(converted);
    return { apiVersion: groupVersion(t.group, version), kind: t.kind, ...rest };
  }

  /** Incoming wire object -> storage form. */
  toStorage(t: ResourceType, obj: JsonObject): JsonObject {
    const converted = t.toStorage ? t.toStorage(obj) : obj;
    const { apiVersion: _a, kind: _k, ...rest } = converted;
    return { apiVersion: groupVersion(t.group, t.versions[0]), kind: t.kind, ...rest };
  }

  private record(t: ResourceType, type: EventType, obj: JsonObject, prev?: JsonObject): void {
    this.rv += 1;
    meta(obj).resourceVersion = String(this.rv);
    const entry: HistoryEntry = { rv: this.rv, storageKey: t.storageKey, type, obj: clone(obj), prev: prev ? clone(prev) : undefined };
    this.history.push(entry);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift()!;
      this.compactedRv = dropped.rv;
    }
    for (const w of [...this.watchers]) if (w.storageKey === t.storageKey) w.onEntry(entry);
  }

  private normalize(t: ResourceType, obj: JsonObject, existing: JsonObject | undefined): void {
    const m = meta(obj);
    if (t.group === '' && t.kind === 'Secret') {
      if (isObject(obj.stringData)) {
        const data: JsonObject = isObject(obj.data) ? { ...obj.data } : {};
        for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        obj.data = data;
      }
      delete obj.stringData;
      if (!obj.type) obj.type = existing?.type ?? 'Opaque';
    }
    if (t.group === '' && t.kind === 'Namespace') {
      m.labels = { ...(isObject(m.labels) ? m.labels : {}), 'kubernetes.io/metadata.name': String(m.name) };
      const spec = isObject(obj.spec) ? obj.spec : {};
      if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
      obj.spec = spec;
      if (!existing) obj.status = { phase: 'Active' };
    }
    if (t.group === '' && t.kind === 'Service') {
      const spec = isObject(obj.spec) ? obj.spec : {};
      obj.spec = spec;
      const oldSpec = (existing?.spec ?? {}) as JsonObject;
      if (!spec.type) spec.type = 'ClusterIP';
      if (spec.type !== 'ExternalName') {
        if (!spec.clusterIP) spec.clusterIP = oldSpec.clusterIP ?? `10.96.${Math.floor(this.nextClusterIp / 250)}.${(this.nextClusterIp++ % 250) + 1}`;
        if (!spec.clusterIPs) spec.clusterIPs = spec.clusterIP === 'None' ? ['None'] : [spec.clusterIP];
        if (!spec.ipFamilies) spec.ipFamilies = ['IPv4'];
        if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
        if (!spec.internalTrafficPolicy) spec.internalTrafficPolicy = 'Cluster';
      }
      if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports as JsonObject[]) {
          if (!p.protocol) p.protocol = 'TCP';
          if (p.targetPort === undefined) p.targetPort = p.port;
        }
      }
      if (!existing && !isObject(obj.status)) obj.status = { loadBalancer: {} };
    }
    if (t.group === 'apiextensions.k8s.io') {
      const names = ((obj.spec as JsonObject | undefined)?.names ?? {}) as JsonObject;
      const storage = (((obj.spec as JsonObject | undefined)?.versions ?? []) as JsonObject[]).find((v) => v.storage)?.name;
      const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: nowTimestamp(), reason, message });
      obj.status = {
        conditions: [cond('NamesAccepted', 'NoConflicts', 'no conflicts found'), cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
        acceptedNames: names,
        storedVersions: storage ? [storage] : [],
      };
    }
  }

  private checkName(t: ResourceType, m: JsonObject): void {
    const name = m.name;
    if (typeof name !== 'string' || name === '') {
      throw new ApiError(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        { kind: t.kind, causes: [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }] });
    }
    const re = t.kind === 'Namespace' && t.group === '' ? label : subdomain;
    if (name.length > 253 || !re.test(name)) {
      const what = re === label ? 'a lowercase RFC 1123 label' : 'a lowercase RFC 1123 subdomain';
      const msg = `Invalid value: "${name}": ${what} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`;
      throw new ApiError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.name: ${msg}`,
        { name, kind: t.kind, causes: [{ reason: 'FieldValueInvalid', message: msg, field: 'metadata.name' }] });
    }
  }

  get(t: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.bucket(t).get(this.key(t.namespaced ? namespace : undefined, name));
  }

  notFound(t: ResourceType, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualifiedResource(t)} "${name}" not found`, { name, group: t.group || undefined, kind: t.plural });
  }

  /** Create from a wire object (already checked for kind/namespace by the caller). */
  create(t: ResourceType, wire: JsonObject, namespace: string | undefined, dryRun: boolean): JsonObject {
    const obj = this.toStorage(t, clone(wire));
    const m = meta(obj);
    if (t.namespaced) m.namespace = namespace ?? m.namespace ?? 'default';
    else delete m.namespace;
    if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName) {
      m.name = `${m.generateName}${randomUUID().replace(/-/g, '').slice(0, 5)}`;
    }
    this.checkName(t, m);
    if (t.namespaced) {
      const nsType = this.types.find((x) => x.group === '' && x.kind === 'Namespace')!;
      if (!this.get(nsType, undefined, String(m.namespace))) {
        throw new ApiError(404, 'NotFound', `namespaces "${String(m.namespace)}" not found`, { name: String(m.namespace), kind: 'namespaces' });
      }
    }
    const name = String(m.name);
    if (this.get(t, m.namespace as string | undefined, name)) {
      throw new ApiError(409, 'AlreadyExists', `${qualifiedResource(t)} "${name}" already exists`, { name, group: t.group || undefined, kind: t.plural });
    }
    if (t.group === 'apiextensions.k8s.io') this.checkCrd(obj);
    m.uid = randomUUID();
    m.creationTimestamp = nowTimestamp();
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.managedFields;
    if (t.generation) m.generation = 1;
    else delete m.generation;
    if (t.statusSubresource) delete obj.status;
    this.normalize(t, obj, undefined);
    if (dryRun) { m.resourceVersion = String(this.rv); return obj; }
    this.bucket(t).set(this.key(m.namespace as string | undefined, name), obj);
    this.record(t, 'ADDED', obj);
    if (t.group === 'apiextensions.k8s.io') this.registerCrd(obj);
    return obj;
  }

  private checkCrd(obj: JsonObject): void {
    const spec = (obj.spec ?? {}) as JsonObject;
    const names = (spec.names ?? {}) as JsonObject;
    const want = `${String(names.plural)}.${String(spec.group)}`;
    if (meta(obj).name !== want) {
      throw new ApiError(422, 'Invalid', `CustomResourceDefinition.apiextensions.k8s.io "${String(meta(obj).name)}" is invalid: metadata.name: Invalid value: "${String(meta(obj).name)}": must be spec.names.plural+"."+spec.group`);
    }
    if (!typeFromCrd(obj)) throw new ApiError(422, 'Invalid', `CustomResourceDefinition.apiextensions.k8s.io "${want}" is invalid: spec: Invalid value: no served versions or names`);
  }

  private registerCrd(crd: JsonObject): void {
    const fromCrd = typeFromCrd(crd);
    if (!fromCrd) return;
    const name = qualifiedResource(fromCrd);
    if (this.types.some((t) => qualifiedResource(t) === name)) return;
    // A held-back built-in keeps its printer columns and conversions; otherwise serve what the CRD says.
    const held = this.omitted.get(name);
    this.omitted.delete(name);
    this.types.push(held ? { ...held, versions: fromCrd.versions, namespaced: fromCrd.namespaced, statusSubresource: fromCrd.statusSubresource } : fromCrd);
    this.crdRegistered.add(name);
  }

  private unregisterCrd(crd: JsonObject): void {
    const fromCrd = typeFromCrd(crd);
    if (!fromCrd) return;
    const name = qualifiedResource(fromCrd);
    const t = this.types.find((x) => qualifiedResource(x) === name);
    if (!t) return;
    for (const obj of [...this.bucket(t).values()]) this.hardDelete(t, obj);
    this.types = this.types.filter((x) => x !== t);
    this.crdRegistered.delete(name);
    const held = builtinTypes().find((b) => qualifiedResource(b) === name);
    if (held) this.omitted.set(name, held);
    for (const w of [...this.watchers]) if (w.storageKey === t.storageKey) w.close(false);
  }

  /**
   * Update to a full desired object (PUT, or the result of a patch). `subresource` `status` takes
   * only the status; the main resource keeps the stored status when the kind has a status subresource.
   */
  update(t: ResourceType, existing: JsonObject, wire: JsonObject, subresource: string | undefined, dryRun: boolean): { obj: JsonObject; changed: boolean } {
    const incoming = this.toStorage(t, clone(wire));
    const inMeta = meta(incoming);
    const oldMeta = meta(existing);
    if (inMeta.resourceVersion !== undefined && inMeta.resourceVersion !== '' && String(inMeta.resourceVersion) !== oldMeta.resourceVersion) {
      throw new ApiError(409, 'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(t)} "${String(oldMeta.name)}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: String(oldMeta.name), group: t.group || undefined, kind: t.plural });
    }
    let next: JsonObject;
    if (subresource === 'status') {
      next = clone(existing);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      const m = meta(next);
      for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (oldMeta[k] === undefined) delete m[k];
        else m[k] = oldMeta[k];
      }
      delete m.managedFields;
      if (t.statusSubresource) {
        if (existing.status === undefined) delete next.status;
        else next.status = clone(existing.status);
      }
      this.normalize(t, next, existing);
      if (t.generation && specPart(next) !== specPart(existing)) m.generation = Number(oldMeta.generation ?? 0) + 1;
    }
    meta(next).resourceVersion = oldMeta.resourceVersion;
    if (sameObject(next, existing)) return { obj: existing, changed: false };
    if (dryRun) return { obj: next, changed: true };
    const nm = meta(next);
    if (nm.deletionTimestamp && !(Array.isArray(nm.finalizers) && nm.finalizers.length > 0)) {
      this.hardDelete(t, next);
      return { obj: next, changed: true };
    }
    this.bucket(t).set(this.key(nm.namespace as string | undefined, String(nm.name)), next);
    this.record(t, 'MODIFIED', next, existing);
    return { obj: next, changed: true };
  }

  private hardDelete(t: ResourceType, obj: JsonObject): void {
    const m = meta(obj);
    const prev = this.bucket(t).get(this.key(m.namespace as string | undefined, String(m.name)));
    this.bucket(t).delete(this.key(m.namespace as string | undefined, String(m.name)));
    this.record(t, 'DELETED', obj, prev);
  }

  /** Delete: objects with finalizers get a deletionTimestamp and stay; returns whether it is gone. */
  delete(t: ResourceType, existing: JsonObject, options: JsonObject, dryRun: boolean): { obj: JsonObject; gone: boolean } {
    const m = meta(existing);
    const pre = (options.preconditions ?? {}) as JsonObject;
    if (pre.uid && pre.uid !== m.uid) {
      throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(m.uid)}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== m.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(m.resourceVersion)}`);
    }
    if (dryRun) return { obj: existing, gone: true };
    if (Array.isArray(m.finalizers) && m.finalizers.length > 0) {
      if (m.deletionTimestamp) return { obj: existing, gone: false };
      const next = clone(existing);
      meta(next).deletionTimestamp = nowTimestamp();
      meta(next).deletionGracePeriodSeconds = 0;
      this.bucket(t).set(this.key(m.namespace as string | undefined, String(m.name)), next);
      this.record(t, 'MODIFIED', next, existing);
      return { obj: next, gone: false };
    }
    if (t.group === '' && t.kind === 'Namespace') {
      // Cascade at once: the real namespace controller does this while the namespace is Terminating.
      for (const other of this.types) {
        if (!other.namespaced || other.fromStorage) continue;
        for (const obj of [...this.bucket(other).values()]) if (meta(obj).namespace === m.name) this.hardDelete(other, clone(obj));
      }
    }
    const gone = clone(existing);
    this.hardDelete(t, gone);
    if (t.group === 'apiextensions.k8s.io') this.unregisterCrd(gone);
    return { obj: gone, gone: true };
  }

  list(t: ResourceType, namespace: string | undefined, match: Matcher): JsonObject[] {
    const out: JsonObject[] = [];
    for (const obj of this.bucket(t).values()) {
      if (t.namespaced && namespace !== undefined && meta(obj).namespace !== namespace) continue;
      out.push(obj);
    }
    out.sort((a, b) => this.key(meta(a).namespace as string, String(meta(a).name)).localeCompare(this.key(meta(b).namespace as string, String(meta(b).name))));
    return out.filter((o) => match(t.fromStorage ? t.fromStorage(o) : o));
  }
}

function firstQuery(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null ? undefined : v;
}

function truthy(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseBody(body: Buffer, contentType: string): unknown {
  if (contentType === 'application/vnd.kubernetes.protobuf') {
    try {
      return decodeKubernetesProtobuf(body);
    } catch (err) {
      throw new ApiError(415, 'UnsupportedMediaType', (err as Error).message);
    }
  }
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    if (/yaml/.test(contentType)) return YAML.parse(text);
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

interface ParsedPath {
  kind: 'discovery' | 'resource' | 'openapi' | 'other';
  group: string;
  version?: string;
  plural?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  segments: string[];
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
  let state = new ClusterState(options.omitResources ?? [], options.historyLimit ?? 10_000);
  const requests: RequestRecord[] = [];
  const failures: { remaining: number; status: number; match?: (req: { method: string; path: string }) => boolean }[] = [];
  let port = options.port ?? 0;
  let server: http.Server | undefined;
  const sockets = new Set<Socket>();

  // Initial objects: namespaces and CRDs first so the rest can land in them.
  const rank = (o: JsonObject) => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);
  const initial = [...(options.initialObjects ?? [])].map((o) => o as JsonObject).sort((a, b) => rank(a) - rank(b));
  for (const o of initial) directCreate(o);

  function directCreate(o: object): JsonObject {
    const obj = o as JsonObject;
    const t = state.typeFor(String(obj.apiVersion), String(obj.kind));
    const ns = t.namespaced ? String(meta(obj).namespace ?? 'default') : undefined;
    return state.view(t, t.versions[0], state.create(t, obj, ns, false));
  }

  function parsePath(pathname: string): ParsedPath {
    const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const p: ParsedPath = { kind: 'other', group: '', segments };
    let rest: string[];
    if (segments[0] === 'api') {
      p.kind = 'discovery';
      if (segments.length < 2) return p;
      p.version = segments[1];
      rest = segments.slice(2);
    } else if (segments[0] === 'apis') {
      p.kind = 'discovery';
      if (segments.length < 2) return p;
      p.group = segments[1];
      if (segments.length < 3) return p;
      p.version = segments[2];
      rest = segments.slice(3);
    } else if (segments[0] === 'openapi') {
      p.kind = 'openapi';
      return p;
    } else {
      return p;
    }
    if (rest.length === 0) return p;
    p.kind = 'resource';
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = state.typeForPath(p.group, p.version, rest[2]);
      if (t && t.namespaced) {
        p.namespace = rest[1];
        p.plural = rest[2];
        p.name = rest[3];
        p.subresource = rest[4];
        if (rest.length > 5) p.kind = 'other';
        return p;
      }
    }
    p.plural = rest[0];
    p.name = rest[1];
    p.subresource = rest[2];
    if (rest.length > 3) p.kind = 'other';
    return p;
  }

  function send(res: http.ServerResponse, code: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...extraHeaders });
    res.end(text);
  }

  function table(t: ResourceType, version: string, objs: JsonObject[], rv: string, includeObject: string | undefined, extraMeta: JsonObject = {}): JsonObject {
    const columnDefinitions = [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      ...t.columns.map((c) => ({ name: c.name, type: c.type === 'date' ? 'string' : c.type, format: '', description: c.name, priority: 0 })),
      { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
    ];
    const rows = objs.map((stored) => {
      const obj = state.view(t, version, stored);
      const m = meta(obj);
      const row: JsonObject = { cells: [m.name, ...t.columns.map((c) => c.value(obj) ?? ''), age(m.creationTimestamp)] };
      if (includeObject === 'Object') row.object = obj;
      else if (includeObject !== 'None') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: m };
      return row;
    });
    return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: rv, ...extraMeta }, columnDefinitions, rows };
  }

  function wantsTable(req: http.IncomingMessage): boolean {
    return /as=Table/.test(req.headers.accept ?? '');
  }

  function listResponse(t: ResourceType, version: string, items: JsonObject[], extraMeta: JsonObject): JsonObject {
    return {
      kind: t.listKind,
      apiVersion: groupVersion(t.group, version),
      metadata: { resourceVersion: String(state.rv), ...extraMeta },
      // Typed (built-in) lists carry no per-item apiVersion/kind on the wire; custom resource lists do.
      items: items.map((o) => {
        const v = state.view(t, version, o);
        if (t.custom) return v;
        const { apiVersion: _a, kind: _k, ...rest } = v;
        return rest;
      }),
    };
  }

  function handleList(req: http.IncomingMessage, res: http.ServerResponse, t: ResourceType, version: string, ns: string | undefined, q: URLSearchParams): void {
    const labelMatch = parseLabelSelector(firstQuery(q, 'labelSelector'));
    const fieldMatch = parseFieldSelector(firstQuery(q, 'fieldSelector'));
    const rvParam = firstQuery(q, 'resourceVersion');
    if (firstQuery(q, 'resourceVersionMatch') === 'Exact' && rvParam && Number(rvParam) < state.compactedRv) {
      throw new ApiError(410, 'Expired', `too old resource version: ${rvParam} (${state.compactedRv})`);
    }
    let items = state.list(t, ns, (o) => labelMatch(o) && fieldMatch(o));
    const extraMeta: JsonObject = {};
    let start = 0;
    const cont = firstQuery(q, 'continue');
    if (cont) {
      let token: { rv: number; start: number };
      try { token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { rv: number; start: number }; } catch {
        throw new ApiError(400, 'BadRequest', 'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      if (token.rv < state.compactedRv) {
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      start = token.start;
    }
    const limit = Number(firstQuery(q, 'limit') ?? 0);
    if (limit > 0 && items.length - start > limit) {
      extraMeta.continue = Buffer.from(JSON.stringify({ rv: state.rv, start: start + limit })).toString('base64');
      extraMeta.remainingItemCount = items.length - start - limit;
    }
    items = items.slice(start, limit > 0 ? start + limit : undefined);
    if (wantsTable(req)) send(res, 200, table(t, version, items, String(state.rv), firstQuery(q, 'includeObject'), extraMeta));
    else send(res, 200, listResponse(t, version, items, extraMeta));
  }

  function handleWatch(req: http.IncomingMessage, res: http.ServerResponse, t: ResourceType, version: string, ns: string | undefined, q: URLSearchParams): void {
    const labelMatch = parseLabelSelector(firstQuery(q, 'labelSelector'));
    const fieldMatch = parseFieldSelector(firstQuery(q, 'fieldSelector'));
    const matches = (stored: JsonObject | undefined): boolean => {
      if (!stored) return false;
      if (t.namespaced && ns !== undefined && meta(stored).namespace !== ns) return false;
      const wire = t.fromStorage ? t.fromStorage(stored) : stored;
      return labelMatch(wire) && fieldMatch(wire);
    };
    const rvParam = firstQuery(q, 'resourceVersion');
    const fromRv = rvParam === undefined || rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
    if (fromRv !== undefined && !Number.isInteger(fromRv)) {
      throw new ApiError(400, 'BadRequest', `invalid resource version: ${String(rvParam)}`);
    }
    const bookmarks = truthy(firstQuery(q, 'allowWatchBookmarks'));
    const asTable = wantsTable(req);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();

    const write = (type: string, object: JsonObject) => {
      if (res.writableEnded || res.destroyed) return;
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const emit = (type: EventType, stored: JsonObject) => {
      const obj = asTable ? table(t, version, [stored], String(meta(stored).resourceVersion), firstQuery(q, 'includeObject')) : state.view(t, version, stored);
      write(type, obj);
    };
    const deliver = (entry: HistoryEntry) => {
      const now = matches(entry.obj);
      const was = matches(entry.prev);
      if (entry.type === 'ADDED') { if (now) emit('ADDED', entry.obj); return; }
      if (entry.type === 'DELETED') { if (now || was) emit('DELETED', entry.obj); return; }
      if (now && was) emit('MODIFIED', entry.obj);
      else if (now) emit('ADDED', entry.obj);
      else if (was) emit('DELETED', entry.obj);
    };
    const bookmark = (annotations?: Record<string, string>) => {
      const m: JsonObject = { resourceVersion: String(state.rv) };
      if (annotations) m.annotations = annotations;
      write('BOOKMARK', { kind: t.kind, apiVersion: groupVersion(t.group, version), metadata: m });
    };

    let timers: NodeJS.Timeout[] = [];
    const watcher: Watcher = {
      storageKey: t.storageKey,
      onEntry: deliver,
      close(abrupt) {
        cleanup();
        if (abrupt) res.socket?.destroy();
        else res.end();
      },
    };
    const cleanup = () => {
      state.watchers.delete(watcher);
      watchers.delete(watcher);
      for (const tm of timers) clearTimeout(tm);
      timers = [];
    };
    res.on('close', cleanup);

    if (fromRv !== undefined && fromRv < state.compactedRv) {
      // What the watch cache does: a 200 stream carrying one ERROR event, then the end.
      write('ERROR', statusBody(410, 'Expired', `too old resource version: ${fromRv} (${state.compactedRv})`) as JsonObject);
      cleanup();
      res.end();
      return;
    }
    if (fromRv === undefined) {
      for (const obj of state.list(t, ns, () => true)) if (matches(obj)) emit('ADDED', obj);
      if (bookmarks && truthy(firstQuery(q, 'sendInitialEvents'))) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      for (const entry of state.history) if (entry.rv > fromRv && entry.storageKey === t.storageKey) deliver(entry);
    }
    state.watchers.add(watcher);
    watchers.add(watcher);
    if (bookmarks) {
      const tick = () => { bookmark(); timers.push(setTimeout(tick, bookmarkIntervalMs)); };
      timers.push(setTimeout(tick, bookmarkIntervalMs));
    }
    const timeoutSeconds = Number(firstQuery(q, 'timeoutSeconds') ?? 0);
    if (timeoutSeconds > 0) timers.push(setTimeout(() => watcher.close(false), timeoutSeconds * 1000));
  }

  /** Watches opened through this server object (survive `state` replacement on dropState restarts). */
  const watchers = new Set<Watcher>();

  function checkBodyKind(t: ResourceType, version: string, body: unknown): JsonObject {
    if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'the body of the request was empty or not an object');
    if (body.kind !== undefined && body.kind !== t.kind) {
      throw new ApiError(400, 'BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (${t.kind})`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== groupVersion(t.group, version)) {
      throw new ApiError(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${groupVersion(t.group, version)})`);
    }
    return body;
  }

  function checkBodyNamespace(t: ResourceType, ns: string | undefined, body: JsonObject): void {
    const m = meta(body);
    if (t.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
  }

  async function handleResource(req: http.IncomingMessage, res: http.ServerResponse, p: ParsedPath, q: URLSearchParams): Promise<void> {
    const version = p.version!;
    const t = state.typeForPath(p.group, version, p.plural!);
    if (!t) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (!t.namespaced && p.namespace !== undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (p.subresource !== undefined && !(p.subresource === 'status' && t.statusSubresource)) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const method = req.method ?? 'GET';
    const dryRun = q.getAll('dryRun').includes('All');
    const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim();

    if (p.name === undefined) {
      if (method === 'GET') {
        if (truthy(firstQuery(q, 'watch'))) return handleWatch(req, res, t, version, p.namespace, q);
        return handleList(req, res, t, version, p.namespace, q);
      }
      if (method === 'POST') {
        if (t.namespaced && p.namespace === undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const body = checkBodyKind(t, version, parseBody(await readBody(req), contentType));
        checkBodyNamespace(t, p.namespace, body);
        const created = state.create(t, body, p.namespace, dryRun);
        return send(res, 201, state.view(t, version, created));
      }
      if (method === 'DELETE') {
        const labelMatch = parseLabelSelector(firstQuery(q, 'labelSelector'));
        const fieldMatch = parseFieldSelector(firstQuery(q, 'fieldSelector'));
        const options = (parseBody(await readBody(req), contentType) ?? {}) as JsonObject;
        const deleted: JsonObject[] = [];
        for (const obj of state.list(t, p.namespace, (o) => labelMatch(o) && fieldMatch(o))) deleted.push(state.delete(t, obj, options, dryRun).obj);
        return send(res, 200, listResponse(t, version, deleted, {}));
      }
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }

    if (t.namespaced && p.namespace === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const name = p.name;
    const existing = state.get(t, p.namespace, name);

    if (method === 'GET') {
      if (!existing) throw state.notFound(t, name);
      if (wantsTable(req)) return send(res, 200, table(t, version, [existing], String(meta(existing).resourceVersion), firstQuery(q, 'includeObject')));
      return send(res, 200, state.view(t, version, existing));
    }
    if (method === 'PUT') {
      const body = checkBodyKind(t, version, parseBody(await readBody(req), contentType));
      checkBodyNamespace(t, p.namespace, body);
      if (meta(body).name !== name) {
        throw new ApiError(400, 'BadRequest', `the name of the object (${String(meta(body).name)}) does not match the name on the URL (${name})`);
      }
      if (!existing) throw state.notFound(t, name);
      const { obj } = state.update(t, existing, body, p.subresource, dryRun);
      return send(res, 200, state.view(t, version, obj));
    }
    if (method === 'PATCH') {
      const patch = parseBody(await readBody(req), contentType);
      if (contentType === 'application/apply-patch+yaml' || contentType === 'application/apply-patch+json') {
        if (!firstQuery(q, 'fieldManager')) {
          throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
        }
        const body = checkBodyKind(t, version, patch);
        if (!existing) {
          checkBodyNamespace(t, p.namespace, body);
          meta(body).name = name;
          return send(res, 201, state.view(t, version, state.create(t, body, p.namespace, dryRun)));
        }
        const merged = mergePatch(state.view(t, version, existing), body) as JsonObject;
        delete meta(merged).resourceVersion;
        return send(res, 200, state.view(t, version, state.update(t, existing, merged, p.subresource, dryRun).obj));
      }
      if (!existing) throw state.notFound(t, name);
      const current = state.view(t, version, existing);
      let patched: unknown;
      try {
        if (contentType === 'application/merge-patch+json') patched = mergePatch(current, patch);
        else if (contentType === 'application/json-patch+json') patched = jsonPatch(current, patch);
        else if (contentType === 'application/strategic-merge-patch+json') {
          if (t.custom) {
            throw new ApiError(415, 'UnsupportedMediaType',
              'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
          }
          patched = strategicMerge(current, patch);
        } else {
          throw new ApiError(415, 'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${t.custom ? '' : ', application/strategic-merge-patch+json'}`);
        }
      } catch (err) {
        if (err instanceof PatchError) throw new ApiError(422, 'Invalid', err.message);
        throw err;
      }
      if (!isObject(patched)) throw new ApiError(422, 'Invalid', 'the patch did not produce an object');
      meta(patched).name = name;
      if (t.namespaced) meta(patched).namespace = p.namespace;
      const { obj } = state.update(t, existing, { ...patched, apiVersion: groupVersion(t.group, version), kind: t.kind }, p.subresource, dryRun);
      return send(res, 200, state.view(t, version, obj));
    }
    if (method === 'DELETE') {
      if (p.subresource) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      if (!existing) throw state.notFound(t, name);
      const options = (parseBody(await readBody(req), contentType) ?? {}) as JsonObject;
      const { obj, gone } = state.delete(t, existing, options, dryRun);
      if (!gone) return send(res, 202, state.view(t, version, obj));
      return send(res, 200, {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
        details: { name, group: t.group || undefined, kind: t.plural, uid: meta(obj).uid },
      });
    }
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  function handleDiscovery(res: http.ServerResponse, p: ParsedPath): void {
    const seg = p.segments;
    if (seg[0] === 'api' && seg.length === 1) {
      return send(res, 200, {
        kind: 'APIVersions', versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
      });
    }
    if (seg[0] === 'apis' && seg.length === 1) return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups(state.types) });
    if (seg[0] === 'apis' && seg.length === 2) {
      const g = apiGroups(state.types).find((x) => x.name === p.group);
      if (!g) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g });
    }
    const served = state.types.some((t) => t.group === p.group && t.versions.includes(p.version!));
    if (!served) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return send(res, 200, apiResourceList(state.types, p.group, p.version!));
  }

  function handleOpenApi(res: http.ServerResponse, p: ParsedPath): void {
    const seg = p.segments;
    if (seg[1] !== 'v3') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (seg.length === 2) {
      const paths: JsonObject = {};
      for (const key of openApiV3Paths(state.types)) {
        const [root, a, b] = key.split('/');
        const doc = root === 'api' ? openApiV3Document(state.types, '', a) : openApiV3Document(state.types, a, b);
        const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 64).toUpperCase();
        paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
      }
      return send(res, 200, { paths });
    }
    const [, , root, a, b] = seg;
    const doc = root === 'api' && a ? openApiV3Document(state.types, '', a)
      : root === 'apis' && a && b ? openApiV3Document(state.types, a, b) : undefined;
    if (!doc || Object.keys(doc.paths as JsonObject).length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return send(res, 200, doc);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record: RequestRecord = {
      method: req.method ?? 'GET', path: url.pathname, query: url.search,
      contentType: req.headers['content-type'], accept: req.headers.accept,
    };
    requests.push(record);
    res.on('finish', () => { record.status = res.statusCode; });
    res.on('close', () => { record.status ??= res.statusCode; });
    try {
      const failure = failures.find((f) => f.remaining > 0 && (!f.match || f.match({ method: record.method, path: record.path })));
      if (failure) {
        failure.remaining -= 1;
        if (failure.remaining === 0) failures.splice(failures.indexOf(failure), 1);
        req.resume();
        const reason = reasons[failure.status] ?? 'InternalError';
        const headers: Record<string, string> = failure.status === 429 || failure.status === 503 ? { 'Retry-After': '1' } : {};
        return send(res, failure.status, statusBody(failure.status, reason, `injected failure (${failure.status})`), headers);
      }
      const p = parsePath(url.pathname);
      if (p.segments.length === 1 && ['healthz', 'livez', 'readyz'].includes(p.segments[0])) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('ok');
      }
      if (p.segments.length === 1 && p.segments[0] === 'version') {
        return send(res, 200, {
          major: '1', minor: '32', gitVersion: 'v1.32.0-turnpike-test', gitCommit: '0000000000000000000000000000000000000000',
          gitTreeState: 'clean', buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64',
        });
      }
      if (p.kind === 'discovery' && (req.method === 'GET' || req.method === 'HEAD')) return handleDiscovery(res, p);
      if (p.kind === 'openapi' && req.method === 'GET') return handleOpenApi(res, p);
      if (p.kind === 'resource') return await handleResource(req, res, p, url.searchParams);
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    } catch (err) {
      if (res.headersSent) { res.end(); return; }
      if (err instanceof ApiError) return send(res, err.code, statusBody(err.code, err.reason, err.message, err.details));
      if (err instanceof SelectorError) return send(res, 400, statusBody(400, 'BadRequest', err.message));
      return send(res, 500, statusBody(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`));
    }
  }

  async function listen(): Promise<void> {
    const s = http.createServer((req, res) => { void handle(req, res); });
    s.keepAliveTimeout = 60_000;
    s.on('connection', (sock) => { sockets.add(sock); sock.on('close', () => sockets.delete(sock)); });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => { s.off('error', reject); resolve(); });
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  }

  async function close(): Promise<void> {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const w of [...watchers]) w.close(true);
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of sockets) sock.destroy();
    s.closeAllConnections();
    await closed;
  }

  await listen();

  const api: KubeApiServer = {
    get url() { return `http://127.0.0.1:${port}`; },
    get port() { return port; },
    requests,
    get resourceVersion() { return String(state.rv); },
    get openWatches() { return watchers.size; },
    stop: close,
    async restart(o: RestartOptions = {}) {
      await close();
      if (o.dropState) {
        const rv = state.rv;
        state = new ClusterState(options.omitResources ?? [], options.historyLimit ?? 10_000);
        // Keep resourceVersions moving forward and expire everything a client may still hold.
        state.rv = Math.max(state.rv, rv + 1);
        state.compactedRv = state.rv;
      }
      await o.whileDown?.();
      if (o.downMs) await new Promise((r) => setTimeout(r, o.downMs));
      await listen();
    },
    dropWatches(o: { abrupt?: boolean } = {}) {
      const open = [...watchers];
      for (const w of open) w.close(o.abrupt ?? false);
      return open.length;
    },
    failNext(n, status, match) {
      if (n > 0) failures.push({ remaining: n, status, match });
    },
    clearFailures() {
      failures.length = 0;
    },
    compact() {
      state.history = [];
      state.compactedRv = state.rv;
    },
    async writeKubeconfig(path: string, o: { namespace?: string } = {}) {
      const doc = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'turnpike-test', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'turnpike-test', user: { token: 'turnpike-test-token' } }],
        contexts: [{ name: 'turnpike-test', context: { cluster: 'turnpike-test', user: 'turnpike-test', namespace: o.namespace ?? 'default' } }],
        'current-context': 'turnpike-test',
        preferences: {},
      };
      await writeFile(path, YAML.stringify(doc));
      return path;
    },
    create: (obj) => directCreate(obj),
    get(apiVersion, kind, name, namespace) {
      const t = state.typeFor(apiVersion, kind);
      const o = state.get(t, namespace ?? (t.namespaced ? 'default' : undefined), name);
      return o ? state.view(t, t.versions[0], o) : undefined;
    },
    list(apiVersion, kind, namespace) {
      const t = state.typeFor(apiVersion, kind);
      return state.list(t, namespace, () => true).map((o) => state.view(t, t.versions[0], o));
    },
    update(obj) {
      const o = obj as JsonObject;
      const t = state.typeFor(String(o.apiVersion), String(o.kind));
      const m = meta(o);
      const existing = state.get(t, t.namespaced ? String(m.namespace ?? 'default') : undefined, String(m.name));
      if (!existing) throw state.notFound(t, String(m.name));
      return state.view(t, t.versions[0], state.update(t, existing, o, undefined, false).obj);
    },
    remove(apiVersion, kind, name, namespace) {
      const t = state.typeFor(apiVersion, kind);
      const existing = state.get(t, namespace ?? (t.namespaced ? 'default' : undefined), name);
      if (!existing) throw state.notFound(t, name);
      state.delete(t, existing, {}, false);
    },
  };
  return api;
}
