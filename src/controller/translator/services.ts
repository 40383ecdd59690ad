/**
 * @module controller/translator/services
 * Kubernetes Services and EndpointSlices → the backend half of the config: resolving each Kong
 * service's backends to Services, checking that multi-Service backends agree on `konghq.com/*`
 * annotations, building upstreams `<svc>.<ns>.<port>.svc` (or the HTTPRoute service name) with
 * targets from ready endpoints, ExternalName, `service-upstream` or a local backend override, and
 * applying the Service- and route-level annotations (KIC `FillOverrides`).
 */

import { isIP } from 'node:net';
import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import { ANN, csv, VALID_PROTOCOLS } from './annotations.ts';
import type { FailureCollector } from './failures.ts';
import { arr, atoi, bool, compareStrings, decodeBase64, int, parseGoBool, rec, str } from './fields.ts';
import type { Backend, PortDef, RouteDraft, SecretSnis, ServiceDraft, TargetDraft, UpstreamDraft } from './model.ts';
import { tagsFor, UNKNOWN_SERVICE_TAGS } from './tags.ts';
import { policyForServices, upstreamFieldsFromPolicy } from './upstream-policy.ts';

/** EndpointsOptions tune how targets are found. */
export interface EndpointsOptions {
  clusterDomain: string;
  enableDrainSupport: boolean;
  /** IngressClassParameters `serviceUpstream`: every Service uses its DNS name as the only target. */
  serviceUpstream: boolean;
  /** Local run mode: `ns/svc` → `host:port` when the Service has no EndpointSlices. */
  backends?: ReadonlyMap<string, string>;
}

const NON_TLS_PROTOCOLS = new Set(['http', 'grpc', 'tcp', 'tls_passthrough', 'udp', 'ws']);

