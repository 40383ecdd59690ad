/**
 * @module controller/status/addresses
 * Where clients reach the gateways, as KIC publishes it. `--publish-status-address` wins over
 * everything. Otherwise the `--publish-service` Service decides: a LoadBalancer Service gives its
 * `status.loadBalancer.ingress` IPs and hostnames (nothing until the load balancer is provisioned),
 * any other type its cluster IPs. Gateways get only the load balancer's addresses from the Service
 * (KIC prepends each one, so they come out in reverse order), typed `IPAddress` or `Hostname`.
 */
import { isIP } from 'node:net';
import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';

export interface LoadBalancerIngress { ip?: string; hostname?: string }
export interface GatewayStatusAddress { type: 'IPAddress' | 'Hostname'; value: string }

export interface PublishedAddresses {
  /** The `--publish-service` Service when it exists and has cluster IPs (a Gateway needs it to be Programmed). */
  service?: K8sObject;
  /** Ingress `.status.loadBalancer.ingress`; undefined when there is nothing to publish yet. */
  ingress?: LoadBalancerIngress[];
  /** Gateway `.status.addresses`; undefined when there are none. */
  gateway?: GatewayStatusAddress[];
}

interface ServiceShape {
  spec?: { type?: string; clusterIP?: string; clusterIPs?: string[] };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

function clusterIPsOf(svc: ServiceShape): string[] {
  const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== '' && ip !== 'None');
}

/** publishedAddresses works out the addresses from the flags and the Service in the store. */
export function publishedAddresses(store: Store, publishService: string | undefined, overrides: readonly string[]): PublishedAddresses {
  const out: PublishedAddresses = {};
  let svc: (K8sObject & ServiceShape) | undefined;
  if (publishService) {
    const [ns, name] = publishService.split('/');
    const found = ns && name ? store.get(GK.Service, ns, name) : undefined;
    if (found && clusterIPsOf(found as ServiceShape).length > 0) svc = found as K8sObject & ServiceShape;
  }
  if (svc) out.service = svc;

  if (overrides.length > 0) {
    out.ingress = overrides.map((a) => (isIP(a) ? { ip: a } : { hostname: a }));
    out.gateway = overrides.map((a) => ({ type: isIP(a) ? 'IPAddress' : 'Hostname', value: a }));
    return out;
  }
  if (!svc) return out;

  const lb = svc.status?.loadBalancer?.ingress ?? [];
  if (svc.spec?.type === 'LoadBalancer') {
    const ingress: LoadBalancerIngress[] = [];
    for (const e of lb) {
      if (e.ip) ingress.push({ ip: e.ip });
      if (e.hostname) ingress.push({ hostname: e.hostname });
    }
    if (ingress.length > 0) out.ingress = ingress;
  } else {
    out.ingress = clusterIPsOf(svc).map((ip) => ({ ip }));
  }
  if (svc.spec?.type === 'LoadBalancer') {
    const gateway: GatewayStatusAddress[] = [];
    for (const e of lb) {
      if (e.ip) gateway.unshift({ type: 'IPAddress', value: e.ip });
      if (e.hostname) gateway.unshift({ type: 'Hostname', value: e.hostname });
    }
    if (gateway.length > 0) out.gateway = gateway;
  }
  return out;
}
