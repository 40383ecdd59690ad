/**
 * @module plugins/jwt/schema
 * Kong's jwt config (3.8+): `kong/plugins/jwt/schema.lua`, with its conditional entity check
 * (a positive `maximum_expiration` needs `exp` among `claims_to_verify`) as `checkJwtConfig`.
 * Kong's `set` fields are arrays here; duplicates are dropped when the plugin is created.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const NonEmpty = Type.String({ minLength: 1 });
const NullableString = Type.Union([NonEmpty, Type.Null()], { default: null });

export const JwtSchema = Type.Object({
  uri_param_names: Type.Array(NonEmpty, { default: ['jwt'] }),
  cookie_names: Type.Array(NonEmpty, { default: [] }),
  key_claim_name: Type.String({ minLength: 1, default: 'iss' }),
  secret_is_base64: Type.Boolean({ default: false }),
  claims_to_verify: Type.Union([Type.Array(Type.String({ enum: ['exp', 'nbf'] })), Type.Null()], { default: null }),
  anonymous: NullableString,
  run_on_preflight: Type.Boolean({ default: true }),
  maximum_expiration: Type.Number({ minimum: 0, maximum: 31536000, default: 0 }),
  header_names: Type.Array(NonEmpty, { default: ['authorization'] }),
  realm: NullableString,
});

export type JwtConfig = Static<typeof JwtSchema>;

export function checkJwtConfig(config: JwtConfig): FieldErrors | null {
  // Kong's `conditional` check: a null claims_to_verify passes (null values are not matched).
  if (config.maximum_expiration > 0 && config.claims_to_verify && !config.claims_to_verify.includes('exp')) {
    return {
      claims_to_verify: 'expected to contain: exp',
      '@entity': ["failed conditional validation given value of field 'config.maximum_expiration'"],
    };
  }
  return null;
}
