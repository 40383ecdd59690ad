/**
 * @module gateway/upstream/health/health-report
 * The bodies of `GET /upstreams/{u}/health` (Admin and Status API) in Kong's shape
 * (`kong/api/routes/upstreams.lua`, `kong/db/dao/targets.lua` page_for_upstream_with_health,
 * `kong/runloop/balancer/healthcheckers.lua` get_upstream_health / get_balancer_health):
 *
 *   { "data": [ <target entity> + "health" + "data": { host, port, dns, nodeWeight,
 *                 weight: { total, available, unavailable }, addresses: [ { ip, port, weight, health } ] } ],
 *     "next": null, "node_id": "<uuid>" }
 *
 * Targets are listed newest first (Kong sorts by created_at then id and walks backwards). A
 * target's health is HEALTHY if any address is, else UNHEALTHY if any is, else HEALTHCHECKS_OFF
 * (health checks off, or weight 0); a target without addresses is DNS_ERROR.
 * With `?balancer_health=1` Kong answers the upstream as a whole instead (`balancerHealth`).
 */
import { isIP } from 'node:net';
import type { Target, Uuid } from '../../../config/entities.ts';
import type { Balancer } from '../balancer/balancer.ts';
import type { BalancerPeer } from '../balancer/peer.ts';

export type TargetHealthLabel = 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF' | 'DNS_ERROR';

export interface AddressHealth { ip: string; port: number; weight: number; health: TargetHealthLabel }

export interface TargetStatus {
  host: string;
  port: number;
  /** The record type the address came from (`A`, `AAAA`), or the resolver error. */
  dns: string;
  nodeWeight: number;
  weight: { total: number; unavailable: number; available: number };
  addresses: AddressHealth[];
}

export type TargetWithHealth = Target & { health: TargetHealthLabel; data: TargetStatus };

export interface UpstreamHealthBody {
  data: TargetWithHealth[];
  next: null;
  node_id: string | null;
}

export interface BalancerHealthBody {
  data: {
    health: 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF';
    id: Uuid;
    details?: {
      healthy: boolean;
      weight: { total: number; unavailable: number; available: number };
      hosts: TargetStatus[];
    };
  };
  next: null;
  node_id: string | null;
}

function targetStatus(peer: BalancerPeer, hcOn: boolean): TargetStatus {
  const resolved = peer.dns !== 'error';
  const total = resolved ? peer.weight : 0;
  const unavailable = resolved && !peer.health.healthy ? peer.weight : 0;
  const addresses: AddressHealth[] = resolved
    ? [{
      ip: peer.address,
      port: peer.port,
      weight: peer.weight,
      health: hcOn && peer.weight > 0 ? (peer.health.healthy ? 'HEALTHY' : 'UNHEALTHY') : 'HEALTHCHECKS_OFF',
    }]
    : [];
  const family = isIP(peer.address);
  return {
    host: peer.host,
    port: peer.port,
    dns: !resolved ? (peer.dnsError ?? 'unknown') : family === 6 ? 'AAAA' : family === 4 ? 'A' : 'unknown',
    nodeWeight: peer.weight,
    weight: { total, unavailable, available: total - unavailable },
    addresses,
  };
}

function targetLabel(status: TargetStatus): TargetHealthLabel {
  if (status.addresses.length === 0) return 'DNS_ERROR';
  let label: TargetHealthLabel = 'HEALTHCHECKS_OFF';
  for (const a of status.addresses) {
    if (a.health === 'HEALTHY') return 'HEALTHY';
    if (a.health === 'UNHEALTHY') label = 'UNHEALTHY';
  }
  return label;
}

/** Newest first, as Kong lists them: sort by (created_at, id) ascending, then reverse. */
function newestFirst(peers: readonly BalancerPeer[]): BalancerPeer[] {
  return [...peers].sort((a, b) => {
    const ta = a.target.created_at, tb = b.target.created_at;
    if (ta !== tb) return ta < tb ? 1 : -1;
    return a.target.id < b.target.id ? 1 : a.target.id > b.target.id ? -1 : 0;
  });
}

/** Waits for pending hostname lookups so the report shows real addresses. */
async function settled(balancer: Balancer): Promise<void> {
  const pending = balancer.prepare();
  if (pending) await pending;
}

/** The admin backend's per-target row (`TargetHealth` in src/admin/backend.ts), in config order. */
export interface TargetHealthRow {
  targetId: string;
  target: string;
  weight: number;
  health: TargetHealthLabel;
  addresses: AddressHealth[];
}

/** Synchronous rows; a hostname not looked up yet shows the name as its address. */
export function targetHealthRows(balancer: Balancer): TargetHealthRow[] {
  const hcOn = balancer.healthchecksEnabled;
  return balancer.peers.map((peer) => {
    const status = targetStatus(peer, hcOn);
    return { targetId: peer.target.id, target: peer.name, weight: peer.weight, health: targetLabel(status), addresses: status.addresses };
  });
}

/** `GET /upstreams/{u}/health`. */
export async function upstreamHealth(balancer: Balancer, options: { nodeId: string | null }): Promise<UpstreamHealthBody> {
  await settled(balancer);
  const hcOn = balancer.healthchecksEnabled;
  const data = newestFirst(balancer.peers).map((peer): TargetWithHealth => {
    const status = targetStatus(peer, hcOn);
    return { ...peer.target, health: targetLabel(status), data: status };
  });
  return { data, next: null, node_id: options.nodeId };
}

/** `GET /upstreams/{u}/health?balancer_health=1`. */
export async function balancerHealth(balancer: Balancer, options: { nodeId: string | null }): Promise<BalancerHealthBody> {
  await settled(balancer);
  const id = balancer.upstream.id;
  if (!balancer.healthchecksEnabled) return { data: { health: 'HEALTHCHECKS_OFF', id }, next: null, node_id: options.nodeId };
  const hosts = balancer.peers.map((p) => targetStatus(p, true));
  return {
    data: {
      health: balancer.healthy ? 'HEALTHY' : 'UNHEALTHY',
      id,
      details: { healthy: balancer.healthy, weight: balancer.weights, hosts },
    },
    next: null,
    node_id: options.nodeId,
  };
}
