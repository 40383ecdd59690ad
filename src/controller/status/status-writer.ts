/**
 * @module controller/status/status-writer
 * Writes what happened back onto the Kubernetes objects, as KIC does: KongConsumer `Programmed`
 * (True when it reached the gateways, False/Invalid when translation failed on it), HTTPRoute
 * `status.parents` (Accepted, ResolvedRefs from the translator, Programmed from the push), Ingress
 * `.status.loadBalancer` of the Ingresses in the served config from `--publish-status-address` or
 * the `--publish-service` Service, GatewayClass `Accepted`, and the whole status of each Gateway of
 * a controlled unmanaged class (see gateway-status.ts). A status is only written when it changed;
 * a condition that did not change keeps its `lastTransitionTime`.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ObjectStore } from '../store/index.ts';
import type { K8sObject } from '../store/objects.ts';
import type { SyncReport } from '../sync/sync-loop.ts';
import { isControlledGatewayClass } from '../translator/gateway.ts';
import { publishedAddresses } from './addresses.ts';
import { buildGatewayStatus, type Condition } from './gateway-status.ts';

export interface StatusOptions {
  publishStatusAddress: string[];
  publishService?: string;
  controllerName: string;
  patchStatus(kc: KubeConfig, obj: K8sObject, status: Record<string, unknown>): Promise<unknown>;
}

/** Last status written per object, per cluster connection. */
const writtenBy = new WeakMap<KubeConfig, Map<string, string>>();

