/**
 * @module plugins/request-transformer
 * Kong's request-transformer plugin (priority 801).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { RequestTransformerSchema, checkRequestTransformer } from './schema.ts';
import { createRequestTransformer } from './access.ts';

export default definePlugin({
  name: 'request-transformer',
  version: VERSION,
  priority: 801,
  schema: RequestTransformerSchema,
  check: checkRequestTransformer,
  create: (config, env) => createRequestTransformer(config, env.log),
});
