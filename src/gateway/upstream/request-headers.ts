/**
 * @module gateway/upstream/request-headers
 * The headers that cross the gateway: which client headers reach the upstream (hop-by-hop
 * headers and the ones named in `Connection` do not), the `X-Forwarded-*` set Kong adds (client
 * values believed only from `trusted_ips`), and which upstream response headers reach the client.
 */
import type { HeaderMap } from '../pipeline/context.ts';

/** Never forwarded in either direction (RFC 9110 §7.6.1 plus the ones nginx drops). */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authenticate', 'expect', 'http2-settings',
]);

/** Tokens in `Connection` that are not header names. */
const CONNECTION_TOKENS = new Set(['keep-alive', 'close', 'upgrade']);

function connectionListed(value: string | string[] | undefined): string[] | null {
  // Nearly every message says just one of these: no list to build.
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return null;
  const v = Array.isArray(value) ? value.join(',') : value;
  let out: string[] | null = null;
  for (const t of v.split(',')) {
    const name = t.trim().toLowerCase();
    if (name && !CONNECTION_TOKENS.has(name)) (out ??= []).push(name);
  }
  return out;
}

/** A copy of the client's headers without hop-by-hop headers (for the upstream request). */
export function upstreamHeadersFrom(client: HeaderMap): HeaderMap {
  const out: HeaderMap = Object.create(null);
  for (const k in client) if (!HOP_BY_HOP.has(k)) out[k] = client[k];
  const listed = connectionListed(client['connection']);
  if (listed) for (const name of listed) delete out[name];
  // Host is set per preserve_host; never forward the client's copy by accident.
  delete out['host'];
  return out;
}

/**
 * Which upstream response headers stay behind: hop-by-hop ones and those its `Connection` lists.
 * Returns a predicate so the caller skips them while copying (no `delete`, which would turn the
 * header object into a slow dictionary).
 */
export function responseHopByHop(headers: HeaderMap): (name: string) => boolean {
  const listed = connectionListed(headers['connection']);
  return listed ? (name) => HOP_BY_HOP.has(name) || listed.includes(name) : isHopByHop;
}

function isHopByHop(name: string): boolean { return HOP_BY_HOP.has(name); }

export interface ForwardedInput {
  trusted: boolean;
  scheme: 'http' | 'https';
  /** Host header without port. */
  host: string;
  port: number;
  remoteAddr: string;
  clientIp: string;
  path: string;
  strippedPrefix: string | null;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Adds Kong's X-Forwarded-* / X-Real-IP headers (kong-gateway.md §2.8) to `out`. */
export function addForwardedHeaders(out: HeaderMap, client: HeaderMap, f: ForwardedInput): void {
  const xff = client['x-forwarded-for'];
  out['x-forwarded-for'] = xff === undefined ? f.remoteAddr : `${Array.isArray(xff) ? xff.join(', ') : xff}, ${f.remoteAddr}`;
  const trusted = f.trusted;
  out['x-forwarded-proto'] = (trusted && single(client['x-forwarded-proto'])) || f.scheme;
  out['x-forwarded-host'] = (trusted && single(client['x-forwarded-host'])) || f.host;
  out['x-forwarded-port'] = (trusted && single(client['x-forwarded-port'])) || String(f.port);
  out['x-forwarded-path'] = (trusted && single(client['x-forwarded-path'])) || f.path;
  const prefix = (trusted && single(client['x-forwarded-prefix'])) || f.strippedPrefix;
  if (prefix) out['x-forwarded-prefix'] = prefix;
  else delete out['x-forwarded-prefix'];
  out['x-real-ip'] = f.clientIp;
}

/**
 * The client IP after real-IP processing (nginx realip as Kong configures it): only when the
 * peer is trusted is `real_ip_header` believed; with `real_ip_recursive` the right-most untrusted
 * address of the list wins, otherwise the last one.
 */
export function realClientIp(remoteAddr: string, headers: HeaderMap, headerName: string, recursive: boolean,
  isTrusted: (ip: string) => boolean): string {
  if (!isTrusted(remoteAddr)) return remoteAddr;
  const raw = headers[headerName];
  if (raw === undefined) return remoteAddr;
  const list = (Array.isArray(raw) ? raw.join(',') : raw).split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return remoteAddr;
  if (!recursive) return list[list.length - 1]!;
  for (let i = list.length - 1; i >= 0; i--) if (!isTrusted(list[i]!)) return list[i]!;
  return list[0]!;
}
