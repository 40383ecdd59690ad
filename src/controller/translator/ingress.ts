/**
 * @module controller/translator/ingress
 * Ingress (networking.k8s.io/v1) → Kong services and routes, as KIC's traditional-router translator
 * does. Paths are grouped per (Ingress, host, backend Service, port) into one route named
 * `<ns>.<ingress>.<svc>.<host>.<port>`; services are `<ns>.<svc>.<port>` with host
 * `<svc>.<ns>.<port>.svc`. Also collects TLS Secrets → SNIs and the cluster's default backend.
 */

import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import { ANN, VALID_PROTOCOLS } from './annotations.ts';
import type { FailureCollector } from './failures.ts';
import { arr, compareStrings, int, rec, str } from './fields.ts';
import { ingressMatchesClass, type IngressClassContext } from './ingress-class.ts';
import { canonicalPort, SecretSnis, type PortDef, type RouteDraft, type ServiceDraft } from './model.ts';
import { tagsFor } from './tags.ts';

/** DEFAULT_SERVICE_TIMEOUT is KIC's 60 s service timeout, in ms. */
export const DEFAULT_SERVICE_TIMEOUT = 60000;
/** DEFAULT_RETRIES is KIC's service retries default. */
export const DEFAULT_RETRIES = 5;
const CONTROLLER_REGEX_PREFIX = '/~';
const LEGACY_PLAIN_PATH = /^[a-zA-Z0-9.\-_~/%]*$/;

/** IngressClassParametersSpec is the part of IngressClassParameters the translator reads. */
export interface IngressClassParametersSpec {
  serviceUpstream: boolean;
  enableLegacyRegexDetection: boolean;
}

/** ingressClassParameters follows IngressClass `spec.parameters` to its IngressClassParameters. */
export function ingressClassParameters(store: Store, className: string): IngressClassParametersSpec {
  const none = { serviceUpstream: false, enableLegacyRegexDetection: false };
  const ic = store.get(GK.IngressClass, undefined, className);
  const params = rec(rec(ic?.['spec'])?.['parameters']);
  if (!params || str(params['kind']) !== 'IngressClassParameters') return none;
  const name = str(params['name']);
  const ns = str(params['namespace']);
  if (!name || !ns) return none;
  const icp = store.get(GK.IngressClassParameters, ns, name);
  const spec = rec(icp?.['spec']);
  return {
    serviceUpstream: spec?.['serviceUpstream'] === true,
    enableLegacyRegexDetection: spec?.['enableLegacyRegexDetection'] === true,
  };
}

/** byCreation orders objects oldest first (ties keep store order, namespace/name). */
export function byCreation(a: K8sObject, b: K8sObject): number {
  return compareStrings(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '');
}

function flattenSlashes(path: string): string {
  return path.replace(/\/{2,}/g, '/');
}

/** pathsForIngressPath turns one Ingress path into Kong route paths (prefix paths first, then regex). */
export function pathsForIngressPath(path: string, pathType: string): string[] | undefined {
  switch (pathType) {
    case 'Prefix': {
      const base = path.replace(/^\/+|\/+$/g, '');
      return base === '' ? ['/'] : [`/${base}/`, `~/${base}$`];
    }
    case 'Exact':
      return [`~/${path.replace(/^\/+/, '')}$`];
    case 'ImplementationSpecific':
      return [path === '' ? '/' : path];
    default:
      return undefined;
  }
}

function portDefOf(port: Record<string, unknown> | undefined): PortDef {
  const number = int(port?.['number']);
  if (number !== undefined && number !== 0) return { mode: 'number', number };
  const name = str(port?.['name']);
  if (name !== undefined) return { mode: 'name', name };
  return { mode: 'implicit' };
}

function newIngressService(namespace: string, svcName: string, port: PortDef, parent: K8sObject, withPath: boolean): ServiceDraft {
  const name = `${namespace}.${svcName}.${canonicalPort(port)}`;
  const fields: Record<string, unknown> = {
    name,
    host: `${svcName}.${namespace}.${canonicalPort(port)}.svc`,
    port: 80,
    protocol: 'http',
    connect_timeout: DEFAULT_SERVICE_TIMEOUT,
    read_timeout: DEFAULT_SERVICE_TIMEOUT,
    write_timeout: DEFAULT_SERVICE_TIMEOUT,
    retries: DEFAULT_RETRIES,
  };
  if (withPath) fields['path'] = '/';
  return {
    name,
    namespace,
    fields,
    routes: [],
    backends: [{ namespace, name: svcName, port }],
    parent,
    k8sServices: new Map(),
    tags: [],
    plugins: [],
  };
}

