/**
 * @module controller/k8s/writes
 * The two writes the controller makes to objects it does not own: core/v1 Events (as KIC's event
 * recorder does: named `<object>.<hex nanoseconds>`, in the object's namespace or `default` for
 * cluster-scoped objects, source component `kong-client`; a repeat of the same event within ten
 * minutes bumps `count`/`lastTimestamp` on the existing Event instead of creating another, like
 * client-go's correlator) and status updates through the `/status` subresource (JSON merge patch).
 */
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { type KubeObject, KubeApiError, apiPrefix, kubeRequest, resolveKind } from './client.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventOptions {
  /** `source.component` / `reportingComponent`; KIC uses `kong-client`. */
  component?: string;
  /** `reportingInstance`; defaults to the host name (the Pod name in a cluster). */
  instance?: string;
}

/** An object reference, the shape of `involvedObject` (also accepted: the object itself). */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

function referenceOf(o: KubeObject | ObjectReference): ObjectReference {
  const m = (o as KubeObject).metadata;
  if (m && typeof m === 'object') {
    return { apiVersion: o.apiVersion, kind: o.kind, name: m.name, namespace: m.namespace || undefined, uid: m.uid, resourceVersion: m.resourceVersion };
  }
  const r = o as ObjectReference;
  return { apiVersion: r.apiVersion, kind: r.kind, name: r.name, namespace: r.namespace || undefined, uid: r.uid, resourceVersion: r.resourceVersion };
}

interface SeenEvent {
  namespace: string;
  name: string;
  count: number;
  at: number;
}

const recent = new WeakMap<KubeConfig, Map<string, SeenEvent>>();
const repeatWindowMs = 10 * 60_000;

function seconds(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Records a core/v1 Event about `involvedObject`; returns the Event as stored. */
export async function createEvent(
  kc: KubeConfig,
  involvedObject: KubeObject | ObjectReference,
  type: EventType | string,
  reason: string,
  message: string,
  options: EventOptions = {},
): Promise<KubeObject> {
  const ref = referenceOf(involvedObject);
  const namespace = ref.namespace ?? 'default';
  const component = options.component ?? 'kong-client';
  const now = new Date();
  const key = JSON.stringify([ref.apiVersion, ref.kind, ref.namespace, ref.name, ref.uid, type, reason, message, component]);
  let seen = recent.get(kc);
  if (!seen) { seen = new Map(); recent.set(kc, seen); }
  const prior = seen.get(key);
  if (prior && Date.now() - prior.at < repeatWindowMs) {
    try {
      const patched = await kubeRequest<KubeObject>(kc, 'PATCH', `/api/v1/namespaces/${encodeURIComponent(prior.namespace)}/events/${encodeURIComponent(prior.name)}`, {
        body: { count: prior.count + 1, lastTimestamp: seconds(now) },
        contentType: 'application/merge-patch+json',
      });
      prior.count += 1;
      prior.at = Date.now();
      return patched;
    } catch (err) {
      // Gone (expired or deleted): fall through and create a fresh one.
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
    }
  }
  const name = `${ref.name ?? 'unknown'}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(process.hrtime()[1] % 1_000_000)).toString(16)}`;
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace },
    involvedObject: ref,
    type,
    reason,
    message,
    source: { component },
    firstTimestamp: seconds(now),
    lastTimestamp: seconds(now),
    count: 1,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: options.instance ?? process.env.POD_NAME ?? hostname(),
  };
  const created = await kubeRequest<KubeObject>(kc, 'POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body: event });
  seen.set(key, { namespace, name, count: 1, at: Date.now() });
  if (seen.size > 5000) for (const [k, v] of seen) if (Date.now() - v.at > repeatWindowMs) seen.delete(k);
  return created;
}

/**
 * Merge-patches `.status` of `obj` through its status subresource and returns the updated object.
 * Lists in `status` (conditions, parents) are replaced whole, which is what a status writer wants.
 */
export async function patchStatus(kc: KubeConfig, obj: KubeObject, status: Record<string, unknown>): Promise<KubeObject> {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) throw new Error('patchStatus needs apiVersion, kind and metadata.name');
  const spec = await resolveKind(kc, obj.apiVersion, obj.kind);
  const prefix = apiPrefix(spec.group, spec.version);
  const ns = obj.metadata.namespace;
  const base = spec.namespaced ? `${prefix}/namespaces/${encodeURIComponent(ns ?? 'default')}/${spec.plural}` : `${prefix}/${spec.plural}`;
  return kubeRequest<KubeObject>(kc, 'PATCH', `${base}/${encodeURIComponent(obj.metadata.name)}/status`, {
    body: { status },
    contentType: 'application/merge-patch+json',
  });
}
