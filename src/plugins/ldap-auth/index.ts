/**
 * @module plugins/ldap-auth
 * Kong's ldap-auth plugin: authenticates `Authorization: ldap base64(user:pass)` (or
 * Proxy-Authorization) by a simple bind as `<attribute>=<user>,<base_dn>` on an LDAP server.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { LdapAuthSchema, checkLdapAuth } from './schema.ts';
import { createLdapAuthHandlers } from './access.ts';

export default definePlugin({
  name: 'ldap-auth',
  version: VERSION,
  priority: 1200,
  noConsumer: true,
  schema: LdapAuthSchema,
  check: checkLdapAuth,
  create: (config, env) => createLdapAuthHandlers(config, env.log).handlers,
});
