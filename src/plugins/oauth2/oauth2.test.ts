/**
 * oauth2 unit tests: config checks, parameter helpers and the grant logic through the plugin's
 * access handler on a real RequestContext (shared counters and cache in-process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { makeContext, type FakeRequest } from '../../../test/harness/plugin-context.ts';
import { LocalCounterStore, LocalSharedCache } from '../../gateway/shared-state/local.ts';
import { emptyConfig, type Config, type Service } from '../../config/entities.ts';
import type { PluginExit } from '../api.ts';
import { Oauth2Schema, checkOauth2Config, ERR_NO_FLOW, type Oauth2Config } from './schema.ts';
import { createOauth2Handlers, endpointOf } from './handler.ts';
import { authenticateToken, bearerChallenge, ERR_TOKEN_GLOBAL } from './authenticate.ts';
import { buildRedirect } from './endpoints.ts';
import { TokenStore, randomToken } from './token-store.ts';

const SERVICE = { id: '11111111-1111-4111-8111-111111111111', name: 'api' } as Service;
const OTHER_SERVICE = { id: '22222222-2222-4222-8222-222222222222', name: 'other' } as Service;
const ALICE = { id: 'c0000000-0000-4000-8000-000000000001', username: 'alice', custom_id: null };
const ANON = { id: 'c0000000-0000-4000-8000-000000000002', username: 'anon', custom_id: null };
const cred = (id: string, clientId: string, extra: Record<string, unknown> = {}) => ({
  id, consumer: { id: ALICE.id }, name: clientId, client_id: clientId, client_secret: `${clientId}-secret`,
  hash_secret: false, redirect_uris: ['https://app.test/cb?keep=1'], client_type: 'confidential', tags: null, created_at: 0, ...extra,
});
const CONFIG: Config = {
  ...emptyConfig(),
  consumers: [ALICE, ANON] as unknown as Config['consumers'],
  oauth2_credentials: [
    cred('o0000000-0000-4000-8000-000000000001', 'app'),
    cred('o0000000-0000-4000-8000-000000000002', 'spa', { client_type: 'public' }),
  ] as unknown as Config['oauth2_credentials'],
};

function config(overrides: Partial<Oauth2Config> = {}): Oauth2Config {
  return { ...(Value.Default(Oauth2Schema, {}) as Oauth2Config), provision_key: 'pk', enable_client_credentials: true,
    enable_password_grant: true, enable_authorization_code: true, scopes: ['read', 'write'], ...overrides };
}

/** One gateway's shared state, reused by every request of a test (as the workers share it). */
function gateway(c: Oauth2Config, pluginId = 'p1', shared?: { cache: LocalSharedCache; counters: LocalCounterStore }) {
  const cache = shared?.cache ?? new LocalSharedCache();
  const counters = shared?.counters ?? new LocalCounterStore();
  const access = createOauth2Handlers(c, { pluginId, provisionKey: c.provision_key }).access!;
  return {
    cache, counters,
    async send(r: FakeRequest & { trusted?: boolean }) {
      const ctx = makeContext({ config: CONFIG, scheme: 'https', service: SERVICE, cache, counters, ...r });
      ctx.request.trustedPeer = r.trusted ?? false;
      const exit = (await access(ctx)) as PluginExit | undefined;
      return { exit, ctx, json: exit?.body as Record<string, any> | undefined };
    },
    post(path: string, form: Record<string, string>, r: FakeRequest & { trusted?: boolean } = {}) {
      return this.send({ method: 'POST', path, body: new URLSearchParams(form).toString(), ...r,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...r.headers } });
    },
  };
}

test('config checks: one grant must be enabled; mandatory_scope needs scopes', () => {
  const none = { ...config(), enable_client_credentials: false, enable_password_grant: false, enable_authorization_code: false };
  assert.deepEqual(checkOauth2Config(none), { '@entity': [ERR_NO_FLOW] });
  assert.deepEqual(checkOauth2Config(config({ mandatory_scope: true, scopes: null })), {
    '@entity': ["failed conditional validation given value of field 'mandatory_scope'"], scopes: 'required field missing',
  });
  assert.equal(checkOauth2Config(config()), null);
  const defaults = Value.Default(Oauth2Schema, {}) as Oauth2Config;
  assert.equal(defaults.token_expiration, 7200);
  assert.equal(defaults.refresh_token_ttl, 1209600);
  assert.equal(defaults.auth_header_name, 'authorization');
  assert.equal(defaults.pkce, 'lax');
});

