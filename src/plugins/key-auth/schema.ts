/**
 * @module plugins/key-auth/schema
 * Kong's key-auth config (3.7+): field names, types and defaults as `kong/plugins/key-auth/schema.lua`.
 * Kong refuses empty strings unless a field says otherwise, hence `minLength: 1`.
 */
import { Type, type Static } from '@sinclair/typebox';

const NonEmpty = Type.String({ minLength: 1 });
const NullableString = Type.Union([NonEmpty, Type.Null()], { default: null });
/** Kong's typedefs.header_name. */
const HeaderName = Type.String({ minLength: 1, kongCheck: 'header_name' });

export const KeyAuthSchema = Type.Object({
  key_names: Type.Array(HeaderName, { default: ['apikey'] }),
  hide_credentials: Type.Boolean({ default: false }),
  anonymous: NullableString,
  key_in_header: Type.Boolean({ default: true }),
  key_in_query: Type.Boolean({ default: true }),
  key_in_body: Type.Boolean({ default: false }),
  run_on_preflight: Type.Boolean({ default: true }),
  realm: NullableString,
});

export type KeyAuthConfig = Static<typeof KeyAuthSchema>;
