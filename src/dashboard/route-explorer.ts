/**
 * @module dashboard/route-explorer
 * "What would the gateway do with this request?" — answered by the gateway's own code: the
 * snapshot's RouteIndex picks the route, the compiled PluginChain and `resolveSlot` pick each
 * plugin's configuration (Kong's precedence), `buildUpstreamPath` computes the path sent upstream.
 * Nothing is proxied and no plugin handler runs; this module only mirrors the order in which
 * request-flow.ts calls those pieces.
 */
import type { Plugin, Route } from '../config/entities.ts';
import type { Snapshot } from '../gateway/snapshot.ts';
import { normalizePath, buildUpstreamPath } from '../gateway/router/index.ts';
import { resolveSlot, type PluginInstance } from '../gateway/pipeline/plugin-chain.ts';
import { maskConfig, pluginScope, scopeTargets, serviceUrl } from './describe.ts';

export interface ExplainRequest {
  method?: string;
  host?: string;
  /** Path with an optional query string. */
  path?: string;
  headers?: Record<string, string>;
  scheme?: 'http' | 'https';
  /** The proxy port the request arrives on (routes may name ports in hosts). */
  port?: number;
  /** Username, custom_id or id of a consumer, as if an auth plugin had identified it. */
  consumer?: string;
}

export const PHASES = ['rewrite', 'access', 'response', 'header', 'body', 'log'] as const;
type Phase = (typeof PHASES)[number];

export interface ExplainedPlugin {
  order: number;
  name: string;
  instance_name: string | null;
  id: string;
  priority: number;
  scope: string;
  applies_to: ReturnType<typeof scopeTargets>;
  /** Phases this plugin has handlers for, in run order. */
  phases: Phase[];
  /** Another configuration of this plugin takes over once a consumer is authenticated. */
  consumer_dependent: boolean;
  config: unknown;
}

export interface ExplainResult {
  request: { method: string; host: string; path: string; normalized_path: string; query: string; scheme: string };
  matched: boolean;
  route: { id: string; name: string | null; paths: string[]; hosts: string[]; methods: string[]; strip_path: boolean; preserve_host: boolean; path_handling: string } | null;
  service: { id: string; name: string | null; url: string } | null;
  /** The status the gateway answers by itself (404 no route, 503 no service, https redirect), if any. */
  exit: { status: number; message: string } | null;
  /** Where the request goes when no plugin ends it. */
  upstream: { url: string; path: string; query: string; host_header: string; upstream: string | null; targets: string[]; stripped_prefix: string | null } | null;
  uri_captures: Record<string, string>;
  consumer: { id: string; username: string | null } | null;
  plugins: ExplainedPlugin[];
  /** The same plugins grouped by phase, in the order the phase runs them. */
  phases: { phase: Phase; plugins: string[] }[];
}

const AFTER_ROUTING: readonly Phase[] = ['access', 'response', 'header', 'body', 'log'];
/** When the router answers by itself (404, https redirect), plugins see only that response. */
const AFTER_404: readonly Phase[] = ['response', 'header', 'body', 'log'];

/**
 * Phases `inst` takes part in: rewrite only for global instances (it runs before routing), then
 * those of `later` it has handlers for.
 */
function phasesOf(inst: PluginInstance, inRewrite: boolean, later: readonly Phase[]): Phase[] {
  return PHASES.filter((p) => (p === 'rewrite' ? inRewrite : later.includes(p)) && inst.handlers[p] !== undefined);
}

function describe(snapshot: Snapshot, inst: PluginInstance, order: number, phases: Phase[], consumerDependent: boolean): ExplainedPlugin {
  const entity: Plugin = inst.entity;
  return {
    order, name: inst.name, instance_name: entity.instance_name, id: entity.id, priority: inst.priority,
    scope: pluginScope(entity), applies_to: scopeTargets(snapshot.config, entity), phases,
    consumer_dependent: consumerDependent, config: maskConfig(entity.config),
  };
}

function routeSummary(r: Route): NonNullable<ExplainResult['route']> {
  return {
    id: r.id, name: r.name, paths: r.paths ?? [], hosts: r.hosts ?? [], methods: r.methods ?? [],
    strip_path: r.strip_path, preserve_host: r.preserve_host, path_handling: r.path_handling,
  };
}

function lowerHeaders(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (k.trim() !== '') out[k.trim().toLowerCase()] = String(v);
  return out;
}

