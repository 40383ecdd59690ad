/**
 * @module plugins/ldap-auth/access
 * ldap-auth's access phase, following Kong's `kong/plugins/ldap-auth/access.lua`:
 * - credentials come from Proxy-Authorization first, then Authorization (`ldap base64(u:p)`, the
 *   scheme being `header_type`); the user binds as `<attribute>=<username>,<base_dn>`;
 * - every failure is 401 `Unauthorized` with `WWW-Authenticate: <scheme>[ realm="<realm>"]`
 *   (`ldap` is spelled `LDAP` there); an LDAP server that cannot answer is a 500;
 * - success sets a credential without a consumer: X-Credential-Identifier is the username and the
 *   X-Consumer-* headers are cleared; `anonymous` makes it Kong's "logical OR" with other auth.
 *
 * Bind results (success and refusal alike) are cached for `cache_ttl` seconds in the gateway's
 * shared cache under Kong's key, `ldap_auth_cache:` + sha256 of the connection settings, username
 * and password. The value is one byte: the password itself is never stored. Errors are not cached.
 */
import { createHash } from 'node:crypto';
import type { Credential, PluginContext, PluginExit, PluginHandlers, PluginLogger } from '../api.ts';
import { challenge, firstHeader, setAnonymousConsumer, setConsumer } from '../key-auth/consumer-headers.ts';
import { credentialReader, type LdapCredentials } from './credentials.ts';
import { LdapBinder, escapeDnValue } from './ldap-bind.ts';
import type { LdapAuthConfig } from './schema.ts';

const ACCEPTED = Buffer.from('1');
const REFUSED = Buffer.from('0');
/** Kong's mlcache keeps a ttl of 0 forever; a year is forever enough for an LRU entry. */
const FOREVER_SECONDS = 365 * 24 * 3600;

/** The credential an LDAP bind yields (Kong: `{ id = cache key, username }`, no consumer). */
export interface LdapCredential extends Credential { username: string }

/** Kong's cache key for one bind (the `%u` fields are integers there). */
export function ldapCacheKey(config: LdapAuthConfig, username: string, password: string): string {
  const material = [config.ldap_host.toLowerCase(), Math.trunc(config.ldap_port), config.base_dn, config.attribute,
    Math.trunc(config.cache_ttl), username, password].join(':');
  return `ldap_auth_cache:${createHash('sha256').update(material).digest('hex')}`;
}

export function createLdapAuthHandlers(config: LdapAuthConfig, log: PluginLogger): {
  handlers: PluginHandlers; binder: LdapBinder;
} {
  const headerType = config.header_type ?? 'ldap';
  // Kong capitalises the default scheme only (older configs said `ldap`).
  const scheme = headerType === 'ldap' ? 'LDAP' : headerType;
  const unauthorized: PluginExit = {
    status: 401, message: 'Unauthorized', headers: { 'WWW-Authenticate': challenge(scheme, config.realm ?? null) },
  };
  const read = credentialReader(headerType);
  const anonymous = config.anonymous ?? null;
  const cacheTtl = config.cache_ttl === 0 ? FOREVER_SECONDS : config.cache_ttl;
  const binder = new LdapBinder({
    host: config.ldap_host,
    port: config.ldap_port,
    ldaps: config.ldaps,
    startTls: config.start_tls,
    verify: config.verify_ldap_host,
    timeoutMs: config.timeout ?? 10000,
    keepaliveMs: config.keepalive ?? 60000,
  });
  /** One bind per key at a time in this worker, like Kong's mlcache lock. */
  const inFlight = new Map<string, Promise<boolean>>();

  async function bind(given: LdapCredentials): Promise<boolean> {
    const dn = `${config.attribute}=${escapeDnValue(given.username)},${config.base_dn}`;
    let result;
    try {
      result = await binder.bind(dn, given.password);
    } catch (err) {
      log.error(`failed to bind to ${config.ldap_host}:${config.ldap_port}: ${(err as Error).message}`);
      throw err;
    }
    // A wrong password is routine; a failed TLS handshake means the server or its setup is wrong.
    if (result.detail && result.tls) log.error(result.detail);
    else if (result.detail) log.info(result.detail);
    return result.outcome === 'ok';
  }

  /** True/false from the cache or the server; throws when the server cannot answer. */
  async function verify(ctx: PluginContext, given: LdapCredentials, key: string): Promise<boolean> {
    const cached = await ctx.cache.get(key);
    if (cached) return cached[0] === ACCEPTED[0];
    let pending = inFlight.get(key);
    if (!pending) {
      pending = bind(given).then((ok) => {
        if (cacheTtl > 0) ctx.cache.set(key, ok ? ACCEPTED : REFUSED, cacheTtl);
        return ok;
      }).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  /** One header's credentials checked; null when they do not authenticate. */
  async function authenticate(ctx: PluginContext, value: string): Promise<LdapCredential | null> {
    const given = read(value);
    if (!given) return null;
    const key = ldapCacheKey(config, given.username, given.password);
    if (!(await verify(ctx, given, key))) return null;
    return { id: key, consumer: null, username: given.username };
  }

  /** Kong's do_authentication: true when the request carries credentials LDAP accepts. */
  async function doAuthentication(ctx: PluginContext): Promise<boolean> {
    const authorization = firstHeader(ctx.request, 'authorization');
    const proxyAuthorization = firstHeader(ctx.request, 'proxy-authorization');
    if (authorization === undefined && proxyAuthorization === undefined) return false;
    let credential: LdapCredential | null = null;
    if (proxyAuthorization !== undefined) credential = await authenticate(ctx, proxyAuthorization);
    if (!credential && authorization !== undefined) credential = await authenticate(ctx, authorization);
    if (!credential) return false;
    if (config.hide_credentials) {
      ctx.upstream.removeHeader('authorization');
      ctx.upstream.removeHeader('proxy-authorization');
    }
    setConsumer(ctx, null, credential, credential.username);
    return true;
  }

  const handlers: PluginHandlers = {
    async access(ctx) {
      if (anonymous === null) return (await doAuthentication(ctx)) ? undefined : unauthorized;
      // Logical OR: another auth plugin already identified the caller.
      if (ctx.credential) return undefined;
      if (await doAuthentication(ctx)) return undefined;
      return setAnonymousConsumer(ctx, anonymous);
    },
    dispose() { binder.dispose(); },
  };
  return { handlers, binder };
}
