/**
 * @module plugins/basic-auth/access
 * basic-auth's access phase, following Kong 3.6+: credentials from `Proxy-Authorization` first,
 * then `Authorization`; every failure is a 401 `Unauthorized` with `WWW-Authenticate: Basic
 * realm="<realm>"`. Anonymous gives Kong's "logical OR" between auth plugins.
 *
 * Passwords: the declarative loader stores Kong's form, sha1_hex(password .. consumer_id), unless
 * the file says `_transform: false`, in which case the value is kept as written. A stored value
 * shaped like a sha1 hex digest is compared as Kong does (hash of the given password); any other
 * stored value can only be a plain password and is compared as one. Both comparisons are constant
 * time over equal-length digests. A sha1-shaped stored value is never compared as plain text, so a
 * client cannot log in by sending the stored hash itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BasicAuthCredential } from '../../config/entities.ts';
import type { PluginContext, PluginExit, PluginHandlers } from '../api.ts';
import { decodeBase64Strict, firstHeader, setAnonymousConsumer, setConsumer } from '../key-auth/consumer-headers.ts';
import type { BasicAuthConfig } from './schema.ts';

const SHA1_HEX = /^[0-9a-f]{40}$/;
const BASIC = /\s*[Bb]asic\s*(.+)/;
const USER_PASS = /([^:]+):(.*)/;

interface Given { username: string; password: string }

/** Parses one header value as Kong does (the pattern is not anchored, as in Kong). */
export function parseBasic(value: string | undefined): Given | null {
  if (value === undefined) return null;
  const m = BASIC.exec(value);
  if (!m) return null;
  const decoded = decodeBase64Strict(m[1]!);
  if (!decoded) return null;
  const parts = USER_PASS.exec(decoded.toString('utf8'));
  if (!parts) return null;
  return { username: parts[1]!, password: parts[2]! };
}

/** Kong's stored form of a basic-auth password. */
export function kongPasswordHash(password: string, consumerId: string): string {
  return createHash('sha1').update(password + consumerId).digest('hex');
}

export function passwordMatches(credential: BasicAuthCredential, given: string): boolean {
  const stored = credential.password;
  if (SHA1_HEX.test(stored)) {
    return timingSafeEqual(Buffer.from(kongPasswordHash(given, credential.consumer.id)), Buffer.from(stored));
  }
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(stored).digest();
  return timingSafeEqual(a, b);
}

export function createBasicAuthHandlers(config: BasicAuthConfig): PluginHandlers {
  const unauthorized: PluginExit = {
    status: 401, message: 'Unauthorized', headers: { 'WWW-Authenticate': `Basic realm="${config.realm}"` },
  };
  const anonymous = config.anonymous ?? null;
  const hide = config.hide_credentials;

  /** Reads one header's credentials; with hide_credentials the header never goes upstream. */
  function retrieve(ctx: PluginContext, name: string, value: string | undefined): Given | null {
    const given = parseBasic(value);
    if (hide) ctx.upstream.removeHeader(name);
    return given;
  }

  /** Returns true when the request is authenticated. */
  function authenticate(ctx: PluginContext): boolean {
    const authorization = firstHeader(ctx.request, 'authorization');
    const proxyAuthorization = firstHeader(ctx.request, 'proxy-authorization');
    if (authorization === undefined && proxyAuthorization === undefined) return false;
    let given = retrieve(ctx, 'proxy-authorization', proxyAuthorization);
    let credential = given ? ctx.consumers.basicAuth(given.username) : undefined;
    if (!credential) {
      given = retrieve(ctx, 'authorization', authorization);
      if (!given) return false;
      credential = ctx.consumers.basicAuth(given.username);
    }
    if (!credential || !passwordMatches(credential, given!.password)) return false;
    setConsumer(ctx, ctx.consumers.consumer(credential.consumer.id) ?? null, credential, credential.username);
    return true;
  }

  return {
    access(ctx) {
      // Logical OR: another auth plugin already identified the caller.
      if (anonymous !== null && ctx.credential) return undefined;
      if (authenticate(ctx)) return undefined;
      if (anonymous !== null) return setAnonymousConsumer(ctx, anonymous);
      return unauthorized;
    },
  };
}
