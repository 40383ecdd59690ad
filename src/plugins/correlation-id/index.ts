/**
 * @module plugins/correlation-id
 * Kong's correlation-id plugin (priority 100001, runs first).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { CorrelationIdSchema } from './schema.ts';
import { createCorrelationId } from './handler.ts';

export default definePlugin({
  name: 'correlation-id',
  version: VERSION,
  priority: 100001,
  schema: CorrelationIdSchema,
  create: (config) => createCorrelationId(config),
});
