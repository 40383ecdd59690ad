/**
 * @module controller/translator/gateway
 * Gateway API attachment: which HTTPRoutes belong to this controller, with which hostnames, and the
 * per-parent status a status writer reports. A parent counts when its Gateway's GatewayClass has
 * our `controllerName` and the `konghq.com/gatewayclass-unmanaged` annotation (KIC reconciles only
 * such Gateways). Acceptance checks sectionName/port, listener protocol, `allowedRoutes` and
 * hostname intersection; ResolvedRefs checks backendRef kinds, existence and ReferenceGrants.
 */

import type { Store } from '../store/store.ts';
import { GK, splitApiVersion, type K8sObject } from '../store/objects.ts';
import { ANN } from './annotations.ts';
import { failureObjectOf, type FailureObject } from './failures.ts';
import { arr, int, rec, str } from './fields.ts';
import { isReferenceGranted } from './reference-grants.ts';

/** RouteCondition is a Kubernetes status condition for a route parent. */
export interface RouteCondition {
  type: 'Accepted' | 'ResolvedRefs';
  status: 'True' | 'False';
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** RouteParentStatus is one `status.parents[]` entry. */
export interface RouteParentStatus {
  parentRef: { group: string; kind: string; namespace: string; name: string; sectionName?: string; port?: number };
  controllerName: string;
  conditions: RouteCondition[];
}

/** HTTPRouteStatus is the status KIC would write on one HTTPRoute (only parents this controller owns). */
export interface HTTPRouteStatus {
  object: FailureObject;
  generation?: number;
  parents: RouteParentStatus[];
}

/** AcceptedHTTPRoute is an HTTPRoute attached to at least one of our Gateways. */
export interface AcceptedHTTPRoute {
  route: K8sObject;
  /** Route hostnames after intersection with the accepting listeners. */
  hostnames: string[];
  /** Route protocols derived from the parent Gateways' listeners (sorted). */
  protocols: string[];
}

interface Listener {
  name: string;
  protocol: string;
  port?: number;
  hostname?: string;
  allowedRoutes?: Record<string, unknown>;
}

function listenersOf(gateway: K8sObject): Listener[] {
  return arr(rec(gateway['spec'])?.['listeners']).flatMap((l) => {
    const r = rec(l);
    const name = str(r?.['name']);
    if (!r || !name) return [];
    const out: Listener = { name, protocol: str(r['protocol']) ?? '' };
    const port = int(r['port']);
    if (port !== undefined) out.port = port;
    const hostname = str(r['hostname']);
    if (hostname !== undefined) out.hostname = hostname;
    const allowed = rec(r['allowedRoutes']);
    if (allowed) out.allowedRoutes = allowed;
    return [out];
  });
}

/** hostnameIntersection returns the hostname both match, or undefined (Gateway API wildcard rules). */
export function hostnameIntersection(listener: string, route: string): string | undefined {
  if (listener === route) return route;
  if (listener.startsWith('*.')) {
    if (route.startsWith('*.')) {
      if (route.endsWith(listener.slice(1))) return route;
      if (listener.endsWith(route.slice(1))) return listener;
      return undefined;
    }
    return route.endsWith(listener.slice(1)) && route.length > listener.length - 1 ? route : undefined;
  }
  if (route.startsWith('*.')) return listener.endsWith(route.slice(1)) ? listener : undefined;
  return undefined;
}

function namespaceAllowed(store: Store, listener: Listener, gateway: K8sObject, routeNs: string): boolean {
  const ns = rec(listener.allowedRoutes?.['namespaces']);
  const from = str(ns?.['from']) ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === gateway.metadata.namespace;
  if (from === 'Selector') {
    const namespace = store.get('Namespace', undefined, routeNs);
    const labels = namespace?.metadata.labels ?? {};
    const matchLabels = rec(rec(ns?.['selector'])?.['matchLabels']) ?? {};
    if (!namespace) return false;
    return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
  }
  return false;
}

function kindAllowed(listener: Listener): boolean {
  const kinds = arr(listener.allowedRoutes?.['kinds']);
  if (kinds.length === 0) return listener.protocol === 'HTTP' || listener.protocol === 'HTTPS';
  return kinds.some((k) => {
    const r = rec(k);
    return str(r?.['kind']) === 'HTTPRoute' && (str(r?.['group'], true) ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io';
  });
}

/** isControlledGatewayClass says whether KIC would reconcile Gateways of this class. */
export function isControlledGatewayClass(gwc: K8sObject | undefined, controllerName: string): boolean {
  if (!gwc) return false;
  if (str(rec(gwc['spec'])?.['controllerName']) !== controllerName) return false;
  return (gwc.metadata.annotations?.[ANN.gatewayClassUnmanaged] ?? '') !== '';
}

function condition(type: RouteCondition['type'], ok: boolean, reason: string, message: string, generation?: number): RouteCondition {
  const c: RouteCondition = { type, status: ok ? 'True' : 'False', reason, message };
  if (generation !== undefined) c.observedGeneration = generation;
  return c;
}

/** resolvedRefsCondition checks every backendRef of an HTTPRoute. */
function resolvedRefsCondition(store: Store, route: K8sObject, generation?: number): RouteCondition {
  const ns = route.metadata.namespace ?? 'default';
  for (const r of arr(rec(route['spec'])?.['rules'])) {
    for (const b of arr(rec(r)?.['backendRefs'])) {
      const ref = rec(b) ?? {};
      const name = str(ref['name']) ?? '';
      const kind = str(ref['kind']) ?? 'Service';
      const group = str(ref['group'], true) ?? '';
      const refNs = str(ref['namespace']) ?? ns;
      if (kind !== 'Service' || group !== '') {
        return condition('ResolvedRefs', false, 'InvalidKind', `target ${refNs}/${name} has unsupported type ${group}/${kind}`, generation);
      }
      if (!store.get(GK.Service, refNs, name)) {
        return condition('ResolvedRefs', false, 'BackendNotFound', `target ${refNs}/${name} of type Service does not exist`, generation);
      }
      if (refNs !== ns && !isReferenceGranted(store, { group: 'gateway.networking.k8s.io', kind: route.kind, namespace: ns }, { group: '', kind: 'Service', namespace: refNs, name })) {
        return condition('ResolvedRefs', false, 'RefNotPermitted', `target ${refNs}/${name} of type Service is not permitted by any ReferenceGrant`, generation);
      }
    }
  }
  return condition('ResolvedRefs', true, 'ResolvedRefs', '', generation);
}

/**
 * ListenerAttachments counts, per Gateway (`ns/name`) and listener name, the HTTPRoutes accepted by
 * that listener: a Gateway's `status.listeners[].attachedRoutes`.
 */
export type ListenerAttachments = Map<string, Map<string, number>>;

/**
 * attachHTTPRoutes evaluates every HTTPRoute against its parentRefs and returns the routes to
 * translate, the status to report and the routes attached to each Gateway listener.
 */
export function attachHTTPRoutes(store: Store, controllerName: string): { accepted: AcceptedHTTPRoute[]; status: HTTPRouteStatus[]; attachments: ListenerAttachments } {
  const accepted: AcceptedHTTPRoute[] = [];
  const status: HTTPRouteStatus[] = [];
  const attachments: ListenerAttachments = new Map();
  for (const route of store.list(GK.HTTPRoute)) {
    const { version } = splitApiVersion(route.apiVersion);
    if (version !== 'v1' && version !== 'v1beta1') continue;
    const routeNs = route.metadata.namespace ?? 'default';
    const spec = rec(route['spec']) ?? {};
    const routeHostnames = arr(spec['hostnames']).filter((h): h is string => typeof h === 'string');
    const generation = typeof route.metadata.generation === 'number' ? route.metadata.generation : undefined;
    const parents: RouteParentStatus[] = [];
    const hostnames: string[] = [];
    const protocols = new Set<string>();
    let anyAccepted = false;
    let resolved: RouteCondition | undefined;
    /** `ns/gateway` → listeners that took this route (a route counts once per listener). */
    const attachedTo = new Map<string, Set<string>>();

    for (const p of arr(spec['parentRefs'])) {
      const pr = rec(p) ?? {};
      const group = str(pr['group'], true) ?? 'gateway.networking.k8s.io';
      const kind = str(pr['kind']) ?? 'Gateway';
      const name = str(pr['name']);
      if (group !== 'gateway.networking.k8s.io' || kind !== 'Gateway' || !name) continue;
      const gwNs = str(pr['namespace']) ?? routeNs;
      const gateway = store.get(GK.Gateway, gwNs, name);
      if (!gateway) continue;
      const gwc = store.get(GK.GatewayClass, undefined, str(rec(gateway['spec'])?.['gatewayClassName']) ?? '');
      if (!isControlledGatewayClass(gwc, controllerName)) continue;

      const sectionName = str(pr['sectionName']);
      const port = int(pr['port']);
      const parentRef: RouteParentStatus['parentRef'] = { group, kind, namespace: gwNs, name };
      if (sectionName !== undefined) parentRef.sectionName = sectionName;
      if (port !== undefined) parentRef.port = port;

      const candidates = listenersOf(gateway).filter((l) => (sectionName === undefined || l.name === sectionName) && (port === undefined || l.port === port));
      for (const l of candidates) {
        if (l.protocol === 'HTTP') protocols.add('http');
        else if (l.protocol === 'HTTPS') protocols.add('https');
      }
      let accept: RouteCondition;
      const allowed = candidates.filter((l) => kindAllowed(l) && namespaceAllowed(store, l, gateway, routeNs));
      if (candidates.length === 0) {
        accept = condition('Accepted', false, 'NoMatchingParent', 'No matching listener found for the parentRef', generation);
      } else if (allowed.length === 0) {
        accept = condition('Accepted', false, 'NotAllowedByListeners', 'The route is not allowed by any listener of the parent Gateway', generation);
      } else {
        const matched: string[] = [];
        const taking: string[] = [];
        let hostMatch = routeHostnames.length === 0;
        for (const l of allowed) {
          if (routeHostnames.length === 0 || l.hostname === undefined) {
            taking.push(l.name);
            if (routeHostnames.length === 0) continue;
            matched.push(...routeHostnames);
            hostMatch = true;
            continue;
          }
          let intersects = false;
          for (const h of routeHostnames) {
            const i = hostnameIntersection(l.hostname, h);
            if (i !== undefined) {
              matched.push(i);
              hostMatch = true;
              intersects = true;
            }
          }
          if (intersects) taking.push(l.name);
        }
        if (!hostMatch) {
          accept = condition('Accepted', false, 'NoMatchingListenerHostname', 'No listener hostname intersects the route hostnames', generation);
        } else {
          accept = condition('Accepted', true, 'Accepted', '', generation);
          anyAccepted = true;
          for (const h of matched) if (!hostnames.includes(h)) hostnames.push(h);
          const gwKey = `${gwNs}/${name}`;
          const set = attachedTo.get(gwKey) ?? new Set<string>();
          for (const l of taking) set.add(l);
          attachedTo.set(gwKey, set);
        }
      }
      resolved ??= resolvedRefsCondition(store, route, generation);
      parents.push({ parentRef, controllerName, conditions: [accept, resolved] });
    }
    if (parents.length > 0) {
      const s: HTTPRouteStatus = { object: failureObjectOf(route), parents };
      if (generation !== undefined) s.generation = generation;
      status.push(s);
    }
    if (anyAccepted) accepted.push({ route, hostnames, protocols: [...protocols].sort() });
    for (const [gwKey, listeners] of attachedTo) {
      const counts = attachments.get(gwKey) ?? new Map<string, number>();
      for (const l of listeners) counts.set(l, (counts.get(l) ?? 0) + 1);
      attachments.set(gwKey, counts);
    }
  }
  return { accepted, status, attachments };
}
