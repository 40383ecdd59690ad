/**
 * @module plugins/openid-connect/access
 * openid-connect's access phase for `auth_methods: [bearer]`: find the bearer token (header,
 * query `access_token`, body `access_token`), verify its signature with the provider's JWKS,
 * verify exp/nbf/iat (with leeway), iss and aud, then authorize (`scopes_required`,
 * `audience_required`), map a consumer, and pass claims upstream.
 *
 * Answers: no token 401 `Bearer realm="<issuer host>"`; a bad token 401 with
 * `error="invalid_token"`; insufficient scopes/audience 403 with `error="insufficient_scope"`; an
 * unmapped consumer 403. Bodies are `{"message":"Unauthorized"}` / `{"message":"Forbidden"}`
 * (the configurable messages; `display_errors` appends the reason). A provider that cannot be
 * reached while no keys are cached gives 500 `An unexpected error occurred`: the token can be
 * neither accepted nor blamed. With `anonymous`, 401 and 403 fall back to that consumer.
 */
import cluster from 'node:cluster';
import type { Consumer } from '../../config/entities.ts';
import type { Credential, PluginContext, PluginExit, PluginHandlers } from '../api.ts';
import { parseBody } from '../key-auth/body.ts';
import { withoutQueryArg } from '../key-auth/access.ts';
import { headerValues, setAnonymousConsumer, setConsumer } from '../key-auth/consumer-headers.ts';
import { decodeToken, verifyAsymmetric, type DecodedToken } from '../jwt/token.ts';
import { claimAt, claimProblem, claimValues, satisfiesRequired } from './claims.ts';
import { keyFitsAlgorithm, providerFor, type ProviderKeys } from './provider.ts';
import type { OidcConfig } from './schema.ts';

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;
const TOKEN_PARAM = 'access_token';

type Where = 'header' | 'query' | 'body';
interface Found { token: string; where: Where }

/** A failed authentication: 401 (`invalid` says whether a token was presented), 403 or 500. */
interface Failure { status: 401 | 403 | 500; reason: string; invalid?: boolean; scope?: boolean }

const fail401 = (reason: string): Failure => ({ status: 401, reason, invalid: true });

function bodyToken(ctx: PluginContext): Promise<string | undefined> {
  const ct = ctx.request.headers['content-type'];
  return ctx.request.readBody().then((buf) => {
    const v = parseBody(Array.isArray(ct) ? ct[0] : ct, buf).get(TOKEN_PARAM);
    return typeof v === 'string' && v !== '' ? v : undefined;
  }, () => undefined);
}

async function findToken(ctx: PluginContext, where: readonly Where[]): Promise<Found | null> {
  for (const place of where) {
    if (place === 'header') {
      const v = headerValues(ctx.request, 'authorization');
      const m = typeof v === 'string' ? BEARER.exec(v) : null;
      if (m) return { token: m[1]!, where: 'header' };
    } else if (place === 'query') {
      const v = ctx.request.query()[TOKEN_PARAM];
      if (typeof v === 'string' && v !== '') return { token: v, where: 'query' };
    } else {
      const method = ctx.request.method;
      if (method === 'GET' || method === 'HEAD') continue;
      const v = await bodyToken(ctx);
      if (v !== undefined) return { token: v, where: 'body' };
    }
  }
  return null;
}

/** Upstream header value for a claim: strings as they are, numbers/booleans as text, JSON otherwise base64. */
function headerValueOf(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Buffer.from(JSON.stringify(v)).toString('base64');
}

