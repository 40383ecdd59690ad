/**
 * @module plugins/proxy-cache/cache-key
 * Kong's proxy-cache key: sha256 of `prefix|method|uri|params|headers`. The prefix is
 * `<consumer_id>:<route_id>`, `<route_id>` or `default`; `uri` is nginx's `$request` line cut at the
 * first `?` (so `GET /a` with a query, `GET /a HTTP/1.1` without — Kong's quirk, kept so keys
 * match); params and headers are `k=v` pairs joined by `:`.
 */
import { createHash } from 'node:crypto';

function pairs(names: readonly string[], get: (name: string) => string | string[] | true | undefined): string {
  const out: string[] = [];
  for (const name of names) {
    const v = get(name);
    if (v === undefined) continue;
    if (v === true) out.push(name);
    else if (Array.isArray(v)) out.push(`${name}=${[...v].sort().join(',')}`);
    else out.push(`${name}=${v}`);
  }
  return out.join(':');
}

export interface CacheKeyInput {
  consumerId: string | null;
  routeId: string | null;
  method: string;
  /** request path + `?query` as the client sent it */
  requestUri: string;
  httpVersion: string;
  query: Readonly<Record<string, string | string[] | true>>;
  header(name: string): string | string[] | undefined;
}

export function cacheKey(input: CacheKeyInput, varyQuery: readonly string[] | null | undefined,
  varyHeaders: readonly string[] | null | undefined, ignoreUriCase: boolean): string {
  const prefix = input.consumerId && input.routeId ? `${input.consumerId}:${input.routeId}` : input.routeId ?? 'default';
  const requestLine = `${input.method} ${input.requestUri} HTTP/${input.httpVersion}`;
  const q = requestLine.indexOf('?');
  let uri = q === -1 ? requestLine : requestLine.slice(0, q);
  if (ignoreUriCase) uri = uri.toLowerCase();
  const queryNames = varyQuery && varyQuery.length ? varyQuery : Object.keys(input.query).sort();
  const params = pairs(queryNames, (n) => input.query[n]);
  const headers = pairs(varyHeaders ?? [], (n) => input.header(n.toLowerCase()));
  return createHash('sha256').update(`${prefix}|${input.method}|${uri}|${params}|${headers}`).digest('hex');
}
