/**
 * @module plugins/key-auth
 * Kong's key-auth plugin: authenticates a consumer by an API key sent in a header, the query
 * string or the body.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { KeyAuthSchema } from './schema.ts';
import { createKeyAuthHandlers } from './access.ts';

export default definePlugin({
  name: 'key-auth',
  version: VERSION,
  priority: 1250,
  noConsumer: true,
  schema: KeyAuthSchema,
  create: (config) => createKeyAuthHandlers(config),
});
