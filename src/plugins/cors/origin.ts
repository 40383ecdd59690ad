/**
 * @module plugins/cors/origin
 * Origin normalization as Kong does it (LuaSocket's url.parse): `scheme://host[:port]` with the
 * default port of http/https dropped; a value without an authority is kept as is.
 */

export interface NormalizedOrigin {
  /** `scheme://host[:port]`, or the input when it has no host. */
  domain: string;
  host: string;
}

const SCHEME = /^([A-Za-z0-9][A-Za-z0-9+\-.]*):/;

export function normalizeOrigin(input: string): NormalizedOrigin {
  let rest = input;
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  let scheme: string | null = null;
  const m = SCHEME.exec(rest);
  if (m) {
    scheme = m[1]!;
    rest = rest.slice(m[0].length);
  }
  if (!rest.startsWith('//')) return { domain: input, host: input };
  const end = rest.indexOf('/', 2);
  let authority = end === -1 ? rest.slice(2) : rest.slice(2, end);
  const at = authority.indexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  let port: string | null = null;
  const portMatch = /:([^:\]]*)$/.exec(authority);
  if (portMatch) {
    port = portMatch[1]!;
    authority = authority.slice(0, portMatch.index);
  }
  const host = authority;
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = null;
  return {
    domain: (scheme !== null ? `${scheme}://` : '') + host + (port !== null ? `:${port}` : ''),
    host,
  };
}

const cache = new Map<string, NormalizedOrigin>();
const CACHE_MAX = 10_000;

/** Request origins repeat; normalize each once (bounded, cleared when full). */
export function normalizeRequestOrigin(origin: string): NormalizedOrigin {
  let n = cache.get(origin);
  if (n === undefined) {
    n = normalizeOrigin(origin);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(origin, n);
  }
  return n;
}
