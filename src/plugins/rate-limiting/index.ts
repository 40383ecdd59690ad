/**
 * @module plugins/rate-limiting
 * Kong's rate-limiting plugin (priority 910): fixed UTC windows per second … year, counted by
 * consumer, credential, IP, service, header or path; `local` counters exact across this gateway's
 * workers, `redis` counters shared by every replica.
 */
import { definePlugin } from '../api.ts';
import { RateLimitingSchema, checkRateLimiting } from './schema.ts';
import { createRateLimiting } from './handler.ts';

export default definePlugin({
  name: 'rate-limiting',
  version: '3.10.0',
  priority: 910,
  schema: RateLimitingSchema,
  check: checkRateLimiting,
  create: createRateLimiting,
});
