/**
 * @module plugins/request-termination
 * Kong's request-termination (priority 2): ends requests with a fixed answer.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { RequestTerminationSchema, checkRequestTermination } from './schema.ts';
import { createRequestTermination } from './handler.ts';

export default definePlugin({
  name: 'request-termination',
  version: VERSION,
  priority: 2,
  schema: RequestTerminationSchema,
  check: checkRequestTermination,
  create: (config) => createRequestTermination(config),
});
