/**
 * @module gateway/upstream/balancer/hash-value
 * What a request looks like to the balancer, and the value consistent hashing hashes, following
 * Kong's `get_value_to_hash` (`kong/runloop/balancer/init.lua`): try `hash_on`, and if the request
 * has no such value try `hash_fallback`. Normalization is Kong's: repeated headers are joined with
 * ", " (nginx combines them), a repeated query argument is sorted and joined with ",", a query
 * flag without a value is "true", `consumer` falls back to the credential id.
 *
 * Sticky cookies: for `hash_on: cookie` a request without the cookie gets a fresh UUID as its key,
 * and the caller is told (through `setCookie`) to send it back with Kong's cookie attributes.
 */
import { randomUUID } from 'node:crypto';
import type { HashOn, Upstream } from '../../../config/entities.ts';

export interface BalanceRequest {
  /** The client address after real-IP processing (nginx `$remote_addr`). */
  readonly clientIp: string;
  readonly consumerId: string | null;
  /** Used when there is no consumer (Kong hashes the credential then). */
  readonly credentialId?: string | null;
  header(name: string): string | readonly string[] | undefined;
  cookie(name: string): string | undefined;
  /** The normalized request path, without the query string (nginx `$uri`). */
  readonly path: string;
  /** A query argument: a string, `true` for a bare flag, or every value when repeated. */
  query(name: string): string | boolean | readonly (string | boolean)[] | undefined;
  uriCapture(name: string): string | undefined;
  /**
   * Called when the balancer generated a sticky-cookie value: the caller adds this exact value as
   * a `Set-Cookie` response header, and should return the generated value from `cookie(name)` on
   * retries of the same request so they hash alike.
   */
  setCookie?(setCookieHeader: string, name: string, value: string): void;
}

/** Kong's Set-Cookie value for the balancer's sticky cookie (`set_cookie` in balancer/init.lua). */
export function stickyCookieHeader(name: string, value: string, path: string): string {
  return `${name}=${value}; Path=${path || '/'}; Same-Site=Lax; HttpOnly`;
}

/**
 * Adds the sticky cookie to a response's Set-Cookie values, replacing one of the same name (as
 * Kong does when an upstream already set it).
 */
export function mergeSetCookie(existing: string | readonly string[] | undefined, cookie: string, name: string): string | string[] {
  const prefix = `${name}=`;
  if (existing === undefined) return cookie;
  const list = typeof existing === 'string' ? [existing] : [...existing];
  const i = list.findIndex((c) => c.startsWith(prefix));
  if (i === -1) list.push(cookie);
  else list[i] = cookie;
  return list.length === 1 ? list[0]! : list;
}

function queryValue(v: string | boolean | readonly (string | boolean)[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (v.length === 0) return undefined;
  return v.map((x) => String(x)).sort().join(',');
}

function headerValue(v: string | readonly string[] | undefined): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  return v.length === 0 ? undefined : v.join(', ');
}

function valueFor(kind: HashOn, fallback: boolean, upstream: Upstream, req: BalanceRequest): string | undefined {
  switch (kind) {
    case 'none': return undefined;
    case 'consumer': return req.consumerId ?? req.credentialId ?? undefined;
    case 'ip': return req.clientIp || undefined;
    case 'header': {
      const name = fallback ? upstream.hash_fallback_header : upstream.hash_on_header;
      return name ? headerValue(req.header(name.toLowerCase())) : undefined;
    }
    case 'cookie': {
      const name = upstream.hash_on_cookie;
      if (!name) return undefined;
      const existing = req.cookie(name);
      if (existing !== undefined) return existing;
      const value = randomUUID();
      req.setCookie?.(stickyCookieHeader(name, value, upstream.hash_on_cookie_path), name, value);
      return value;
    }
    case 'path': return req.path;
    case 'query_arg': {
      const name = fallback ? upstream.hash_fallback_query_arg : upstream.hash_on_query_arg;
      return name ? queryValue(req.query(name)) : undefined;
    }
    case 'uri_capture': {
      const name = fallback ? upstream.hash_fallback_uri_capture : upstream.hash_on_uri_capture;
      return name ? req.uriCapture(name) : undefined;
    }
  }
}

/** The value to hash for this request, or undefined when neither hash_on nor hash_fallback yields one. */
export function valueToHash(upstream: Upstream, req: BalanceRequest): string | undefined {
  const primary = valueFor(upstream.hash_on, false, upstream, req);
  if (primary !== undefined) return primary;
  return valueFor(upstream.hash_fallback, true, upstream, req);
}
