/**
 * @module dashboard/inventory
 * The dashboard's view of the running configuration: services, routes, plugins (with the scope
 * each applies to and its priority), consumers with masked credentials, upstreams with the health
 * of each target, and where the config came from. Built from the primary's loaded config on each
 * request; nothing here is cached or writable.
 */
import type { LoadedConfig } from '../admin/backend.ts';
import type { PluginDefinition } from '../plugins/api.ts';
import type { TargetHealthRow } from '../gateway/upstream/health/health-report.ts';
import { maskConfig, maskSecret, pluginScope, scopeTargets, serviceUrl } from './describe.ts';

export interface Inventory {
  config: { hash: string; loadedAt: string; source: string } | null;
  services: unknown[];
  routes: unknown[];
  plugins: unknown[];
  consumers: unknown[];
  upstreams: unknown[];
}

export interface InventorySources {
  current(): LoadedConfig | null;
  plugins: ReadonlyMap<string, PluginDefinition>;
  /** Target rows of an upstream (by name), or null when the balancer is unknown. */
  upstreamHealth(name: string): TargetHealthRow[] | null;
}

export function buildInventory(src: InventorySources): Inventory {
  const loaded = src.current();
  if (!loaded) return { config: null, services: [], routes: [], plugins: [], consumers: [], upstreams: [] };
  const c = loaded.config;
  const serviceName = (id: string | undefined) => (id ? c.services.find((s) => s.id === id)?.name ?? id : null);

  const services = c.services.map((s) => ({
    id: s.id, name: s.name, url: serviceUrl(s), enabled: s.enabled, retries: s.retries, tags: s.tags ?? [],
    upstream: c.upstreams.some((u) => u.name === s.host) ? s.host : null,
    routes: c.routes.filter((r) => r.service?.id === s.id).map((r) => r.name ?? r.id),
  }));

  const routes = c.routes.map((r) => ({
    id: r.id, name: r.name, service: serviceName(r.service?.id), protocols: r.protocols, methods: r.methods ?? [],
    hosts: r.hosts ?? [], paths: r.paths ?? [], headers: r.headers ?? {}, strip_path: r.strip_path,
    preserve_host: r.preserve_host, path_handling: r.path_handling, regex_priority: r.regex_priority, tags: r.tags ?? [],
  }));

  const plugins = c.plugins.map((p) => ({
    id: p.id, name: p.name, instance_name: p.instance_name, enabled: p.enabled, protocols: p.protocols,
    priority: src.plugins.get(p.name)?.priority ?? null,
    scope: pluginScope(p), applies_to: scopeTargets(c, p), config: maskConfig(p.config),
  })).sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.name.localeCompare(b.name));

  const consumers = c.consumers.map((k) => {
    const mine = <T extends { consumer: { id: string } }>(list: T[]) => list.filter((x) => x.consumer.id === k.id);
    const credentials = [
      ...mine(c.keyauth_credentials).map((x) => ({ type: 'key-auth', id: x.id, key: maskSecret(x.key) })),
      ...mine(c.basicauth_credentials).map((x) => ({ type: 'basic-auth', id: x.id, username: x.username, password: '********' })),
      ...mine(c.jwt_secrets).map((x) => ({ type: 'jwt', id: x.id, key: x.key, algorithm: x.algorithm, secret: x.secret ? '********' : null })),
      ...mine(c.hmacauth_credentials).map((x) => ({ type: 'hmac-auth', id: x.id, username: x.username, secret: '********' })),
      ...mine(c.oauth2_credentials).map((x) => ({ type: 'oauth2', id: x.id, name: x.name, client_id: x.client_id, client_secret: '********' })),
    ];
    return {
      id: k.id, username: k.username, custom_id: k.custom_id, tags: k.tags ?? [], credentials,
      acls: mine(c.acls).map((a) => a.group),
      plugins: c.plugins.filter((p) => p.consumer?.id === k.id).map((p) => p.name),
    };
  });

  const upstreams = c.upstreams.map((u) => {
    const rows = src.upstreamHealth(u.name);
    const targets = c.targets.filter((t) => t.upstream.id === u.id).map((t) => {
      const row = rows?.find((r) => r.targetId === t.id || r.target === t.target);
      return { target: t.target, weight: t.weight, health: row?.health ?? 'HEALTHCHECKS_OFF', addresses: row?.addresses ?? [] };
    });
    const hc = u.healthchecks;
    return {
      id: u.id, name: u.name, algorithm: u.algorithm, targets,
      healthchecks: { active: hc.active.healthy.interval > 0 || hc.active.unhealthy.interval > 0, passive: passiveOn(hc.passive) },
      services: c.services.filter((s) => s.host === u.name).map((s) => s.name ?? s.id),
    };
  });

  return {
    config: { hash: loaded.hash, loadedAt: new Date(loaded.loadedAt).toISOString(), source: loaded.source },
    services, routes, plugins, consumers, upstreams,
  };
}

/** Passive checks count only when some threshold can trip. */
function passiveOn(p: { unhealthy: { tcp_failures: number; timeouts: number; http_failures: number } }): boolean {
  return p.unhealthy.tcp_failures > 0 || p.unhealthy.timeouts > 0 || p.unhealthy.http_failures > 0;
}
