/**
 * @module plugins/oauth2/schema
 * Kong's oauth2 config: field names, types, defaults and entity checks as
 * `kong/plugins/oauth2/schema.lua` (3.x).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const NonEmpty = Type.String({ minLength: 1 });
const NullableString = Type.Union([NonEmpty, Type.Null()], { default: null });

export const Oauth2Schema = Type.Object({
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()], { default: null }),
  mandatory_scope: Type.Boolean({ default: false }),
  /** Kong generates one when omitted (`auto = true`); Turnpike derives it from the plugin id. */
  provision_key: NullableString,
  token_expiration: Type.Number({ default: 7200 }),
  enable_authorization_code: Type.Boolean({ default: false }),
  enable_implicit_grant: Type.Boolean({ default: false }),
  enable_client_credentials: Type.Boolean({ default: false }),
  enable_password_grant: Type.Boolean({ default: false }),
  hide_credentials: Type.Boolean({ default: false }),
  accept_http_if_already_terminated: Type.Boolean({ default: false }),
  anonymous: NullableString,
  global_credentials: Type.Boolean({ default: false }),
  auth_header_name: Type.String({ minLength: 1, default: 'authorization' }),
  /** Kong's typedefs.ttl: seconds, 0 = keep forever. */
  refresh_token_ttl: Type.Number({ minimum: 0, maximum: 100000000, default: 1209600 }),
  reuse_refresh_token: Type.Boolean({ default: false }),
  pkce: Type.Unsafe<'none' | 'lax' | 'strict'>(Type.String({ enum: ['none', 'lax', 'strict'], default: 'lax' })),
  realm: NullableString,
});

export type Oauth2Config = Static<typeof Oauth2Schema>;

export const ERR_NO_FLOW =
  'at least one of these fields must be true: enable_authorization_code, enable_implicit_grant, enable_client_credentials, enable_password_grant';

/** Kong's `custom_validator = validate_flows` and the `mandatory_scope` ⇒ `scopes` conditional. */
export function checkOauth2Config(config: Oauth2Config): FieldErrors | null {
  const errors: FieldErrors = {};
  const entity: string[] = [];
  if (!config.enable_authorization_code && !config.enable_implicit_grant
    && !config.enable_client_credentials && !config.enable_password_grant) entity.push(ERR_NO_FLOW);
  if (config.mandatory_scope && (config.scopes === null || config.scopes === undefined)) {
    entity.push("failed conditional validation given value of field 'mandatory_scope'");
    errors.scopes = 'required field missing';
  }
  if (entity.length > 0) errors['@entity'] = entity;
  return Object.keys(errors).length > 0 ? errors : null;
}
