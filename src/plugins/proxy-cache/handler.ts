/**
 * @module plugins/proxy-cache/handler
 * Serves cacheable responses from the shared cache. access: Bypass (method not cached, or
 * `cache_control` and the client forbids it), Hit (fresh entry: answered here), Refresh (stale
 * entry) or Miss. header: decides whether the upstream response may be stored (status,
 * Content-Type with Kong's parameter rule, Cache-Control in `cache_control` mode). body: collects
 * it and stores it at the end. Unlike Kong (issue #12796), an entry stored with a Content-Encoding
 * the client did not accept is never served to that client.
 */
import type { PluginContext, PluginEnv, PluginHandlers, PluginExit } from '../api.ts';
import { cacheKey } from './cache-key.ts';
import type { ProxyCacheConfig } from './schema.ts';
import { contentTypeMatches, parseCacheControl } from './rules.ts';

export const ENTRY_PREFIX = 'proxy-cache:';
const STATE = Symbol('proxy-cache');
/** Bodies larger than this are proxied but not stored. */
const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authenticate', 'proxy-authorization']);

interface StoredEntry { status: number; headers: Record<string, string | string[]>; timestamp: number; ttl: number; version: 1 }

interface State {
  key: string;
  storageKey: string;
  status: 'Miss' | 'Refresh' | 'Bypass';
  chunks: Buffer[] | null;
  size: number;
  ttl: number;
  entryHeaders: Record<string, string | string[]> | null;
}

/** An entry is stored as `<4-byte header length><header JSON><body>`. */
export function encodeEntry(entry: StoredEntry, body: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(entry));
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(head.length, 0);
  return Buffer.concat([len, head, body]);
}

interface DecodedEntry {
  entry: StoredEntry;
  body: Buffer;
  /** The headers a hit sends: the stored ones minus hop-by-hop, Date, RateLimit-Remaining, Content-Length. */
  hitHeaders: [string, string | string[]][];
}

/** Entries decoded once per stored buffer (the local cache and the workers' mirrors hand back the same Buffer). */
const decodedEntries = new WeakMap<Buffer, DecodedEntry | null>();

function decodeForHit(raw: Buffer): DecodedEntry | null {
  let d = decodedEntries.get(raw);
  if (d === undefined) {
    const e = decodeEntry(raw);
    d = e && {
      ...e,
      hitHeaders: Object.entries(e.entry.headers).filter(([k]) =>
        !HOP_BY_HOP.has(k) && k !== 'date' && k !== 'content-length' && !k.includes('ratelimit-remaining')),
    };
    decodedEntries.set(raw, d);
  }
  return d;
}

export function decodeEntry(buf: Buffer): { entry: StoredEntry; body: Buffer } | null {
  if (buf.length < 4) return null;
  const n = buf.readUInt32BE(0);
  if (4 + n > buf.length) return null;
  try {
    return { entry: JSON.parse(buf.subarray(4, 4 + n).toString()) as StoredEntry, body: buf.subarray(4 + n) };
  } catch {
    return null;
  }
}

function acceptsEncoding(accept: string | string[] | undefined, encoding: string): boolean {
  if (!accept) return false;
  const v = (Array.isArray(accept) ? accept.join(',') : accept).toLowerCase();
  return v.split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    const q = params.find((p) => p.trim().startsWith('q='));
    if (q && Number(q.trim().slice(2)) === 0) return false;
    return name === encoding || name === '*';
  });
}

