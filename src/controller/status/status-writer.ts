/**
 * @module controller/status/status-writer
 * Writes what happened back onto the Kubernetes objects, as KIC does: KongConsumer `Programmed`
 * (True when it reached the gateways, False/Invalid when translation failed on it), HTTPRoute
 * `status.parents` (Accepted, ResolvedRefs from the translator, Programmed from the push), Ingress
 * `.status.loadBalancer` from `--publish-status-address`, GatewayClass `Accepted` and Gateway
 * `Programmed`. A status is only written when it changed.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ObjectStore } from '../store/index.ts';
import type { K8sObject } from '../store/objects.ts';
import type { SyncReport } from '../sync/sync-loop.ts';

export interface StatusOptions {
  publishStatusAddress: string[];
  publishService?: string;
  controllerName: string;
  patchStatus(kc: KubeConfig, obj: K8sObject, status: Record<string, unknown>): Promise<unknown>;
}

const written = new Map<string, string>();

function condition(type: string, ok: boolean, reason: string, message: string, generation?: number) {
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
  if (written.get(key) === fp) return;
  await o.patchStatus(kc, obj, status);
  written.set(key, fp);
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

  if (o.publishStatusAddress.length > 0) {
    const ingress = o.publishStatusAddress.map((a) => (/^[0-9.:a-fA-F]+$/.test(a) ? { ip: a } : { hostname: a }));
    for (const ing of store.list('Ingress.networking.k8s.io')) {
      if (failed.has(`Ingress/${ing.metadata.namespace ?? ''}/${ing.metadata.name}`) || !report.ok) continue;
      writes.push(put(kc, ing, { loadBalancer: { ingress } }, o));
    }
  }

  for (const gc of store.list('GatewayClass.gateway.networking.k8s.io')) {
    if ((gc as unknown as { spec?: { controllerName?: string } }).spec?.controllerName !== o.controllerName) continue;
    writes.push(put(kc, gc, { conditions: [condition('Accepted', true, 'Accepted', '', gc.metadata.generation)] }, o));
  }

  await Promise.all(writes);
}