interface RouteMeta {
  ingress: K8sObject;
  host: string;
  svcName: string;
  port: PortDef;
  paths: string[];
}

/** IngressTranslation is what Ingresses contribute: Kong services by name and TLS SNIs. */
export interface IngressTranslation {
  services: Map<string, ServiceDraft>;
  snis: SecretSnis;
}

/** Rewrite of `konghq.com/rewrite` `$1` captures into request-transformer's `$(uri_captures[1])`. */
export function rewriteURIConfig(uri: string): string | undefined {
  let out = '';
  let state: 'plain' | 'escape' | 'mark' | 'digit' = 'plain';
  for (const ch of uri) {
    switch (state) {
      case 'escape':
        if (ch !== '$') return undefined;
        out += ch;
        state = 'plain';
        break;
      case 'mark':
        if (!/[0-9]/.test(ch)) return undefined;
        out += `$(uri_captures[${ch}`;
        state = 'digit';
        break;
      case 'digit':
        if (/[0-9]/.test(ch)) {
          out += ch;
          break;
        }
        out += '])';
        if (ch === '$') state = 'mark';
        else if (ch === '\\') state = 'escape';
        else {
          out += ch;
          state = 'plain';
        }
        break;
      default:
        if (ch === '$') state = 'mark';
        else if (ch === '\\') state = 'escape';
        else out += ch;
    }
  }
  if (state === 'digit') {
    out += '])';
    state = 'plain';
  }
  return state === 'plain' ? out : undefined;
}

/** translateIngresses builds Kong services/routes from every Ingress of this controller's class. */
export function translateIngresses(
  store: Store,
  classCtx: IngressClassContext,
  icp: IngressClassParametersSpec,
  failures: FailureCollector,
  rewriteURIs: boolean,
): IngressTranslation {
  const ingresses = store
    .list(GK.Ingress)
    .filter((i) => i.apiVersion === 'networking.k8s.io/v1' && ingressMatchesClass(i, classCtx))
    .slice()
    .sort(byCreation);
  const snis = new SecretSnis();
  const metas = new Map<string, RouteMeta>();
  const withDefaultBackend: K8sObject[] = [];

  for (const ingress of ingresses) {
    const ns = ingress.metadata.namespace ?? 'default';
    const spec = rec(ingress['spec']) ?? {};
    if (rec(spec['defaultBackend'])) withDefaultBackend.push(ingress);
    for (const t of arr(spec['tls'])) {
      const tls = rec(t);
      const hosts = arr(tls?.['hosts']).filter((h): h is string => typeof h === 'string');
      const secretName = str(tls?.['secretName']);
      if (hosts.length === 0 || !secretName) continue;
      snis.addHosts(`${ns}/${secretName}`, hosts);
      snis.addParent(`${ns}/${secretName}`, ingress);
    }
    const anns = ingress.metadata.annotations ?? {};
    const regexPrefix = Object.hasOwn(anns, ANN.regexPrefix) ? anns[ANN.regexPrefix]! : CONTROLLER_REGEX_PREFIX;
    const applyRegexPrefix = (p: string): string => {
      if (p.startsWith(regexPrefix)) return '~' + p.slice(regexPrefix.length);
      if (icp.enableLegacyRegexDetection && !LEGACY_PLAIN_PATH.test(p) && !p.startsWith('~')) return '~' + p;
      return p;
    };
    for (const r of arr(spec['rules'])) {
      const rule = rec(r);
      const host = str(rule?.['host']) ?? '';
      const paths = arr(rec(rule?.['http'])?.['paths']);
      for (const p of paths) {
        const httpPath = rec(p) ?? {};
        const path = flattenSlashes(str(httpPath['path']) ?? '') || '/';
        const pathType = str(httpPath['pathType']) ?? 'ImplementationSpecific';
        const backend = rec(httpPath['backend']);
        const svc = rec(backend?.['service']);
        const svcName = str(svc?.['name']);
        if (!svcName) {
          const resource = rec(backend?.['resource']);
          const message = resource
            ? `unknown resource type ${str(resource['apiGroup']) ? `${str(resource['apiGroup'])}/` : ''}${str(resource['kind']) ?? ''}`
            : 'no Service or Resource specified for Ingress path';
          failures.push(`failed to get backend for ingress path "${path}": ${message}`, ingress);
          continue;
        }
        const port = portDefOf(rec(svc?.['port']));
        const routeKey = `${ns}.${ingress.metadata.name}.${svcName}.${host}.${canonicalPort(port)}`;
        let meta = metas.get(routeKey);
        if (!meta) {
          meta = { ingress, host, svcName, port, paths: [] };
          metas.set(routeKey, meta);
        }
        meta.ingress = ingress;
        const kongPaths = pathsForIngressPath(path, pathType);
        if (kongPaths) meta.paths.push(...kongPaths.map(applyRegexPrefix));
      }
    }
  }

  const services = new Map<string, ServiceDraft>();
  for (const meta of metas.values()) {
    const ns = meta.ingress.metadata.namespace ?? 'default';
    const serviceName = `${ns}.${meta.svcName}.${canonicalPort(meta.port)}`;
    let service = services.get(serviceName);
    if (!service) {
      service = newIngressService(ns, meta.svcName, meta.port, meta.ingress, true);
      services.set(serviceName, service);
    }
    const routeName = `${ns}.${meta.ingress.metadata.name}.${meta.svcName}.${meta.host.replaceAll('*', '_')}.${canonicalPort(meta.port)}`;
    const anns = meta.ingress.metadata.annotations ?? {};
    const fields: RouteDraft['fields'] = {
      name: routeName,
      strip_path: false,
      preserve_host: true,
      regex_priority: 0,
      request_buffering: true,
      response_buffering: true,
      tags: tagsFor(meta.ingress),
    };
    const protocols = annotationProtocols(anns);
    if (protocols.length > 0 && protocols.every((p) => VALID_PROTOCOLS.has(p))) fields['protocols'] = protocols.sort(compareStrings);
    if (meta.host !== '') fields['hosts'] = [meta.host];
    if (meta.paths.length > 0) fields['paths'] = meta.paths;
    service.routes.push({ fields, source: meta.ingress, annotations: { ...anns }, plugins: [], gatewayAPI: false });
  }

  // The oldest Ingress with spec.defaultBackend provides the catch-all route.
  const defaultIngress = withDefaultBackend.sort(byCreation)[0];
  if (defaultIngress) addDefaultBackend(defaultIngress, services, failures);

  // konghq.com/rewrite: needs the RewriteURIs feature; without it the whole Kong service is dropped.
  for (const [name, service] of [...services]) {
    for (const route of service.routes) {
      if (!Object.hasOwn(route.annotations, ANN.rewrite)) continue;
      if (!rewriteURIs) {
        failures.push('konghq.com/rewrite annotation not supported when rewrite uris disabled', service.parent);
        services.delete(name);
        break;
      }
      const config = rewriteURIConfig(route.annotations[ANN.rewrite] || '/');
      if (config === undefined) {
        failures.push(`invalid konghq.com/rewrite annotation value: ${route.annotations[ANN.rewrite]}`, service.parent);
        services.delete(name);
        break;
      }
      route.plugins.push({ name: 'request-transformer', config: { replace: { uri: config } } });
    }
  }
  return { services, snis };
}