test('helpers: endpoints by path suffix, challenges, redirect building, random tokens', () => {
  assert.equal(endpointOf('/api/oauth2/token'), 'token');
  assert.equal(endpointOf('/api/oauth2/token/'), 'token');
  assert.equal(endpointOf('/oauth2/authorize'), 'authorize');
  assert.equal(endpointOf('/api/oauth2/tokens'), null);
  assert.equal(bearerChallenge(null), 'Bearer');
  assert.equal(bearerChallenge('r', 'invalid_token', 'd'), 'Bearer realm="r", error="invalid_token", error_description="d"');
  assert.equal(buildRedirect('https://a.test/cb?keep=1', { state: 'a b', code: 'X' }, false), 'https://a.test/cb?code=X&keep=1&state=a%20b');
  assert.equal(buildRedirect('https://a.test/cb', { access_token: 'T', token_type: 'bearer' }, true), 'https://a.test/cb#access_token=T&token_type=bearer');
  assert.match(randomToken(), /^[A-Za-z0-9]{32}$/);
});

test('client_credentials issues a token that authenticates and sets the consumer', async () => {
  const gw = gateway(config({ token_expiration: 60 }));
  const t = await gw.post('/api/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret', scope: 'read' });
  assert.equal(t.exit?.status, 200);
  assert.deepEqual(Object.keys(t.json!).sort(), ['access_token', 'expires_in', 'token_type']);
  const use = await gw.send({ path: '/api/x', headers: { authorization: `Bearer ${t.json!.access_token}` } });
  assert.equal(use.exit, undefined);
  assert.equal(use.ctx.consumer?.username, 'alice');
  assert.equal(use.ctx.upstream.headers['x-credential-identifier'], 'app');
  assert.equal(use.ctx.upstream.headers['x-authenticated-scope'], 'read');
  const other = await gw.send({ path: '/x', service: OTHER_SERVICE, headers: { authorization: `Bearer ${t.json!.access_token}` } });
  assert.equal(other.exit?.status, 401, 'tokens belong to their service');
});

