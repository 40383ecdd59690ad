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

  const hideHeaders = c.hide_client_headers;
  const exceeded: PluginExit = { status: c.error_code, message: c.error_message };

  /** `resets` holds each limit's `RateLimit-Reset` text for the second the request came in. */
  const decide = (ctx: PluginContext, usages: number[], resets: readonly string[]): void | PluginExit => {
    const n = limits.length;
    let stopIndex = -1;
    for (let i = 0; i < n; i++) if (limits[i]!.limit - usages[i]! <= 0) { stopIndex = i; break; }
    if (hideHeaders) return stopIndex === -1 ? undefined : exceeded;
    // Flat [name, value, ...] of a known length: the header phase copies it without walking an
    // object's keys, and the array is never grown.
    const headers = new Array<string>(n * 4 + (stopIndex === -1 ? 6 : 8));
    let k = 0;
    let best = -1;
    let bestRemaining = Infinity;
    let bestText = '';
    for (let i = 0; i < n; i++) {
      const l = limits[i]!;
      const used = usages[i]!;
      const remaining = stopIndex === -1 || i === stopIndex ? Math.max(0, l.limit - used - 1) : l.limit - used;
      const text = String(remaining);
      headers[k++] = l.limitHeader;
      headers[k++] = l.limitText;
      headers[k++] = l.remainingHeader;
      headers[k++] = text;
      // The most constraining period: fewest remaining, ties go to the longer window.
      if (remaining <= bestRemaining) { bestRemaining = remaining; best = i; bestText = text; }
    }
    const reset = resets[best]!;
    headers[k++] = 'RateLimit-Limit';
    headers[k++] = limits[best]!.limitText;
    headers[k++] = 'RateLimit-Remaining';
    headers[k++] = bestText;
    headers[k++] = 'RateLimit-Reset';
    headers[k++] = reset;
    (ctx.shared as Record<symbol, unknown>)[HEADERS_KEY] = headers;
    if (stopIndex !== -1) {
      headers[k++] = 'Retry-After';
      headers[k] = reset;
      return exceeded;
    }
  };

  // Every window starts on a second, so within one second a limit's `RateLimit-Reset` is the same
  // and so are the counter keys of an identifier (strings the counter store's Map has hashed).
  let lastSecond = -1;
  let resets: readonly string[] = [];
  let lastId: string | null = null;
  let lastSpecs: readonly CounterSpec[] = [];

  return {
    access(ctx) {
      const now = Date.now();
      const id = identifier(ctx, c);
      const second = Math.floor(now / 1000);
      if (second !== lastSecond) {
        lastSecond = second;
        resets = limits.map((l) => String(resetSeconds(l.period, now)));
        lastId = null;
      }
      if (id !== lastId) {
        lastSpecs = limits.map((l) => ({ key: `${keyPrefix}${id}:${windowStart(l.period, now)}:${l.period}`, limit: l.limit, ttl: l.ttl }));
        lastId = id;
      }
      const specs = lastSpecs;
      const secondResets = resets;
      const taken = redis ? redis.take(specs, 1) : ctx.counters.take(specs, 1);
      if (Array.isArray(taken)) return decide(ctx, taken, secondResets);
      return taken.then((usages) => decide(ctx, usages, secondResets), (err: Error) => {
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
