/**
 * @module plugins/oauth2
 * Kong's OSS oauth2 plugin: an OAuth 2.0 authorization server on the protected routes themselves
 * (`…/oauth2/authorize`, `…/oauth2/token`) and bearer-token authentication for everything else.
 * Tokens and codes live in the gateway's shared state, valid through every worker.
 */
import { definePlugin } from '../api.ts';
import { VERSION } from '../../version.ts';
import { Oauth2Schema, checkOauth2Config } from './schema.ts';
import { createOauth2Handlers } from './handler.ts';

export default definePlugin({
  name: 'oauth2',
  version: VERSION,
  priority: 1400,
  noConsumer: true,
  schema: Oauth2Schema,
  check: checkOauth2Config,
  create: (config, env) => createOauth2Handlers(config, {
    pluginId: env.entity.id,
    // Kong generates a key when none is given; a derived one would be guessable from the plugin id,
    // so without a configured key the provision_key flows are refused instead.
    provisionKey: config.provision_key,
  }),
});
