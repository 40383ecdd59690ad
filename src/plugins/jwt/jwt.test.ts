/**
 * Unit tests of jwt (§4.4): token sources, every 401 message and header, algorithms (HS, RS, ES,
 * PS, EdDSA), claims, maximum_expiration, key_claim_name, secret_is_base64, anonymous, preflight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';
import { makeContext, type FakeRequest } from '../../../test/harness/plugin-context.ts';
import type { PluginExit } from '../api.ts';
import jwtPlugin from './index.ts';
import { ALICE, ANON, BOB, configOf, jwtSecret, validatePluginConfig } from '../key-auth/test-fixtures.ts';

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Signs a compact JWS with Node's crypto (independent of the plugin's code). */
export function signToken(alg: string, claims: Record<string, unknown>, key: string | Buffer | KeyObject, header: Record<string, unknown> = { typ: 'JWT', alg }): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const hash = `sha${alg.slice(2)}`;
  let sig: Buffer;
  if (alg.startsWith('HS')) sig = createHmac(hash, key as string | Buffer).update(input).digest();
  else if (alg.startsWith('RS')) sig = sign(hash, Buffer.from(input), key as KeyObject);
  else if (alg.startsWith('PS')) sig = sign(hash, Buffer.from(input), { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  else if (alg.startsWith('ES')) sig = sign(hash, Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else sig = sign(null, Buffer.from(input), key as KeyObject);
  return `${input}.${b64u(sig)}`;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ec521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const ed = generateKeyPairSync('ed25519');
/** A fresh private key of the same kind as `alg` needs, which no credential trusts. */
function otherKeyFor(alg: string): KeyObject {
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  const curve = ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[alg];
  if (curve) return generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;

const SECRETS = [
  jwtSecret('j0000000-0000-4000-8000-000000000001', ALICE.id, 'alice-hs256', 'alice-secret'),
  jwtSecret('j0000000-0000-4000-8000-000000000002', ALICE.id, 'alice-hs384', 'alice-secret', 'HS384'),
  jwtSecret('j0000000-0000-4000-8000-000000000003', ALICE.id, 'alice-hs512', 'alice-secret', 'HS512'),
  jwtSecret('j0000000-0000-4000-8000-000000000004', BOB.id, 'bob-rs256', null, 'RS256', pem(rsa.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-000000000005', BOB.id, 'bob-rs384', null, 'RS384', pem(rsa.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-000000000006', BOB.id, 'bob-rs512', null, 'RS512', pem(rsa.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-000000000007', BOB.id, 'bob-es256', null, 'ES256', pem(ec256.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-000000000008', BOB.id, 'bob-es384', null, 'ES384', pem(ec384.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-000000000009', BOB.id, 'bob-es512', null, 'ES512', pem(ec521.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-00000000000a', BOB.id, 'bob-ps256', null, 'PS256', pem(rsa.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-00000000000b', BOB.id, 'bob-eddsa', null, 'EdDSA', pem(ed.publicKey)),
  jwtSecret('j0000000-0000-4000-8000-00000000000c', BOB.id, 'bob-nokey', null, 'RS256', null),
  jwtSecret('j0000000-0000-4000-8000-00000000000d', BOB.id, 'bob-badpem', null, 'RS256', 'not a pem'),
  jwtSecret('j0000000-0000-4000-8000-00000000000e', ALICE.id, 'alice-b64', Buffer.from('raw secret bytes').toString('base64url')),
  jwtSecret('j0000000-0000-4000-8000-00000000000f', 'f0000000-0000-4000-8000-000000000000', 'orphan', 'orphan-secret'),
];
const CONFIG = { consumers: [ALICE, BOB, ANON], jwt_secrets: SECRETS };
const NOW = () => Math.floor(Date.now() / 1000);

async function run(conf: Record<string, unknown>, r: FakeRequest = {}) {
  const ctx = makeContext({ config: CONFIG, ...r });
  const handlers = jwtPlugin.create(configOf(jwtPlugin, conf), { entity: {} as never, log: ctx.log });
  const exit = (await handlers.access!(ctx)) ?? null;
  return { ctx, exit: exit as PluginExit | null };
}
const bearer = (t: string): FakeRequest => ({ headers: { authorization: `Bearer ${t}` } });
const invalid = (body: Record<string, unknown>): PluginExit => ({ status: 401, body, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
const HS = (claims: Record<string, unknown>, key = 'alice-secret', alg = 'HS256') => signToken(alg, claims, key);

test('schema: defaults, priority, maximum_expiration bounds and conditional check', () => {
  assert.deepEqual(configOf(jwtPlugin), {
    uri_param_names: ['jwt'], cookie_names: [], key_claim_name: 'iss', secret_is_base64: false, claims_to_verify: null,
    anonymous: null, run_on_preflight: true, maximum_expiration: 0, header_names: ['authorization'], realm: null,
  });
  assert.equal(jwtPlugin.priority, 1450);
  const neg = validatePluginConfig(jwtPlugin, { maximum_expiration: -1, claims_to_verify: ['exp'] });
  assert.equal(neg.ok, false);
  if (!neg.ok) assert.deepEqual(neg.errors, { maximum_expiration: 'value should be between 0 and 31536000' });
  const cond = validatePluginConfig(jwtPlugin, { maximum_expiration: 60, claims_to_verify: ['nbf'] });
  assert.equal(cond.ok, false);
  if (!cond.ok) {
    assert.deepEqual(cond.errors, {
      claims_to_verify: 'expected to contain: exp',
      '@entity': ["failed conditional validation given value of field 'config.maximum_expiration'"],
    });
  }
  assert.equal(validatePluginConfig(jwtPlugin, { maximum_expiration: 60, claims_to_verify: ['exp', 'nbf'] }).ok, true);
  const badClaim = validatePluginConfig(jwtPlugin, { claims_to_verify: ['iat'] });
  assert.equal(badClaim.ok, false);
  if (!badClaim.ok) assert.deepEqual(badClaim.errors, { claims_to_verify: [ 'expected one of: exp, nbf' ] });
});

test('no token: 401 {"message":"Unauthorized"} with WWW-Authenticate: Bearer; realm when set', async () => {
  assert.deepEqual((await run({})).exit, { status: 401, body: { message: 'Unauthorized' }, headers: { 'WWW-Authenticate': 'Bearer' } });
  assert.deepEqual((await run({ realm: 'api' })).exit, { status: 401, body: { message: 'Unauthorized' }, headers: { 'WWW-Authenticate': 'Bearer realm="api"' } });
  const bad = await run({ realm: 'api' }, bearer('x.y'));
  assert.equal(bad.exit?.headers?.['WWW-Authenticate'], 'Bearer realm="api", error="invalid_token"');
});

test('HS256/384/512 in the Authorization header: consumer set with X-Credential-Identifier = key', async () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    const key = `alice-hs${alg.slice(2)}`;
    const { exit, ctx } = await run({}, bearer(HS({ iss: key }, 'alice-secret', alg)));
    assert.equal(exit, null, alg);
    assert.equal(ctx.consumer, ALICE);
    assert.equal(ctx.upstream.headers['x-credential-identifier'], key);
    assert.equal(ctx.upstream.headers['x-consumer-username'], 'alice');
    assert.equal(ctx.upstream.headers['x-anonymous-consumer'], undefined);
    assert.equal(typeof ctx.shared['authenticated_jwt_token'], 'string');
  }
});

test('RS256/384/512, ES256/384/512, PS256 and EdDSA verify with the public key', async () => {
  const cases: [string, string, KeyObject][] = [
    ['RS256', 'bob-rs256', rsa.privateKey], ['RS384', 'bob-rs384', rsa.privateKey], ['RS512', 'bob-rs512', rsa.privateKey],
    ['ES256', 'bob-es256', ec256.privateKey], ['ES384', 'bob-es384', ec384.privateKey], ['ES512', 'bob-es512', ec521.privateKey],
    ['PS256', 'bob-ps256', rsa.privateKey], ['EdDSA', 'bob-eddsa', ed.privateKey],
  ];
  for (const [alg, iss, key] of cases) {
    const { exit, ctx } = await run({}, bearer(signToken(alg, { iss }, key)));
    assert.equal(exit, null, alg);
    assert.equal(ctx.consumer, BOB, alg);
    // Signed by another key: invalid signature.
    const other = otherKeyFor(alg);
    assert.deepEqual((await run({}, bearer(signToken(alg, { iss }, other)))).exit, invalid({ message: 'Invalid signature' }), alg);
  }
});

test('ES signature of the wrong length is an invalid signature (not a server error)', async () => {
  const t = signToken('ES256', { iss: 'bob-es256' }, ec256.privateKey);
  const truncated = t.slice(0, t.lastIndexOf('.') + 1) + b64u(Buffer.alloc(10));
  assert.deepEqual((await run({}, bearer(truncated))).exit, invalid({ message: 'Invalid signature' }));
});

test('wrong HMAC secret and tampered claims: Invalid signature', async () => {
  assert.deepEqual((await run({}, bearer(HS({ iss: 'alice-hs256' }, 'wrong')))).exit, invalid({ message: 'Invalid signature' }));
  const t = HS({ iss: 'alice-hs256', admin: false });
  const [h, , s] = t.split('.');
  const forged = `${h}.${b64u(JSON.stringify({ iss: 'alice-hs256', admin: true }))}.${s}`;
  assert.deepEqual((await run({}, bearer(forged))).exit, invalid({ message: 'Invalid signature' }));
});

test('Bad token errors: invalid JSON, invalid alg (incl. none), invalid signature', async () => {
  assert.deepEqual((await run({}, bearer('abc'))).exit, invalid({ message: 'Bad token; invalid JSON' }));
  assert.deepEqual((await run({}, bearer('a.b'))).exit, invalid({ message: 'Bad token; invalid JSON' }));
  assert.deepEqual((await run({}, bearer(`${b64u('{')}.${b64u('{}')}.x`))).exit, invalid({ message: 'Bad token; invalid JSON' }));
  const none = `${b64u(JSON.stringify({ alg: 'none' }))}.${b64u(JSON.stringify({ iss: 'alice-hs256' }))}.`;
  assert.deepEqual((await run({}, bearer(none))).exit, invalid({ message: 'Bad token; invalid alg' }));
  const badSig = `${b64u(JSON.stringify({ alg: 'HS256' }))}.${b64u(JSON.stringify({ iss: 'alice-hs256' }))}.a+b/`;
  assert.deepEqual((await run({}, bearer(badSig))).exit, invalid({ message: 'Bad token; invalid signature' }));
});

test('multiple distinct tokens; the same token twice counts once', async () => {
  const a = HS({ iss: 'alice-hs256' });
  const b = HS({ iss: 'alice-hs256', n: 1 });
  assert.deepEqual((await run({}, { query: `jwt=${a}`, headers: { authorization: `Bearer ${b}` } })).exit, invalid({ message: 'Multiple tokens provided' }));
  assert.equal((await run({}, { query: `jwt=${a}`, headers: { authorization: `Bearer ${a}` } })).exit, null);
});

test('valueless jwt query argument: Unrecognizable token', async () => {
  assert.deepEqual((await run({}, { query: 'jwt' })).exit, invalid({ message: 'Unrecognizable token' }));
});

test('token sources: uri_param_names, cookie_names, header_names', async () => {
  const t = HS({ iss: 'alice-hs256' });
  assert.equal((await run({}, { query: `jwt=${t}` })).ctx.consumer, ALICE);
  assert.equal((await run({ uri_param_names: ['token'] }, { query: `token=${t}` })).ctx.consumer, ALICE);
  assert.deepEqual((await run({ uri_param_names: [] }, { query: `jwt=${t}` })).exit?.body, { message: 'Unauthorized' });
  assert.equal((await run({ cookie_names: ['session'] }, { headers: { cookie: `a=1; session=${t}` } })).ctx.consumer, ALICE);
  assert.equal((await run({ header_names: ['X-Token'] }, { headers: { 'x-token': `bearer ${t}` } })).ctx.consumer, ALICE);
  assert.deepEqual((await run({}, { headers: { authorization: t } })).exit?.body, { message: 'Unauthorized' }, 'Bearer prefix required');
});

test('key claim: missing, empty, unknown; header claim; custom key_claim_name', async () => {
  assert.deepEqual((await run({}, bearer(HS({ sub: 'x' })))).exit, invalid({ message: "No mandatory 'iss' in claims" }));
  assert.deepEqual((await run({}, bearer(HS({ iss: '' })))).exit, invalid({ message: "Invalid 'iss' in claims" }));
  assert.deepEqual((await run({}, bearer(HS({ iss: 'who' })))).exit, invalid({ message: "No credentials found for given 'iss'" }));
  const inHeader = signToken('HS256', {}, 'alice-secret', { alg: 'HS256', iss: 'alice-hs256' });
  assert.equal((await run({}, bearer(inHeader))).ctx.consumer, ALICE);
  assert.equal((await run({ key_claim_name: 'kid' }, bearer(HS({ kid: 'alice-hs256' })))).ctx.consumer, ALICE);
  assert.deepEqual((await run({ key_claim_name: 'kid' }, bearer(HS({ iss: 'alice-hs256' })))).exit, invalid({ message: "No mandatory 'kid' in claims" }));
});

test('algorithm must match the credential; missing or unreadable keys', async () => {
  assert.deepEqual((await run({}, bearer(HS({ iss: 'alice-hs256' }, 'alice-secret', 'HS512')))).exit, invalid({ message: 'Invalid algorithm' }));
  assert.deepEqual((await run({}, bearer(signToken('RS256', { iss: 'bob-nokey' }, rsa.privateKey)))).exit, invalid({ message: 'Invalid key/secret' }));
  assert.deepEqual((await run({}, bearer(signToken('RS256', { iss: 'bob-badpem' }, rsa.privateKey)))).exit, { status: 500, message: 'An unexpected error occurred' });
});

test('secret_is_base64: the secret is base64url-decoded before verifying', async () => {
  const t = HS({ iss: 'alice-b64' }, 'raw secret bytes');
  assert.equal((await run({ secret_is_base64: true }, bearer(t))).ctx.consumer, ALICE);
  assert.deepEqual((await run({}, bearer(t))).exit, invalid({ message: 'Invalid signature' }));
});

test('claims_to_verify: exp and nbf, bodies keyed by claim', async () => {
  const conf = { claims_to_verify: ['exp', 'nbf'] };
  assert.deepEqual((await run(conf, bearer(HS({ iss: 'alice-hs256', exp: NOW() - 10, nbf: NOW() - 20 })))).exit, invalid({ exp: 'token expired' }));
  assert.deepEqual((await run(conf, bearer(HS({ iss: 'alice-hs256', exp: NOW() + 100, nbf: NOW() + 50 })))).exit, invalid({ nbf: 'token not valid yet' }));
  assert.deepEqual((await run(conf, bearer(HS({ iss: 'alice-hs256', exp: 'soon' })))).exit, invalid({ exp: 'must be a number', nbf: 'must be a number' }));
  assert.equal((await run(conf, bearer(HS({ iss: 'alice-hs256', exp: NOW() + 100, nbf: NOW() - 5 })))).exit, null);
  // Not verified unless asked.
  assert.equal((await run({}, bearer(HS({ iss: 'alice-hs256', exp: NOW() - 10 })))).exit, null);
});

test('maximum_expiration', async () => {
  const conf = { claims_to_verify: ['exp'], maximum_expiration: 60 };
  assert.deepEqual((await run(conf, bearer(HS({ iss: 'alice-hs256', exp: NOW() + 3600 })))).exit, invalid({ exp: 'exceeds maximum allowed expiration' }));
  assert.equal((await run(conf, bearer(HS({ iss: 'alice-hs256', exp: NOW() + 30 })))).exit, null);
});

test('credential without consumer: Could not find consumer, no WWW-Authenticate', async () => {
  assert.deepEqual((await run({}, bearer(HS({ iss: 'orphan' }, 'orphan-secret')))).exit, { status: 401, body: { message: "Could not find consumer for 'iss=orphan'" } });
});

test('anonymous, logical OR and AND, missing anonymous consumer', async () => {
  const a = await run({ anonymous: 'anonymous' }, bearer('garbage'));
  assert.equal(a.exit, null);
  assert.equal(a.ctx.consumer, ANON);
  assert.equal(a.ctx.upstream.headers['x-anonymous-consumer'], 'true');
  assert.deepEqual((await run({ anonymous: 'ghost' })).exit, { status: 500, message: "anonymous consumer ghost is configured but doesn't exist" });

  const ctx = makeContext({ config: CONFIG });
  ctx.authenticate(BOB, { id: 'k', consumer: { id: BOB.id } });
  const or = jwtPlugin.create(configOf(jwtPlugin, { anonymous: 'anonymous' }), { entity: {} as never, log: ctx.log });
  assert.equal(await or.access!(ctx), undefined);
  assert.equal(ctx.consumer, BOB);
  const and = jwtPlugin.create(configOf(jwtPlugin, {}), { entity: {} as never, log: ctx.log });
  assert.deepEqual(await and.access!(ctx), { status: 401, body: { message: 'Unauthorized' }, headers: { 'WWW-Authenticate': 'Bearer' } });
});

test('run_on_preflight', async () => {
  assert.equal((await run({ run_on_preflight: false }, { method: 'OPTIONS' })).exit, null);
  assert.equal((await run({}, { method: 'OPTIONS' })).exit?.status, 401);
});