/** Runs the real router and plugin-chain resolution against `snapshot` for one described request. */
export function explainRequest(snapshot: Snapshot | null, input: ExplainRequest): ExplainResult {
  const method = (input.method || 'GET').toUpperCase();
  const scheme = input.scheme === 'https' ? 'https' : 'http';
  const headers = lowerHeaders(input.headers);
  const host = input.host ?? headers['host'] ?? '';
  if (host) headers['host'] = host;
  let raw = input.path || '/';
  if (!raw.startsWith('/')) raw = `/${raw}`;
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  const normalized = normalizePath(path);
  const result: ExplainResult = {
    request: { method, host, path, normalized_path: normalized, query, scheme },
    matched: false, route: null, service: null, exit: null, upstream: null, uri_captures: {}, consumer: null,
    plugins: [], phases: [],
  };
  if (!snapshot) {
    result.exit = { status: 404, message: 'no Route matched with those values' };
    return result;
  }
  const consumer = input.consumer
    ? snapshot.consumers.consumer(input.consumer) ?? snapshot.config.consumers.find((c) => c.custom_id === input.consumer) ?? null
    : null;
  if (consumer) result.consumer = { id: consumer.id, username: consumer.username };

  const rewrite = snapshot.chains.rewrite;
  const match = snapshot.router.match({
    method, host, path: normalized, headers, scheme, port: input.port ?? (scheme === 'https' ? 8443 : 8000),
  });
  if (!match) {
    result.exit = { status: 404, message: 'no Route matched with those values' };
    // As the proxy does: the global plugins still run their response phases for the 404.
    const rewriteSet = new Set(rewrite);
    let order = 0;
    for (const slot of snapshot.chains.global.slots) {
      const inst = slot.baseline;
      if (inst) result.plugins.push(describe(snapshot, inst, ++order, phasesOf(inst, rewriteSet.has(inst), AFTER_404), false));
    }
    result.phases = groupByPhase(result.plugins);
    return result;
  }
  const { route, service } = match;
  result.matched = true;
  result.route = routeSummary(route);
  result.uri_captures = match.uriCaptures;

  if (scheme === 'http' && !route.protocols.includes('http') && route.protocols.includes('https')) {
    const code = route.https_redirect_status_code;
    result.exit = code === 426 ? { status: 426, message: 'Please use HTTPS protocol' } : { status: code, message: `redirect to https://${host}${raw}` };
  }

  if (service) {
    result.service = { id: service.id, name: service.name, url: serviceUrl(service) };
    const built = buildUpstreamPath(service.path, { matched: match.matchedPath, stripPath: route.strip_path }, normalized);
    const upstream = snapshot.config.upstreams.find((u) => u.name === service.host) ?? null;
    const targets = upstream ? snapshot.config.targets.filter((t) => t.upstream.id === upstream.id).map((t) => t.target) : [];
    const defaultHost = upstream?.host_header ?? (serviceUrl(service, '').replace(/^[a-z]+:\/\//, ''));
    result.upstream = {
      url: serviceUrl(service, built.path) + (query ? `?${query}` : ''),
      path: built.path, query, upstream: upstream?.name ?? null, targets, stripped_prefix: built.strippedPrefix,
      host_header: route.preserve_host && host ? host : defaultHost,
    };
  } else if (!result.exit) {
    result.exit = { status: 503, message: 'no Service found with those values' };
  }

  // Global rewrite handlers run before routing; then the route's chain in priority order.
  const https = scheme === 'https';
  const chained: { inst: PluginInstance; dependent: boolean }[] = [];
  if (!result.exit || result.exit.status === 503) {
    const chain = snapshot.chains.forRoute(route.id, service?.id ?? null);
    for (const slot of chain.slots) {
      const inst = resolveSlot(slot, consumer?.id ?? null);
      if (!inst || !(https ? inst.onHttps : inst.onHttp)) continue;
      chained.push({ inst, dependent: !consumer && (slot.withConsumer !== null || slot.consumerOnly !== null) });
    }
  }
  const inChain = new Set(chained.map((c) => c.inst));
  const rewriteSet = new Set(rewrite);
  let order = 0;
  // A global rewrite plugin that a more specific instance replaces for this route still ran its
  // rewrite; when the router itself answers (https redirect), it also sees that response.
  const redirected = result.exit !== null && result.exit.status !== 503;
  for (const inst of rewrite) {
    if (!inChain.has(inst)) result.plugins.push(describe(snapshot, inst, ++order, phasesOf(inst, true, redirected ? AFTER_404 : []), false));
  }
  for (const { inst, dependent } of chained) {
    result.plugins.push(describe(snapshot, inst, ++order, phasesOf(inst, rewriteSet.has(inst), AFTER_ROUTING), dependent));
  }
  result.phases = groupByPhase(result.plugins);
  return result;
}

function groupByPhase(plugins: ExplainedPlugin[]): ExplainResult['phases'] {
  return PHASES.map((phase) => ({ phase, plugins: plugins.filter((p) => p.phases.includes(phase)).map((p) => p.name) }))
    .filter((g) => g.plugins.length > 0);
}
