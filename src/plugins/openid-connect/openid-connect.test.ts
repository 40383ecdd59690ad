/**
 * openid-connect without a gateway: the config schema (Kong's defaults, unknown fields and
 * unsupported auth methods refused), the claim rules, and the provider cache against a real local
 * provider (single-flight fetches, failure back-off, rate-limited re-fetch on an unknown kid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePluginConfig } from '../key-auth/test-fixtures.ts';
import oidcPlugin from './index.ts';
import { claimAt, claimProblem, satisfiesRequired } from './claims.ts';
import { OidcProvider, RETRY_AFTER_FAILURE_MS, discoveryUrlOf, keyFitsAlgorithm } from './provider.ts';
import { startOidcIssuer } from '../../../test/harness/oidc-issuer.ts';
import { freePort } from '../../../test/harness/ports.ts';

test('schema: Kong defaults, issuer required, unknown fields and non-bearer methods refused', () => {
  const ok = validatePluginConfig(oidcPlugin, { issuer: 'https://idp.example.test/realms/x' });
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.auth_methods, ['bearer']);
  assert.deepEqual(ok.config.bearer_token_param_type, ['header', 'query', 'body']);
  assert.deepEqual(ok.config.consumer_by, ['username', 'custom_id']);
  assert.deepEqual(ok.config.scopes_claim, ['scope']);
  assert.equal(ok.config.leeway, 0);
  assert.equal(ok.config.cache_ttl, 3600);
  assert.equal(ok.config.verify_signature, true);
  assert.equal(ok.config.anonymous, null);

  const missing = validatePluginConfig(oidcPlugin, {});
  assert.equal(missing.ok, false);
  assert.deepEqual(!missing.ok && missing.errors, { issuer: 'required field missing' });
  const unknown = validatePluginConfig(oidcPlugin, { issuer: 'https://idp.test', client_magic: 1 });
  assert.deepEqual(!unknown.ok && unknown.errors, { client_magic: 'unknown field' });
  const methods = validatePluginConfig(oidcPlugin, { issuer: 'https://idp.test', auth_methods: ['bearer', 'session'] });
  assert.equal(methods.ok, false);
  assert.match(JSON.stringify(!methods.ok && methods.errors), /only 'bearer' is supported/);
  const notUrl = validatePluginConfig(oidcPlugin, { issuer: 'idp.test' });
  assert.deepEqual(!notUrl.ok && notUrl.errors, { issuer: 'missing host in url' });
  const headers = validatePluginConfig(oidcPlugin, { issuer: 'https://idp.test', upstream_headers_claims: ['sub'] });
  assert.equal(headers.ok, false);
});

test('required scopes: AND inside an entry, OR across entries', () => {
  assert.equal(satisfiesRequired(['a', 'b'], ['a b']), true);
  assert.equal(satisfiesRequired(['a'], ['a b']), false);
  assert.equal(satisfiesRequired(['c'], ['a b', 'c']), true);
  assert.equal(satisfiesRequired([], ['a']), false);
  assert.deepEqual(claimAt({ realm: { roles: ['x'] } }, ['realm', 'roles']), ['x']);
  assert.equal(claimAt({ realm: 'flat' }, ['realm', 'roles']), undefined);
});

test('claim rules: exp required, leeway on exp/nbf/iat, issuer and audience', () => {
  const rules = { issuers: ['https://idp'], audience: ['api'], audienceClaim: ['aud'], leeway: 0 };
  const base = { iss: 'https://idp', aud: 'api', exp: 1000 };
  assert.equal(claimProblem(base, rules, 999), null);
  assert.equal(claimProblem(base, rules, 1000), 'token expired');
  assert.equal(claimProblem(base, { ...rules, leeway: 5 }, 1004), null);
  assert.equal(claimProblem({ ...base, exp: undefined }, rules, 0), 'token has no valid exp claim');
  assert.equal(claimProblem({ ...base, nbf: 10 }, rules, 9), 'token not valid yet (nbf)');
  assert.equal(claimProblem({ ...base, nbf: 10 }, { ...rules, leeway: 1 }, 9), null);
  assert.equal(claimProblem({ ...base, iat: 10 }, rules, 9), 'token issued in the future (iat)');
  assert.equal(claimProblem({ ...base, iss: 'https://other' }, rules, 0), 'invalid issuer');
  assert.equal(claimProblem({ ...base, aud: ['x', 'api'] }, rules, 0), null);
  assert.equal(claimProblem({ ...base, aud: 'api x' }, rules, 0), 'invalid audience');
  assert.equal(claimProblem({ ...base, aud: 'x' }, { ...rules, audience: null }, 0), null);
});

test('discovery URL and key/algorithm pairing', () => {
  assert.equal(discoveryUrlOf('https://idp/realms/a/'), 'https://idp/realms/a/.well-known/openid-configuration');
  assert.equal(discoveryUrlOf('https://idp/.well-known/openid-configuration'), 'https://idp/.well-known/openid-configuration');
  const key = {} as never;
  assert.equal(keyFitsAlgorithm({ kid: 'a', kty: 'RSA', crv: undefined, alg: undefined, key }, 'PS256'), true);
  assert.equal(keyFitsAlgorithm({ kid: 'a', kty: 'RSA', crv: undefined, alg: 'RS256', key }, 'PS256'), false);
  assert.equal(keyFitsAlgorithm({ kid: 'a', kty: 'EC', crv: 'P-384', alg: undefined, key }, 'ES256'), false);
  assert.equal(keyFitsAlgorithm({ kid: 'a', kty: 'EC', crv: 'P-256', alg: undefined, key }, 'ES256'), true);
  assert.equal(keyFitsAlgorithm({ kid: 'a', kty: 'OKP', crv: 'Ed25519', alg: undefined, key }, 'EdDSA'), true);
  assert.equal(keyFitsAlgorithm({ kid: 'a', kty: 'RSA', crv: undefined, alg: undefined, key }, 'HS256'), false);
});

test('provider: one fetch for concurrent loads, cached afterwards, rate-limited unknown-kid refresh', async () => {
  const idp = await startOidcIssuer();
  try {
    const p = new OidcProvider(idp.issuer);
    const [a, b] = await Promise.all([p.load(10_000), p.load(10_000)]);
    assert.ok(a && a === b);
    assert.equal(a.issuer, idp.issuer);
    assert.equal(a.keys.length, 5);
    assert.deepEqual(idp.served, { discovery: 1, jwks: 1 });
    assert.equal(p.load(10_000), a); // synchronous: no fetch once cached
    p.refreshIfStale(60_000, 10_000);
    assert.deepEqual(idp.served, { discovery: 1, jwks: 1 });

    idp.rotate();
    const fresh = await p.refreshForUnknownKid(60_000, 10_000);
    assert.ok(fresh?.keys.some((k) => k.kid === idp.kidOf('RS256')));
    assert.equal(await p.refreshForUnknownKid(60_000, 10_000), null);
    assert.deepEqual(idp.served, { discovery: 2, jwks: 2 });
  } finally {
    await idp.close();
  }
});

test('provider: a provider that is down yields null (no throw) and is retried after the back-off', async () => {
  const port = await freePort();
  const p = new OidcProvider(`http://127.0.0.1:${port}/realms/test`);
  assert.equal(await p.load(10_000), null);
  assert.match(p.lastError ?? '', /fetch failed|ECONNREFUSED/);
  // Within the back-off window the answer is immediate: no new attempt is started.
  assert.equal(p.load(10_000), null);
  assert.equal(p.fetches, 1);
  const idp = await startOidcIssuer({ port });
  try {
    const deadline = Date.now() + RETRY_AFTER_FAILURE_MS * 5;
    let keys = null;
    while (!keys && Date.now() < deadline) {
      keys = await p.load(10_000);
      if (!keys) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(keys);
    assert.equal(idp.served.discovery, 1);
  } finally {
    await idp.close();
  }
});
