/**
 * @module plugins/rate-limiting/schema
 * Kong's rate-limiting config (3.x): limits per period, what to count by, the policy (`local` or
 * `redis`; `cluster` needs a database and is refused in this DB-less gateway, as Kong's own
 * DB-less schema does), the `redis` record and its deprecated flat `redis_*` shorthands.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const Limit = Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()]));

export const RedisSchema = Type.Object({
  host: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 6379 }),
  timeout: Type.Integer({ minimum: 0, maximum: 2147483646, default: 2000 }),
  connect_timeout: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  send_timeout: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  read_timeout: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  username: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  password: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  database: Type.Integer({ default: 0 }),
  ssl: Type.Boolean({ default: false }),
  ssl_verify: Type.Boolean({ default: false }),
  server_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
}, { additionalProperties: false, default: {} });

export const RateLimitingSchema = Type.Object({
  second: Limit, minute: Limit, hour: Limit, day: Limit, month: Limit, year: Limit,
  limit_by: Type.Unsafe<'consumer' | 'credential' | 'ip' | 'service' | 'header' | 'path'>(
    Type.String({ enum: ['consumer', 'credential', 'ip', 'service', 'header', 'path'], default: 'consumer' })),
  header_name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  path: Type.Optional(Type.Union([Type.String({ pattern: '^/' }), Type.Null()])),
  // Kong's DB-less schema offers only these two; `cluster` gets `expected one of: local, redis`.
  policy: Type.Unsafe<'local' | 'redis'>(Type.String({ enum: ['local', 'redis'], default: 'local' })),
  fault_tolerant: Type.Boolean({ default: true }),
  redis: RedisSchema,
  hide_client_headers: Type.Boolean({ default: false }),
  error_code: Type.Number({ exclusiveMinimum: 0, default: 429 }),
  error_message: Type.String({ default: 'API rate limit exceeded' }),
  sync_rate: Type.Number({ default: -1 }),
  // Deprecated shorthands (Kong removes them in 4.0); folded into `redis` when the plugin is created.
  redis_host: Type.Optional(Type.String()),
  redis_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  redis_password: Type.Optional(Type.String()),
  redis_username: Type.Optional(Type.String()),
  redis_ssl: Type.Optional(Type.Boolean()),
  redis_ssl_verify: Type.Optional(Type.Boolean()),
  redis_server_name: Type.Optional(Type.String()),
  redis_timeout: Type.Optional(Type.Integer({ minimum: 0 })),
  redis_database: Type.Optional(Type.Integer()),
}, { additionalProperties: false });

export type RateLimitingConfig = Static<typeof RateLimitingSchema>;
export type RedisConfig = Static<typeof RedisSchema>;

export const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
export type Period = (typeof PERIODS)[number];

/** The `redis` record with the flat shorthands applied (a shorthand wins, as Kong's do). */
export function effectiveRedis(c: RateLimitingConfig): RedisConfig {
  return {
    ...c.redis,
    ...(c.redis_host !== undefined ? { host: c.redis_host } : {}),
    ...(c.redis_port !== undefined ? { port: c.redis_port } : {}),
    ...(c.redis_password !== undefined ? { password: c.redis_password } : {}),
    ...(c.redis_username !== undefined ? { username: c.redis_username } : {}),
    ...(c.redis_ssl !== undefined ? { ssl: c.redis_ssl } : {}),
    ...(c.redis_ssl_verify !== undefined ? { ssl_verify: c.redis_ssl_verify } : {}),
    ...(c.redis_server_name !== undefined ? { server_name: c.redis_server_name } : {}),
    ...(c.redis_timeout !== undefined ? { timeout: c.redis_timeout } : {}),
    ...(c.redis_database !== undefined ? { database: c.redis_database } : {}),
  };
}

/** Kong's entity checks and `validate_periods_order`, with its messages. */
export function checkRateLimiting(c: RateLimitingConfig): FieldErrors | null {
  const entity: string[] = [];
  const fields: FieldErrors = {};
  if (!PERIODS.some((p) => typeof c[p] === 'number')) {
    entity.push(`at least one of these fields must be non-empty: ${PERIODS.map((p) => `'config.${p}'`).join(', ')}`);
  }
  for (let i = 0; i < PERIODS.length; i++) {
    const v1 = c[PERIODS[i]!];
    if (typeof v1 !== 'number') continue;
    let bad = false;
    for (let j = i + 1; j < PERIODS.length; j++) {
      const v2 = c[PERIODS[j]!];
      if (typeof v2 === 'number' && v2 < v1) {
        entity.push(`The limit for ${PERIODS[j]}(${v2.toFixed(1)}) cannot be lower than the limit for ${PERIODS[i]}(${v1.toFixed(1)})`);
        bad = true;
        break;
      }
    }
    if (bad) break;
  }
  if (c.policy !== 'redis' && c.sync_rate !== -1) entity.push('sync_rate can only be used with the redis policy');
  if (c.policy === 'redis' && c.sync_rate !== -1 && c.sync_rate < 0.02) entity.push('sync_rate must be greater than 0.02, or -1 to disable');
  if (c.limit_by === 'header' && !c.header_name) fields['header_name'] = 'required field missing';
  if (c.limit_by === 'path' && !c.path) fields['path'] = 'required field missing';
  if (c.policy === 'redis' && !effectiveRedis(c).host) fields['redis'] = { host: 'required field missing' };
  if (entity.length) fields['@entity'] = entity;
  return Object.keys(fields).length ? fields : null;
}
