/**
 * @module plugins/oauth2/endpoints
 * The two endpoints Kong's oauth2 plugin answers itself on any route it protects:
 * `POST …/oauth2/authorize` (called by the application's backend after the user consented, with
 * the `provision_key`) and `POST …/oauth2/token` (the grants). Checks run in Kong's order, and as
 * in Kong a later failed check replaces an earlier error.
 */
import { createHash } from 'node:crypto';
import type { Oauth2Credential } from '../../config/entities.ts';
import { verifyStoredSecret } from '../../config/stored-secrets.ts';
import type { PluginContext, PluginExit } from '../api.ts';
import type { Params } from './params.ts';
import { entryTtl, randomToken, type StoredToken, type TokenStore } from './token-store.ts';
import type { Oauth2Config } from './schema.ts';

export type OauthError = { error: string; error_description: string };
type ResponseParams = Record<string, unknown>;

const NO_CACHE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export interface EndpointEnv {
  config: Oauth2Config;
  /** null: no provision_key configured, every provision_key check fails. */
  provisionKey: string | null;
  pluginId: string;
  store: TokenStore;
}

const err = (error: string, error_description: string): OauthError => ({ error, error_description });
const INVALID_CLIENT = () => err('invalid_client', 'Invalid client authentication');
const INVALID_REDIRECT = () =>
  err('invalid_request', 'Invalid redirect_uri that does not match with any redirect_uri created with the application');

/** Kong's `check_https`: the listener's scheme, or a trusted peer's single X-Forwarded-Proto. */
export function checkHttps(ctx: PluginContext, acceptTerminated: boolean): OauthError | null {
  if (ctx.request.scheme === 'https') return null;
  if (acceptTerminated && ctx.request.trustedPeer) {
    const proto = ctx.request.headers['x-forwarded-proto'];
    const value = Array.isArray(proto) ? proto.join(',') : proto;
    if (value !== undefined) {
      if (value.includes(',')) return err('access_denied', 'Only one X-Forwarded-Proto header allowed');
      if (value.toLowerCase() === 'https') return null;
    }
  }
  return err('access_denied', 'You must use HTTPS');
}

function provisionKeyMatches(env: EndpointEnv, params: Params): boolean {
  return env.provisionKey !== null && params.get('provision_key') === env.provisionKey;
}

const blank = (s: unknown) => typeof s !== 'string' || s.trim() === '';

/** Kong's `retrieve_scope`: the requested scopes (space separated), all of which must be allowed. */
export function retrieveScope(params: Params, config: Oauth2Config): { scope: string | null } | OauthError {
  const raw = params.get('scope');
  if (config.scopes && raw !== undefined) {
    if (typeof raw !== 'string') return err('invalid_scope', 'scope must be a string');
    const scopes: string[] = [];
    for (const s of raw.split(/\s+/).filter(Boolean)) {
      if (!config.scopes.includes(s)) return err('invalid_scope', `"${s}" is an invalid scope`);
      scopes.push(s);
    }
    return { scope: scopes.length > 0 ? scopes.join(' ') : null };
  }
  if (raw === undefined && config.mandatory_scope) return err('invalid_scope', 'You must specify a scope');
  return { scope: null };
}

const base64url = (b: Buffer) => b.toString('base64url');

/** Kong's `retrieve_code_challenge`: normalizes the challenge and accepts only S256. */
export function retrieveCodeChallenge(params: Params):
  { challenge: string | null; method: string } | { message: string } {
  let challenge = params.str('code_challenge') ?? null;
  const method = params.get('code_challenge_method');
  if (method !== undefined && challenge === null) return { message: 'code_challenge is required when code_method is present' };
  if (challenge !== null) {
    if (/^[A-Za-z0-9_-]*={0,2}$/.test(challenge) && challenge.replace(/=+$/, '').length % 4 !== 1) {
      challenge = base64url(Buffer.from(challenge.replace(/=+$/, ''), 'base64url'));
    }
    if (method !== undefined && method !== 'S256' && method !== 's256') return { message: 'code_challenge_method is not supported, must be S256' };
  }
  return { challenge, method: 'S256' };
}

function requiresPkce(config: Oauth2Config, client: Oauth2Credential | undefined, usedPkce = false): boolean {
  if (!client) return false;
  return usedPkce
    || (client.client_type === 'public' && config.pkce !== 'none')
    || (client.client_type === 'confidential' && config.pkce === 'strict');
}

