/**
 * @module gateway/pipeline/plugin-chain
 * Resolves which configuration of each plugin runs for a request, following Kong's 8-step
 * precedence (route+service+consumer, route+consumer, service+consumer, route+service, consumer,
 * route, service, global). Everything that does not depend on the consumer is decided when the
 * config is compiled: each route gets a `PluginChain` of slots in priority order, and a slot only
 * consults a per-consumer map when some consumer-scoped instance of that plugin exists.
 */
import type { Config, Plugin } from '../../config/entities.ts';
import type { PluginDefinition, PluginHandlers, PluginLogger } from '../../plugins/api.ts';

export interface PluginInstance {
  readonly name: string;
  readonly priority: number;
  readonly entity: Plugin;
  readonly handlers: PluginHandlers;
  readonly onHttp: boolean;
  readonly onHttps: boolean;
}

/** One plugin name within a chain. */
export interface PluginSlot {
  readonly name: string;
  readonly priority: number;
  /** The instance chosen when no consumer is known, or the consumer has no specific one. */
  readonly baseline: PluginInstance | null;
  /** Steps 1–3: consumer together with this route and/or service. */
  readonly withConsumer: ReadonlyMap<string, PluginInstance> | null;
  /** Step 5: consumer-only instances; they lose to route+service (step 4). */
  readonly consumerOnly: ReadonlyMap<string, PluginInstance> | null;
  /** Whether `baseline` came from step 4 (route+service), which outranks consumer-only. */
  readonly baselineIsRouteService: boolean;
}

export class PluginChain {
  readonly slots: readonly PluginSlot[];
  /** Some instance in this chain declares a `response` handler: proxy responses are buffered. */
  readonly buffersResponse: boolean;
  constructor(slots: PluginSlot[]) {
    this.slots = slots;
    this.buffersResponse = slots.some((s) =>
      (s.baseline?.handlers.response !== undefined)
      || [...(s.withConsumer?.values() ?? []), ...(s.consumerOnly?.values() ?? [])].some((i) => i.handlers.response !== undefined));
  }

  static readonly EMPTY = new PluginChain([]);
}

/** Picks the instance of a slot for the consumer known at this point of the request. */
export function resolveSlot(slot: PluginSlot, consumerId: string | null): PluginInstance | null {
  if (consumerId !== null) {
    const specific = slot.withConsumer?.get(consumerId);
    if (specific) return specific;
    if (!slot.baselineIsRouteService) {
      const own = slot.consumerOnly?.get(consumerId);
      if (own) return own;
    }
  }
  return slot.baseline;
}

/** Kong's order: priority descending; equal priorities in reverse alphabetical order of name. */
function byPriority(a: { priority: number; name: string }, b: { priority: number; name: string }): number {
  return b.priority - a.priority || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
}

interface ByName {
  def: PluginDefinition;
  global: PluginInstance | null;
  route: Map<string, PluginInstance>;
  service: Map<string, PluginInstance>;
  routeService: Map<string, PluginInstance>;
  consumer: Map<string, PluginInstance>;
  /** key `${scopeId}|${consumerId}` for route+consumer, service+consumer, route|service+consumer. */
  routeConsumer: Map<string, Map<string, PluginInstance>>;
  serviceConsumer: Map<string, Map<string, PluginInstance>>;
  routeServiceConsumer: Map<string, Map<string, PluginInstance>>;
}

export interface CompiledChains {
  /** The chain for a route (by route id). */
  forRoute(routeId: string, serviceId: string | null): PluginChain;
  /** Global plugins only: used before a route is known and when none matched. */
  readonly global: PluginChain;
  /** Global instances that have a rewrite handler, in priority order. */
  readonly rewrite: readonly PluginInstance[];
  readonly instances: readonly PluginInstance[];
}

/**
 * Creates one instance per enabled plugin entity (calling each definition's `create`) and
 * compiles the chains. Throws if a plugin's `create` throws: the config is then refused whole.
 */
