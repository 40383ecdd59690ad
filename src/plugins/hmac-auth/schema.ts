/**
 * @module plugins/hmac-auth/schema
 * Kong's hmac-auth config (3.8+): `kong/plugins/hmac-auth/schema.lua`.
 */
import { Type, type Static } from '@sinclair/typebox';

export const HMAC_ALGORITHMS = ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;

export const HmacAuthSchema = Type.Object({
  hide_credentials: Type.Boolean({ default: false }),
  clock_skew: Type.Number({ exclusiveMinimum: 0, default: 300 }),
  anonymous: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
  validate_request_body: Type.Boolean({ default: false }),
  enforce_headers: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  algorithms: Type.Array(Type.String({ enum: [...HMAC_ALGORITHMS] }), { default: [...HMAC_ALGORITHMS] }),
  realm: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
});

export type HmacAuthConfig = Static<typeof HmacAuthSchema>;