/** socket.url's escape: everything but `[A-Za-z0-9_]` as lower-case `%xx` (UTF-8 bytes). */
function luaEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_]/.test(c) ? c : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Kong's `encode_args`: keys sorted, values escaped; arrays repeat the key. */
function encodeArgs(args: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of Object.keys(args).sort()) {
    const v = args[key];
    if (v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [v];
    for (const one of values) {
      if (one === true) parts.push(luaEscape(key));
      else parts.push(`${luaEscape(key)}=${luaEscape(String(one))}`);
    }
  }
  return parts.join('&');
}

/** Kong's ngx.decode_args of an existing query/fragment. */
function decodeArgs(s: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of s.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const dec = (x: string) => { try { return decodeURIComponent(x.replace(/\+/g, ' ')); } catch { return x; } };
    const k = dec(eq === -1 ? pair : pair.slice(0, eq));
    const v: unknown = eq === -1 ? true : dec(pair.slice(eq + 1));
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** The redirect URI with Kong's parameters merged into its query (or fragment, implicit grant). */
export function buildRedirect(redirectUri: string, params: ResponseParams, inFragment: boolean): string {
  const hashAt = redirectUri.indexOf('#');
  const beforeHash = hashAt === -1 ? redirectUri : redirectUri.slice(0, hashAt);
  let fragment = hashAt === -1 ? null : redirectUri.slice(hashAt + 1);
  const q = beforeHash.indexOf('?');
  const base = q === -1 ? beforeHash : beforeHash.slice(0, q);
  let query = q === -1 ? null : beforeHash.slice(q + 1);
  const existing = inFragment ? (fragment ?? '') : (query ?? '');
  const encoded = encodeArgs({ ...decodeArgs(existing), ...params });
  if (inFragment) fragment = encoded; else query = encoded;
  return base + (query !== null && query !== '' ? `?${query}` : '') + (fragment !== null && fragment !== '' ? `#${fragment}` : '');
}

/** Kong's `generate_token`: stores a new token (or re-keys `existing`) and returns the response body. */
async function generateToken(env: EndpointEnv, ctx: PluginContext, client: Oauth2Credential,
  authenticatedUserid: string | null, scope: string | null, state: unknown, disableRefresh: boolean,
  existing?: StoredToken): Promise<ResponseParams> {
  const { config, store } = env;
  const expiration = config.token_expiration;
  const ttl = entryTtl(expiration, config.refresh_token_ttl);
  let token: StoredToken;
  if (existing && config.reuse_refresh_token) {
    await store.deleteToken(existing, true);
    token = { ...existing, access_token: randomToken(), expires_in: expiration, created_at: Date.now(), ttl };
  } else {
    token = {
      access_token: randomToken(),
      refresh_token: !disableRefresh && expiration > 0 ? randomToken() : null,
      credential_id: client.id,
      client_id: client.client_id,
      service_id: config.global_credentials ? null : ctx.service?.id ?? null,
      authenticated_userid: authenticatedUserid,
      scope,
      expires_in: expiration,
      created_at: Date.now(),
      ttl,
    };
  }
  await store.saveToken(token);
  const body: ResponseParams = { access_token: token.access_token, token_type: 'bearer' };
  if (expiration > 0) body.expires_in = token.expires_in;
  if (token.refresh_token) body.refresh_token = token.refresh_token;
  if (state !== undefined) body.state = state;
  return body;
}

function lookupClient(ctx: PluginContext, clientId: unknown): Oauth2Credential | undefined {
  return typeof clientId === 'string' && clientId !== '' ? ctx.consumers.oauth2(clientId) : undefined;
}

/** `POST …/oauth2/authorize`. */
export async function authorize(env: EndpointEnv, ctx: PluginContext, params: Params): Promise<PluginExit> {
  const { config } = env;
  const state = params.get('state');
  let response: ResponseParams = {};
  let redirectUri: string | null = null;
  let implicit = false;
  const https = checkHttps(ctx, config.accept_http_if_already_terminated);
  if (https) response = https;
  else if (!provisionKeyMatches(env, params)) response = err('invalid_provision_key', 'Invalid provision_key');
  else if (blank(params.get('authenticated_userid'))) {
    response = err('invalid_authenticated_userid', 'Missing authenticated_userid parameter');
  } else {
    const responseType = params.get('response_type');
    if (!((responseType === 'code' && config.enable_authorization_code)
      || (responseType === 'token' && config.enable_implicit_grant))) {
      response = err('unsupported_response_type', 'Invalid response_type');
    }
    const scope = retrieveScope(params, config);
    if ('error' in scope) response = scope;
    const client = lookupClient(ctx, params.get('client_id'));
    const allowed = client?.redirect_uris ?? null;
    if (!client || !allowed) response = INVALID_CLIENT();
    else {
      const asked = params.get('redirect_uri');
      const wanted = asked !== undefined ? asked : allowed[0];
      redirectUri = typeof wanted === 'string' ? wanted : null;
      if (redirectUri === null || !allowed.includes(redirectUri)) {
        response = INVALID_REDIRECT();
        redirectUri = allowed[0] ?? null;
      }
    }
    const pkce = retrieveCodeChallenge(params);
    let challengeMethod: string | null = null;
    if ('message' in pkce) response = err('invalid_request', pkce.message);
    else if (client && pkce.challenge === null && requiresPkce(config, client)) {
      response = err('invalid_request', `code_challenge is required for ${client.client_type} clients`);
    } else if (pkce.challenge !== null) challengeMethod = pkce.method;

    if (!('error' in response) && client && !('error' in scope) && !('message' in pkce)) {
      const userid = params.str('authenticated_userid') ?? null;
      if (responseType === 'code') {
        const code = randomToken();
        await env.store.saveCode({
          code, credential_id: client.id, client_id: client.client_id,
          service_id: config.global_credentials ? null : ctx.service?.id ?? null,
          authenticated_userid: userid, scope: scope.scope, challenge: pkce.challenge,
          challenge_method: challengeMethod, plugin_id: env.pluginId,
        });
        response = { code };
      } else {
        response = await generateToken(env, ctx, client, userid, scope.scope, state, true);
        implicit = true;
      }
    }
  }
  if (state !== undefined) response.state = state;
  const status = 'error' in response ? 400 : 200;
  const body = redirectUri !== null ? { redirect_uri: buildRedirect(redirectUri, response, implicit) } : response;
  return { status, body, headers: NO_CACHE };
}

/** Kong's `retrieve_client_credentials`: body/query first, then HTTP Basic in `auth_header_name`. */
function clientCredentials(ctx: PluginContext, params: Params, headerName: string):
  { clientId: unknown; clientSecret: unknown; fromHeader: boolean } {
  const id = params.get('client_id');
  const secret = params.get('client_secret');
  if (id !== undefined && secret !== undefined) return { clientId: id, clientSecret: secret, fromHeader: false };
  const raw = ctx.request.headers[headerName.toLowerCase()];
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (header !== undefined) {
    const m = /^\s*[Bb]asic\s*(.+)/.exec(header);
    if (m) {
      const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon === -1
        ? { clientId: decoded, clientSecret: undefined, fromHeader: true }
        : { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1), fromHeader: true };
    }
    return { clientId: undefined, clientSecret: undefined, fromHeader: true };
  }
  return { clientId: id, clientSecret: undefined, fromHeader: false };
}

