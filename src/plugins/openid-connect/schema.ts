/**
 * @module plugins/openid-connect/schema
 * The part of Kong Enterprise's openid-connect config that a bearer-token validator needs, under
 * Kong's field names and defaults. Only `auth_methods: [bearer]` is served; the other Kong methods
 * (authorization_code, session, introspection, ...) are refused by `checkOidcConfig` rather than
 * silently ignored. Claim names are paths (`['realm_access', 'roles']` = a nested claim), as in Kong.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const NonEmpty = Type.String({ minLength: 1 });
const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()], { default: null });
const ClaimPath = Type.Array(NonEmpty, { minItems: 1 });

/** Kong's auth method names; only `bearer` is implemented. */
export const KONG_AUTH_METHODS = [
  'password', 'client_credentials', 'authorization_code', 'bearer', 'introspection', 'userinfo',
  'kong_oauth2', 'refresh_token', 'session',
] as const;

export const OidcSchema = Type.Object({
  issuer: NonEmpty,
  auth_methods: Type.Array(Type.Unsafe<(typeof KONG_AUTH_METHODS)[number]>(Type.String({ enum: [...KONG_AUTH_METHODS] })),
    { default: ['bearer'] }),
  /** Audiences the token's `aud` must name one of (claim verification: 401 when not). */
  audience: nullable(Type.Array(NonEmpty)),
  audience_claim: Type.Array(NonEmpty, { default: ['aud'], minItems: 1 }),
  /** Authorization: each entry is a space-separated AND list, entries are alternatives (403). */
  audience_required: nullable(Type.Array(NonEmpty)),
  scopes_claim: Type.Array(NonEmpty, { default: ['scope'], minItems: 1 }),
  scopes_required: nullable(Type.Array(NonEmpty)),
  bearer_token_param_type: Type.Array(
    Type.Unsafe<'header' | 'query' | 'body'>(Type.String({ enum: ['header', 'query', 'body'] })),
    { default: ['header', 'query', 'body'] }),
  /** Seconds of clock skew allowed for exp, nbf and iat. */
  leeway: Type.Number({ minimum: 0, default: 0 }),
  verify_signature: Type.Boolean({ default: true }),
  verify_claims: Type.Boolean({ default: true }),
  upstream_headers_claims: nullable(Type.Array(NonEmpty)),
  upstream_headers_names: nullable(Type.Array(NonEmpty)),
  consumer_claim: nullable(ClaimPath),
  consumer_by: Type.Array(Type.Unsafe<'id' | 'username' | 'custom_id'>(Type.String({ enum: ['id', 'username', 'custom_id'] })),
    { default: ['username', 'custom_id'], minItems: 1 }),
  consumer_optional: Type.Boolean({ default: false }),
  anonymous: nullable(NonEmpty),
  hide_credentials: Type.Boolean({ default: false }),
  run_on_preflight: Type.Boolean({ default: true }),
  /** Seconds the discovery document and JWKS are served from memory before a background refresh. */
  cache_ttl: Type.Number({ exclusiveMinimum: 0, default: 3600 }),
  /** Minimum seconds between JWKS re-fetches triggered by a token with an unknown `kid`. */
  rediscovery_lifetime: Type.Number({ minimum: 0, default: 30 }),
  /** Milliseconds allowed for one discovery or JWKS request to the provider. */
  timeout: Type.Number({ exclusiveMinimum: 0, default: 10_000 }),
  display_errors: Type.Boolean({ default: false }),
  unauthorized_error_message: Type.String({ default: 'Unauthorized' }),
  forbidden_error_message: Type.String({ default: 'Forbidden' }),
});

export type OidcConfig = Static<typeof OidcSchema>;

export function checkOidcConfig(config: OidcConfig): FieldErrors | null {
  const errors: FieldErrors = {};
  let issuer: URL | null = null;
  try { issuer = new URL(config.issuer); } catch { /* reported below */ }
  if (!issuer || (issuer.protocol !== 'http:' && issuer.protocol !== 'https:')) errors.issuer = 'missing host in url';
  const unsupported = config.auth_methods.filter((m) => m !== 'bearer');
  if (unsupported.length || !config.auth_methods.length) {
    errors.auth_methods = `only 'bearer' is supported (got: ${config.auth_methods.join(', ') || 'none'})`;
  }
  const claims = config.upstream_headers_claims ?? [];
  const names = config.upstream_headers_names ?? [];
  if (claims.length !== names.length) {
    errors['@entity'] = ['upstream_headers_claims and upstream_headers_names must have the same number of entries'];
  }
  return Object.keys(errors).length ? errors : null;
}