function condition(type: string, ok: boolean, reason: string, message: string, generation?: number): Condition {
  return {
    type, status: ok ? 'True' : 'False', reason, message,
    observedGeneration: generation ?? 1,
    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

/** Compares statuses without transition times, so an unchanged status is not rewritten. */
function fingerprint(status: unknown): string {
  return JSON.stringify(status, (k, v) => (k === 'lastTransitionTime' ? undefined : v));
}

async function put(kc: KubeConfig, obj: K8sObject, status: Record<string, unknown>, o: StatusOptions): Promise<void> {
  const key = `${obj.apiVersion}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
  const fp = fingerprint(status);
  let written = writtenBy.get(kc);
  if (!written) { written = new Map(); writtenBy.set(kc, written); }
  if (written.get(key) === fp) return;
  await o.patchStatus(kc, obj, status);
  written.set(key, fp);
}

/** Keeps the previous `lastTransitionTime` of conditions whose status and reason did not change. */
function keepTransitionTimes(next: Condition[], previous: unknown): Condition[] {
  const prior = Array.isArray(previous) ? (previous as Partial<Condition>[]) : [];
  return next.map((c) => {
    const p = prior.find((x) => x.type === c.type);
    return p && p.status === c.status && p.reason === c.reason && typeof p.lastTransitionTime === 'string' ? { ...c, lastTransitionTime: p.lastTransitionTime } : c;
  });
}

/** `Kind/ns/name` of every object an entity of the config was generated from (by its k8s-* tags). */
function configuredObjects(config: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { for (const x of v) walk(x); return; }
    if (!v || typeof v !== 'object') return;
    const tags = (v as { tags?: unknown }).tags;
    if (Array.isArray(tags)) {
      const tag = (prefix: string) => (tags.find((t) => typeof t === 'string' && t.startsWith(prefix)) as string | undefined)?.slice(prefix.length);
      const kind = tag('k8s-kind:');
      const name = tag('k8s-name:');
      if (kind && name) out.add(`${kind}/${tag('k8s-namespace:') ?? ''}/${name}`);
    }
    for (const x of Object.values(v)) if (x && typeof x === 'object') walk(x);
  };
  walk(config);
  return out;
}

export async function writeStatus(kc: KubeConfig, store: ObjectStore, report: SyncReport, o: StatusOptions): Promise<void> {
  const failed = new Set(report.translation.failures.map((f) => `${f.object.kind}/${f.object.namespace ?? ''}/${f.object.name}`));
  for (const e of report.excluded) failed.add(`${e.kind}/${e.namespace ?? ''}/${e.name}`);
  const writes: Promise<void>[] = [];

  for (const c of store.list('KongConsumer.configuration.konghq.com')) {
    const bad = failed.has(`KongConsumer/${c.metadata.namespace ?? ''}/${c.metadata.name}`);
    const cond = bad
      ? condition('Programmed', false, 'Invalid', 'Object failed to be configured in Kong - see its attached Events for more information.', c.metadata.generation)
      : report.ok
        ? condition('Programmed', true, 'Programmed', 'Object was successfully configured in Kong.', c.metadata.generation)
        : condition('Programmed', false, 'Pending', 'Object is pending configuration in Kong.', c.metadata.generation);
    writes.push(put(kc, c, { conditions: [cond] }, o));
  }

  for (const rs of report.translation.routeStatus) {
    const route = store.get('HTTPRoute.gateway.networking.k8s.io', rs.object.namespace, rs.object.name);
    if (!route) continue;
    const bad = failed.has(`HTTPRoute/${rs.object.namespace ?? ''}/${rs.object.name}`);
    const parents = rs.parents.map((p) => ({
      ...p,
      conditions: [
        ...p.conditions.map((c) => ({ ...c, observedGeneration: rs.generation ?? 1, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') })),
        bad
          ? condition('Programmed', false, 'TranslationError', 'the route could not be translated - see its Events', rs.generation)
          : condition('Programmed', report.ok, report.ok ? 'ConfiguredInGateway' : 'Pending', report.ok ? '' : 'waiting for the gateways', rs.generation),
      ],
    }));
    writes.push(put(kc, route, { parents }, o));
  }

  const published = publishedAddresses(store, o.publishService, o.publishStatusAddress);
  if (published.ingress && report.ok) {
    // Only Ingresses the gateways now serve (KIC waits until an object is reported configured).
    const configured = configuredObjects(report.translation.config);
    for (const ing of store.list('Ingress.networking.k8s.io')) {
      const id = `Ingress/${ing.metadata.namespace ?? ''}/${ing.metadata.name}`;
      if (failed.has(id) || !configured.has(id)) continue;
      writes.push(put(kc, ing, { loadBalancer: { ingress: published.ingress } }, o));
    }
  }

  for (const gc of store.list('GatewayClass.gateway.networking.k8s.io')) {
    if ((gc as unknown as { spec?: { controllerName?: string } }).spec?.controllerName !== o.controllerName) continue;
    const conditions = keepTransitionTimes([condition('Accepted', true, 'Accepted', '', gc.metadata.generation)], (gc['status'] as { conditions?: unknown } | undefined)?.conditions);
    writes.push(put(kc, gc, { conditions }, o));
  }

  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const gw of store.list('Gateway.gateway.networking.k8s.io')) {
    const className = (gw as unknown as { spec?: { gatewayClassName?: string } }).spec?.gatewayClassName ?? '';
    if (!isControlledGatewayClass(store.get('GatewayClass.gateway.networking.k8s.io', undefined, className), o.controllerName)) continue;
    const status = buildGatewayStatus(store, gw, {
      attachedRoutes: report.translation.attachedRoutes.get(`${gw.metadata.namespace ?? ''}/${gw.metadata.name}`),
      published, publishServiceConfigured: !!o.publishService, configured: report.ok, now,
    });
    const previous = (gw['status'] ?? {}) as { conditions?: unknown; listeners?: { name?: string; conditions?: unknown }[] };
    status.conditions = keepTransitionTimes(status.conditions, previous.conditions);
    for (const l of status.listeners) l.conditions = keepTransitionTimes(l.conditions, previous.listeners?.find((p) => p.name === l.name)?.conditions);
    // Merge patch: null removes addresses that are no longer published.
    writes.push(put(kc, gw, { ...status, addresses: status.addresses ?? null }, o));
  }

  await Promise.all(writes);
}
