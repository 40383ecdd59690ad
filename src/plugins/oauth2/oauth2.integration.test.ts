/**
 * oauth2 end to end: a real gateway with two workers, a recording upstream and real sockets.
 * Every request opens a new connection, so node:cluster's round robin spreads them over both
 * workers: a token issued through one worker must work through the other.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

const CLIENT = { client_id: 'app-id', client_secret: 'app-secret' };
const HTTPS = { 'x-forwarded-proto': 'https' };
const full = {
  scopes: ['email', 'profile'], provision_key: 'prov-key', token_expiration: 3600,
  enable_authorization_code: true, enable_client_credentials: true, enable_password_grant: true,
  enable_implicit_grant: true, accept_http_if_already_terminated: true,
};

before(async () => {
  up = await startRecordingUpstream();
  gw = await startGateway({
    workers: 2,
    args: ['--trusted-ips', '127.0.0.1'],
    config: {
      _format_version: '3.0',
      services: [
        { name: 'api', url: up.url, routes: [
          { name: 'api', paths: ['/api'], plugins: [{ name: 'oauth2', config: full }] },
        ] },
        { name: 'strict', url: up.url, routes: [
          { name: 'strict', paths: ['/strict'], plugins: [{ name: 'oauth2', config: { enable_client_credentials: true, realm: 'service' } }] },
        ] },
        { name: 'short', url: up.url, routes: [
          { name: 'short', paths: ['/short'], plugins: [{ name: 'oauth2', config: { enable_client_credentials: true, token_expiration: 1, accept_http_if_already_terminated: true } }] },
        ] },
      ],
      consumers: [
        { username: 'alice', custom_id: 'alice-custom', oauth2_credentials: [
          { name: 'App', ...CLIENT, redirect_uris: ['https://app.test/cb'] },
          { name: 'Hashed', client_id: 'hashed-id', client_secret: 'hashed-secret', hash_secret: true, redirect_uris: ['https://app.test/cb'] },
        ] },
      ],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string; json: any }

/** One request on a fresh connection (so consecutive requests alternate between workers). */
function call(method: string, path: string, opts: { headers?: Record<string, string>; form?: Record<string, string>; json?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.form) { body = new URLSearchParams(opts.form).toString(); headers['content-type'] = 'application/x-www-form-urlencoded'; }
  if (opts.json !== undefined) { body = JSON.stringify(opts.json); headers['content-type'] = 'application/json'; }
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.proxy}${path}`, { method, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { data += c; });
      res.on('end', () => {
        let json: unknown;
        try { json = JSON.parse(data); } catch { json = undefined; }
        resolve({ status: res.statusCode!, headers: res.headers, body: data, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const lastSeen = () => up.requests[up.requests.length - 1]!;

async function clientCredentialsToken(prefix = '/api'): Promise<Reply> {
  return call('POST', `${prefix}/oauth2/token`, { headers: HTTPS, form: { grant_type: 'client_credentials', ...CLIENT } });
}

test('client_credentials: token issued through one worker works through both', async () => {
  const t = await clientCredentialsToken();
  assert.equal(t.status, 200, t.body);
  assert.equal(t.headers['cache-control'], 'no-store');
  assert.equal(t.headers.pragma, 'no-cache');
  assert.equal(t.json.token_type, 'bearer');
  assert.equal(t.json.expires_in, 3600);
  assert.match(t.json.access_token, /^[A-Za-z0-9]{32}$/);
  assert.equal(t.json.refresh_token, undefined, 'client_credentials gives no refresh token');
  for (let i = 0; i < 4; i++) {
    const r = await call('GET', '/api/things', { headers: { authorization: `Bearer ${t.json.access_token}` } });
    assert.equal(r.status, 200, `request ${i}: ${r.body}`);
    const seen = lastSeen();
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-consumer-custom-id'], 'alice-custom');
    assert.equal(seen.headers['x-credential-identifier'], 'app-id');
    assert.equal(seen.headers['x-authenticated-userid'], undefined);
  }
  // The token is also accepted as a query or body parameter.
  const q = await call('GET', `/api/things?access_token=${t.json.access_token}`);
  assert.equal(q.status, 200);
  const b = await call('POST', '/api/things', { form: { access_token: t.json.access_token } });
  assert.equal(b.status, 200);
});

test('missing, unknown and wrong-service tokens: 401 with Kong bodies and challenges', async () => {
  const missing = await call('GET', '/api/things');
  assert.equal(missing.status, 401);
  assert.deepEqual(missing.json, { error: 'invalid_request', error_description: 'The access token is missing' });
  assert.equal(missing.headers['www-authenticate'], 'Bearer');
  const realm = await call('GET', '/strict/things');
  assert.equal(realm.headers['www-authenticate'], 'Bearer realm="service"');
  const unknown = await call('GET', '/api/things', { headers: { authorization: 'Bearer nope' } });
  assert.equal(unknown.status, 401);
  assert.deepEqual(unknown.json, { error: 'invalid_token', error_description: 'The access token is invalid or has expired' });
  assert.equal(unknown.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="The access token is invalid or has expired"');
  const t = await clientCredentialsToken();
  const other = await call('GET', '/short/things', { headers: { authorization: `Bearer ${t.json.access_token}` } });
  assert.equal(other.status, 401, 'a token is bound to the service it was issued for');
});

test('password grant with scopes, then refresh_token rotates the tokens', async () => {
  const bad = await call('POST', '/api/oauth2/token', { headers: HTTPS, json: { grant_type: 'password', ...CLIENT, provision_key: 'wrong', authenticated_userid: 'u1' } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json, { error: 'invalid_provision_key', error_description: 'Invalid provision_key' });
  const badScope = await call('POST', '/api/oauth2/token', { headers: HTTPS, json: { grant_type: 'password', ...CLIENT, provision_key: 'prov-key', authenticated_userid: 'u1', scope: 'admin' } });
  assert.deepEqual(badScope.json, { error: 'invalid_scope', error_description: '"admin" is an invalid scope' });

  const t = await call('POST', '/api/oauth2/token', { headers: HTTPS, json: { grant_type: 'password', ...CLIENT, provision_key: 'prov-key', authenticated_userid: 'user-1', scope: 'email profile', state: 's1' } });
  assert.equal(t.status, 200, t.body);
  assert.equal(t.json.state, 's1');
  assert.match(t.json.refresh_token, /^[A-Za-z0-9]{32}$/);
  const use = await call('GET', '/api/me', { headers: { authorization: `bearer ${t.json.access_token}` } });
  assert.equal(use.status, 200);
  assert.equal(lastSeen().headers['x-authenticated-userid'], 'user-1');
  assert.equal(lastSeen().headers['x-authenticated-scope'], 'email profile');

  const r = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'refresh_token', ...CLIENT, refresh_token: t.json.refresh_token } });
  assert.equal(r.status, 200, r.body);
  assert.notEqual(r.json.access_token, t.json.access_token);
  assert.notEqual(r.json.refresh_token, t.json.refresh_token);
  for (let i = 0; i < 2; i++) {
    const old = await call('GET', '/api/me', { headers: { authorization: `Bearer ${t.json.access_token}` } });
    assert.equal(old.status, 401, 'the refreshed token is gone on every worker');
    const fresh = await call('GET', '/api/me', { headers: { authorization: `Bearer ${r.json.access_token}` } });
    assert.equal(fresh.status, 200);
    assert.equal(lastSeen().headers['x-authenticated-userid'], 'user-1');
  }
  const again = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'refresh_token', ...CLIENT, refresh_token: t.json.refresh_token } });
  assert.equal(again.status, 400);
  assert.deepEqual(again.json, { error: 'invalid_request', error_description: 'Invalid refresh_token' });
});

test('authorization_code: authorize, exchange once (on another worker), PKCE', async () => {
  const a = await call('POST', '/api/oauth2/authorize', { headers: HTTPS, form: {
    response_type: 'code', client_id: 'app-id', provision_key: 'prov-key', authenticated_userid: 'user-2', scope: 'profile', state: 'xyz',
  } });
  assert.equal(a.status, 200, a.body);
  const redirect = new URL(a.json.redirect_uri);
  assert.equal(redirect.origin + redirect.pathname, 'https://app.test/cb');
  assert.equal(redirect.searchParams.get('state'), 'xyz');
  const code = redirect.searchParams.get('code')!;
  assert.match(code, /^[A-Za-z0-9]{32}$/);

  const t = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'authorization_code', ...CLIENT, code } });
  assert.equal(t.status, 200, t.body);
  assert.ok(t.json.refresh_token);
  const use = await call('GET', '/api/x', { headers: { authorization: `Bearer ${t.json.access_token}` } });
  assert.equal(use.status, 200);
  assert.equal(lastSeen().headers['x-authenticated-userid'], 'user-2');
  assert.equal(lastSeen().headers['x-authenticated-scope'], 'profile');
  for (let i = 0; i < 2; i++) {
    const reuse = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'authorization_code', ...CLIENT, code } });
    assert.equal(reuse.status, 400);
    assert.deepEqual(reuse.json, { error: 'invalid_request', error_description: 'Invalid code' });
  }

  const verifier = 'v'.repeat(50);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const p = await call('POST', '/api/oauth2/authorize', { headers: HTTPS, json: {
    response_type: 'code', client_id: 'app-id', provision_key: 'prov-key', authenticated_userid: 'user-3', code_challenge: challenge,
  } });
  const pkceCode = new URL(p.json.redirect_uri).searchParams.get('code')!;
  const noVerifier = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'authorization_code', ...CLIENT, code: pkceCode } });
  assert.deepEqual(noVerifier.json, { error: 'invalid_request', error_description: 'code_verifier is required for PKCE authorization requests' });
  const wrong = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'authorization_code', ...CLIENT, code: pkceCode, code_verifier: 'w'.repeat(50) } });
  assert.deepEqual(wrong.json, { error: 'invalid_grant', error_description: 'Invalid code' });
  const ok = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'authorization_code', ...CLIENT, code: pkceCode, code_verifier: verifier } });
  assert.equal(ok.status, 200, ok.body);
});

test('authorize errors: bad provision_key, unknown client, mismatched redirect_uri', async () => {
  const base = { response_type: 'code', client_id: 'app-id', provision_key: 'prov-key', authenticated_userid: 'u' };
  const key = await call('POST', '/api/oauth2/authorize', { headers: HTTPS, form: { ...base, provision_key: 'nope' } });
  assert.equal(key.status, 400);
  assert.deepEqual(key.json, { error: 'invalid_provision_key', error_description: 'Invalid provision_key' });
  const client = await call('POST', '/api/oauth2/authorize', { headers: HTTPS, form: { ...base, client_id: 'ghost' } });
  assert.deepEqual(client.json, { error: 'invalid_client', error_description: 'Invalid client authentication' });
  const redirect = await call('POST', '/api/oauth2/authorize', { headers: HTTPS, form: { ...base, redirect_uri: 'https://evil.test/' } });
  assert.equal(redirect.status, 400);
  assert.equal(redirect.json.redirect_uri,
    'https://app.test/cb?error=invalid_request&error_description=Invalid%20redirect_uri%20that%20does%20not%20match%20with%20any%20redirect_uri%20created%20with%20the%20application');
  const method = await call('GET', '/api/oauth2/authorize');
  assert.equal(method.status, 405);
  assert.deepEqual(method.json, { error: 'invalid_method', error_description: 'The HTTP method GET is invalid for the authorization endpoint' });
});

test('wrong client secret: 400 in the body, 401 with a Basic challenge in the header', async () => {
  const body = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'client_credentials', client_id: 'app-id', client_secret: 'wrong' } });
  assert.equal(body.status, 400);
  assert.deepEqual(body.json, { error: 'invalid_client', error_description: 'Invalid client authentication' });
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const header = await call('POST', '/api/oauth2/token', { headers: { ...HTTPS, authorization: basic('app-id', 'wrong') }, form: { grant_type: 'password', provision_key: 'prov-key', authenticated_userid: 'u' } });
  assert.equal(header.status, 401);
  assert.equal(header.headers['www-authenticate'], 'Basic realm="OAuth2.0"');
  assert.deepEqual(header.json, { error: 'invalid_client', error_description: 'Invalid client authentication' });
  const good = await call('POST', '/api/oauth2/token', { headers: { ...HTTPS, authorization: basic('app-id', 'app-secret') }, form: { grant_type: 'client_credentials' } });
  assert.equal(good.status, 200, good.body);
  const hashed = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'client_credentials', client_id: 'hashed-id', client_secret: 'hashed-secret' } });
  assert.equal(hashed.status, 200, 'hash_secret credentials verify against the stored hash');
  const grant = await call('POST', '/api/oauth2/token', { headers: HTTPS, form: { grant_type: 'magic', ...CLIENT } });
  assert.deepEqual(grant.json, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
});

test('HTTPS is required unless terminated by a trusted proxy', async () => {
  const plain = await call('POST', '/strict/oauth2/token', { headers: HTTPS, form: { grant_type: 'client_credentials', ...CLIENT } });
  assert.equal(plain.status, 400);
  assert.deepEqual(plain.json, { error: 'access_denied', error_description: 'You must use HTTPS' });
  const noProto = await call('POST', '/api/oauth2/token', { form: { grant_type: 'client_credentials', ...CLIENT } });
  assert.deepEqual(noProto.json, { error: 'access_denied', error_description: 'You must use HTTPS' });
});

test('an expired token is refused on every worker', async () => {
  const t = await clientCredentialsToken('/short');
  assert.equal(t.status, 200, t.body);
  assert.equal(t.json.expires_in, 1);
  const first = await call('GET', '/short/x', { headers: { authorization: `Bearer ${t.json.access_token}` } });
  assert.equal(first.status, 200);
  // Expiry is time itself: poll until it passes (Kong: older than expires_in seconds).
  const deadline = Date.now() + 5000;
  let r: Reply;
  do {
    await new Promise((res) => setTimeout(res, 100));
    r = await call('GET', '/short/x', { headers: { authorization: `Bearer ${t.json.access_token}` } });
  } while (r.status === 200 && Date.now() < deadline);
  assert.equal(r.status, 401);
  assert.deepEqual(r.json, { error: 'invalid_token', error_description: 'The access token is invalid or has expired' });
  const again = await call('GET', '/short/x', { headers: { authorization: `Bearer ${t.json.access_token}` } });
  assert.equal(again.status, 401);
});
