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
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** sha256 hex by key text: a hit's key is hashed once, not per request (cleared when full). */
const digests = new Map<string, string>();
const MAX_DIGESTS = 10_000;

/**
 * The last key made without vary headers: then the key depends on these five strings and the
 * instance's settings alone (the query is part of `requestUri`).
 */
let last: {
  consumerId: string | null; routeId: string | null; method: string; requestUri: string; httpVersion: string;
  varyQuery: readonly string[] | null | undefined; ignoreUriCase: boolean; digest: string;
} | null = null;

export function cacheKey(input: CacheKeyInput, varyQuery: readonly string[] | null | undefined,
  varyHeaders: readonly string[] | null | undefined, ignoreUriCase: boolean): string {
  const headerFree = !varyHeaders || varyHeaders.length === 0;
  const l = last;
  if (headerFree && l !== null && l.requestUri === input.requestUri && l.method === input.method
    && l.routeId === input.routeId && l.consumerId === input.consumerId && l.httpVersion === input.httpVersion
    && l.varyQuery === varyQuery && l.ignoreUriCase === ignoreUriCase) return l.digest;
  const digest = keyDigest(input, varyQuery, varyHeaders, ignoreUriCase);
  if (headerFree) {
    const { consumerId, routeId, method, requestUri, httpVersion } = input;
    last = { consumerId, routeId, method, requestUri, httpVersion, varyQuery, ignoreUriCase, digest };
  }
  return digest;
}

function keyDigest(input: CacheKeyInput, varyQuery: readonly string[] | null | undefined,
  varyHeaders: readonly string[] | null | undefined, ignoreUriCase: boolean): string {
  const prefix = input.consumerId && input.routeId ? `${input.consumerId}:${input.routeId}` : input.routeId ?? 'default';
  const requestLine = `${input.method} ${input.requestUri} HTTP/${input.httpVersion}`;
  const q = requestLine.indexOf('?');
  let uri = q === -1 ? requestLine : requestLine.slice(0, q);
  if (ignoreUriCase) uri = uri.toLowerCase();
  const query = input.query;
  const queryNames = varyQuery && varyQuery.length ? varyQuery : Object.keys(query).sort();
  const params = queryNames.length ? pairs(queryNames, (n) => query[n]) : '';
  const headers = varyHeaders && varyHeaders.length ? pairs(varyHeaders, (n) => input.headers[n.toLowerCase()]) : '';
  const text = `${prefix}|${input.method}|${uri}|${params}|${headers}`;
  let digest = digests.get(text);
  if (digest === undefined) {
    digest = createHash('sha256').update(text).digest('hex');
    if (digests.size >= MAX_DIGESTS) digests.clear();
    digests.set(text, digest);
  }
  return digest;
}