function pkceVerifierError(params: Params, challenge: string | null): OauthError | null {
  const verifier = params.get('code_verifier');
  if (verifier === undefined) return err('invalid_request', 'code_verifier is required for PKCE authorization requests');
  if (typeof verifier !== 'string') return err('invalid_request', 'code_verifier is not a string');
  if (verifier.length < 43 || verifier.length > 128) return err('invalid_request', 'code_verifier must be between 43 and 128 characters');
  const computed = base64url(createHash('sha256').update(verifier).digest());
  if (!challenge || computed !== challenge) return err('invalid_grant', 'Invalid code');
  return null;
}

/** `POST …/oauth2/token`. */
export async function issueToken(env: EndpointEnv, ctx: PluginContext, params: Params): Promise<PluginExit> {
  const { config, store } = env;
  const state = params.get('state');
  let response: ResponseParams = {};
  let unauthorizedClient = false;
  const serviceId = config.global_credentials ? null : ctx.service?.id ?? null;
  const https = checkHttps(ctx, config.accept_http_if_already_terminated);
  if (https) response = https;
  else {
    const grant = params.get('grant_type');
    if (!(grant === 'authorization_code' || grant === 'refresh_token'
      || (config.enable_client_credentials && grant === 'client_credentials')
      || (config.enable_password_grant && grant === 'password'))) {
      response = err('unsupported_grant_type', 'Invalid grant_type');
    }
    const { clientId, clientSecret, fromHeader } = clientCredentials(ctx, params, config.auth_header_name);
    const client = lookupClient(ctx, clientId);
    if (grant !== 'client_credentials') {
      const allowed = client?.redirect_uris ?? null;
      if (allowed) {
        const asked = params.get('redirect_uri');
        const redirectUri = asked !== undefined ? asked : allowed[0];
        if (typeof redirectUri !== 'string' || !allowed.includes(redirectUri)) response = INVALID_REDIRECT();
      } else {
        response = INVALID_CLIENT();
        unauthorizedClient = fromHeader;
      }
    }
    if (client) {
      if (client.client_type === 'confidential') {
        const ok = typeof clientSecret === 'string' && verifyStoredSecret(client.client_secret, clientSecret);
        if (!ok) {
          response = INVALID_CLIENT();
          unauthorizedClient = fromHeader;
        }
      } else if (client.client_type === 'public' && !blank(clientSecret)) {
        response = err('invalid_request', 'client_secret is disallowed for public clients');
      }
    }

    if (!('error' in response)) {
      if (grant === 'authorization_code') response = await codeGrant(env, ctx, params, client!, serviceId, state);
      else if (grant === 'client_credentials') {
        if (params.get('authenticated_userid') !== undefined && !provisionKeyMatches(env, params)) {
          response = err('invalid_provision_key', 'Invalid provision_key');
        } else if (!client) {
          response = INVALID_CLIENT();
        } else {
          const scope = retrieveScope(params, config);
          response = 'error' in scope ? scope
            : await generateToken(env, ctx, client, params.str('authenticated_userid') ?? null, scope.scope, state, true);
        }
      } else if (grant === 'password' && client) {
        if (!provisionKeyMatches(env, params)) response = err('invalid_provision_key', 'Invalid provision_key');
        else if (blank(params.get('authenticated_userid'))) {
          response = err('invalid_authenticated_userid', 'Missing authenticated_userid parameter');
        } else {
          const scope = retrieveScope(params, config);
          response = 'error' in scope ? scope
            : await generateToken(env, ctx, client, params.str('authenticated_userid')!, scope.scope, state, false);
        }
      } else if (grant === 'refresh_token' && client) {
        const refresh = params.str('refresh_token');
        const token = refresh !== undefined ? await store.tokenByRefresh(refresh) : undefined;
        if (!token || (serviceId !== null && serviceId !== token.service_id)) response = err('invalid_request', 'Invalid refresh_token');
        else if (token.credential_id !== client.id) response = INVALID_CLIENT();
        else if (token.scope && token.scope.split(/\s+/).some((s) => s !== '' && !(config.scopes ?? []).includes(s))) {
          response = err('invalid_scope', 'Scope mismatch');
        } else if (!config.reuse_refresh_token && !(await store.claimOnce('refresh', refresh!, token.ttl))) {
          response = err('invalid_request', 'Invalid refresh_token');
        } else {
          response = await generateToken(env, ctx, client, token.authenticated_userid, token.scope, state, false, token);
          if (!config.reuse_refresh_token) await store.deleteToken(token);
        }
      }
    }
  }
  if (state !== undefined) response.state = state;
  const isError = 'error' in response;
  const headers: Record<string, string> = { ...NO_CACHE };
  if (isError && unauthorizedClient) headers['www-authenticate'] = 'Basic realm="OAuth2.0"';
  return { status: isError ? (unauthorizedClient ? 401 : 400) : 200, body: response, headers };
}

async function codeGrant(env: EndpointEnv, ctx: PluginContext, params: Params, client: Oauth2Credential,
  serviceId: string | null, state: unknown): Promise<ResponseParams> {
  const value = params.str('code');
  const code = value !== undefined ? await env.store.code(value) : undefined;
  const invalidCode = () => err('invalid_request', 'Invalid code');
  if (!code || (serviceId !== null && serviceId !== code.service_id)) return invalidCode();
  if (code.credential_id !== client.id) return invalidCode();
  if (requiresPkce(env.config, client, code.challenge_method !== null)) {
    const e = pkceVerifierError(params, code.challenge);
    if (e) return e;
  }
  if (env.config.global_credentials && code.plugin_id !== env.pluginId) return invalidCode();
  // Single use, even when two workers see the same code at once.
  if (!(await env.store.claimOnce('code', code.code, 300))) return invalidCode();
  await env.store.deleteCode(code.code);
  return generateToken(env, ctx, client, code.authenticated_userid, code.scope, state, false);
}
