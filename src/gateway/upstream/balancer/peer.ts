/**
 * @module gateway/upstream/balancer/peer
 * A balancer peer: one target of an upstream, created once per Balancer and handed out by `pick`
 * as the same object every time (so picking allocates nothing and callers may key maps by it).
 * It carries the target's health, its in-flight count and its DNS state; `address` is mutable
 * because hostnames are re-resolved in the background.
 */
import { isIP } from 'node:net';
import type { Target } from '../../../config/entities.ts';
import { TargetHealth } from '../health/target-health.ts';

/** Kong's port when a target names none (`kong/db/dao/targets.lua`). */
export const DEFAULT_TARGET_PORT = 8000;

export type DnsState = 'ip' | 'unresolved' | 'resolved' | 'error';

export class BalancerPeer {
  /** The target's host as written (hostname or IP; IPv6 without brackets). Use it for Host/SNI. */
  readonly host: string;
  readonly port: number;
  /** `host:port` as in the target entity (the key of health reports and `setHealth`). */
  readonly name: string;
  readonly target: Target;
  readonly weight: number;
  /** Position in the balancer's target list; a stable tie-breaker. */
  readonly index: number;

  /** Where to connect: the resolved IP, or `host` itself until the first lookup finishes. */
  address: string;
  dns: DnsState;
  /** The resolver's error (code or message) when `dns` is 'error'. */
  dnsError: string | null = null;
  /** Epoch ms after which the address is looked up again (hostnames only). */
  dnsExpiresAt = 0;
  dnsInFlight: Promise<void> | null = null;

  readonly health = new TargetHealth();
  /** Requests picked and not yet released. */
  active = 0;
  /** Slot in the least-connections heap, -1 when not in it (owned by that heap). */
  heapIndex = -1;

  constructor(target: Target, index: number) {
    const { host, port } = parseTarget(target.target);
    this.host = host;
    this.port = port;
    this.name = target.target;
    this.target = target;
    this.weight = target.weight;
    this.index = index;
    const family = isIP(host);
    this.address = host;
    this.dns = family === 0 ? 'unresolved' : 'ip';
  }

  /** Enabled (weight > 0) and resolvable: counts toward the upstream's total weight. */
  get enabled(): boolean { return this.weight > 0 && this.dns !== 'error'; }
  /** Enabled and healthy: may be picked. */
  get available(): boolean { return this.weight > 0 && this.dns !== 'error' && this.health.healthy; }
  get healthy(): boolean { return this.health.healthy; }
}

/** Splits `host:port`, `[v6]:port`, a bare host or a bare IPv6 address. */
export function parseTarget(target: string): { host: string; port: number } {
  if (target.startsWith('[')) {
    const close = target.indexOf(']');
    const host = target.slice(1, close === -1 ? undefined : close);
    const rest = close === -1 ? '' : target.slice(close + 1);
    return { host, port: rest.startsWith(':') ? Number(rest.slice(1)) : DEFAULT_TARGET_PORT };
  }
  const colon = target.lastIndexOf(':');
  if (colon === -1 || target.indexOf(':') !== colon) {
    // No port, or an unbracketed IPv6 address.
    return { host: target, port: DEFAULT_TARGET_PORT };
  }
  return { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) };
}
