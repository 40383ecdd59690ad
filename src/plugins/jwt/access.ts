/**
 * @module plugins/jwt/access
 * jwt's access phase, following Kong 3.8+: collect distinct tokens from the query arguments,
 * cookies and headers; exactly one must be present; find the secret by the key claim; check
 * algorithm, signature, registered claims and maximum expiration. Failures answer with compact
 * JSON (`kong.response.exit`, no request id) and `WWW-Authenticate: Bearer …`.
 */
import type { PluginContext, PluginExit, PluginHandlers, RequestView } from '../api.ts';
import { decodeBase64Strict, headerValues, setAnonymousConsumer, setConsumer } from '../key-auth/consumer-headers.ts';
import type { JwtConfig } from './schema.ts';
import {
  decodeToken, exceedsMaximumExpiration, publicKeyOf, verifyAsymmetric, verifyHmac, verifyRegisteredClaims,
} from './token.ts';

const BEARER = /\s*[Bb]earer\s+(.+)/;

/** A valueless query argument: Kong collects it as the boolean `true`, an unrecognizable token. */
const VALUELESS = Symbol('valueless');
type Token = string | typeof VALUELESS;

/** The value of cookie `name` as nginx's `$cookie_<name>` gives it (first match, name case-insensitive). */
export function cookieValue(req: RequestView, lowerName: string): string | undefined {
  const raw = req.headers['cookie'];
  if (raw === undefined) return undefined;
  for (const line of Array.isArray(raw) ? raw : [raw]) {
    for (const pair of line.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      if (pair.slice(0, eq).trim().toLowerCase() === lowerName) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

export function createJwtHandlers(config: JwtConfig): PluginHandlers {
  const uriParams = [...new Set(config.uri_param_names)];
  const cookies = [...new Set(config.cookie_names)].map((c) => c.toLowerCase());
  const headerNames = [...new Set(config.header_names)].map((h) => h.toLowerCase());
  const claimsToVerify = config.claims_to_verify ? [...new Set(config.claims_to_verify)] : [];
  const keyClaim = config.key_claim_name;
  const anonymous = config.anonymous ?? null;
  const realm = config.realm ?? null;
  const challenge = realm === null ? 'Bearer' : `Bearer realm="${realm}"`;
  const challengeInvalid = realm === null ? 'Bearer error="invalid_token"' : `Bearer realm="${realm}", error="invalid_token"`;

  const fail = (message: string): PluginExit => ({ status: 401, body: { message }, headers: { 'WWW-Authenticate': challengeInvalid } });
  const NO_TOKEN: PluginExit = { status: 401, body: { message: 'Unauthorized' }, headers: { 'WWW-Authenticate': challenge } };
  const MULTIPLE = fail('Multiple tokens provided');
  const UNRECOGNIZABLE = fail('Unrecognizable token');
  const NO_KEY_CLAIM = fail(`No mandatory '${keyClaim}' in claims`);
  const EMPTY_KEY_CLAIM = fail(`Invalid '${keyClaim}' in claims`);
  const NO_CREDENTIALS = fail(`No credentials found for given '${keyClaim}'`);
  const INVALID_ALGORITHM = fail('Invalid algorithm');
  const INVALID_KEY = fail('Invalid key/secret');
  const INVALID_SIGNATURE = fail('Invalid signature');
  const MAX_EXPIRATION: PluginExit = {
    status: 401, body: { exp: 'exceeds maximum allowed expiration' }, headers: { 'WWW-Authenticate': challengeInvalid },
  };

  function retrieveTokens(ctx: PluginContext): Set<Token> {
    const tokens = new Set<Token>();
    if (uriParams.length) {
      const args = ctx.request.query();
      for (const name of uriParams) {
        const v = args[name];
        if (v === undefined) continue;
        if (v === true) tokens.add(VALUELESS);
        else if (Array.isArray(v)) { for (const t of v) if (t !== '') tokens.add(t); }
        else if (v !== '') tokens.add(v);
      }
    }
    for (const name of cookies) {
      const v = cookieValue(ctx.request, name);
      if (v) tokens.add(v);
    }
    for (const name of headerNames) {
      const values = headerValues(ctx.request, name);
      const v = Array.isArray(values) ? values[0] : values;
      if (v === undefined) continue;
      const m = BEARER.exec(v);
      if (m && m[1]) tokens.add(m[1]);
    }
    return tokens;
  }

  /** Returns the failure exit, or null when the request is authenticated. */
  function authenticate(ctx: PluginContext): PluginExit | null {
    const tokens = retrieveTokens(ctx);
    if (tokens.size === 0) return NO_TOKEN;
    if (tokens.size > 1) return MULTIPLE;
    const token = tokens.values().next().value as Token;
    if (token === VALUELESS) return UNRECOGNIZABLE;

    const jwt = decodeToken(token);
    if (typeof jwt === 'string') return fail(`Bad token; ${jwt}`);
    const claimed = jwt.claims[keyClaim] ?? jwt.header[keyClaim];
    if (claimed === undefined || claimed === null || claimed === false) return NO_KEY_CLAIM;
    if (claimed === '') return EMPTY_KEY_CLAIM;
    const secret = typeof claimed === 'string' ? ctx.consumers.jwtSecret(claimed) : undefined;
    if (!secret) return NO_CREDENTIALS;

    const algorithm = secret.algorithm || 'HS256';
    if (jwt.header.alg !== algorithm) return INVALID_ALGORITHM;
    if (algorithm.startsWith('HS')) {
      if (secret.secret === null) return INVALID_KEY;
      const key = config.secret_is_base64 ? decodeBase64Strict(secret.secret, true) : secret.secret;
      if (key === null) return INVALID_KEY;
      if (!verifyHmac(algorithm, jwt, key)) return INVALID_SIGNATURE;
    } else {
      if (secret.rsa_public_key === null) return INVALID_KEY;
      const key = publicKeyOf(secret, secret.rsa_public_key);
      // Kong fails with a server error on an unreadable public key: a configuration problem.
      if (key === null) return { status: 500, message: 'An unexpected error occurred' };
      if (!verifyAsymmetric(algorithm, jwt, key)) return INVALID_SIGNATURE;
    }

    const now = Math.floor(Date.now() / 1000);
    const claimErrors = verifyRegisteredClaims(jwt, claimsToVerify, now);
    if (claimErrors) return { status: 401, body: claimErrors, headers: { 'WWW-Authenticate': challengeInvalid } };
    if (exceedsMaximumExpiration(jwt, config.maximum_expiration, now)) return MAX_EXPIRATION;

    const consumer = ctx.consumers.consumer(secret.consumer.id);
    if (!consumer) return { status: 401, body: { message: `Could not find consumer for '${keyClaim}=${claimed}'` } };
    setConsumer(ctx, consumer, secret, secret.key);
    ctx.shared['authenticated_jwt_token'] = token;
    return null;
  }

  return {
    access(ctx) {
      if (!config.run_on_preflight && ctx.request.method === 'OPTIONS') return undefined;
      // Logical OR: another auth plugin already identified the caller.
      if (anonymous !== null && ctx.credential) return undefined;
      const failure = authenticate(ctx);
      if (failure === null) return undefined;
      if (anonymous !== null) return setAnonymousConsumer(ctx, anonymous);
      return failure;
    },
  };
}
