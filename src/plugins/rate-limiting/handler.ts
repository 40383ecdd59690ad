/**
 * @module plugins/rate-limiting/handler
 * Per request: find the identifier, take one unit from every configured period's counter in one
 * atomic step (the shared counters for `local`, Redis for `redis`), and answer 429 when any period
 * is used up. Headers follow Kong's rules and are added in the header phase, so they reach the
 * client on every response, the 429 and upstream errors included.
 */
import type { CounterSpec, PluginContext, PluginEnv, PluginExit, PluginHandlers } from '../api.ts';
import { effectiveRedis, PERIODS, type Period, type RateLimitingConfig } from './schema.ts';
import { RedisCounters } from './redis-policy.ts';
import { PERIOD_SECONDS, resetSeconds, windowStart } from './windows.ts';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const CAPITAL: Record<Period, string> = { second: 'Second', minute: 'Minute', hour: 'Hour', day: 'Day', month: 'Month', year: 'Year' };
const HEADERS_KEY = Symbol('rate-limiting headers');

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function identifier(ctx: PluginContext, c: RateLimitingConfig): string {
  const ip = ctx.request.clientIp;
  switch (c.limit_by) {
    case 'consumer': return ctx.consumer?.id ?? ctx.credential?.id ?? ip;
    case 'credential': return ctx.credential?.id ?? ip;
    case 'service': return ctx.service?.id ?? ip;
    case 'header': return first(ctx.request.headers[(c.header_name ?? '').toLowerCase()]) ?? ip;
    case 'path': return ctx.request.path === c.path ? c.path : ip;
    default: return ip;
  }
}

export function createRateLimiting(c: RateLimitingConfig, env: PluginEnv): PluginHandlers {
  // Header names, limit texts and TTLs are fixed per instance: built once here.
  const limits = PERIODS.filter((p) => typeof c[p] === 'number').map((p) => ({
    period: p,
    limit: c[p] as number,
    limitText: String(c[p]),
    limitHeader: `X-RateLimit-Limit-${CAPITAL[p]}`,
    remainingHeader: `X-RateLimit-Remaining-${CAPITAL[p]}`,
    ttl: PERIOD_SECONDS[p],
  }));
  // Counters are keyed by where the plugin is attached: a global instance counts across routes.
  const routeId = env.entity.route?.id ?? NIL_UUID;
  const serviceId = env.entity.service?.id ?? NIL_UUID;
  const keyPrefix = `ratelimit:${routeId}:${serviceId}:`;
  const redis = c.policy === 'redis'
    ? new RedisCounters(effectiveRedis(c), c.sync_rate, (err) => env.log.error('rate-limiting: redis error', { error: err.message }))
    : null;
  const fail: PluginExit = { status: 500, message: 'An unexpected error occurred' };

  const decide = (ctx: PluginContext, usages: number[], now: number): void | PluginExit => {
    let stopIndex = -1;
    for (let i = 0; i < limits.length; i++) if (limits[i]!.limit - usages[i]! <= 0) { stopIndex = i; break; }
    if (c.hide_client_headers) {
      return stopIndex === -1 ? undefined : { status: c.error_code, message: c.error_message };
    }
    // Flat [name, value, ...]: the header phase copies it without walking an object's keys.
    const headers: string[] = [];
    let best = -1;
    let bestRemaining = Infinity;
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i]!;
      const used = usages[i]!;
      const remaining = stopIndex === -1 || i === stopIndex ? Math.max(0, l.limit - used - 1) : l.limit - used;
      headers.push(l.limitHeader, l.limitText, l.remainingHeader, String(remaining));
      // The most constraining period: fewest remaining, ties go to the longer window.
      if (remaining <= bestRemaining) { bestRemaining = remaining; best = i; }
    }
    const b = limits[best]!;
    const reset = String(resetSeconds(b.period, now));
    headers.push('RateLimit-Limit', b.limitText, 'RateLimit-Remaining', String(bestRemaining), 'RateLimit-Reset', reset);
    (ctx.shared as Record<symbol, unknown>)[HEADERS_KEY] = headers;
    if (stopIndex !== -1) {
      headers.push('Retry-After', reset);
      return { status: c.error_code, message: c.error_message };
    }
  };

  // The counters of the last identifier in the last second: every window starts on a second, so
  // within one the keys are the same strings, already hashed by the counter store's Map.
  let lastId: string | null = null;
  let lastSecond = -1;
  let lastSpecs: readonly CounterSpec[] = [];

  return {
    access(ctx) {
      const now = Date.now();
      const id = identifier(ctx, c);
      const second = Math.floor(now / 1000);
      let specs = lastSpecs;
      if (id !== lastId || second !== lastSecond) {
        specs = limits.map((l) => ({ key: `${keyPrefix}${id}:${windowStart(l.period, now)}:${l.period}`, limit: l.limit, ttl: l.ttl }));
        lastId = id;
        lastSecond = second;
        lastSpecs = specs;
      }
      const taken = redis ? redis.take(specs, 1) : ctx.counters.take(specs, 1);
      if (Array.isArray(taken)) return decide(ctx, taken, now);
      return taken.then((usages) => decide(ctx, usages, now), (err: Error) => {
        ctx.log.error('rate-limiting: counters unavailable', { error: err.message });
        // fault_tolerant: let the request through without limits (and without headers).
        return c.fault_tolerant ? undefined : fail;
      });
    },
    header(ctx) {
      const headers = (ctx.shared as Record<symbol, string[] | undefined>)[HEADERS_KEY];
      if (!headers) return;
      for (let i = 0; i < headers.length; i += 2) ctx.response.setHeader(headers[i]!, headers[i + 1]!);
    },
    dispose() { redis?.close(); },
  };
}
