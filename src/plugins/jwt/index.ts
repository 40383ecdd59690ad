/**
 * @module plugins/jwt
 * Kong's jwt plugin: authenticates a consumer by a signed JSON Web Token (HS*, RS*, ES*, PS*,
 * EdDSA) found in the query string, a cookie or a header.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { JwtSchema, checkJwtConfig } from './schema.ts';
import { createJwtHandlers } from './access.ts';

export default definePlugin({
  name: 'jwt',
  version: VERSION,
  priority: 1450,
  noConsumer: true,
  schema: JwtSchema,
  check: checkJwtConfig,
  create: (config) => createJwtHandlers(config),
});
