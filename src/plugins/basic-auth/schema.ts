/**
 * @module plugins/basic-auth/schema
 * Kong's basic-auth config (3.6+): `kong/plugins/basic-auth/schema.lua`.
 */
import { Type, type Static } from '@sinclair/typebox';

export const BasicAuthSchema = Type.Object({
  anonymous: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
  hide_credentials: Type.Boolean({ default: false }),
  realm: Type.String({ minLength: 1, default: 'service' }),
});

export type BasicAuthConfig = Static<typeof BasicAuthSchema>;
