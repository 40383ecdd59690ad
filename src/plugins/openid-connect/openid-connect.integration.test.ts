/**
 * openid-connect end to end: a local OpenID provider (test/harness/oidc-issuer.ts), a real gateway
 * process and a real upstream. Tokens are signed by the provider's generated keys; the gateway
 * finds them through discovery and the JWKS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';
import { startOidcIssuer, type OidcIssuer, type SigningAlg } from '../../../test/harness/oidc-issuer.ts';

interface Seen { url: string; headers: Record<string, string | undefined> }

let gw: GatewayProcess;
let up: Upstream;
let idp: OidcIssuer;
/** A second provider, only for the key-rotation test (its re-fetch budget is its own). */
let rotating: OidcIssuer;

before(async () => {
  [up, idp, rotating] = await Promise.all([startRecordingUpstream(), startOidcIssuer(), startOidcIssuer()]);
  const oidc = (path: string, config: Record<string, unknown>, issuer = idp.issuer) => ({
    name: path.slice(1), paths: [path], plugins: [{ name: 'openid-connect', config: { issuer, auth_methods: ['bearer'], ...config } }],
  });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          oidc('/oidc', {
            audience: ['turnpike'],
            upstream_headers_claims: ['sub', 'email', 'groups'],
            upstream_headers_names: ['x-user-sub', 'x-user-email', 'x-user-groups'],
          }),
          oidc('/leeway', { leeway: 60 }),
          oidc('/scoped', { scopes_required: ['orders:read orders:write', 'admin'], display_errors: true }),
          oidc('/mapped', { consumer_claim: ['preferred_username'], consumer_by: ['username', 'custom_id'] }),
          oidc('/anon', { anonymous: 'guest', scopes_required: ['orders:read'] }),
          oidc('/hidden', { hide_credentials: true, bearer_token_param_type: ['query', 'body'] }),
          oidc('/rotating', {}, rotating.issuer),
        ],
      }],
      consumers: [{ username: 'alice' }, { username: 'robert', custom_id: 'bob-123' }, { username: 'guest' }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await Promise.all([up?.close(), idp?.close(), rotating?.close()]);
});

/** HS256 keyed with the provider's public key id: the classic algorithm-confusion forgery. */
function hs256Token(claims64: string): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: idp.kidOf('RS256') })).toString('base64url')}.${claims64}`;
  return `${input}.${createHmac('sha256', idp.kidOf('RS256')).update(input).digest('base64url')}`;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);

async function call(path: string, headers: Record<string, string> = {}, init: RequestInit = {}) {
  const r = await fetch(`${gw.proxy}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) as Seen };
}

test('valid token: 200, claims passed upstream, token kept, client copies of claim headers replaced', async () => {
  const token = idp.token({ sub: 'user-42', email: 'u42@example.test', groups: ['a', 'b'] });
  const r = await call('/oidc', { ...bearer(token), 'x-user-sub': 'spoofed', 'x-consumer-username': 'spoofed' });
  assert.equal(r.status, 200, r.text);
  const seen = r.json();
  assert.equal(seen.headers['x-user-sub'], 'user-42');
  assert.equal(seen.headers['x-user-email'], 'u42@example.test');
  assert.equal(seen.headers['x-user-groups'], Buffer.from('["a","b"]').toString('base64'));
  assert.equal(seen.headers['x-credential-identifier'], 'user-42');
  assert.equal(seen.headers['x-consumer-username'], undefined);
  assert.equal(seen.headers.authorization, `Bearer ${token}`);
});

