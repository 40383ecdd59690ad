/**
 * @module controller/translator/translator
 * `translate(store)`: the pure function from Kubernetes objects to a Kong declarative config plus
 * translation failures and HTTPRoute parent status, following KIC's `BuildKongConfig` order:
 * route objects → services, resolve Services, upstreams/targets, annotation overrides, consumers and
 * credentials, plugins, certificates. A broken object is reported and left out; the rest is kept.
 */

import type { Store } from '../store/store.ts';
import { FailureCollector, type TranslationFailure } from './failures.ts';
import { attachHTTPRoutes, type HTTPRouteStatus, type ListenerAttachments } from './gateway.ts';
import { translateHTTPRoutes } from './httproute.ts';
import { ingressClassParameters, translateIngresses } from './ingress.ts';
import { ingressClassContext } from './ingress-class.ts';
import { translateCertificates } from './certificates.ts';
import { crdCheckedStore } from './crd-validation.ts';
import { translateConsumers } from './kong-consumer.ts';
import { translatePlugins } from './kong-plugin.ts';
import { compareStrings } from './fields.ts';
import type { ServiceDraft } from './model.ts';
import { assembleConfig, type DeclarativeConfig } from './output.ts';
import { buildUpstreams, overrideRoute, overrideService, overrideUpstream, populateServices } from './services.ts';

/** TranslateOptions mirror the KIC flags and feature gates that change translation. */
export interface TranslateOptions {
  /** `--ingress-class` (default `kong`). */
  ingressClass?: string;
  /** `--gateway-api-controller-name` (default `konghq.com/kic-gateway-controller`). */
  gatewayControllerName?: string;
  /** `--cluster-domain`, appended to service-upstream targets (default empty). */
  clusterDomain?: string;
  /** `--enable-drain-support`: keep terminating endpoints with weight 0. */
  enableDrainSupport?: boolean;
  /** Local run mode: `ns/svc` → `host:port` used when a Service has no EndpointSlices. */
  backends?: ReadonlyMap<string, string>;
  /** Feature gate `RewriteURIs` (default false): enables `konghq.com/rewrite`. */
  rewriteURIs?: boolean;
  /** Kong ≥ 3.9 `redirect` plugin for HTTPRoute RequestRedirect (default false: request-termination + Location). */
  supportRedirectPlugin?: boolean;
  /** DB-less: an empty config gets a stub upstream named `kong` (default true). */
  appendStubWhenEmpty?: boolean;
}

/** TranslationResult is the declarative config, the failures, and HTTPRoute parent status. */
export interface TranslationResult {
  config: DeclarativeConfig;
  failures: TranslationFailure[];
  routeStatus: HTTPRouteStatus[];
  /** HTTPRoutes attached to each Gateway listener (for Gateway `status.listeners`). */
  attachedRoutes: ListenerAttachments;
}

/** DEFAULT_GATEWAY_CONTROLLER_NAME is KIC's Gateway API controller name. */
export const DEFAULT_GATEWAY_CONTROLLER_NAME = 'konghq.com/kic-gateway-controller';

/** translate builds a Kong declarative config from the objects in `store`. It does not throw on bad objects. */
export function translate(store: Store, options: TranslateOptions = {}): TranslationResult {
  const ingressClass = options.ingressClass ?? 'kong';
  const controllerName = options.gatewayControllerName ?? DEFAULT_GATEWAY_CONTROLLER_NAME;
  const failures = new FailureCollector();
  const classCtx = ingressClassContext(store, ingressClass);
  const icp = ingressClassParameters(store, ingressClass);

  const ingress = translateIngresses(store, classCtx, icp, failures, options.rewriteURIs ?? false);
  const { accepted, status, attachments } = attachHTTPRoutes(store, controllerName);
  const httpServices = translateHTTPRoutes(store, accepted, failures, { supportRedirectPlugin: options.supportRedirectPlugin ?? false });

  const all = new Map<string, ServiceDraft>(ingress.services);
  for (const [name, s] of httpServices) all.set(name, s);
  const sorted = [...all.values()].sort((a, b) => compareStrings(a.name, b.name));

  const skipped = populateServices(store, all, ingress.snis, failures);
  const upstreams = buildUpstreams(store, sorted, failures, {
    clusterDomain: options.clusterDomain ?? '',
    enableDrainSupport: options.enableDrainSupport ?? false,
    serviceUpstream: icp.serviceUpstream,
    ...(options.backends ? { backends: options.backends } : {}),
  });
  const services = sorted.filter((s) => !skipped.has(s.name));
  for (const service of services) {
    const error = overrideService(service);
    if (error) failures.push(error, ...service.k8sServices.values());
    for (const route of service.routes) overrideRoute(route);
  }
  for (const upstream of upstreams) overrideUpstream(store, upstream, failures);

  // KongPlugin/KongClusterPlugin/KongConsumer objects the API server would have refused are left out.
  const crdChecked = crdCheckedStore(store, classCtx, failures);
  const consumers = translateConsumers(crdChecked, classCtx, failures);
  const plugins = translatePlugins(crdChecked, services, consumers, classCtx, failures);
  const certificates = translateCertificates(store, ingress.snis, controllerName, failures);

  const config = assembleConfig({
    services,
    upstreams,
    consumers,
    plugins,
    certificates,
    appendStubWhenEmpty: options.appendStubWhenEmpty ?? true,
  });
  return { config, failures: failures.sorted(), routeStatus: status, attachedRoutes: attachments };
}