export function createProxyCache(c: ProxyCacheConfig, env: PluginEnv): PluginHandlers {
  const methods = new Set<string>(c.request_method);
  const codes = new Set(c.response_code);
  const namespace = `${ENTRY_PREFIX}${env.entity.id}:`;
  const showStatus = c.response_headers['X-Cache-Status'];
  const showKey = c.response_headers['X-Cache-Key'];
  const showAge = c.response_headers.age;
  const state = (ctx: PluginContext) => (ctx.shared as Record<symbol, State | undefined>)[STATE];

  const hit = (ctx: PluginContext, s: State, raw: Buffer | undefined): void | PluginExit => {
    const decoded = raw ? decodeForHit(raw) : null;
    const now = Date.now();
    if (decoded) {
      const { entry, body, hitHeaders } = decoded;
      const age = Math.floor((now - entry.timestamp) / 1000);
      const enc = entry.headers['content-encoding'];
      const encoding = typeof enc === 'string' ? enc.toLowerCase() : null;
      const acceptable = !encoding || encoding === 'identity' || acceptsEncoding(ctx.request.headers['accept-encoding'], encoding);
      let fresh = age <= entry.ttl;
      if (c.cache_control) {
        const req = parseCacheControl(ctx.request.headers['cache-control']);
        if (req['max-age'] !== undefined && age > Number(req['max-age'])) fresh = false;
        if (req['min-fresh'] !== undefined && entry.ttl - age < Number(req['min-fresh'])) fresh = false;
        if (!fresh && req['max-stale'] !== undefined && age - entry.ttl <= Number(req['max-stale'] || Infinity)) fresh = true;
      }
      if (fresh && acceptable) {
        const headers: Record<string, string | string[]> = {};
        for (let i = 0; i < hitHeaders.length; i++) headers[hitHeaders[i]![0]] = hitHeaders[i]![1];
        if (showAge) headers['Age'] = String(age);
        if (showStatus) headers['X-Cache-Status'] = 'Hit';
        if (showKey) headers['X-Cache-Key'] = s.key;
        (ctx.shared as Record<symbol, State | undefined>)[STATE] = undefined;
        return { status: entry.status, body, headers };
      }
      s.status = fresh ? 'Miss' : 'Refresh';
    } else if (c.cache_control && parseCacheControl(ctx.request.headers['cache-control'])['only-if-cached'] !== undefined) {
      return { status: 504, body: '' };
    }
  };

  return {
    access(ctx) {
      const req = ctx.request;
      if (!methods.has(req.method)) {
        (ctx.shared as Record<symbol, State>)[STATE] = { key: '', storageKey: '', status: 'Bypass', chunks: null, size: 0, ttl: 0, entryHeaders: null };
        return;
      }
      if (c.cache_control) {
        const cc = parseCacheControl(req.headers['cache-control']);
        if (cc['no-store'] !== undefined || cc['no-cache'] !== undefined || req.headers['authorization'] !== undefined) {
          (ctx.shared as Record<symbol, State>)[STATE] = { key: '', storageKey: '', status: 'Bypass', chunks: null, size: 0, ttl: 0, entryHeaders: null };
          return;
        }
      }
      const key = cacheKey({
        consumerId: ctx.consumer?.id ?? null,
        routeId: ctx.route?.id ?? null,
        method: req.method,
        requestUri: req.rawQuery ? `${req.path}?${req.rawQuery}` : req.path,
        httpVersion: req.httpVersion,
        query: req.query(),
        headers: req.headers,
      }, c.vary_query_params, c.vary_headers, c.ignore_uri_case);
      const s: State = { key, storageKey: namespace + key, status: 'Miss', chunks: null, size: 0, ttl: 0, entryHeaders: null };
      (ctx.shared as Record<symbol, State>)[STATE] = s;
      const raw = ctx.cache.get(s.storageKey);
      if (raw instanceof Promise) return raw.then((r) => hit(ctx, s, r), () => undefined);
      return hit(ctx, s, raw);
    },

    header(ctx) {
      const s = state(ctx);
      if (!s) return;
      const res = ctx.response;
      if (s.status === 'Bypass') {
        if (showStatus) res.setHeader('X-Cache-Status', 'Bypass');
        return;
      }
      let cacheable = res.source === 'service' && codes.has(res.status) && contentTypeMatches(res.headers['content-type'], c.content_type);
      let ttl = c.cache_ttl;
      if (cacheable && c.cache_control) {
        const cc = parseCacheControl(res.headers['cache-control']);
        if (cc['private'] !== undefined || cc['no-store'] !== undefined || cc['no-cache'] !== undefined) cacheable = false;
        const maxAge = cc['s-maxage'] ?? cc['max-age'];
        if (maxAge !== undefined) ttl = Number(maxAge);
        else if (typeof res.headers['expires'] === 'string') ttl = Math.floor((Date.parse(res.headers['expires']) - Date.now()) / 1000);
        if (!(ttl > 0)) cacheable = false;
      }
      if (!cacheable) {
        if (showStatus) res.setHeader('X-Cache-Status', 'Bypass');
        return;
      }
      s.ttl = ttl;
      s.chunks = [];
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = v;
      s.entryHeaders = headers;
      if (showStatus) res.setHeader('X-Cache-Status', s.status);
      if (showKey) res.setHeader('X-Cache-Key', s.key);
    },

    body(ctx, chunk) {
      const s = state(ctx);
      if (!s?.chunks) return;
      if (chunk) {
        s.size += chunk.length;
        if (s.size > MAX_ENTRY_BYTES) { s.chunks = null; return; }
        s.chunks.push(chunk);
        return;
      }
      const entry: StoredEntry = { status: ctx.response.status, headers: s.entryHeaders!, timestamp: Date.now(), ttl: s.ttl, version: 1 };
      const storageTtl = c.storage_ttl ?? s.ttl;
      ctx.cache.set(s.storageKey, encodeEntry(entry, Buffer.concat(s.chunks)), storageTtl);
      s.chunks = null;
    },
  };
}
