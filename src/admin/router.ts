/**
 * @module admin/router
 * A small table-driven router with Lapis' rules, which Kong's Admin API is built on: patterns
 * like `/services/:services/routes`, literal segments win over parameters (`/plugins/enabled`
 * beats `/plugins/:plugins`), a trailing slash is tolerated, HEAD runs GET, OPTIONS answers 204
 * with the allowed methods, and a known path with an unknown method is 405 `Method not allowed`.
 */
import { methodNotAllowed, type Reply } from './http.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Path parameters, percent-decoded. */
export type Params = Readonly<Record<string, string>>;

export type RouteHandler<C> = (ctx: C, params: Params) => Reply | Promise<Reply>;

export interface RouteDefinition<C> {
  /** `/a/:param/b` — a parameter matches one non-empty segment. */
  pattern: string;
  methods: Partial<Record<HttpMethod, RouteHandler<C>>>;
}

interface CompiledRoute<C> {
  definition: RouteDefinition<C>;
  segments: ReadonlyArray<{ literal: string } | { param: string }>;
  /** '1' per literal segment, '0' per parameter: the greatest string is the most specific. */
  rank: string;
}

export interface RouteMatch<C> {
  route: RouteDefinition<C>;
  params: Params;
}

function splitPath(path: string): string[] {
  return path === '/' ? [] : path.replace(/^\//, '').split('/');
}

export class Router<C> {
  readonly #routes: CompiledRoute<C>[];

  constructor(definitions: readonly RouteDefinition<C>[]) {
    const seen = new Set<string>();
    this.#routes = definitions.map((definition) => {
      if (seen.has(definition.pattern)) throw new Error(`duplicate admin route ${definition.pattern}`);
      seen.add(definition.pattern);
      const segments = splitPath(definition.pattern).map((s) => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s }));
      return { definition, segments, rank: segments.map((s) => ('literal' in s ? '1' : '0')).join('') };
    });
  }

  /** Patterns in Kong's `/endpoints` form (`{param}`), sorted segment by segment. */
  endpoints(): string[] {
    const list = this.#routes.map((r) => r.definition.pattern.replace(/:([^/]+)/g, '{$1}'));
    return list.sort((a, b) => {
      const x = a.replace(/\//g, '\x00');
      const y = b.replace(/\//g, '\x00');
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }

  /** The most specific route matching `path` (raw, still percent-encoded), or null. */
  match(path: string): RouteMatch<C> | null {
    const found = this.#matchExact(path);
    if (found) return found;
    // Lapis' default route retries without (or with) a trailing slash.
    if (path.length > 1 && path.endsWith('/')) return this.#matchExact(path.slice(0, -1));
    return null;
  }

  #matchExact(path: string): RouteMatch<C> | null {
    let parts: string[];
    try {
      parts = splitPath(path).map((p) => decodeURIComponent(p));
    } catch {
      return null;
    }
    let best: { route: CompiledRoute<C>; params: Record<string, string> } | null = null;
    for (const route of this.#routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = route.segments[i]!;
        if ('literal' in seg) ok = seg.literal === parts[i];
        else if (parts[i] === '') ok = false;
        else params[seg.param] = parts[i]!;
      }
      if (ok && (!best || route.rank > best.route.rank)) best = { route, params };
    }
    return best ? { route: best.route.definition, params: best.params } : null;
  }
}

/** The Allow list Kong sends for OPTIONS: the defined methods plus HEAD (with GET) and OPTIONS. */
export function allowedMethods<C>(route: RouteDefinition<C>): string {
  const list: string[] = Object.keys(route.methods);
  if (route.methods.GET) list.push('HEAD');
  list.push('OPTIONS');
  return list.sort().join(', ');
}

/**
 * Runs the handler for `method` on a matched route: HEAD runs GET, OPTIONS lists the methods,
 * anything else undefined is 405.
 */
export async function dispatch<C>(match: RouteMatch<C>, method: string, ctx: C, requestHeaders?: string): Promise<Reply> {
  if (method === 'OPTIONS') {
    const allow = allowedMethods(match.route);
    return {
      status: 204,
      headers: { Allow: allow, 'Access-Control-Allow-Methods': allow, 'Access-Control-Allow-Headers': requestHeaders ?? 'Content-Type' },
    };
  }
  const handler = match.route.methods[(method === 'HEAD' ? 'GET' : method) as HttpMethod];
  if (!handler) return methodNotAllowed();
  return handler(ctx, match.params);
}