function serviceKey(obj: K8sObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/**
 * populateServices resolves every Kong service's backends to Kubernetes Services, drops services
 * whose Services disagree on `konghq.com/*` annotations, handles client and CA certificates and sets
 * tags. Returns the names of the services to leave out of the config.
 */
export function populateServices(store: Store, services: Map<string, ServiceDraft>, snis: SecretSnis, failures: FailureCollector): Set<string> {
  const skip = new Set<string>();
  for (const service of services.values()) {
    const k8sServices: K8sObject[] = [];
    const seen = new Map<string, string>();
    for (const backend of service.backends) {
      const svc = store.get(GK.Service, backend.namespace, backend.name);
      if (!svc) {
        failures.push(`failed to resolve Kubernetes Service for backend: failed to fetch Service ${backend.namespace}/${backend.name}: Service ${backend.namespace}/${backend.name} not found`, service.parent);
        continue;
      }
      for (const [k, v] of Object.entries(svc.metadata.annotations ?? {})) if (k.startsWith('konghq.com')) seen.set(k, v);
      k8sServices.push(svc);
    }
    const bad = new Set<string>();
    for (const svc of k8sServices) {
      const anns = svc.metadata.annotations ?? {};
      for (const [k, v] of seen) if (anns[k] !== v) bad.add(k);
    }
    if (bad.size > 0) {
      for (const svc of k8sServices) {
        for (const a of [...bad].sort()) {
          failures.push(`Service has inconsistent ${a} annotation and is used in multi-Service backend ${service.name}. This annotation must have the same value across all Services in the backend.`, svc);
        }
      }
      skip.add(service.name);
      continue;
    }
    for (const svc of k8sServices) {
      handleClientCertificate(store, svc, service, snis, failures);
      handleCACertificates(store, svc, service, failures);
      service.k8sServices.set(serviceKey(svc), svc);
    }
    if (k8sServices.length > 1) service.tags = tagsFor(service.parent);
    else if (k8sServices.length === 1) service.tags = tagsFor(k8sServices[0]!);
    else service.tags = [...UNKNOWN_SERVICE_TAGS];
  }
  return skip;
}

function effectiveProtocol(svc: K8sObject): string {
  return svc.metadata.annotations?.[ANN.protocol] || 'http';
}

function handleClientCertificate(store: Store, svc: K8sObject, service: ServiceDraft, snis: SecretSnis, failures: FailureCollector): void {
  const secretName = svc.metadata.annotations?.[ANN.clientCert];
  if (!secretName) return;
  const ns = svc.metadata.namespace ?? 'default';
  const key = `${ns}/${secretName}`;
  const secret = store.get(GK.Secret, ns, secretName);
  if (!secret) {
    failures.push(`Failed to fetch secret '${key}': Secret ${key} not found`, svc);
    return;
  }
  if (NON_TLS_PROTOCOLS.has(effectiveProtocol(svc))) {
    failures.push(`Client certificate requested for incompatible service protocol '${String(service.fields['protocol'])}'`, svc);
    return;
  }
  snis.addParent(key, svc);
  service.fields['client_certificate'] = { id: secret.metadata.uid ?? '' };
}

function handleCACertificates(store: Store, svc: K8sObject, service: ServiceDraft, failures: FailureCollector): void {
  const anns = svc.metadata.annotations ?? {};
  const secrets = csv(anns[ANN.caCertificatesSecrets]);
  const configMaps = csv(anns[ANN.caCertificatesConfigMaps]);
  if (secrets.length + configMaps.length === 0) return;
  const verify = anns[ANN.tlsVerify] !== undefined ? parseGoBool(anns[ANN.tlsVerify]!) : undefined;
  if (verify !== true) {
    failures.push('CA certificates requested for service without TLS verification enabled', svc);
    return;
  }
  const protocol = effectiveProtocol(svc);
  if (NON_TLS_PROTOCOLS.has(protocol)) {
    failures.push(`CA certificates requested for incompatible service protocol '${protocol}'`, svc);
    return;
  }
  const ns = svc.metadata.namespace ?? 'default';
  const ids = (service.fields['ca_certificates'] as string[] | undefined) ?? [];
  for (const name of secrets) {
    const secret = store.get(GK.Secret, ns, name);
    if (!secret) {
      failures.push(`Failed to fetch secret for CA Certificate '${ns}/${name}': Secret ${ns}/${name} not found`, svc);
      continue;
    }
    const id = decodeBase64(rec(secret['data'])?.['id']);
    if (id === undefined) {
      failures.push(`Invalid CA certificate '${ns}/${name}': missing 'id' field in data`, secret, svc);
      continue;
    }
    ids.push(id);
  }
  for (const name of configMaps) {
    const cm = store.get(GK.ConfigMap, ns, name);
    if (!cm) {
      failures.push(`Failed to fetch configmap for CA Certificate '${ns}/${name}': ConfigMap ${ns}/${name} not found`, svc);
      continue;
    }
    const id = str(rec(cm['data'])?.['id']);
    if (id === undefined) {
      failures.push(`Invalid CA certificate '${ns}/${name}': missing 'id' field in data`, cm, svc);
      continue;
    }
    ids.push(id);
  }
  if (ids.length > 0) service.fields['ca_certificates'] = ids;
}

// ---------------------------------------------------------------------------------------------
// Upstreams and targets
// ---------------------------------------------------------------------------------------------

interface ServicePort {
  name: string;
  port: number;
  targetPort: string;
  protocol: string;
}

function servicePorts(svc: K8sObject): ServicePort[] {
  return arr(rec(svc['spec'])?.['ports']).map((p) => {
    const r = rec(p) ?? {};
    const port = int(r['port']) ?? 0;
    const tp = r['targetPort'];
    return {
      name: str(r['name']) ?? '',
      port,
      targetPort: typeof tp === 'number' || typeof tp === 'string' ? String(tp) : String(port),
      protocol: str(r['protocol']) ?? 'TCP',
    };
  });
}

/** findPort resolves a backend's PortDef against a Service (KIC `findPort`). */
export function findPort(svc: K8sObject, want: PortDef): ServicePort | string {
  const externalName = str(rec(svc['spec'])?.['type']) === 'ExternalName';
  const ports = servicePorts(svc);
  switch (want.mode) {
    case 'number':
      if (externalName) return { name: '', port: want.number, targetPort: String(want.number), protocol: 'TCP' };
      for (const p of ports) if (p.port === want.number) return p;
      break;
    case 'name':
      if (externalName) return 'rules with an ExternalName service must specify numeric ports';
      for (const p of ports) if (p.name === want.name || p.targetPort === want.name) return p;
      break;
    default:
      if (externalName) return 'rules with an ExternalName service must specify numeric ports';
      if (ports.length !== 1) return `in implicit mode, service must have exactly 1 port, has ${ports.length}`;
      return ports[0]!;
  }
  return 'no suitable port found';
}

/** EndpointSliceIndex groups EndpointSlices by `namespace/service` (label kubernetes.io/service-name). */
export function indexEndpointSlices(store: Store): Map<string, K8sObject[]> {
  const index = new Map<string, K8sObject[]>();
  for (const slice of store.list(GK.EndpointSlice)) {
    const svc = slice.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${slice.metadata.namespace ?? ''}/${svc}`;
    const list = index.get(key);
    if (list) list.push(slice);
    else index.set(key, [slice]);
  }
  return index;
}

function formatTarget(address: string, port: string): string {
  return `${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}

/** serviceTargets lists the targets of one Service port (KIC `getServiceEndpoints`). */
export function serviceTargets(svc: K8sObject, port: ServicePort, slices: readonly K8sObject[] | undefined, opts: EndpointsOptions): TargetDraft[] {
  const ns = svc.metadata.namespace ?? 'default';
  if (opts.serviceUpstream || svc.metadata.annotations?.[ANN.serviceUpstream] === 'true') {
    const host = `${svc.metadata.name}.${ns}.svc${opts.clusterDomain ? `.${opts.clusterDomain}` : ''}`;
    return [{ target: `${host}:${port.port}` }];
  }
  const spec = rec(svc['spec']);
  if (str(spec?.['type']) === 'ExternalName') {
    return [{ target: `${str(spec?.['externalName']) ?? ''}:${port.targetPort}` }];
  }
  if (!slices || slices.length === 0) {
    const override = opts.backends?.get(`${ns}/${svc.metadata.name}`);
    return override ? [{ target: override }] : [];
  }
  const protocols = new Set(['TCP', ...servicePorts(svc).map((p) => p.protocol)]);
  const seen = new Set<string>();
  const targets: TargetDraft[] = [];
  for (const protocol of protocols) {
    for (const slice of slices) {
      for (const sp of arr(slice['ports'])) {
        const p = rec(sp) ?? {};
        const slicePort = int(p['port']);
        if (slicePort === undefined || slicePort < 0) continue;
        if ((str(p['protocol']) ?? 'TCP') !== protocol || (str(p['name']) ?? '') !== port.name) continue;
        for (const e of arr(slice['endpoints'])) {
          const ep = rec(e) ?? {};
          const cond = rec(ep['conditions']) ?? {};
          const terminating = bool(cond['terminating']) === true;
          const ready = cond['ready'] === undefined || cond['ready'] === null || cond['ready'] === true;
          if (!ready && (!terminating || !opts.enableDrainSupport)) continue;
          const address = str(arr(ep['addresses'])[0]);
          if (!address) continue;
          const draining = terminating && opts.enableDrainSupport;
          const key = `${address}|${slicePort}|${draining}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const t: TargetDraft = { target: formatTarget(address, String(slicePort)) };
          if (draining) t.weight = 0;
          targets.push(t);
        }
      }
    }
  }
  return targets;
}

function applyBackendWeight(targets: TargetDraft[], backend: Backend): void {
  if (backend.weight === undefined || targets.length === 0) return;
  let weight = backend.weight;
  const active = targets.filter((t) => t.weight !== 0).length;
  if (weight !== 0 && active > 0) weight = Math.max(1, Math.trunc(weight / active));
  for (const t of targets) if (t.weight !== 0) t.weight = weight;
}

/** buildUpstreams creates one upstream per distinct service host and resolves service ports. */
export function buildUpstreams(store: Store, services: ServiceDraft[], failures: FailureCollector, opts: EndpointsOptions): UpstreamDraft[] {
  const slices = indexEndpointSlices(store);
  const upstreams: UpstreamDraft[] = [];
  const done = new Set<string>();
  for (const service of services) {
    const name = String(service.fields['host']);
    if (done.has(name)) continue;
    done.add(name);
    const targets = new Map<string, TargetDraft>();
    for (const backend of service.backends) {
      const svc = service.k8sServices.get(`${backend.namespace}/${backend.name}`);
      if (!svc) {
        failures.push(`can't add target for backend ${backend.name}: no kubernetes service found`, service.parent);
        continue;
      }
      const port = findPort(svc, backend.port);
      if (typeof port === 'string') {
        failures.push(`can't find port for backend kubernetes service: ${port}`, svc, service.parent);
        continue;
      }
      service.fields['port'] = port.port;
      const found = serviceTargets(svc, port, slices.get(`${backend.namespace}/${backend.name}`), opts);
      applyBackendWeight(found, backend);
      for (const t of found) {
        const existing = targets.get(t.target);
        if (existing) existing.weight = (existing.weight ?? 100) + (t.weight ?? 100);
        else targets.set(t.target, { ...t });
      }
    }
    upstreams.push({ fields: { name, algorithm: 'round-robin', tags: service.tags }, targets: [...targets.values()], service });
  }
  return upstreams;
}

// ---------------------------------------------------------------------------------------------
// Annotation overrides
// ---------------------------------------------------------------------------------------------

/** overrideService applies Service annotations; returns an error text for an invalid protocol. */
export function overrideService(service: ServiceDraft): string | undefined {
  const keys = [...service.k8sServices.keys()].sort(compareStrings);
  for (const key of keys) {
    const anns = service.k8sServices.get(key)!.metadata.annotations ?? {};
    const protocol = anns[ANN.protocol] ?? '';
    if (protocol !== '' && VALID_PROTOCOLS.has(protocol)) service.fields['protocol'] = protocol;
    const path = anns[ANN.path];
    if (path && path.startsWith('/')) service.fields['path'] = path;
    for (const [ann, field] of [[ANN.connectTimeout, 'connect_timeout'], [ANN.writeTimeout, 'write_timeout'], [ANN.readTimeout, 'read_timeout'], [ANN.retries, 'retries']] as const) {
      const v = anns[ann];
      const n = v !== undefined ? atoi(v) : undefined;
      if (n !== undefined) service.fields[field] = n;
    }
    const verify = anns[ANN.tlsVerify] !== undefined ? parseGoBool(anns[ANN.tlsVerify]!) : undefined;
    if (verify !== undefined) service.fields['tls_verify'] = verify;
    const depth = anns[ANN.tlsVerifyDepth] !== undefined ? atoi(anns[ANN.tlsVerifyDepth]!) : undefined;
    if (depth !== undefined) service.fields['tls_verify_depth'] = depth;
    if (!VALID_PROTOCOLS.has(protocol)) return `konghq.com/protocol annotation has invalid value: ${protocol}`;
  }
  const protocol = service.fields['protocol'];
  if (protocol === 'grpc' || protocol === 'grpcs') delete service.fields['path'];
  return undefined;
}

const VALID_METHOD = /^[A-Z]+$/;
const VALID_PATH_HANDLING = /v\d/;
const VALID_SNI = /^([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)+(\.([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*))*$/;
const VALID_HOST = /^(\*\.)?([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*)+(\.([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*))*?(\.\*)?$/;

function lowerBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const l = v.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : undefined;
}

/** overrideRoute applies the route-level annotations of §3.1, then normalizes protocols. */
export function overrideRoute(route: RouteDraft): void {
  const f = route.fields;
  const anns = route.annotations;
  const strip = lowerBool(anns[ANN.stripPath] || undefined);
  if (strip !== undefined) f['strip_path'] = strip;

  if (anns[ANN.forceSSLRedirect] === 'true') {
    f['https_redirect_status_code'] = 302;
    const protocols = (f['protocols'] as string[] | undefined) ?? [];
    const grpc = protocols.some((p) => p.includes('grpc'));
    const http = protocols.some((p) => p.includes('http'));
    const out: string[] = [];
    if (grpc) out.push('grpcs');
    if (http || !grpc) out.push('https');
    f['protocols'] = out;
  }
  const code = anns[ANN.httpsRedirectStatusCode];
  const codeNum = code ? atoi(code) : undefined;
  if (codeNum !== undefined && [426, 301, 302, 307, 308].includes(codeNum)) f['https_redirect_status_code'] = codeNum;

  const preserve = lowerBool(anns[ANN.preserveHost] || undefined);
  if (preserve !== undefined) f['preserve_host'] = preserve;

  for (const [ann, field] of [[ANN.requestBuffering, 'request_buffering'], [ANN.responseBuffering, 'response_buffering']] as const) {
    if (anns[ann] === undefined) continue;
    const b = parseGoBool(anns[ann]!.toLowerCase());
    if (b !== undefined) f[field] = b;
  }

  const protocols = csv(anns[ANN.protocols]);
  // KIC ignores the whole annotation when one value is invalid; protocols are a set, emitted sorted.
  if (protocols.length > 0 && protocols.every((p) => VALID_PROTOCOLS.has(p))) f['protocols'] = [...new Set(protocols)].sort(compareStrings);

  const priority = anns[ANN.regexPriority] ? atoi(anns[ANN.regexPriority]!) : undefined;
  if (priority !== undefined) f['regex_priority'] = priority;

  const methods = csv(anns[ANN.methods], (s) => s.toUpperCase());
  if (methods.length > 0 && methods.every((m) => VALID_METHOD.test(m))) f['methods'] = methods;

  if (Object.hasOwn(anns, ANN.snis)) {
    const snis = csv(anns[ANN.snis]);
    if (snis.every((s) => VALID_SNI.test(s))) {
      if (snis.length > 0) f['snis'] = snis;
      else delete f['snis'];
    }
  }

  if (anns[ANN.hostAliases]) {
    const aliases = csv(anns[ANN.hostAliases]);
    if (aliases.every((h) => VALID_HOST.test(h))) {
      const hosts = [...((f['hosts'] as string[] | undefined) ?? [])];
      for (const h of aliases) if (!hosts.includes(h)) hosts.push(h);
      if (hosts.length > 0) f['hosts'] = hosts;
    }
  }

  const separator = anns[ANN.headersSeparator] ?? ',';
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(anns)) {
    if (!k.startsWith(ANN.headersPrefix)) continue;
    const name = k.slice(ANN.headersPrefix.length);
    if (name === '' || v === '') continue;
    headers[name] = v.split(separator).map((s) => s.trim());
  }
  if (Object.keys(headers).length > 0) f['headers'] = headers;

  const pathHandling = anns[ANN.pathHandling];
  if (pathHandling !== undefined && VALID_PATH_HANDLING.test(pathHandling)) f['path_handling'] = pathHandling;

  // normalizeProtocols: mixing grpc and http falls back to http+https; any grpc unsets strip_path.
  const final = (f['protocols'] as string[] | undefined) ?? [];
  let grpc = false;
  let http = false;
  for (const p of final) {
    if (p.includes('grpc')) grpc = true;
    if (p.includes('http')) http = true;
    if (!VALID_PROTOCOLS.has(p)) http = true;
  }
  if (grpc && http) f['protocols'] = ['http', 'https'];
  if (grpc) delete f['strip_path'];

  // fillRoute defaults added at file generation.
  if (f['https_redirect_status_code'] === undefined) f['https_redirect_status_code'] = 426;
  if (f['path_handling'] === undefined) f['path_handling'] = 'v0';
}

/** overrideUpstream applies `konghq.com/host-header` and the Services' KongUpstreamPolicy. */
export function overrideUpstream(store: Store, upstream: UpstreamDraft, failures: FailureCollector): void {
  const services = [...upstream.service.k8sServices.values()];
  for (const svc of services) {
    const host = svc.metadata.annotations?.[ANN.hostHeader];
    if (host) upstream.fields['host_header'] = host;
  }
  const { policy, error } = policyForServices(store, services);
  if (error) {
    failures.push(error, ...services);
    return;
  }
  if (policy) Object.assign(upstream.fields, upstreamFieldsFromPolicy(rec(policy['spec'])));
}
