/**
 * @module plugins/ldap-auth/schema
 * Kong's ldap-auth config: field names, types, defaults and the ldaps/start_tls entity check as in
 * `kong/plugins/ldap-auth/schema.lua`. Kong refuses empty strings unless a field says otherwise.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Host, Port } from '../../config/schema/typedefs.ts';
import type { FieldErrors } from '../api.ts';

const NonEmpty = Type.String({ minLength: 1 });
// Fields Kong declares with a default but without `required` also accept an explicit null.
const NullableNumber = (def: number) => Type.Union([Type.Number(), Type.Null()], { default: def });
const NullableString = (def: string | null) => Type.Union([NonEmpty, Type.Null()], { default: def });

export const LdapAuthSchema = Type.Object({
  ldap_host: Host,
  ldap_port: Type.Integer({ ...Port, default: 389 }),
  ldaps: Type.Boolean({ default: false }),
  start_tls: Type.Boolean({ default: false }),
  verify_ldap_host: Type.Boolean({ default: false }),
  base_dn: NonEmpty,
  attribute: NonEmpty,
  cache_ttl: Type.Number({ default: 60 }),
  hide_credentials: Type.Boolean({ default: false }),
  timeout: NullableNumber(10000),
  keepalive: NullableNumber(60000),
  anonymous: NullableString(null),
  header_type: NullableString('ldap'),
  realm: NullableString(null),
});

export type LdapAuthConfig = Static<typeof LdapAuthSchema>;

/** Kong's conditional entity check: ldaps and StartTLS exclude each other. */
export function checkLdapAuth(config: LdapAuthConfig): FieldErrors | null {
  if (config.ldaps && config.start_tls) {
    return { '@entity': ["'ldaps' and 'start_tls' cannot be enabled simultaneously"] };
  }
  return null;
}