test('token endpoint refusals in Kong order', async () => {
  const gw = gateway(config());
  const http = await gw.post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' }, { scheme: 'http' });
  assert.deepEqual(http.json, { error: 'access_denied', error_description: 'You must use HTTPS' });
  const xfp = await gw.post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' },
    { scheme: 'http', headers: { 'x-forwarded-proto': 'https' } });
  assert.equal(xfp.json!.error, 'access_denied', 'X-Forwarded-Proto counts only with accept_http_if_already_terminated and a trusted peer');
  const terminated = gateway(config({ accept_http_if_already_terminated: true }), 'p1', gw);
  const creds = { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' };
  const viaProxy = await terminated.post('/oauth2/token', creds, { scheme: 'http', trusted: true, headers: { 'x-forwarded-proto': 'https' } });
  assert.equal(viaProxy.exit?.status, 200, 'a trusted proxy terminated TLS');
  const untrusted = await terminated.post('/oauth2/token', creds, { scheme: 'http', headers: { 'x-forwarded-proto': 'https' } });
  assert.equal(untrusted.json!.error_description, 'You must use HTTPS');
  const twice = await terminated.post('/oauth2/token', creds, { scheme: 'http', trusted: true, headers: { 'x-forwarded-proto': 'https, http' } });
  assert.deepEqual(twice.json, { error: 'access_denied', error_description: 'Only one X-Forwarded-Proto header allowed' });
  const pub = await gw.post('/oauth2/token', { grant_type: 'password', client_id: 'spa', client_secret: 'x', provision_key: 'pk', authenticated_userid: 'u' });
  assert.deepEqual(pub.json, { error: 'invalid_request', error_description: 'client_secret is disallowed for public clients' });
  const noUser = await gw.post('/oauth2/token', { grant_type: 'password', client_id: 'app', client_secret: 'app-secret', provision_key: 'pk' });
  assert.deepEqual(noUser.json, { error: 'invalid_authenticated_userid', error_description: 'Missing authenticated_userid parameter' });
  const mandatory = gateway(config({ mandatory_scope: true }));
  const noScope = await mandatory.post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' });
  assert.deepEqual(noScope.json, { error: 'invalid_scope', error_description: 'You must specify a scope' });
  const disabled = gateway(config({ enable_password_grant: false }));
  const pw = await disabled.post('/oauth2/token', { grant_type: 'password', client_id: 'app', client_secret: 'app-secret', provision_key: 'pk', authenticated_userid: 'u' });
  assert.deepEqual(pw.json, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
  const noKey = gateway(config({ provision_key: null }));
  const nk = await noKey.post('/oauth2/token', { grant_type: 'password', client_id: 'app', client_secret: 'app-secret', authenticated_userid: 'u' });
  assert.equal(nk.json!.error, 'invalid_provision_key', 'no configured provision_key: nothing matches');
});

test('authorization_code: public clients need PKCE (lax), codes are single use, implicit grant uses the fragment', async () => {
  const gw = gateway(config({ enable_implicit_grant: true }));
  const authz = { response_type: 'code', client_id: 'spa', provision_key: 'pk', authenticated_userid: 'u1' };
  const noChallenge = await gw.post('/oauth2/authorize', authz);
  assert.equal(noChallenge.exit?.status, 400);
  assert.match(noChallenge.json!.redirect_uri, /error_description=code_challenge%20is%20required%20for%20public%20clients/);
  const verifier = 'x'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const a = await gw.post('/oauth2/authorize', { ...authz, code_challenge: challenge, code_challenge_method: 'S256' });
  assert.equal(a.exit?.status, 200);
  const code = new URL(a.json!.redirect_uri).searchParams.get('code')!;
  assert.equal(new URL(a.json!.redirect_uri).searchParams.get('keep'), '1', 'existing query arguments are kept');
  const short = await gw.post('/oauth2/token', { grant_type: 'authorization_code', client_id: 'spa', code, code_verifier: 'short' });
  assert.deepEqual(short.json, { error: 'invalid_request', error_description: 'code_verifier must be between 43 and 128 characters' });
  const t = await gw.post('/oauth2/token', { grant_type: 'authorization_code', client_id: 'spa', code, code_verifier: verifier });
  assert.equal(t.exit?.status, 200, JSON.stringify(t.json));
  const again = await gw.post('/oauth2/token', { grant_type: 'authorization_code', client_id: 'spa', code, code_verifier: verifier });
  assert.deepEqual(again.json, { error: 'invalid_request', error_description: 'Invalid code' });

  const implicit = await gw.post('/oauth2/authorize', { response_type: 'token', client_id: 'app', provision_key: 'pk', authenticated_userid: 'u1', state: 's' });
  assert.equal(implicit.exit?.status, 200);
  const url = new URL(implicit.json!.redirect_uri);
  assert.match(url.hash, /^#access_token=[A-Za-z0-9]{32}&expires_in=7200&state=s&token_type=bearer$/);
  const strict = gateway(config({ pkce: 'strict' }));
  const conf = await strict.post('/oauth2/authorize', { ...authz, client_id: 'app' });
  assert.match(conf.json!.redirect_uri, /code_challenge%20is%20required%20for%20confidential%20clients/);
});

test('refresh with reuse_refresh_token keeps the refresh token and drops the old access token', async () => {
  const gw = gateway(config({ reuse_refresh_token: true }));
  const base = { client_id: 'app', client_secret: 'app-secret' };
  const t = await gw.post('/oauth2/token', { grant_type: 'password', ...base, provision_key: 'pk', authenticated_userid: 'u', scope: 'write' });
  const r = await gw.post('/oauth2/token', { grant_type: 'refresh_token', ...base, refresh_token: t.json!.refresh_token });
  assert.equal(r.exit?.status, 200);
  assert.equal(r.json!.refresh_token, t.json!.refresh_token);
  const old = await gw.send({ path: '/x', headers: { authorization: `Bearer ${t.json!.access_token}` } });
  assert.equal(old.exit?.status, 401);
  const fresh = await gw.send({ path: '/x', headers: { authorization: `Bearer ${r.json!.access_token}` } });
  assert.equal(fresh.ctx.upstream.headers['x-authenticated-userid'], 'u');
  // The plugin's scopes changed since the token was issued: Kong refuses the refresh.
  const narrowed = gateway(config({ scopes: ['read'] }), 'p1', gw);
  const mismatch = await narrowed.post('/oauth2/token', { grant_type: 'refresh_token', ...base, refresh_token: t.json!.refresh_token });
  assert.deepEqual(mismatch.json, { error: 'invalid_scope', error_description: 'Scope mismatch' });
});

test('expiry, global tokens, hide_credentials, anonymous and auth_header_name', async () => {
  const c = config({ token_expiration: 10, hide_credentials: true });
  const gw = gateway(c);
  const t = await gw.post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' });
  const store = new TokenStore(gw.cache, gw.counters);
  const later = makeContext({ config: CONFIG, service: SERVICE, headers: { authorization: `Bearer ${t.json!.access_token}` } });
  const expired = await authenticateToken(c, later, store, () => Date.now() + 11_000);
  assert.equal(expired?.status, 401);
  assert.equal(expired?.body.error_description, 'The access token is invalid or has expired');

  const hidden = await gw.send({ path: '/x', query: `access_token=${t.json!.access_token}&a=1` });
  assert.equal(hidden.exit, undefined);
  assert.equal(hidden.ctx.upstream.query, 'a=1');
  const header = await gw.send({ path: '/x', headers: { authorization: `Token ${t.json!.access_token}` } });
  assert.equal(header.ctx.upstream.headers.authorization, undefined);

  const global = gateway(config({ global_credentials: true }));
  const g = await global.post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' });
  const gStore = new TokenStore(global.cache, global.counters);
  const strictCtx = makeContext({ config: CONFIG, service: SERVICE, headers: { authorization: `Bearer ${g.json!.access_token}` } });
  const refused = await authenticateToken(config(), strictCtx, gStore);
  assert.equal(refused?.body.error_description, ERR_TOKEN_GLOBAL);
  const elsewhere = await global.send({ path: '/x', service: OTHER_SERVICE, headers: { authorization: `Bearer ${g.json!.access_token}` } });
  assert.equal(elsewhere.exit, undefined, 'global tokens work on any service with global_credentials');

  const anon = gateway(config({ anonymous: 'anon' }));
  const a = await anon.send({ path: '/x' });
  assert.equal(a.exit, undefined);
  assert.equal(a.ctx.consumer?.username, 'anon');
  assert.equal(a.ctx.upstream.headers['x-anonymous-consumer'], 'true');

  const named = gateway(config({ auth_header_name: 'x-token' }));
  const n = await named.post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'app', client_secret: 'app-secret' });
  const viaHeader = await named.send({ path: '/x', headers: { 'x-token': `Bearer ${n.json!.access_token}` } });
  assert.equal(viaHeader.exit, undefined);
  const viaAuthorization = await named.send({ path: '/x', headers: { authorization: `Bearer ${n.json!.access_token}` } });
  assert.equal(viaAuthorization.exit?.status, 401, 'only auth_header_name carries the token');
  assert.equal((viaAuthorization.exit?.body as Record<string, string>).error_description, 'The access token is missing');
});

test('claimOnce grants a code or refresh token to exactly one caller', async () => {
  const store = new TokenStore(new LocalSharedCache(), new LocalCounterStore());
  const results = await Promise.all([1, 2, 3].map(() => store.claimOnce('code', 'c1', 300)));
  assert.deepEqual(results.filter(Boolean).length, 1);
});
