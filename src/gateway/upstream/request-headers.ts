/**
 * @module gateway/upstream/request-headers
 * The headers that cross the gateway: which client headers reach the upstream (hop-by-hop
 * headers and the ones named in `Connection` do not), the `X-Forwarded-*` set Kong adds (client
 * values believed only from `trusted_ips`), and which upstream response headers reach the client.
 */
import { headerSpelling, newRecord, type HeaderMap } from '../pipeline/context.ts';
import { isHeaderValue } from '../../net/http-fields.ts';

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
  const out = newRecord<string | string[] | undefined>();
  // Host is set per preserve_host; never forward the client's copy by accident.
  for (const k in client) if (!HOP_BY_HOP.has(k) && k !== 'host') out[k] = client[k];
  const listed = connectionListed(client['connection']);
  if (listed) for (const name of listed) delete out[name];
  return out;
}

/**
 * Copies an upstream answer's headers (the parser's flat list) into the response state's maps,
 * keyed by lower-case name, repeats as arrays, without hop-by-hop headers and those its
 * `Connection` lists.
 */
export function copyResponseHeaders(raw: readonly string[], headers: HeaderMap, names: Record<string, string>): void {
  // An upstream that repeats its head hands over the same shared list each time (h1-pool's
  // LastHead): from the second time on, what to copy is worked out once, and copying it is stores.
  if (raw === preparedList) {
    const p = prepared;
    if (p !== null && isEmpty(headers)) {
      for (let i = 0; i < p.keys.length; i++) {
        headers[p.keys[i]!] = p.values[i];
        names[p.keys[i]!] = p.names[i]!;
      }
      return;
    }
  } else if (raw === seenList) {
    preparedList = raw;
    prepared = prepareCopy(raw);
    copyResponseHeaders(raw, headers, names);
    return;
  }
  seenList = raw;
  copyEach(raw, headers, names);
}

/** The keys, values and spellings a list copies to, in order (null when a name repeats). */
interface PreparedCopy { keys: string[]; values: string[]; names: string[] }
let seenList: readonly string[] | null = null;
let preparedList: readonly string[] | null = null;
let prepared: PreparedCopy | null = null;

function prepareCopy(raw: readonly string[]): PreparedCopy | null {
  const headers = newRecord<string | string[] | undefined>();
  const names = newRecord<string>();
  copyEach(raw, headers, names);
  const out: PreparedCopy = { keys: [], values: [], names: [] };
  for (const key in headers) {
    const v = headers[key];
    if (typeof v !== 'string') return null;
    out.keys.push(key);
    out.values.push(v);
    out.names.push(names[key]!);
  }
  return out;
}

function isEmpty(headers: HeaderMap): boolean {
  for (const _ in headers) return false;
  return true;
}

function copyEach(raw: readonly string[], headers: HeaderMap, names: Record<string, string>): void {
  let connection: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const { key, name } = headerSpelling(raw[i]!);
    const v = raw[i + 1]!;
    if (HOP_BY_HOP.has(key)) {
      if (key === 'connection') connection = connection === undefined ? v : `${connection},${v}`;
      continue;
    }
    const prev = headers[key];
    if (prev === undefined) {
      headers[key] = v;
      names[key] = name;
    } else if (typeof prev === 'string') {
      headers[key] = [prev, v];
    } else {
      prev.push(v);
    }
  }
  const listed = connectionListed(connection);
  if (listed) for (const key of listed) { delete headers[key]; delete names[key]; }
}

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

/** The names `ForwardedLines` sends (any copy of them in the request's header map gives way). */
export const FORWARDED_NAMES: readonly string[] = [
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-path', 'x-forwarded-prefix',
  'x-real-ip', 'via',
];

/**
 * Kong's X-Forwarded-* and X-Real-IP headers (§2.8), and Via, as header lines for the upstream
 * request, remembering the last ones made: a client's requests mostly repeat them, and a request
 * whose inputs equal the last one's gets the same lines, checked when they were made, with no
 * header map writes and no per-field check (~1 µs a proxied request, BENCHMARKS.md session 18).
 */
export class ForwardedLines {
  #xff: string | undefined = undefined;
  #clientVia: string | undefined = undefined;
  #via: string | null = null;
  #scheme = '';
  #host = '';
  #port = 0;
  #remoteAddr = '';
  #clientIp = '';
  #path = '';
  #prefix: string | null = null;
  #lines: string | null = null;

  /**
   * The lines (each ending in CRLF), or null when a value cannot be sent (a control character,
   * from a decoded path say). `via`: this gateway's Via entry, or null to send none.
   */
  render(client: HeaderMap, f: ForwardedInput, via: string | null): string | null {
    const xff = client['x-forwarded-for'];
    const clientVia = via === null ? undefined : client['via'];
    // A trusted peer's own X-Forwarded-* count too, and repeated headers come as arrays: made afresh.
    const repeatable = !f.trusted && typeof xff !== 'object' && typeof clientVia !== 'object';
    if (repeatable && this.#lines !== null && xff === this.#xff && clientVia === this.#clientVia && via === this.#via
      && f.scheme === this.#scheme && f.host === this.#host && f.port === this.#port && f.remoteAddr === this.#remoteAddr
      && f.clientIp === this.#clientIp && f.path === this.#path && f.strippedPrefix === this.#prefix) {
      return this.#lines;
    }
    const out = newRecord<string | string[] | undefined>();
    addForwardedHeaders(out, client, f);
    if (via !== null) out['via'] = clientVia ? `${single(clientVia)}, ${via}` : via;
    let lines = '';
    for (const name in out) {
      const v = out[name] as string;
      if (!isHeaderValue(v)) return null;
      lines += `${name}: ${v}\r\n`;
    }
    if (repeatable) {
      this.#xff = xff;
      this.#clientVia = clientVia;
      this.#via = via;
      this.#scheme = f.scheme;
      this.#host = f.host;
      this.#port = f.port;
      this.#remoteAddr = f.remoteAddr;
      this.#clientIp = f.clientIp;
      this.#path = f.path;
      this.#prefix = f.strippedPrefix;
      this.#lines = lines;
    }
    return lines;
  }
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
