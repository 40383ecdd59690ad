/**
 * @module gateway/router/route-index
 * Kong's `traditional_compatible` router, indexed. Every route is split into one candidate per
 * path (Kong does the same, so each path gets its own priority) and all candidates are ranked once
 * by Kong's priority: matched-attribute count, plain-hosts-only, header count, regex over prefix,
 * regex_priority, path length, then config order. Matching looks only at candidates whose host
 * bucket and path prefix can match, and walks them in rank order: the first full match wins.
 * With 10,000 routes a lookup touches a handful of map entries, not 10,000 routes.
 */
import type { Route, Service } from '../../config/entities.ts';

export interface RouteRequest {
  method: string;
  /** Raw Host header value (may carry a port, any case). */
  host: string;
  /** Already normalized (normalizePath). */
  path: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  sni?: string;
  scheme: 'http' | 'https';
  /** The port the gateway received the request on. */
  port: number;
}

export interface RouteMatch {
  route: Route;
  service: Service | null;
  /** The prefix that matched, or the whole regex match; null for a route without paths. */
  matchedPath: string | null;
  /** '0' = whole regex match, '1'… numbered groups, plus named groups. */
  uriCaptures: Record<string, string>;
}

interface HeaderRule { name: string; values: Set<string> | null; regex: RegExp | null }

interface Candidate {
  rank: number;
  route: Route;
  service: Service | null;
  prefix: string | null;
  regex: RegExp | null;
  /** For regex paths: the literal text every match starts with ('' when none). */
  regexPrefix: string;
  methods: Set<string> | null;
  headers: HeaderRule[] | null;
  snis: Set<string> | null;
  /** Host entries when the route has hosts; checked again at match time for ports and wildcards. */
  hosts: HostRule[] | null;
}

interface HostRule { exact: string | null; suffix: string | null; prefix: string | null; port: number | null }

/**
 * The literal text every match of an (anchored) regex path starts with, so regex routes can be
 * indexed by prefix like plain ones: `/api/v1/items/\\d+` -> `/api/v1/items/`. Conservative: any
 * alternation, group or class ends it, and a quantified last character is dropped.
 */
export function literalPrefix(pattern: string): string {
  if (pattern.includes('|')) return '';
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    let lit: string | null = null;
    let width = 1;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== undefined && /[^A-Za-z0-9]/.test(next)) { lit = next; width = 2; }
    } else if (!'.^$|?*+()[]{}'.includes(ch)) {
      lit = ch;
    }
    if (lit === null) break;
    const after = pattern[i + width];
    if (after === '?' || after === '*' || after === '{') break;
    out += lit;
    i += width - 1;
    if (after === '+') break;
  }
  return out;
}

const NO_CAPTURES: Record<string, string> = Object.freeze(Object.create(null)) as Record<string, string>;

function parseHostRule(h: string): HostRule {
  let host = h.toLowerCase();
  let port: number | null = null;
  const m = /^(.*):(\d+)$/.exec(host);
  if (m && !host.endsWith(']')) { host = m[1]!; port = Number(m[2]); }
  if (host.startsWith('*.')) return { exact: null, suffix: host.slice(1), prefix: null, port };
  if (host.endsWith('.*')) return { exact: null, suffix: null, prefix: host.slice(0, -1), port };
  return { exact: host, suffix: null, prefix: null, port };
}

function servesHttp(protocols: readonly string[]): boolean {
  for (let i = 0; i < protocols.length; i++) if (protocols[i] === 'http' || protocols[i] === 'https') return true;
  return false;
}

/** Numbers in a candidate's sort key (see the RouteIndex constructor). */
const SORT_KEY_WIDTH = 7;

/** A group of candidates that share a host condition, indexed by path kind. */
class Bucket {
  /** prefix string -> candidates (rank order) */
  readonly byPrefix = new Map<string, Candidate[]>();
  /** distinct prefix lengths, longest first */
  lengths: number[] = [];
  /** regex and path-less candidates (rank order) */
  readonly others: Candidate[] = [];

  add(c: Candidate): void {
    const key = c.prefix ?? c.regexPrefix;
    if (key) {
      let list = this.byPrefix.get(key);
      if (!list) this.byPrefix.set(key, (list = []));
      list.push(c);
    } else {
      this.others.push(c);
    }
  }

  seal(): void {
    const lens = new Set<number>();
    this.byPrefix.forEach((list, p) => {
      lens.add(p.length);
      if (list.length > 1) list.sort((a, b) => a.rank - b.rank);
    });
    this.lengths = [...lens].sort((a, b) => b - a);
    this.others.sort((a, b) => a.rank - b.rank);
  }

