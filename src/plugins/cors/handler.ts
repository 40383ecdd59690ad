/**
 * @module plugins/cors/handler
 * Answers CORS preflights (OPTIONS + Origin + Access-Control-Request-Method) with 200 before
 * authentication runs, and adds the CORS headers to every other response — including error
 * responses made by later plugins (a key-auth 401), because the header phase runs for exits.
 */
import type { PluginContext, PluginHandlers } from '../api.ts';
import { compileOriginRegex, CORS_METHODS, type CorsConfig } from './schema.ts';
import { normalizeOrigin, normalizeRequestOrigin } from './origin.ts';

type Matcher = { regex: RegExp; byHost: boolean } | { domain: string };

/** What the origin rules decided for one request. */
interface OriginDecision {
  /** `*`, a value, or null = no Access-Control-Allow-Origin. */
  allowOrigin: string | null;
  /** Whether the answer is the wildcard (credentials then echo the origin instead). */
  allowAll: boolean;
  vary: boolean;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Adds a value to a response header, keeping values already there (Kong's add_header). */
function addHeader(ctx: PluginContext, name: string, value: string): void {
  const prev = ctx.response.headers[name.toLowerCase()];
  if (prev === undefined) ctx.response.setHeader(name, value);
  else ctx.response.setHeader(name, Array.isArray(prev) ? [...prev, value] : [prev, value]);
}

export function createCors(config: CorsConfig): PluginHandlers {
  const origins = config.origins ?? [];
  const wildcardOnly = origins.length === 0 || (origins.length === 1 && origins[0] === '*');
  // A single entry that looks like a plain origin is sent as configured, whatever the client sent.
  const fixedOrigin = origins.length === 1 && /^[A-Za-z0-9.:/-]+$/.test(origins[0]!) ? origins[0]! : null;
  // With several entries, a `*` among them allows everything once the client sends an Origin.
  const starAmongMany = origins.includes('*');
  const matchers: Matcher[] = origins.filter((o) => o !== '*').map((entry): Matcher => {
    const byHost = !entry.includes(':');
    if (/[^A-Za-z0-9.:/-]/.test(entry)) return { regex: compileOriginRegex(entry), byHost };
    return { domain: normalizeOrigin(entry).domain };
  });
  const allowHeaders = config.headers && config.headers.length > 0 ? config.headers.join(',') : null;
  const allowMethods = (config.methods ?? CORS_METHODS).join(',');
  const maxAge = config.max_age === null || config.max_age === undefined ? null : String(config.max_age);
  const exposeHeaders = config.exposed_headers && config.exposed_headers.length > 0 ? config.exposed_headers.join(',') : null;
  /** Requests whose preflight this instance answered or handed to the upstream: no headers added later. */
  const skip = new WeakSet<PluginContext>();

  function decide(reqOrigin: string | undefined): OriginDecision {
    if (wildcardOnly) return { allowOrigin: '*', allowAll: true, vary: false };
    if (fixedOrigin !== null) return { allowOrigin: fixedOrigin, allowAll: false, vary: true };
    if (reqOrigin) {
      if (starAmongMany) return { allowOrigin: '*', allowAll: true, vary: true };
      const normalized = normalizeRequestOrigin(reqOrigin);
      for (const m of matchers) {
        let found: boolean;
        if ('regex' in m) {
          m.regex.lastIndex = 0;
          found = m.regex.test(m.byHost ? normalized.host : normalized.domain);
        } else {
          found = normalized.domain === m.domain;
        }
        if (found) return { allowOrigin: normalized.domain, allowAll: false, vary: true };
      }
    }
    return { allowOrigin: null, allowAll: false, vary: true };
  }

  return {
    access(ctx) {
      const reqOrigin = first(ctx.request.headers['origin']);
      if (ctx.request.method !== 'OPTIONS' || !reqOrigin || ctx.request.headers['access-control-request-method'] === undefined) return;
      skip.add(ctx);
      if (config.preflight_continue) return;

      const headers: Record<string, string> = {};
      const d = decide(reqOrigin);
      if (d.vary) headers['Vary'] = 'Origin';
      if (d.allowOrigin !== null) headers['Access-Control-Allow-Origin'] = d.allowOrigin;
      if (config.credentials) {
        if (!d.allowAll) {
          headers['Access-Control-Allow-Credentials'] = 'true';
        } else {
          headers['Vary'] = 'Origin';
          headers['Access-Control-Allow-Origin'] = reqOrigin;
          headers['Access-Control-Allow-Credentials'] = 'true';
        }
      }
      const requested = first(ctx.request.headers['access-control-request-headers']);
      if (allowHeaders !== null) headers['Access-Control-Allow-Headers'] = allowHeaders;
      else if (requested !== undefined) headers['Access-Control-Allow-Headers'] = requested;
      headers['Access-Control-Allow-Methods'] = allowMethods;
      if (maxAge !== null) headers['Access-Control-Max-Age'] = maxAge;
      if (config.private_network && first(ctx.request.headers['access-control-request-private-network']) === 'true') {
        headers['Access-Control-Allow-Private-Network'] = 'true';
      }
      return { status: 200, headers };
    },

    header(ctx) {
      if (skip.has(ctx)) return;
      const reqOrigin = first(ctx.request.headers['origin']);
      if (!reqOrigin && !config.allow_origin_absent) return;
      const res = ctx.response;
      const d = decide(reqOrigin);
      if (d.vary) addHeader(ctx, 'Vary', 'Origin');
      if (d.allowOrigin !== null) res.setHeader('Access-Control-Allow-Origin', d.allowOrigin);
      else res.removeHeader('Access-Control-Allow-Origin');
      if (config.credentials) {
        if (!d.allowAll) {
          res.setHeader('Access-Control-Allow-Credentials', 'true');
        } else if (reqOrigin) {
          addHeader(ctx, 'Vary', 'Origin');
          res.setHeader('Access-Control-Allow-Origin', reqOrigin);
          res.setHeader('Access-Control-Allow-Credentials', 'true');
        }
      }
      if (exposeHeaders !== null) res.setHeader('Access-Control-Expose-Headers', exposeHeaders);
    },
  };
}
