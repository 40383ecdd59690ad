/**
 * @module plugins/oauth2/handler
 * The access phase: the plugin's own endpoints (matched on the end of the request path, as Kong
 * does), then bearer authentication, "logical AND" without `anonymous` and "logical OR" with it.
 */
import type { PluginContext, PluginExit, PluginHandlers } from '../api.ts';
import { setAnonymousConsumer } from '../key-auth/consumer-headers.ts';
import { authenticateToken, bearerChallenge, toExit } from './authenticate.ts';
import { authorize, issueToken, type EndpointEnv } from './endpoints.ts';
import { readParams } from './params.ts';
import type { Oauth2Config } from './schema.ts';
import { TokenStore } from './token-store.ts';

export interface Oauth2Instance { pluginId: string; provisionKey: string | null }

/** Which of the plugin's endpoints the path ends with (a trailing slash allowed). */
export function endpointOf(path: string): 'token' | 'authorize' | null {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  if (p.endsWith('/oauth2/token')) return 'token';
  if (p.endsWith('/oauth2/authorize')) return 'authorize';
  return null;
}

function invalidMethod(ctx: PluginContext, endpoint: string, realm: string | null): PluginExit {
  const description = `The HTTP method ${ctx.request.method} is invalid for the ${endpoint} endpoint`;
  return {
    status: 405,
    body: { error: 'invalid_method', error_description: description },
    headers: { 'WWW-Authenticate': bearerChallenge(realm, 'invalid_method', description) },
  };
}

export function createOauth2Handlers(config: Oauth2Config, instance: Oauth2Instance): PluginHandlers {
  const realm = config.realm ?? null;
  return {
    async access(ctx) {
      const store = new TokenStore(ctx.cache, ctx.counters);
      const endpoint = endpointOf(ctx.request.path);
      if (endpoint !== null) {
        if (ctx.request.method !== 'POST') return invalidMethod(ctx, endpoint === 'token' ? 'token' : 'authorization', realm);
        const env: EndpointEnv = { config, provisionKey: instance.provisionKey, pluginId: instance.pluginId, store };
        const params = await readParams(ctx);
        return endpoint === 'token' ? issueToken(env, ctx, params) : authorize(env, ctx, params);
      }
      if (config.anonymous !== null) {
        if (ctx.credential) {
          // Already authenticated by another plugin: this one only clears its own headers.
          ctx.upstream.removeHeader('x-authenticated-scope');
          ctx.upstream.removeHeader('x-authenticated-userid');
          return undefined;
        }
        const failure = await authenticateToken(config, ctx, store);
        if (failure === null) return undefined;
        ctx.upstream.removeHeader('x-authenticated-scope');
        ctx.upstream.removeHeader('x-authenticated-userid');
        return setAnonymousConsumer(ctx, config.anonymous);
      }
      const failure = await authenticateToken(config, ctx, store);
      return failure === null ? undefined : toExit(failure);
    },
  };
}
