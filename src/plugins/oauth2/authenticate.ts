/**
 * @module plugins/oauth2/authenticate
 * Requests to the protected API: find the access token (the `auth_header_name` header as
 * `Bearer`/`Token`, else an `access_token` parameter), check it belongs to this service and has
 * not expired, and set the consumer with the X-Consumer-*, X-Authenticated-Scope and
 * X-Authenticated-Userid headers.
 */
import type { Consumer } from '../../config/entities.ts';
import type { Credential, PluginContext, PluginExit } from '../api.ts';
import { setConsumer as setConsumerHeaders } from '../key-auth/consumer-headers.ts';
import { withoutQueryArg } from '../key-auth/access.ts';
import { readParams } from './params.ts';
import type { StoredToken, TokenStore } from './token-store.ts';
import type { Oauth2Config } from './schema.ts';

export const ERR_TOKEN_MISSING = 'The access token is missing';
export const ERR_TOKEN_INVALID = 'The access token is invalid or has expired';
export const ERR_TOKEN_GLOBAL = "The access token is global, but the current plugin is configured without 'global_credentials'";

/** Kong's `make_www_authenticate_header`. */
export function bearerChallenge(realm: string | null, error?: string, description?: string): string {
  const params: string[] = [];
  if (realm) params.push(`realm="${realm}"`);
  if (error) params.push(`error="${error}"`);
  if (description) params.push(`error_description="${description}"`);
  return params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
}

export function setConsumer(ctx: PluginContext, consumer: Consumer | null, credential: Credential | null,
  clientId: string | null, token: StoredToken | null): void {
  setConsumerHeaders(ctx, consumer, credential, credential ? clientId : null);
  if (token?.scope) ctx.upstream.setHeader('x-authenticated-scope', token.scope);
  else ctx.upstream.removeHeader('x-authenticated-scope');
  if (token?.authenticated_userid) ctx.upstream.setHeader('x-authenticated-userid', token.authenticated_userid);
  else ctx.upstream.removeHeader('x-authenticated-userid');
}

async function findAccessToken(config: Oauth2Config, ctx: PluginContext): Promise<string | undefined> {
  const headerName = config.auth_header_name.toLowerCase();
  const raw = ctx.request.headers[headerName];
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (header !== undefined) {
    const parts = header.split(/\s+/).filter(Boolean);
    const bearer = parts.length === 2 && ['token', 'bearer'].includes(parts[0]!.toLowerCase());
    if (config.hide_credentials && bearer) ctx.upstream.removeHeader(headerName);
    // Anything else in the header is taken as the token itself (and will not be found).
    return bearer ? parts[1] : header;
  }
  const params = await readParams(ctx);
  const token = params.get('access_token');
  if (typeof token !== 'string') return undefined;
  if (config.hide_credentials) {
    if (ctx.upstream.query !== '') ctx.upstream.query = withoutQueryArg(ctx.upstream.query, 'access_token');
    const ct = ctx.request.headers['content-type'];
    const isForm = (Array.isArray(ct) ? ct[0] : ct)?.includes('application/x-www-form-urlencoded');
    if (ctx.request.method !== 'GET' && isForm && params.body) {
      const stripped = params.body.without('access_token');
      if (stripped) ctx.upstream.setBody(stripped);
    }
  }
  return token;
}

export interface Unauthorized { status: number; body: Record<string, string>; headers: Record<string, string> }

function invalidToken(realm: string | null, description = ERR_TOKEN_INVALID): Unauthorized {
  return {
    status: 401,
    body: { error: 'invalid_token', error_description: description },
    headers: { 'WWW-Authenticate': bearerChallenge(realm, 'invalid_token', ERR_TOKEN_INVALID) },
  };
}

/** Authenticates the request; returns the 401 to send, or null on success. */
export async function authenticateToken(config: Oauth2Config, ctx: PluginContext, store: TokenStore,
  now: () => number = Date.now): Promise<Unauthorized | null> {
  const realm = config.realm ?? null;
  const accessToken = await findAccessToken(config, ctx);
  if (!accessToken) {
    return {
      status: 401,
      body: { error: 'invalid_request', error_description: ERR_TOKEN_MISSING },
      headers: { 'WWW-Authenticate': bearerChallenge(realm) },
    };
  }
  const token = await store.token(accessToken);
  if (!token) return invalidToken(realm);
  const serviceId = ctx.service?.id ?? null;
  if (!config.global_credentials) {
    if (token.service_id === null) return invalidToken(realm, ERR_TOKEN_GLOBAL);
    if (token.service_id !== serviceId) return invalidToken(realm);
  } else if (token.service_id !== null && token.service_id !== serviceId) {
    return invalidToken(realm);
  }
  if (token.expires_in > 0 && (now() - token.created_at) / 1000 > token.expires_in) return invalidToken(realm);
  const credential = ctx.consumers.oauth2(token.client_id);
  // The credential was removed (or replaced) since the token was issued.
  if (!credential || credential.id !== token.credential_id) return invalidToken(realm);
  const consumer = ctx.consumers.consumer(credential.consumer?.id ?? '') ?? null;
  setConsumer(ctx, consumer, credential, credential.client_id, token);
  return null;
}

export function toExit(u: Unauthorized): PluginExit {
  return { status: u.status, body: u.body, headers: u.headers };
}
