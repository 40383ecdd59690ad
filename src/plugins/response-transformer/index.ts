/**
 * @module plugins/response-transformer
 * Kong's response-transformer plugin (priority 800).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { ResponseTransformerSchema, checkResponseTransformer } from './schema.ts';
import { createResponseTransformer } from './handler.ts';

export default definePlugin({
  name: 'response-transformer',
  version: VERSION,
  priority: 800,
  schema: ResponseTransformerSchema,
  check: checkResponseTransformer,
  create: (config) => createResponseTransformer(config),
});