test('every asymmetric algorithm the provider publishes verifies', async () => {
  const algs: SigningAlg[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
  for (const alg of algs) {
    const r = await call('/oidc', bearer(idp.token({}, { alg })));
    assert.equal(r.status, 200, `${alg}: ${r.text}`);
  }
  // Without a kid every key of the right type is tried.
  assert.equal((await call('/oidc', bearer(idp.token({}, { alg: 'ES256', kid: null })))).status, 200);
});

test('no token: 401 Unauthorized with a bare Bearer realm challenge', async () => {
  const r = await call('/oidc');
  assert.equal(r.status, 401);
  assert.equal(r.text, '{"message":"Unauthorized"}');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="127.0.0.1:' + idp.port + '"');
  const basic = await call('/oidc', { authorization: 'Basic YTpi' });
  assert.equal(basic.status, 401);
});

test('expired, not-yet-valid and exp-less tokens: 401 invalid_token; leeway tolerates skew', async () => {
  const challenge = `Bearer realm="127.0.0.1:${idp.port}", error="invalid_token"`;
  for (const claims of [{ exp: now() - 10 }, { nbf: now() + 30 }, { iat: now() + 30 }, { exp: undefined }]) {
    const r = await call('/oidc', bearer(idp.token(claims)));
    assert.equal(r.status, 401, JSON.stringify(claims));
    assert.equal(r.text, '{"message":"Unauthorized"}');
    assert.equal(r.headers.get('www-authenticate'), challenge);
  }
  assert.equal((await call('/leeway', bearer(idp.token({ exp: now() - 10, nbf: now() + 30 })))).status, 200);
  assert.equal((await call('/leeway', bearer(idp.token({ exp: now() - 120 })))).status, 401);
});

test('wrong audience and wrong issuer: 401', async () => {
  assert.equal((await call('/oidc', bearer(idp.token({ aud: 'someone-else' })))).status, 401);
  assert.equal((await call('/oidc', bearer(idp.token({ aud: ['x', 'turnpike'] })))).status, 200);
  assert.equal((await call('/oidc', bearer(idp.token({ iss: 'http://evil.test/realms/test' })))).status, 401);
  // A token from another real provider is refused too (its key is not in this JWKS).
  assert.equal((await call('/oidc', bearer(rotating.token({ aud: 'turnpike' })))).status, 401);
});

test('bad signatures: tampered claims, a foreign key under a published kid, HS256, alg none', async () => {
  const [h, , s] = idp.token().split('.');
  const forgedClaims = Buffer.from(JSON.stringify({ iss: idp.issuer, sub: 'admin', aud: 'turnpike', exp: now() + 300 })).toString('base64url');
  for (const token of [
    `${h}.${forgedClaims}.${s}`,
    idp.token({}, { keys: idp.foreignKeys(), kid: idp.kidOf('RS256') }),
    hs256Token(forgedClaims),
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${forgedClaims}.`,
    'not-a-jwt',
  ]) {
    const r = await call('/oidc', bearer(token));
    assert.equal(r.status, 401, token);
    assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  }
});

test('unknown kid after key rotation: the JWKS is re-fetched once and the new key verifies', async () => {
  assert.equal((await call('/rotating', bearer(rotating.token()))).status, 200);
  const before = { ...rotating.served };
  rotating.rotate();
  const r = await call('/rotating', bearer(rotating.token({}, { alg: 'ES256' })));
  assert.equal(r.status, 200, r.text);
  assert.equal(rotating.served.jwks, before.jwks + 1);
  // A second unknown kid within rediscovery_lifetime does not reach the provider again.
  const again = await call('/rotating', bearer(rotating.token({}, { kid: 'never-published' })));
  assert.equal(again.status, 401);
  assert.equal(rotating.served.jwks, before.jwks + 1);
  // Valid tokens keep being served from the cache.
  assert.equal((await call('/rotating', bearer(rotating.token({}, { alg: 'EdDSA' })))).status, 200);
  assert.equal(rotating.served.jwks, before.jwks + 1);
});

test('scopes: any alternative whose scopes are all present passes; otherwise 403 insufficient_scope', async () => {
  assert.equal((await call('/scoped', bearer(idp.token({ scope: 'openid orders:write orders:read' })))).status, 200);
  assert.equal((await call('/scoped', bearer(idp.token({ scope: ['admin'] })))).status, 200);
  const r = await call('/scoped', bearer(idp.token({ scope: 'openid orders:read' })));
  assert.equal(r.status, 403);
  assert.equal(r.text, '{"message":"Forbidden (required scopes were not found)"}');
  assert.equal(r.headers.get('www-authenticate'), `Bearer realm="127.0.0.1:${idp.port}", error="insufficient_scope"`);
  // display_errors also explains a 401.
  const expired = await call('/scoped', bearer(idp.token({ exp: now() - 5, scope: 'admin' })));
  assert.equal(expired.text, '{"message":"Unauthorized (token expired)"}');
});

test('consumer mapping: username, then custom_id; an unknown user is refused with 403', async () => {
  const alice = await call('/mapped', bearer(idp.token({ preferred_username: 'alice' })));
  assert.equal(alice.status, 200, alice.text);
  assert.equal(alice.json().headers['x-consumer-username'], 'alice');
  assert.ok(alice.json().headers['x-consumer-id']);
  const bob = await call('/mapped', bearer(idp.token({ preferred_username: 'bob-123' })));
  assert.equal(bob.status, 200, bob.text);
  assert.equal(bob.json().headers['x-consumer-username'], 'robert');
  assert.equal(bob.json().headers['x-consumer-custom-id'], 'bob-123');
  const stranger = await call('/mapped', bearer(idp.token({ preferred_username: 'mallory' })));
  assert.equal(stranger.status, 403);
  assert.equal(stranger.text, '{"message":"Forbidden"}');
});

test('anonymous: failures (no token, bad token, missing scope) fall back to the anonymous consumer', async () => {
  for (const headers of [{}, bearer('garbage'), bearer(idp.token({ scope: 'other' }))]) {
    const r = await call('/anon', headers);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().headers['x-consumer-username'], 'guest');
    assert.equal(r.json().headers['x-anonymous-consumer'], 'true');
  }
  const ok = await call('/anon', bearer(idp.token({ scope: 'orders:read' })));
  assert.equal(ok.json().headers['x-anonymous-consumer'], undefined);
  assert.equal(ok.json().headers['x-credential-identifier'], 'user-1');
});

test('hide_credentials strips the token from the query and the form body; the header is not searched', async () => {
  const token = idp.token();
  const q = await call(`/hidden?a=1&access_token=${token}`);
  assert.equal(q.status, 200, q.text);
  assert.equal(q.json().url, '/?a=1'); // strip_path
  const b = await call('/hidden', {}, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${token}&x=y`,
  });
  assert.equal(b.status, 200, b.text);
  assert.equal((b.json() as unknown as { body: string }).body, 'x=y');
  assert.equal((await call('/hidden', bearer(token))).status, 401);
});

test('cached keys: a burst of requests does not reach the provider', async () => {
  const before = { ...idp.served };
  assert.ok(before.discovery >= 1 && before.jwks >= 1);
  const statuses = await Promise.all(Array.from({ length: 20 }, () => call('/oidc', bearer(idp.token())).then((r) => r.status)));
  assert.deepEqual(new Set(statuses), new Set([200]));
  assert.deepEqual(idp.served, before);
});
