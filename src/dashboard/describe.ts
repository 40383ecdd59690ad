/**
 * @module dashboard/describe
 * Small helpers shared by the dashboard's JSON views: how a plugin's scope is named, how secrets
 * are masked, how a service reads as a URL. The dashboard is read-only and may be opened by people
 * who should not see credentials, so nothing secret leaves the process unmasked.
 */
import type { Config, Plugin, Service } from '../config/entities.ts';

/** `global`, `service`, `route`, `consumer` or a combination such as `route+consumer`. */
export function pluginScope(p: Pick<Plugin, 'route' | 'service' | 'consumer'>): string {
  const parts: string[] = [];
  if (p.route) parts.push('route');
  if (p.service) parts.push('service');
  if (p.consumer) parts.push('consumer');
  return parts.length === 0 ? 'global' : parts.join('+');
}

/** Names (not ids) of what a plugin is attached to. */
export function scopeTargets(config: Config, p: Pick<Plugin, 'route' | 'service' | 'consumer'>): { route?: string; service?: string; consumer?: string } {
  const out: { route?: string; service?: string; consumer?: string } = {};
  if (p.route) out.route = config.routes.find((r) => r.id === p.route!.id)?.name ?? p.route.id;
  if (p.service) out.service = config.services.find((s) => s.id === p.service!.id)?.name ?? p.service.id;
  if (p.consumer) {
    const c = config.consumers.find((x) => x.id === p.consumer!.id);
    out.consumer = c?.username ?? c?.custom_id ?? p.consumer.id;
  }
  return out;
}

/** Keeps two characters so an operator can tell keys apart; the rest (and the length) is hidden. */
export function maskSecret(value: string): string {
  return value.length <= 4 ? '********' : `${value.slice(0, 2)}********`;
}

const SECRET_FIELD = /password|secret|token|private|api_?key|^key$|credential/i;

/** A plugin config with string values of secret-looking fields masked (recursively). */
export function maskConfig(value: unknown, field = ''): unknown {
  if (typeof value === 'string') return SECRET_FIELD.test(field) && value !== '' ? maskSecret(value) : value;
  if (Array.isArray(value)) return value.map((v) => maskConfig(v, field));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskConfig(v, k);
    return out;
  }
  return value;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

/** `http://host:port/path` as Kong's `url` shorthand would spell the service. */
export function serviceUrl(s: Pick<Service, 'protocol' | 'host' | 'port' | 'path'>, path = s.path ?? ''): string {
  const port = DEFAULT_PORTS[s.protocol] === s.port ? '' : `:${s.port}`;
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  return `${s.protocol}://${host}${port}${path}`;
}
