/**
 * @module gateway/snapshot
 * compile(config) -> an immutable Snapshot: the route index, the plugin chains of every route,
 * the consumer directory, one balancer per upstream (and a direct peer for services that name a
 * host), and the TLS certificates by SNI. The worker swaps the whole snapshot atomically; requests
 * in flight keep the one they started with. Compiling never touches the running snapshot, so a
 * failure leaves the old config serving.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { isIP } from 'node:net';
import type { Config, Service, Upstream, Target } from '../config/entities.ts';
import type { PluginDefinition, PluginLogger } from '../plugins/api.ts';
import { defaultHealthchecks } from '../config/normalize.ts';
import { IndexedConsumerDirectory } from './consumer-directory.ts';
import { compilePluginChains, type CompiledChains } from './pipeline/plugin-chain.ts';
import type { RequestContext } from './pipeline/context.ts';
import { RouteIndex } from './router/index.ts';
import { Balancer, mergeSetCookie, type BalancerPeer, type BalanceRequest, type HealthOutcome } from './upstream/balancer/index.ts';

/** A peer as the request flow uses it. */
export interface Peer {
  readonly address: string;
  readonly port: number;
  /** `http://ip:port` for undici. */
  readonly origin: string;
  /** The Host header when preserve_host is off. */
  readonly hostHeader: string;
  readonly tls: { servername?: string; rejectUnauthorized?: boolean } | null;
  readonly balancerPeer: BalancerPeer;
}

export interface ServiceUpstream {
  pick(ctx: RequestContext, tried: readonly Peer[] | null): Peer | null;
  report(peer: Peer, outcome: HealthOutcome): void;
  release(peer: Peer): void;
  /** Kong's status and message when pick returns null (503 ring-balancer, DNS failures). */
  noPeerError(): { status: number; message: string };
  /** Pending hostname lookups to wait for before `pick`, or null (the usual case). */
  prepare(): Promise<void> | null;
}

export interface Snapshot {
  readonly config: Config;
  readonly hash: string;
  readonly loadedAt: number;
  readonly router: RouteIndex;
  readonly chains: CompiledChains;
  readonly consumers: IndexedConsumerDirectory;
  readonly balancers: ReadonlyMap<string, Balancer>;
  upstreamOf(service: Service): ServiceUpstream;
  /** TLS context for an SNI name (exact, then wildcard), or null. */
  secureContext(servername: string): SecureContext | null;
  readonly defaultSecureContext: SecureContext | null;
  /** Stops health checks; called once the snapshot is replaced. */
  dispose(): void;
}

export interface CompileOptions {
  /** The snapshot being replaced: target health carries over, so a push does not revive dead targets. */
  previous?: Snapshot | null;
  plugins: ReadonlyMap<string, PluginDefinition>;
  log: PluginLogger;
  hash: string;
  /** Start active health checks (only the process that proxies needs them). */
  activeHealthchecks?: boolean;
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443, grpc: 80, grpcs: 443 };

function hostHeaderFor(host: string, port: number, protocol: string): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === DEFAULT_PORT[protocol] ? h : `${h}:${port}`;
}

/** A synthetic upstream for a service that names a host: one target, health checks off. */
function directUpstream(host: string, port: number): { upstream: Upstream; target: Target } {
  const upstream = {
    id: `direct:${host}:${port}`, name: host, algorithm: 'round-robin', hash_on: 'none', hash_fallback: 'none',
    host_header: null, slots: 10000,
  } as Upstream;
  const target = {
    id: `direct:${host}:${port}`, upstream: { id: upstream.id }, target: `${host}:${port}`, weight: 100,
    created_at: 0, updated_at: 0, tags: null,
  } as Target;
  return { upstream, target };
}

class BalancedServiceUpstream implements ServiceUpstream {
  readonly #balancer: Balancer;
  readonly #service: Service;
  readonly #hostHeader: string | null;
  /** Made with the first request: a config of 10,000 services need not hold 10,000 empty maps. */
  #peers: Map<BalancerPeer, Peer> | null = null;

