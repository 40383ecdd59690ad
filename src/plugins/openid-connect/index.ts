/**
 * @module plugins/openid-connect
 * A bearer-token subset of Kong Enterprise's openid-connect: validates JWT access/ID tokens issued
 * by an OpenID provider, using its discovery document and JWKS (node:crypto only).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { OidcSchema, checkOidcConfig } from './schema.ts';
import { createOidcHandlers } from './access.ts';

export default definePlugin({
  name: 'openid-connect',
  version: VERSION,
  // Kong Enterprise's priority: after jwt (1450), key-auth (1250) and basic-auth (1100).
  priority: 1050,
  noConsumer: true,
  schema: OidcSchema,
  check: checkOidcConfig,
  create: (config, env) => createOidcHandlers(config, env.log),
});