export function compilePluginChains(
  config: Config,
  registry: ReadonlyMap<string, PluginDefinition>,
  log: PluginLogger,
): CompiledChains {
  const byName = new Map<string, ByName>();
  const instances: PluginInstance[] = [];
  for (const entity of config.plugins) {
    if (!entity.enabled) continue;
    const def = registry.get(entity.name);
    if (!def) throw new Error(`plugin '${entity.name}' not enabled; add it to the 'plugins' configuration property`);
    const handlers = def.create(entity.config as never, { entity, log });
    const inst: PluginInstance = {
      name: def.name, priority: def.priority, entity, handlers,
      onHttp: entity.protocols.includes('http'), onHttps: entity.protocols.includes('https'),
    };
    instances.push(inst);
    let g = byName.get(def.name);
    if (!g) {
      g = {
        def, global: null, route: new Map(), service: new Map(), routeService: new Map(), consumer: new Map(),
        routeConsumer: new Map(), serviceConsumer: new Map(), routeServiceConsumer: new Map(),
      };
      byName.set(def.name, g);
    }
    const r = entity.route?.id, s = entity.service?.id, c = entity.consumer?.id;
    const put = (m: Map<string, Map<string, PluginInstance>>, k: string) => {
      let inner = m.get(k);
      if (!inner) m.set(k, (inner = new Map()));
      inner.set(c!, inst);
    };
    if (c) {
      if (r && s) put(g.routeServiceConsumer, `${r}|${s}`);
      else if (r) put(g.routeConsumer, r);
      else if (s) put(g.serviceConsumer, s);
      else g.consumer.set(c, inst);
    } else if (r && s) g.routeService.set(`${r}|${s}`, inst);
    else if (r) g.route.set(r, inst);
    else if (s) g.service.set(s, inst);
    else g.global = inst;
  }

  const groups = [...byName.values()].sort((a, b) => byPriority(a.def, b.def));

  /** `global` once built: the chain of every route and service that no plugin is scoped to. */
  let shared: PluginChain | null = null;
  const buildChain = (routeId: string | null, serviceId: string | null): PluginChain => {
    const slots: PluginSlot[] = [];
    let specific = false;
    for (const g of groups) {
      const rs = routeId && serviceId ? g.routeService.get(`${routeId}|${serviceId}`) ?? null : null;
      const scoped = rs
        ?? (routeId ? g.route.get(routeId) : undefined)
        ?? (serviceId ? g.service.get(serviceId) : undefined);
      const baseline = scoped ?? g.global;
      if (scoped) specific = true;
      let withConsumer: Map<string, PluginInstance> | null = null;
      if (!g.def.noConsumer) {
        const layers = [
          routeId && serviceId ? g.routeServiceConsumer.get(`${routeId}|${serviceId}`) : undefined,
          routeId ? g.routeConsumer.get(routeId) : undefined,
          serviceId ? g.serviceConsumer.get(serviceId) : undefined,
        ];
        for (const layer of layers) {
          if (!layer) continue;
          withConsumer ??= new Map();
          // Earlier layers are more specific: keep what they set.
          for (const [cid, inst] of layer) if (!withConsumer.has(cid)) withConsumer.set(cid, inst);
        }
      }
      if (withConsumer) specific = true;
      const consumerOnly = !g.def.noConsumer && g.consumer.size > 0 ? g.consumer : null;
      if (!baseline && !withConsumer && !consumerOnly) continue;
      slots.push({
        name: g.def.name, priority: g.def.priority, baseline: baseline ?? null,
        withConsumer, consumerOnly, baselineIsRouteService: rs !== null,
      });
    }
    // Nothing scoped here: the global chain, shared (a config of 10,000 routes with global
    // plugins only made 10,000 equal chains, ~2 MB of garbage per compile).
    if (!specific && shared) return shared;
    return new PluginChain(slots);
  };

  const global = buildChain(null, null);
  shared = global;
  // By route: ids are the config's own strings, whose hashes V8 keeps (a key concatenated per
  // request would be hashed afresh each time). A route is asked for with its own service, so one
  // entry per route; another service for it goes to `others`.
  const cache = new Map<string, { serviceId: string | null; chain: PluginChain }>();
  const others = new Map<string, PluginChain>();
  const rewrite = groups.map((g) => g.global).filter((i): i is PluginInstance => !!i && !!i.handlers.rewrite);
  return {
    global,
    rewrite,
    instances,
    forRoute(routeId, serviceId) {
      const entry = cache.get(routeId);
      if (entry !== undefined && entry.serviceId === serviceId) return entry.chain;
      if (entry === undefined) {
        const chain = buildChain(routeId, serviceId);
        cache.set(routeId, { serviceId, chain });
        return chain;
      }
      const key = `${routeId}|${serviceId ?? ''}`;
      let chain = others.get(key);
      if (chain === undefined) others.set(key, (chain = buildChain(routeId, serviceId)));
      return chain;
    },
  };
}