  /** Pushes the candidate lists that may match `path` into `out`. */
  collect(path: string, out: Candidate[][]): void {
    for (const len of this.lengths) {
      if (len > path.length) continue;
      const list = this.byPrefix.get(len === path.length ? path : path.slice(0, len));
      if (list) out.push(list);
    }
    if (this.others.length) out.push(this.others);
  }
}

function headerValues(v: string | string[] | undefined): string[] | null {
  if (v === undefined) return null;
  const all = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const one of all) {
    out.push(one.toLowerCase());
    // Node joins repeated headers with ", "; Kong matches any one instance.
    if (one.indexOf(',') !== -1) for (const part of one.split(',')) out.push(part.trim().toLowerCase());
  }
  return out;
}

export class RouteIndex {
  readonly #exact = new Map<string, Bucket>();
  /** `*.example.com` buckets by suffix (`.example.com`), `example.*` by prefix (`example.`). */
  readonly #suffix = new Map<string, Bucket>();
  readonly #prefix = new Map<string, Bucket>();
  readonly #hostless = new Bucket();
  readonly size: number;

  constructor(routes: readonly Route[], services: ReadonlyMap<string, Service>) {
    const cands: Candidate[] = [];
    // Each candidate's sort key, SORT_KEY_WIDTH numbers in a row: one flat array rather than a
    // small array (and a wrapper) per candidate, ~1.5 MB of garbage for 10,000 routes.
    // (Indexed loops throughout: this runs once per config, mostly unoptimized, where `for...of`
    // allocates a result object per element.)
    let paths = 0;
    for (let i = 0; i < routes.length; i++) paths += Math.max(1, routes[i]!.paths?.length ?? 0);
    const keys = new Float64Array(paths * SORT_KEY_WIDTH);
    let order = 0;
    for (let r = 0; r < routes.length; r++) {
      const route = routes[r]!;
      const service = route.service ? services.get(route.service.id) ?? null : null;
      if (service && !service.enabled) continue;
      if (!servesHttp(route.protocols)) continue;
      const hosts = route.hosts && route.hosts.length ? route.hosts.map(parseHostRule) : null;
      const headerRules: HeaderRule[] | null = route.headers && Object.keys(route.headers).length
        ? Object.entries(route.headers).map(([name, values]) => {
          if (values.length === 1 && values[0]!.startsWith('~*')) return { name: name.toLowerCase(), values: null, regex: new RegExp(values[0]!.slice(2), 'i') };
          return { name: name.toLowerCase(), values: new Set(values.map((v) => v.toLowerCase())), regex: null };
        })
        : null;
      const methods = route.methods && route.methods.length ? new Set(route.methods) : null;
      const snis = route.snis && route.snis.length ? new Set(route.snis.map((s) => s.toLowerCase().replace(/\.$/, ''))) : null;
      const weight = (hosts ? 1 : 0) + (headerRules ? 1 : 0) + (route.paths && route.paths.length ? 1 : 0) + (methods ? 1 : 0) + (snis ? 1 : 0);
      const plainHosts = hosts !== null && hosts.every((h) => h.exact !== null) ? 1 : 0;
      const headerCount = headerRules ? headerRules.length : 0;
      const routePaths = route.paths && route.paths.length ? route.paths : [null];
      for (let j = 0; j < routePaths.length; j++) {
        const p = routePaths[j]!;
        const isRegex = p !== null && p.startsWith('~');
        const regex = isRegex ? new RegExp(`^(?:${p!.slice(1)})`) : null;
        const c: Candidate = {
          rank: 0, route, service, prefix: p !== null && !isRegex ? p : null, regex, regexPrefix: isRegex ? literalPrefix(p!.slice(1)) : '',
          methods, headers: headerRules, snis, hosts,
        };
        const pathLen = p === null ? 0 : isRegex ? p.length - 1 : p.length;
        const k = cands.length * SORT_KEY_WIDTH;
        keys[k] = weight; keys[k + 1] = plainHosts; keys[k + 2] = headerCount; keys[k + 3] = isRegex ? 1 : 0;
        keys[k + 4] = isRegex ? route.regex_priority : 0; keys[k + 5] = pathLen; keys[k + 6] = -order;
        cands.push(c);
      }
      order++;
    }
    const sorted = new Array<number>(cands.length);
    for (let i = 0; i < sorted.length; i++) sorted[i] = i;
    // Every field descending: more conditions, plain hosts, more headers, regex, its priority,
    // longer path, then the route defined first.
    sorted.sort((a, b) => {
      const ka = a * SORT_KEY_WIDTH, kb = b * SORT_KEY_WIDTH;
      for (let i = 0; i < SORT_KEY_WIDTH; i++) if (keys[ka + i] !== keys[kb + i]) return keys[kb + i]! - keys[ka + i]!;
      return 0;
    });
    for (let rank = 0; rank < sorted.length; rank++) cands[sorted[rank]!]!.rank = rank;
    for (let i = 0; i < sorted.length; i++) {
      const c = cands[sorted[i]!]!;
      if (!c.hosts) { this.#hostless.add(c); continue; }
      for (const h of c.hosts) {
        if (h.exact !== null) {
          let b = this.#exact.get(h.exact);
          if (!b) this.#exact.set(h.exact, (b = new Bucket()));
          b.add(c);
        } else {
          const map = h.suffix !== null ? this.#suffix : this.#prefix;
          const key = h.suffix ?? h.prefix!;
          let b = map.get(key);
          if (!b) map.set(key, (b = new Bucket()));
          b.add(c);
        }
      }
    }
    for (const b of this.#exact.values()) b.seal();
    for (const b of this.#suffix.values()) b.seal();
    for (const b of this.#prefix.values()) b.seal();
    this.#hostless.seal();
    this.size = cands.length;
  }

  match(req: RouteRequest): RouteMatch | null {
    const { host, port } = splitHost(req.host, req.scheme);
    const lists: Candidate[][] = [];
    const exact = this.#exact.get(host);
    if (exact) exact.collect(req.path, lists);
    // Each label boundary of the host names one possible wildcard: O(labels), not O(routes).
    if (this.#suffix.size > 0 || this.#prefix.size > 0) {
      for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        if (dot > 0) this.#suffix.get(host.slice(dot))?.collect(req.path, lists);
        if (dot < host.length - 1) this.#prefix.get(host.slice(0, dot + 1))?.collect(req.path, lists);
      }
    }
    this.#hostless.collect(req.path, lists);
    if (lists.length === 0) return null;
    if (lists.length === 1) {
      // One list is already in rank order.
      const only = lists[0]!;
      for (let i = 0; i < only.length; i++) {
        const m = this.#test(only[i]!, req, host, port);
        if (m) return m;
      }
      return null;
    }
    // k-way walk in rank order: the first candidate that fully matches is the winner.
    const heads = new Array<number>(lists.length).fill(0);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < lists.length; i++) {
        const c = lists[i]![heads[i]!];
        if (c !== undefined && c.rank < bestRank) { bestRank = c.rank; best = i; }
      }
      if (best === -1) return null;
      const c = lists[best]![heads[best]!++]!;
      const m = this.#test(c, req, host, port);
      if (m) return m;
    }
  }

  #test(c: Candidate, req: RouteRequest, host: string, port: number): RouteMatch | null {
    if (c.methods && !c.methods.has(req.method)) return null;
    if (c.hosts && !c.hosts.some((h) => hostMatches(h, host, port))) return null;
    if (c.snis && req.scheme === 'https') {
      const sni = (req.sni ?? '').toLowerCase().replace(/\.$/, '');
      if (!c.snis.has(sni)) return null;
    }
    if (c.headers) {
      for (const rule of c.headers) {
        const vals = headerValues(req.headers[rule.name]);
        if (!vals) return null;
        if (rule.regex ? !vals.some((v) => rule.regex!.test(v)) : !vals.some((v) => rule.values!.has(v))) return null;
      }
    }
    if (c.regex) {
      const m = c.regex.exec(req.path);
      if (!m) return null;
      const caps: Record<string, string> = Object.create(null);
      for (let i = 0; i < m.length; i++) if (m[i] !== undefined) caps[String(i)] = m[i]!;
      if (m.groups) for (const k in m.groups) if (m.groups[k] !== undefined) caps[k] = m.groups[k]!;
      return { route: c.route, service: c.service, matchedPath: m[0], uriCaptures: caps };
    }
    return { route: c.route, service: c.service, matchedPath: c.prefix, uriCaptures: NO_CAPTURES };
  }
}

function hostMatches(h: HostRule, host: string, port: number): boolean {
  if (h.port !== null && h.port !== port) return false;
  if (h.exact !== null) return h.exact === host;
  if (h.suffix !== null) return host.length > h.suffix.length && host.endsWith(h.suffix);
  return host.length > h.prefix!.length && host.startsWith(h.prefix!);
}

/** `Example.com:8080` -> host `example.com`, port 8080; no port -> the scheme's default. */
export function splitHost(raw: string, scheme: 'http' | 'https'): { host: string; port: number } {
  let host = raw;
  let port = scheme === 'https' ? 443 : 80;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end !== -1 && host[end + 1] === ':') port = Number(host.slice(end + 2)) || port;
    host = host.slice(0, end + 1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) { port = Number(host.slice(colon + 1)) || port; host = host.slice(0, colon); }
  }
  return { host: host.toLowerCase(), port };
}
