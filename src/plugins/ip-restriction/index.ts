/**
 * @module plugins/ip-restriction
 * Kong's ip-restriction plugin (priority 990).
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { IpRestrictionSchema, checkIpRestriction } from './schema.ts';
import { createIpRestriction } from './handler.ts';

export default definePlugin({
  name: 'ip-restriction',
  version: VERSION,
  priority: 990,
  schema: IpRestrictionSchema,
  check: checkIpRestriction,
  create: (config) => createIpRestriction(config),
});
