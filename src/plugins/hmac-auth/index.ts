/**
 * @module plugins/hmac-auth
 * Kong's hmac-auth plugin: authenticates a consumer by an HTTP signature over chosen request
 * headers (and optionally the body's Digest).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { HmacAuthSchema } from './schema.ts';
import { createHmacAuthHandlers } from './access.ts';

export default definePlugin({
  name: 'hmac-auth',
  version: VERSION,
  priority: 1030,
  noConsumer: true,
  schema: HmacAuthSchema,
  create: (config) => createHmacAuthHandlers(config),
});
