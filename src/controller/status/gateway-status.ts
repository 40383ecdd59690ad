/**
 * @module controller/status/gateway-status
 * The status KIC writes on a Gateway of an unmanaged GatewayClass it controls: `Accepted`, then
 * `Programmed` once the gateways serve the config (and the `--publish-service` Service, when given,
 * exists), the published addresses, and one `status.listeners[]` entry per spec listener with
 * `supportedKinds`, `attachedRoutes` and the listener conditions (Accepted, Conflicted,
 * ResolvedRefs, Programmed) decided as KIC decides them. Turnpike proxies HTTP and HTTPS only, so
 * a TCP/UDP/TLS listener is not accepted (`UnsupportedProtocol`); with a publish Service, a
 * listener port the Service does not expose is `PortUnavailable`.
 */
import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import { arr, compareStrings, int, rec, str } from '../translator/fields.ts';
import { isReferenceGranted } from '../translator/reference-grants.ts';
import type { GatewayStatusAddress, PublishedAddresses } from './addresses.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** Route kinds Turnpike translates. */
const SUPPORTED_ROUTE_KINDS = new Set(['HTTPRoute']);
/** Listener protocols Turnpike's proxy serves. */
const SERVED_PROTOCOLS = new Set(['HTTP', 'HTTPS']);

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: { group: string; kind: string }[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  addresses?: GatewayStatusAddress[];
  conditions: Condition[];
  listeners: ListenerStatus[];
}

export interface GatewayStatusInput {
  /** Listener name → HTTPRoutes accepted by it. */
  attachedRoutes?: ReadonlyMap<string, number>;
  published: PublishedAddresses;
  /** Whether `--publish-service` was given (then the Service must exist for `Programmed`). */
  publishServiceConfigured: boolean;
  /** Whether every gateway serves a config built from the current objects. */
  configured: boolean;
  now: string;
}

interface ListenerSpec {
  name: string;
  protocol: string;
  port?: number;
  hostname: string;
  kinds?: unknown[];
  certificateRefs?: unknown[];
}

function conditionSort(a: Condition, b: Condition): number {
  return compareStrings(`${a.type}${a.status}${a.reason}${a.message}`, `${b.type}${b.status}${b.reason}${b.message}`);
}

/** HTTP shares a port with HTTP only; HTTPS and TLS with each other; TCP and UDP never. */
function canSharePort(requested: string, existing: string): boolean {
  if (requested === 'HTTP') return existing === 'HTTP';
  if (requested === 'HTTPS' || requested === 'TLS') return existing === 'HTTPS' || existing === 'TLS';
  return false;
}

function supportedKinds(l: ListenerSpec): { kinds: { group: string; kind: string }[]; reason: string } {
  if (!l.kinds || l.kinds.length === 0) {
    return { kinds: SERVED_PROTOCOLS.has(l.protocol) ? [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }] : [], reason: 'ResolvedRefs' };
  }
  const kinds: { group: string; kind: string }[] = [];
  let reason = 'ResolvedRefs';
  for (const k of l.kinds) {
    const r = rec(k) ?? {};
    const group = str(r['group'], true) ?? GATEWAY_GROUP;
    const kind = str(r['kind']) ?? '';
    if (group === GATEWAY_GROUP && SUPPORTED_ROUTE_KINDS.has(kind)) kinds.push({ group, kind });
    else reason = 'InvalidRouteKinds';
  }
  return { kinds, reason };
}

function isPem(v: unknown): boolean {
  return typeof v === 'string' && Buffer.from(v, 'base64').toString('utf8').includes('-----BEGIN ');
}

function certificateRefsReason(store: Store, gateway: K8sObject, l: ListenerSpec): string {
  const gwNs = gateway.metadata.namespace ?? 'default';
  for (const ref of l.certificateRefs ?? []) {
    const r = rec(ref) ?? {};
    const group = str(r['group'], true) ?? '';
    const kind = str(r['kind']) ?? 'Secret';
    const name = str(r['name']) ?? '';
    const ns = str(r['namespace']) ?? gwNs;
    if (ns !== gwNs && !isReferenceGranted(store, { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNs }, { group: '', kind: 'Secret', namespace: ns, name })) {
      return 'RefNotPermitted';
    }
    if ((group !== '' && group !== 'core') || kind !== 'Secret') return 'InvalidCertificateRef';
    const secret = store.get(GK.Secret, ns, name);
    const data = rec(secret?.['data']);
    if (!secret || !isPem(data?.['tls.crt']) || !isPem(data?.['tls.key'])) return 'InvalidCertificateRef';
  }
  return 'ResolvedRefs';
}