  constructor(balancer: Balancer, service: Service, hostHeader: string | null) {
    this.#balancer = balancer;
    this.#service = service;
    this.#hostHeader = hostHeader;
  }

  #peerFor(bp: BalancerPeer): Peer {
    let p = (this.#peers ??= new Map()).get(bp);
    // A hostname target's address can change when its DNS entry is refreshed.
    if (!p || p.address !== bp.address) {
      const https = this.#service.protocol === 'https' || this.#service.protocol === 'grpcs';
      const addr = bp.address;
      const origin = `${https ? 'https' : 'http'}://${isIP(addr) === 6 ? `[${addr}]` : addr}:${bp.port}`;
      p = {
        address: addr, port: bp.port, origin,
        hostHeader: this.#hostHeader ?? hostHeaderFor(bp.host, bp.port, this.#service.protocol),
        tls: https ? { servername: isIP(bp.host) ? undefined : bp.host, rejectUnauthorized: this.#service.tls_verify === true } : null,
        balancerPeer: bp,
      };
      this.#peers.set(bp, p);
    }
    return p;
  }

  pick(ctx: RequestContext, tried: readonly Peer[] | null): Peer | null {
    const bp = this.#balancer.pick(new BalanceRequestView(ctx), tried ? new Set(tried.map((t) => t.balancerPeer)) : undefined);
    return bp ? this.#peerFor(bp) : null;
  }
  report(peer: Peer, outcome: HealthOutcome): void { this.#balancer.report(peer.balancerPeer, outcome); }
  release(peer: Peer): void { this.#balancer.release(peer.balancerPeer); }
  noPeerError(): { status: number; message: string } { return this.#balancer.noPeerError(); }
  prepare(): Promise<void> | null { return this.#balancer.prepare(); }
}

export const STICKY = '_stickyCookie';

/** Adds the balancer's sticky cookie, if one was generated, to the response headers. */
export function addStickyCookie(ctx: RequestContext): void {
  const sticky = ctx.shared[STICKY] as { name: string; header: string } | undefined;
  if (sticky) ctx.response.setHeader('Set-Cookie', mergeSetCookie(ctx.response.headers['set-cookie'], sticky.header, sticky.name));
}

/** The request as the balancer sees it: methods on the context, no closures per request. */
class BalanceRequestView implements BalanceRequest {
  readonly #ctx: RequestContext;
  constructor(ctx: RequestContext) { this.#ctx = ctx; }
  get clientIp(): string { return this.#ctx.request.clientIp; }
  get consumerId(): string | null { return this.#ctx.consumer?.id ?? null; }
  get credentialId(): string | null { return this.#ctx.credential?.id ?? null; }
  get path(): string { return this.#ctx.request.path; }
  header(name: string): string | readonly string[] | undefined { return this.#ctx.request.headers[name.toLowerCase()]; }
  // A cookie generated on an earlier try of this request counts as sent.
  cookie(name: string): string | undefined {
    const set = this.#ctx.shared[STICKY] as { name: string; value: string } | undefined;
    return set && set.name === name ? set.value : cookieValue(this.#ctx.request.headers['cookie'], name);
  }
  query(name: string): string | undefined { return this.#ctx.request.query()[name] as string | undefined; }
  uriCapture(name: string): string | undefined { return this.#ctx.uriCaptures[name]; }
  // Added to the response when the upstream answers (request-flow `respond`).
  setCookie(header: string, name: string, value: string): void { this.#ctx.shared[STICKY] = { name, value, header }; }
}

function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const all = Array.isArray(header) ? header.join('; ') : header;
  for (const part of all.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function compileSnapshot(config: Config, options: CompileOptions): Snapshot {
  const services = new Map(config.services.map((s) => [s.id, s]));
  const router = new RouteIndex(config.routes, services);
  const chains = compilePluginChains(config, options.plugins, options.log);
  // Indexed loops over the collections: this runs once per config, mostly unoptimized, where
  // `for...of` allocates a result object per element.
  for (let i = 0; i < config.routes.length; i++) {
    const r = config.routes[i]!;
    chains.forRoute(r.id, r.service?.id ?? null);
  }
  const consumers = new IndexedConsumerDirectory(config);

  const targetsByUpstream = new Map<string, Target[]>();
  for (const t of config.targets) {
    let list = targetsByUpstream.get(t.upstream.id);
    if (!list) targetsByUpstream.set(t.upstream.id, (list = []));
    list.push(t);
  }
  const balancers = new Map<string, Balancer>();
  for (const u of config.upstreams) {
    const b = new Balancer(u, targetsByUpstream.get(u.id) ?? []);
    const old = options.previous?.balancers.get(u.name);
    if (old) b.inheritHealth(old);
    balancers.set(u.name, b);
  }
  const upstreamsByName = new Map(config.upstreams.map((u) => [u.name, u]));

  const perService = new Map<string, ServiceUpstream>();
  const direct: Balancer[] = [];
  // Services that name a host rather than an upstream share one balancer per host:port (a config
  // of 10,000 services on a few backends builds a few balancers, not 10,000), with one copy of the
  // default (all off) health checks.
  const directByAddress = new Map<string, Balancer>();
  let directHealthchecks: Upstream['healthchecks'] | undefined;
  const upstreamOf = (service: Service): ServiceUpstream => {
    let su = perService.get(service.id);
    if (su) return su;
    const u = upstreamsByName.get(service.host);
    if (u) {
      su = new BalancedServiceUpstream(balancers.get(u.name)!, service, u.host_header);
    } else {
      const address = `${service.host}:${service.port}`;
      let b = directByAddress.get(address);
      if (!b) {
        const d = directUpstream(service.host, service.port);
        b = new Balancer({ ...d.upstream, healthchecks: (directHealthchecks ??= defaultHealthchecks()) } as Upstream, [d.target], { serviceHost: true });
        directByAddress.set(address, b);
        direct.push(b);
      }
      su = new BalancedServiceUpstream(b, service, null);
    }
    perService.set(service.id, su);
    return su;
  };
  for (let i = 0; i < config.services.length; i++) upstreamOf(config.services[i]!);

  // SNI -> secure context
  const certsById = new Map(config.certificates.map((c) => [c.id, c]));
  const contexts = new Map<string, SecureContext>();
  const wildcard: [string, SecureContext][] = [];
  let defaultSecureContext: SecureContext | null = null;
  for (const sni of config.snis) {
    const cert = certsById.get(sni.certificate.id);
    if (!cert) continue;
    const sc = createSecureContext({ cert: cert.cert, key: cert.key });
    defaultSecureContext ??= sc;
    if (sni.name.startsWith('*.')) wildcard.push([sni.name.slice(1).toLowerCase(), sc]);
    else contexts.set(sni.name.toLowerCase(), sc);
  }
  if (!defaultSecureContext && config.certificates[0]) {
    defaultSecureContext = createSecureContext({ cert: config.certificates[0].cert, key: config.certificates[0].key });
  }

  if (options.activeHealthchecks) for (const b of balancers.values()) b.start();

  return {
    config, hash: options.hash, loadedAt: Date.now(), router, chains, consumers, balancers,
    upstreamOf,
    defaultSecureContext,
    secureContext(servername: string) {
      const name = servername.toLowerCase().replace(/\.$/, '');
      const exact = contexts.get(name);
      if (exact) return exact;
      for (const [suffix, sc] of wildcard) if (name.endsWith(suffix) && name.length > suffix.length) return sc;
      return null;
    },
    dispose() {
      for (const inst of chains.instances) {
        try { inst.handlers.dispose?.(); } catch { /* a plugin's cleanup must not stop the swap */ }
      }
      for (const b of balancers.values()) b.stop();
      for (const b of direct) b.stop();
    },
  };
}

