/**
 * @module plugins/request-size-limiting
 * Kong's request-size-limiting plugin (priority 951).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { RequestSizeLimitingSchema } from './schema.ts';
import { createRequestSizeLimiting } from './handler.ts';

export default definePlugin({
  name: 'request-size-limiting',
  version: VERSION,
  priority: 951,
  schema: RequestSizeLimitingSchema,
  create: (config) => createRequestSizeLimiting(config),
});