function listenersOf(gateway: K8sObject): ListenerSpec[] {
  return arr(rec(gateway['spec'])?.['listeners']).flatMap((raw) => {
    const r = rec(raw);
    const name = str(r?.['name']);
    if (!r || !name) return [];
    const l: ListenerSpec = { name, protocol: str(r['protocol']) ?? '', hostname: str(r['hostname']) ?? '' };
    const port = int(r['port']);
    if (port !== undefined) l.port = port;
    const kinds = rec(r['allowedRoutes'])?.['kinds'];
    if (Array.isArray(kinds)) l.kinds = kinds;
    const tls = rec(r['tls']);
    if (tls) l.certificateRefs = arr(tls['certificateRefs']);
    return [l];
  });
}

/** buildGatewayStatus computes the whole `.status` of one controlled Gateway. */
export function buildGatewayStatus(store: Store, gateway: K8sObject, input: GatewayStatusInput): GatewayStatus {
  const generation = typeof gateway.metadata.generation === 'number' ? gateway.metadata.generation : 1;
  const cond = (type: string, ok: boolean, reason: string, message = ''): Condition => ({
    type, status: ok ? 'True' : 'False', reason, message, observedGeneration: generation, lastTransitionTime: input.now,
  });
  const servicePorts = new Set(
    input.published.service ? arr(rec(input.published.service['spec'])?.['ports']).map((p) => int(rec(p)?.['port'])).filter((p) => p !== undefined) : [],
  );

  const specs = listenersOf(gateway);
  const portProtocol = new Map<number | undefined, string>();
  const portHostnames = new Map<number | undefined, Set<string>>();
  const conflictedPorts = new Set<number | undefined>();
  const conflictedHostnames = new Map<number | undefined, Set<string>>();
  const listeners: ListenerStatus[] = [];

  for (const l of specs) {
    const { kinds, reason: kindsReason } = supportedKinds(l);
    const certReason = l.certificateRefs ? certificateRefsReason(store, gateway, l) : 'ResolvedRefs';
    const refsReason = certReason !== 'ResolvedRefs' ? certReason : kindsReason;
    const conditions: Condition[] = [];
    if (refsReason !== 'ResolvedRefs') conditions.push(cond('ResolvedRefs', false, refsReason));

    const existing = portProtocol.get(l.port);
    if (existing === undefined) {
      portProtocol.set(l.port, l.protocol);
      portHostnames.set(l.port, new Set([l.hostname]));
    } else if (!canSharePort(l.protocol, existing)) {
      conditions.push(cond('Conflicted', true, 'ProtocolConflict'));
      conflictedPorts.add(l.port);
    } else {
      const seen = portHostnames.get(l.port) ?? new Set<string>();
      if (!seen.has(l.hostname)) seen.add(l.hostname);
      else {
        conditions.push(cond('Conflicted', true, 'HostnameConflict'));
        const c = conflictedHostnames.get(l.port) ?? new Set<string>();
        c.add(l.hostname);
        conflictedHostnames.set(l.port, c);
      }
      portHostnames.set(l.port, seen);
    }

    if (!SERVED_PROTOCOLS.has(l.protocol)) {
      conditions.push(cond('Accepted', false, 'UnsupportedProtocol', 'no Kong listen with the requested protocol is configured'));
    } else if (input.published.service && (l.port === undefined || !servicePorts.has(l.port))) {
      conditions.push(cond('Accepted', false, 'PortUnavailable', 'no Kong listen with the requested protocol is configured for the requested port'));
    }

    if (conditions.length === 0) {
      conditions.push(cond('Conflicted', false, 'NoConflicts'), cond('ResolvedRefs', true, 'ResolvedRefs'), cond('Programmed', true, 'Programmed'));
    } else {
      conditions.push(cond('Programmed', false, 'Invalid'));
    }
    if (!conditions.some((c) => c.type === 'Accepted')) conditions.push(cond('Accepted', true, 'Accepted'));
    conditions.sort(conditionSort);
    listeners.push({ name: l.name, supportedKinds: kinds, attachedRoutes: input.attachedRoutes?.get(l.name) ?? 0, conditions });
  }

  // A conflict marks every listener on that port (or port and hostname), not only the later ones.
  for (const [i, l] of specs.entries()) {
    const reason = conflictedPorts.has(l.port) ? 'ProtocolConflict' : conflictedHostnames.get(l.port)?.has(l.hostname) ? 'HostnameConflict' : undefined;
    if (!reason) continue;
    const status = listeners[i]!;
    status.conditions = [
      ...status.conditions.filter((c) => c.type !== 'Programmed' && c.type !== 'Conflicted'),
      cond('Conflicted', true, reason), cond('Programmed', false, 'Invalid'),
    ].sort(conditionSort);
  }

  const waitingForService = input.publishServiceConfigured && !input.published.service;
  const status: GatewayStatus = {
    conditions: [
      cond('Accepted', true, 'Accepted', 'this unmanaged gateway has been picked up by the controller and will be processed'),
      input.configured && !waitingForService ? cond('Programmed', true, 'Programmed') : cond('Programmed', false, 'Pending'),
    ],
    listeners,
  };
  if (input.published.gateway) status.addresses = input.published.gateway;
  return status;
}
