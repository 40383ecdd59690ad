/**
 * @module plugins/acl
 * Kong's acl plugin: allows or denies authenticated consumers by group.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { AclSchema, checkAclConfig } from './schema.ts';
import { createAclHandlers } from './access.ts';

export default definePlugin({
  name: 'acl',
  version: VERSION,
  priority: 950,
  noConsumer: true,
  schema: AclSchema,
  check: checkAclConfig,
  create: (config) => createAclHandlers(config),
});
