/**
 * @module plugins/basic-auth
 * Kong's basic-auth plugin: authenticates a consumer by `Authorization: Basic` (or
 * `Proxy-Authorization`) username and password.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { BasicAuthSchema } from './schema.ts';
import { createBasicAuthHandlers } from './access.ts';

export default definePlugin({
  name: 'basic-auth',
  version: VERSION,
  priority: 1100,
  noConsumer: true,
  schema: BasicAuthSchema,
  create: (config) => createBasicAuthHandlers(config),
});
