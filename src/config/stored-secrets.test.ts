import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashedClientSecret, presentOauth2Credential, verifyStoredSecret } from './stored-secrets.ts';
import type { Oauth2Credential } from './entities.ts';

const cred = (over: Partial<Oauth2Credential> = {}) => ({
  id: '5a2f3c1e-0000-4000-8000-000000000001', client_id: 'app', client_secret: 's3cret', hash_secret: true,
  name: 'app', redirect_uris: [], consumer: { id: 'c' }, tags: null, created_at: 0, client_type: 'confidential',
  ...over,
}) as unknown as Oauth2Credential;

test('a hashed secret is PHC pbkdf2-sha512, stable per credential id, and verifies only the secret', () => {
  const h = hashedClientSecret(cred());
  assert.match(h, /^\$pbkdf2-sha512\$i=10000,l=32\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.equal(hashedClientSecret(cred()), h, 'same id, same hash');
  assert.notEqual(hashedClientSecret(cred({ id: '5a2f3c1e-0000-4000-8000-000000000002' })), h, 'salted per id');
  assert.ok(verifyStoredSecret(h, 's3cret'));
  assert.ok(!verifyStoredSecret(h, 's3cret '));
  assert.equal(hashedClientSecret(cred({ client_secret: h })), h, 'an already-hashed secret is kept');
});

test('presenting hides the secret only when hash_secret is set; clear secrets verify in constant time', () => {
  assert.notEqual(presentOauth2Credential(cred()).client_secret, 's3cret');
  assert.equal(presentOauth2Credential(cred({ hash_secret: false })).client_secret, 's3cret');
  assert.ok(verifyStoredSecret('abc', 'abc'));
  assert.ok(!verifyStoredSecret('abc', 'abd'));
  assert.ok(!verifyStoredSecret('abc', ''));
});
