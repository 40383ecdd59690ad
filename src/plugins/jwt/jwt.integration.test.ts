/**
 * jwt end to end through a real gateway: compact JSON 401 bodies without request id, the
 * WWW-Authenticate challenges, HS256 and RS256 tokens, claim errors and consumer headers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;
interface Seen { headers: Record<string, string> }
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function token(alg: 'HS256' | 'RS256', claims: Record<string, unknown>, secret = 'alice-secret'): string {
  const input = `${b64u(JSON.stringify({ typ: 'JWT', alg }))}.${b64u(JSON.stringify(claims))}`;
  const sig = alg === 'HS256' ? createHmac('sha256', secret).update(input).digest() : sign('sha256', Buffer.from(input), rsa.privateKey);
  return `${input}.${b64u(sig)}`;
}

before(async () => {
  up = await startRecordingUpstream();
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          { name: 'jwt', paths: ['/jwt'], plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp'] } }] },
          { name: 'realm', paths: ['/realm'], plugins: [{ name: 'jwt', config: { realm: 'api' } }] },
        ],
      }],
      consumers: [
        { username: 'alice', jwt_secrets: [{ key: 'alice-iss', secret: 'alice-secret' }] },
        { username: 'bob', jwt_secrets: [{ key: 'bob-iss', algorithm: 'RS256', rsa_public_key: rsa.publicKey.export({ type: 'spki', format: 'pem' }) }] },
      ],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

const exp = () => Math.floor(Date.now() / 1000) + 300;

test('no token: compact {"message":"Unauthorized"}, WWW-Authenticate: Bearer', async () => {
  const r = await fetch(`${gw.proxy}/jwt`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer');
  assert.equal(await r.text(), '{"message":"Unauthorized"}');
  const realm = await fetch(`${gw.proxy}/realm`);
  assert.equal(realm.headers.get('www-authenticate'), 'Bearer realm="api"');
  await realm.arrayBuffer();
});

test('bad token: Bad token; invalid JSON with Bearer error="invalid_token"', async () => {
  const r = await fetch(`${gw.proxy}/jwt`, { headers: { authorization: 'Bearer x.y.z' } });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  assert.equal(await r.text(), '{"message":"Bad token; invalid JSON"}');
});

test('HS256 token in the header and RS256 token in the query authenticate', async () => {
  const a = await fetch(`${gw.proxy}/jwt`, { headers: { authorization: `Bearer ${token('HS256', { iss: 'alice-iss', exp: exp() })}` } });
  assert.equal(a.status, 200);
  const seen = await a.json() as Seen;
  assert.equal(seen.headers['x-consumer-username'], 'alice');
  assert.equal(seen.headers['x-credential-identifier'], 'alice-iss');
  const b = await fetch(`${gw.proxy}/jwt?jwt=${token('RS256', { iss: 'bob-iss', exp: exp() })}`);
  assert.equal(b.status, 200);
  assert.equal((await b.json() as Seen).headers['x-consumer-username'], 'bob');
});

test('expired token: {"exp":"token expired"}; wrong signature: Invalid signature', async () => {
  const old = await fetch(`${gw.proxy}/jwt`, { headers: { authorization: `Bearer ${token('HS256', { iss: 'alice-iss', exp: 1 })}` } });
  assert.equal(old.status, 401);
  assert.equal(await old.text(), '{"exp":"token expired"}');
  const forged = await fetch(`${gw.proxy}/jwt`, { headers: { authorization: `Bearer ${token('HS256', { iss: 'alice-iss', exp: exp() }, 'guess')}` } });
  assert.equal(await forged.text(), '{"message":"Invalid signature"}');
});

test('unknown issuer and algorithm mismatch', async () => {
  const who = await fetch(`${gw.proxy}/jwt`, { headers: { authorization: `Bearer ${token('HS256', { iss: 'nobody' })}` } });
  assert.equal(await who.text(), '{"message":"No credentials found for given \'iss\'"}');
  const alg = await fetch(`${gw.proxy}/jwt`, { headers: { authorization: `Bearer ${token('HS256', { iss: 'bob-iss' })}` } });
  assert.equal(await alg.text(), '{"message":"Invalid algorithm"}');
});