/** annotationProtocols reads `konghq.com/protocols` as KIC does at route creation. */
function annotationProtocols(anns: Record<string, string>): string[] {
  const v = anns[ANN.protocols];
  if (v === undefined || v.trim() === '') return [];
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function addDefaultBackend(ingress: K8sObject, services: Map<string, ServiceDraft>, failures: FailureCollector): void {
  const ns = ingress.metadata.namespace ?? 'default';
  const backend = rec(rec(ingress['spec'])?.['defaultBackend']);
  const svc = rec(backend?.['service']);
  const svcName = str(svc?.['name']);
  if (!svcName) {
    const resource = rec(backend?.['resource']);
    const gk = resource ? `${str(resource['apiGroup']) ? `${str(resource['apiGroup'])}/` : ''}${str(resource['kind']) ?? ''}` : '';
    failures.push(`default backend: unsupported resource type ${gk}`, ingress);
    return;
  }
  const port = portDefOf(rec(svc?.['port']));
  const route: RouteDraft = {
    fields: {
      name: `${ns}.${ingress.metadata.name}`,
      strip_path: false,
      preserve_host: true,
      request_buffering: true,
      response_buffering: true,
      paths: ['/'],
      regex_priority: 0,
      tags: tagsFor(ingress),
    },
    source: ingress,
    annotations: { ...(ingress.metadata.annotations ?? {}) },
    plugins: [],
    gatewayAPI: false,
  };
  const draft = newIngressService(ns, svcName, port, ingress, false);
  const existing = services.get(draft.name);
  if (existing) existing.routes.push(route);
  else {
    draft.routes.push(route);
    services.set(draft.name, draft);
  }
}