export function createOidcHandlers(config: OidcConfig, log: PluginContext['log']): PluginHandlers {
  const provider = config.verify_signature ? providerFor(config.issuer) : null;
  const realmHost = new URL(config.issuer).host;
  const where = [...new Set(config.bearer_token_param_type)];
  const ttlMs = config.cache_ttl * 1000;
  const kidRefreshMs = config.rediscovery_lifetime * 1000;
  const timeoutMs = config.timeout;
  const configuredIssuer = config.issuer;
  const anonymous = config.anonymous ?? null;
  const headerClaims = (config.upstream_headers_claims ?? []).map((claim, i) => ({
    claim, header: config.upstream_headers_names![i]!.toLowerCase(),
  }));
  const realm = `Bearer realm="${realmHost}"`;
  let loggedFailures = -1;

  function exitFor(f: Failure): PluginExit {
    if (f.status === 500) return { status: 500, message: 'An unexpected error occurred' };
    const base = f.status === 401 ? config.unauthorized_error_message : config.forbidden_error_message;
    const message = config.display_errors ? `${base} (${f.reason})` : base;
    const challenge = f.scope ? `${realm}, error="insufficient_scope"` : f.invalid ? `${realm}, error="invalid_token"` : realm;
    return { status: f.status, body: { message }, headers: { 'WWW-Authenticate': challenge } };
  }

  function selectKeys(keys: ProviderKeys, jwt: DecodedToken, alg: string) {
    const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : undefined;
    return keys.keys.filter((k) => keyFitsAlgorithm(k, alg) && (kid === undefined || k.kid === kid));
  }

  /** Checks the signature; returns the provider's keys used (for its issuer) or a failure. */
  async function verifySignature(jwt: DecodedToken): Promise<ProviderKeys | Failure> {
    const alg = jwt.header.alg as string;
    // Shared-secret algorithms have no place with a public JWKS (alg confusion).
    if (alg.startsWith('HS')) return fail401('unsupported signing algorithm');
    let keys = await provider!.load(timeoutMs);
    if (!keys) {
      // Once per failed attempt, not once per request answered during the back-off.
      if (loggedFailures !== provider!.fetches) {
        loggedFailures = provider!.fetches;
        log.error('openid-connect: provider discovery failed', { issuer: configuredIssuer, error: provider!.lastError });
      }
      return { status: 500, reason: 'provider unreachable' };
    }
    provider!.refreshIfStale(ttlMs, timeoutMs);
    let candidates = selectKeys(keys, jwt, alg);
    const kid = jwt.header.kid;
    if (candidates.length === 0 && typeof kid === 'string' && !keys.keys.some((k) => k.kid === kid)) {
      // Maybe the provider rotated its keys since they were cached.
      const fresh = await provider!.refreshForUnknownKid(kidRefreshMs, timeoutMs);
      if (fresh) { keys = fresh; candidates = selectKeys(keys, jwt, alg); }
    }
    if (candidates.length === 0) return fail401('no matching signing key');
    if (!candidates.some((k) => verifyAsymmetric(alg, jwt, k.key))) return fail401('invalid signature');
    return keys;
  }

  function mapConsumer(ctx: PluginContext, claims: Record<string, unknown>): Consumer | null | Failure {
    if (!config.consumer_claim) return null;
    const value = claimAt(claims, config.consumer_claim);
    const candidates = typeof value === 'string' ? [value] : claimValues(value);
    for (const v of candidates) {
      for (const by of config.consumer_by) {
        const c = by === 'custom_id' ? ctx.consumers.consumerByCustomId(v) : ctx.consumers.consumer(v);
        if (c && (by === 'custom_id' || (by === 'id' ? c.id === v : c.username === v))) return c;
      }
    }
    return config.consumer_optional ? null : { status: 403, reason: 'consumer was not found' };
  }

  function hideToken(ctx: PluginContext, found: Found, bodyBuf: Buffer | null): void {
    const up = ctx.upstream;
    if (found.where === 'header') up.removeHeader('authorization');
    else if (found.where === 'query') up.query = withoutQueryArg(up.query, TOKEN_PARAM);
    else if (bodyBuf) {
      const ct = ctx.request.headers['content-type'];
      const stripped = parseBody(Array.isArray(ct) ? ct[0] : ct, bodyBuf).without(TOKEN_PARAM);
      if (stripped) up.setBody(stripped);
    }
  }

  async function authenticate(ctx: PluginContext): Promise<Failure | null> {
    const found = await findToken(ctx, where);
    if (!found) return { status: 401, reason: 'no bearer token found' };
    const jwt = decodeToken(found.token);
    if (typeof jwt === 'string') return fail401(`bad token; ${jwt}`);

    let keys: ProviderKeys | null = provider?.current ?? null;
    if (provider) {
      const verified = await verifySignature(jwt);
      if ('status' in verified) return verified;
      keys = verified;
    }
    const claims = jwt.claims;
    if (config.verify_claims) {
      const issuers = keys ? [configuredIssuer, keys.issuer] : [configuredIssuer];
      const problem = claimProblem(claims, {
        issuers, audience: config.audience, audienceClaim: config.audience_claim, leeway: config.leeway,
      }, Math.floor(Date.now() / 1000));
      if (problem) return fail401(problem);
    }
    if (config.scopes_required && !satisfiesRequired(claimValues(claimAt(claims, config.scopes_claim)), config.scopes_required)) {
      return { status: 403, reason: 'required scopes were not found', scope: true };
    }
    if (config.audience_required) {
      const aud = claimAt(claims, config.audience_claim);
      if (!satisfiesRequired(typeof aud === 'string' ? [aud] : claimValues(aud), config.audience_required)) {
        return { status: 403, reason: 'required audiences were not found', scope: true };
      }
    }
    const consumer = mapConsumer(ctx, claims);
    if (consumer && 'status' in consumer) return consumer;

    const subject = typeof claims.sub === 'string' ? claims.sub : null;
    const credential: Credential = { id: subject ?? '', consumer: consumer ? { id: consumer.id } : null };
    setConsumer(ctx, consumer, credential, subject);
    for (const { claim, header } of headerClaims) {
      const value = headerValueOf(claims[claim]);
      if (value === null) ctx.upstream.removeHeader(header);
      else ctx.upstream.setHeader(header, value);
    }
    if (config.hide_credentials) hideToken(ctx, found, found.where === 'body' ? await ctx.request.readBody() : null);
    ctx.shared['authenticated_jwt_token'] = found.token;
    return null;
  }

  if (provider && cluster.isWorker) {
    // In a proxy worker (the primary only compiles): warm the cache so the first request does not wait.
    void provider.load(timeoutMs);
  }

  return {
    async access(ctx) {
      if (!config.run_on_preflight && ctx.request.method === 'OPTIONS') return undefined;
      // Logical OR: another auth plugin already identified the caller.
      if (anonymous !== null && ctx.credential) return undefined;
      const failure = await authenticate(ctx);
      if (failure === null) return undefined;
      if (anonymous !== null && failure.status !== 500) return setAnonymousConsumer(ctx, anonymous);
      return exitFor(failure);
    },
  };
}
