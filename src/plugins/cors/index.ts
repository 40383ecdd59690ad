/**
 * @module plugins/cors
 * Kong's cors plugin (priority 2000, before authentication so preflights need no credentials).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { CorsSchema, checkCors } from './schema.ts';
import { createCors } from './handler.ts';

export default definePlugin({
  name: 'cors',
  version: VERSION,
  priority: 2000,
  noConsumer: true,
  schema: CorsSchema,
  check: checkCors,
  create: (config) => createCors(config),
});
