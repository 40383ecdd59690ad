/**
 * @module plugins/hmac-auth/access
 * hmac-auth's access phase, following Kong 3.8+: needs a fresh `X-Date` or `Date`, parses
 * `hmac username="…", algorithm="…", headers="…", signature="…"` from Proxy-Authorization, then
 * Authorization, rebuilds the signing string from the listed headers (`request-line` and
 * `@request-target` are pseudo-headers) and compares HMACs in constant time; optionally checks
 * the body against `Digest: SHA-256=<base64>`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { PluginContext, PluginExit, PluginHandlers, RequestView } from '../api.ts';
import { decodeBase64Strict, firstHeader, setAnonymousConsumer, setConsumer } from '../key-auth/consumer-headers.ts';
import type { HmacAuthConfig } from './schema.ts';

export const SIGNATURE_NOT_VALID = 'HMAC signature cannot be verified';
export const SIGNATURE_NOT_SAME = 'HMAC signature does not match';
export const DATE_REQUIRED = 'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication';

const HASHES: Record<string, string> = {
  'hmac-sha1': 'sha1', 'hmac-sha256': 'sha256', 'hmac-sha384': 'sha384', 'hmac-sha512': 'sha512',
};

// Kong's pattern, greedy and unanchored as in `retrieve_hmac_fields`.
const HMAC_FIELDS = /\s*[Hh]mac\s*username="(.+)",\s*algorithm="(.+)",\s*headers="(.+)",\s*signature="(.+)"/;

export interface HmacParams { username: string; algorithm: string; headers: string[]; signature: string }

export function parseHmacAuthorization(value: string | undefined): HmacParams | null {
  if (value === undefined) return null;
  const m = HMAC_FIELDS.exec(value);
  if (!m) return null;
  return { username: m[1]!, algorithm: m[2]!, headers: m[3]!.split(' '), signature: m[4]! };
}

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};
const RFC1123 = /^\s*[A-Za-z]+,\s*(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})/;
const RFC850 = /^\s*[A-Za-z]+,\s*(\d{1,2})-([A-Za-z]{3})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2})/;
const ASCTIME = /^\s*[A-Za-z]+\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})/;

/** nginx's `ngx_parse_http_time`: the three HTTP-date forms, in seconds; null when unreadable. */
export function parseHttpDate(value: string): number | null {
  let day: string, mon: string, year: number, time: [string, string, string];
  let m: RegExpExecArray | null;
  if ((m = RFC1123.exec(value))) {
    day = m[1]!; mon = m[2]!; year = Number(m[3]); time = [m[4]!, m[5]!, m[6]!];
  } else if ((m = RFC850.exec(value))) {
    const yy = Number(m[3]);
    day = m[1]!; mon = m[2]!; year = yy < 70 ? 2000 + yy : 1900 + yy; time = [m[4]!, m[5]!, m[6]!];
  } else if ((m = ASCTIME.exec(value))) {
    mon = m[1]!; day = m[2]!; time = [m[3]!, m[4]!, m[5]!]; year = Number(m[6]);
  } else {
    return null;
  }
  const month = MONTHS[mon.toLowerCase()];
  const d = Number(day);
  const [h, mi, s] = time.map(Number) as [number, number, number];
  if (month === undefined || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  return Date.UTC(year, month, d, h, mi, s) / 1000;
}

function withinSkew(req: RequestView, header: string, skew: number): boolean {
  const date = firstHeader(req, header);
  if (date === undefined) return false;
  const t = parseHttpDate(date);
  if (t === null) return false;
  return Math.abs(Math.floor(Date.now() / 1000) - t) <= skew;
}

/** The string the client signed, built as Kong builds it. */
export function signingString(req: RequestView, headers: readonly string[]): string {
  const uri = req.rawQuery ? `${req.path}?${req.rawQuery}` : req.path;
  const parts: string[] = [];
  for (const name of headers) {
    const value = name === '' ? undefined : firstHeader(req, name.toLowerCase());
    if (value !== undefined) parts.push(`${name}: ${value}`);
    else if (name === '@request-target') parts.push(`${name}: ${req.method.toLowerCase()} ${uri}`);
    else if (name === 'request-line') parts.push(`${req.method} ${uri} HTTP/${httpVersion(req)}`);
    else parts.push(`${name}:`);
  }
  return parts.join('\n');
}

/** `HTTP/%.01f` of the request's version: 1.0, 1.1, 2.0. */
function httpVersion(req: RequestView): string {
  const v = req.httpVersion || '1.1';
  return v.includes('.') ? v : `${v}.0`;
}

export function createHmacAuthHandlers(config: HmacAuthConfig): PluginHandlers {
  const wwwAuthenticate = config.realm == null ? 'hmac' : `hmac realm="${config.realm}"`;
  const exit = (message: string): PluginExit => ({ status: 401, message, headers: { 'WWW-Authenticate': wwwAuthenticate } });
  const UNAUTHORIZED = exit('Unauthorized');
  const NO_DATE = exit(DATE_REQUIRED);
  const NOT_VALID = exit(SIGNATURE_NOT_VALID);
  const NOT_SAME = exit(SIGNATURE_NOT_SAME);
  const anonymous = config.anonymous ?? null;
  const algorithms = new Set<string>(config.algorithms);
  const enforced = config.enforce_headers;

  function paramsValid(p: HmacParams): boolean {
    for (const h of enforced) if (!p.headers.includes(h)) return false;
    return algorithms.has(p.algorithm);
  }

  async function bodyMatches(ctx: PluginContext): Promise<boolean> {
    let body: Buffer;
    try { body = await ctx.request.readBody(); } catch { return false; }
    const received = firstHeader(ctx.request, 'digest');
    // No digest is only fine for an empty body.
    if (received === undefined) return body.length === 0;
    const created = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
    return created === received;
  }

  /** Returns the failure exit or null; a promise only when the body must be read. */
  function authenticate(ctx: PluginContext): PluginExit | null | Promise<PluginExit | null> {
    const req = ctx.request;
    const authorization = firstHeader(req, 'authorization');
    const proxyAuthorization = firstHeader(req, 'proxy-authorization');
    if (authorization === undefined && proxyAuthorization === undefined) return UNAUTHORIZED;
    if (!withinSkew(req, 'x-date', config.clock_skew) && !withinSkew(req, 'date', config.clock_skew)) return NO_DATE;

    let params = parseHmacAuthorization(proxyAuthorization);
    if (!params) {
      params = parseHmacAuthorization(authorization);
      if (config.hide_credentials) ctx.upstream.removeHeader('authorization');
    } else if (config.hide_credentials) {
      ctx.upstream.removeHeader('proxy-authorization');
    }
    if (!params || !paramsValid(params)) return NOT_VALID;
    const credential = ctx.consumers.hmacAuth(params.username);
    if (!credential) return NOT_VALID;

    const expected = createHmac(HASHES[params.algorithm]!, credential.secret).update(signingString(req, params.headers)).digest();
    const given = decodeBase64Strict(params.signature);
    if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) return NOT_SAME;

    const finish = (): null => {
      setConsumer(ctx, ctx.consumers.consumer(credential.consumer.id) ?? null, credential, credential.username);
      return null;
    };
    if (!config.validate_request_body) return finish();
    return bodyMatches(ctx).then((ok) => (ok ? finish() : NOT_SAME));
  }

  function conclude(ctx: PluginContext, failure: PluginExit | null): PluginExit | undefined {
    if (failure === null) return undefined;
    if (anonymous !== null) return setAnonymousConsumer(ctx, anonymous);
    return failure;
  }

  return {
    access(ctx) {
      // Logical OR: another auth plugin already identified the caller.
      if (anonymous !== null && ctx.credential) return undefined;
      const r = authenticate(ctx);
      if (r instanceof Promise) return r.then((failure) => conclude(ctx, failure));
      return conclude(ctx, r);
    },
  };
}
