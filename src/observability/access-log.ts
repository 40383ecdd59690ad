/**
 * @module observability/access-log
 * The gateway's access log (`--access-log stdout|stderr|off|FILE`): one JSON line per finished
 * request in the shape of Kong's log serializer (the entry file-log writes), with credentials
 * redacted. Lines go into a sonic-boom buffer that is written asynchronously once it holds a few
 * KiB or a timer fires, so a request never waits for the disk or the terminal.
 */
import { pino } from 'pino';
import type { RequestContext } from '../gateway/pipeline/context.ts';
import type { AccessLogTarget } from './access-log-target.ts';

export { parseAccessLogTarget, type AccessLogTarget } from './access-log-target.ts';

/** Flush the buffer when it holds this much (bytes) ... */
const MIN_LENGTH = 4096;
/** ... or at the latest after this long (ms), so a quiet gateway's lines still appear. */
const FLUSH_INTERVAL_MS = 1000;

const CENSOR = 'REDACTED';
/** Headers that carry credentials (Kong's serializer redacts the first two). */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'apikey', 'cookie', 'x-api-key'];
/** Query arguments that carry credentials whatever the plugin config says (key-auth, jwt, oauth2 defaults). */
const SECRET_QUERY = ['apikey', 'jwt', 'access_token'];

/**
 * Redacts the credential-bearing parts of a serialized entry in place: the fixed headers and query
 * arguments above plus whatever names the request's key-auth and jwt instances read credentials
 * from (`key_names`; `header_names`, `uri_param_names`). Cookies go whole, so jwt's
 * `cookie_names` need nothing more.
 */
export function redactEntry(entry: Record<string, unknown>, active: RequestContext['active']): Record<string, unknown> {
  const request = entry.request as { headers?: Record<string, unknown>; querystring?: Record<string, unknown>; uri?: string; url?: string } | undefined;
  if (!request) return entry;
  const headerNames = new Set(SECRET_HEADERS);
  const queryNames = new Set(SECRET_QUERY);
  for (const p of active) {
    const c = p.entity.config as Record<string, unknown>;
    if (p.name === 'key-auth') {
      for (const n of asStrings(c.key_names)) { headerNames.add(n.toLowerCase()); queryNames.add(n); }
    } else if (p.name === 'jwt') {
      for (const n of asStrings(c.header_names)) headerNames.add(n.toLowerCase());
      for (const n of asStrings(c.uri_param_names)) queryNames.add(n);
    }
  }
  const headers = request.headers;
  if (headers) for (const n of headerNames) if (n in headers) headers[n] = CENSOR;
  const query = request.querystring;
  let queryHit = false;
  if (query) {
    for (const k of Object.keys(query)) {
      if (queryNames.has(k) || queryNames.has(k.toLowerCase())) { query[k] = CENSOR; queryHit = true; }
    }
  }
  // The raw query also appears in `uri`, `url` and what went upstream.
  if (queryHit) {
    if (request.uri) request.uri = redactQueryString(request.uri, queryNames);
    if (request.url) request.url = redactQueryString(request.url, queryNames);
    if (typeof entry.upstream_uri === 'string') entry.upstream_uri = redactQueryString(entry.upstream_uri, queryNames);
  }
  return entry;
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function redactQueryString(uri: string, names: ReadonlySet<string>): string {
  const q = uri.indexOf('?');
  if (q === -1) return uri;
  const parts = uri.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    let key = eq === -1 ? pair : pair.slice(0, eq);
    try { key = decodeURIComponent(key.replace(/\+/g, ' ')); } catch { /* keep it raw */ }
    return names.has(key) || names.has(key.toLowerCase()) ? `${eq === -1 ? pair : pair.slice(0, eq)}=${CENSOR}` : pair;
  });
  return `${uri.slice(0, q)}?${parts.join('&')}`;
}

export interface AccessLog {
  /** Serializes, redacts and buffers one request's line (called after the response finished). */
  write(ctx: RequestContext): void;
  /** Writes out what is buffered (synchronously; for exit paths). */
  flushSync(): void;
}

export function openAccessLog(target: AccessLogTarget): AccessLog | null {
  if (target === 'off') return null;
  const dest = pino.destination({
    dest: target === 'stdout' ? 1 : target === 'stderr' ? 2 : target.file,
    minLength: MIN_LENGTH,
    sync: false,
  });
  // A write that fails (disk full, file removed with its folder) loses lines, never the worker.
  let reported = false;
  dest.on('error', (err: Error) => {
    if (!reported) process.stderr.write(`turnpike: access log write failed: ${err.message}\n`);
    reported = true;
  });
  const timer = setInterval(() => { try { dest.flush(); } catch { /* not open yet */ } }, FLUSH_INTERVAL_MS);
  timer.unref();
  const flushSync = () => { try { dest.flushSync(); } catch { /* not open yet or already closed */ } };
  process.once('exit', flushSync);
  return {
    write(ctx) {
      const entry = redactEntry(ctx.serialize(), ctx.active);
      dest.write(JSON.stringify(entry) + '\n');
    },
    flushSync,
  };
}
