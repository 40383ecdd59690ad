/**
 * @module plugins/http-log/schema
 * Kong's http-log config (3.x): the endpoint and how to call it, extra headers (never Host,
 * Content-Length or Content-Type), the `queue` record shared by Kong's batching plugins, and the
 * deprecated `retry_count` / `queue_size` / `flush_timeout`, accepted and mapped as Kong maps them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';
import { LuaCode } from '../file-log/schema.ts';

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

/** Kong's `kong.tools.queue_schema`. Times are seconds. */
export const QueueSchema = Type.Object({
  max_batch_size: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  max_coalescing_delay: Type.Number({ minimum: 0, maximum: 3600, default: 1 }),
  max_entries: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
  max_bytes: nullable(Type.Integer()),
  max_retry_time: Type.Number({ default: 60 }),
  initial_retry_delay: Type.Number({ minimum: 0.001, maximum: 1_000_000, default: 0.01 }),
  max_retry_delay: Type.Number({ minimum: 0.001, maximum: 1_000_000, default: 60 }),
  concurrency_limit: Type.Unsafe<1 | -1>(Type.Integer({ enum: [-1, 1], default: 1 })),
}, { default: {} });

export type QueueConfig = Static<typeof QueueSchema>;

export const HttpLogSchema = Type.Object({
  http_endpoint: Type.String(),
  method: Type.Unsafe<'POST' | 'PUT' | 'PATCH'>(Type.String({ enum: ['POST', 'PUT', 'PATCH'], default: 'POST' })),
  content_type: Type.Unsafe<'application/json' | 'application/json; charset=utf-8'>(
    Type.String({ enum: ['application/json', 'application/json; charset=utf-8'], default: 'application/json' })),
  timeout: Type.Number({ default: 10_000 }),
  keepalive: Type.Number({ default: 60_000 }),
  retry_count: nullable(Type.Integer()),
  queue_size: nullable(Type.Integer()),
  flush_timeout: nullable(Type.Number()),
  headers: nullable(Type.Record(Type.String(), Type.String())),
  queue: QueueSchema,
  custom_fields_by_lua: LuaCode,
});

export type HttpLogConfig = Static<typeof HttpLogSchema>;

/** The parts of a URL Kong's `socket.url` parser yields that http-log uses. */
export interface ParsedEndpoint {
  scheme: string;
  host: string;
  port: number;
  /** Path and query as written ('/' when none). */
  path: string;
  /** `user:password` as written (still percent-encoded), or null. */
  userinfo: string | null;
}

/** Parses `http_endpoint` (null when Kong's `typedefs.url` would refuse it, with the message). */
export function parseEndpoint(url: string): ParsedEndpoint | string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  const rest = scheme ? url.slice(scheme[0].length) : url;
  if (!rest.startsWith('//')) return 'missing host in url';
  const afterSlashes = rest.slice(2);
  const end = afterSlashes.search(/[/?#]/);
  const authority = end === -1 ? afterSlashes : afterSlashes.slice(0, end);
  const tail = end === -1 ? '' : afterSlashes.slice(end).replace(/#.*$/, '');
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? null : authority.slice(0, at);
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  const host = m?.[1] ?? '';
  if (host === '') return 'missing host in url';
  if (!scheme) return 'missing scheme in url';
  const s = scheme[1]!.toLowerCase();
  const port = m?.[2] ? Number(m[2]) : s === 'https' ? 443 : 80;
  return { scheme: s, host: host.replace(/^\[|\]$/g, ''), port, path: tail === '' ? '/' : tail.startsWith('/') ? tail : `/${tail}`, userinfo };
}

const HEADER_NAME = /^[A-Za-z0-9_-]+$/;
const FORBIDDEN: [RegExp, string][] = [
  [/^host$/i, "cannot contain 'Host' header"],
  [/^content-length$/i, "cannot contain 'Content-Length' header"],
  [/^content-type$/i, "cannot contain 'Content-Type' header"],
];

export function checkHttpLog(config: HttpLogConfig): FieldErrors | null {
  const errors: FieldErrors = {};
  const parsed = parseEndpoint(config.http_endpoint);
  if (typeof parsed === 'string') errors.http_endpoint = parsed;
  for (const name of Object.keys(config.headers ?? {})) {
    const forbidden = FORBIDDEN.find(([re]) => re.test(name));
    if (forbidden) { errors.headers = forbidden[1]; break; }
    if (!HEADER_NAME.test(name)) {
      errors.headers = `bad header name '${name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`;
      break;
    }
  }
  if (Object.keys(errors).length > 0) return errors;
  if (typeof parsed !== 'string' && parsed.userinfo !== null
    && Object.keys(config.headers ?? {}).some((h) => h.toLowerCase() === 'authorization')) {
    return { '@entity': ["specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed"] };
  }
  return null;
}
