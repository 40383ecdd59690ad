/**
 * @module config/stored-secrets
 * Kong keeps only a hash of an oauth2 client secret created with `hash_secret: true`, so every
 * place that shows a config (Admin API entity endpoints, `GET /config`, the `POST /config` 201
 * body, `turnpike config dump`) shows that hash, never the secret. The hash is PHC-formatted
 * pbkdf2-sha512 with a salt derived from the credential id, so it is stable across reloads and
 * workers; `verifyStoredSecret` accepts either form, so an exported config re-imported with
 * `_transform: false` keeps working.
 */
import { createHash, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import type { Oauth2Credential } from './entities.ts';

const ITERATIONS = 10_000;
const hashed = new WeakMap<object, string>();
const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** `$pbkdf2-sha512$i=10000,l=32$<salt>$<hash>` for this credential (cached per object). */
export function hashedClientSecret(c: Oauth2Credential): string {
  let out = hashed.get(c);
  if (!out) {
    if (c.client_secret.startsWith('$pbkdf2-sha512$')) out = c.client_secret;
    else {
      const salt = createHash('sha256').update(`turnpike-oauth2:${c.id}`).digest().subarray(0, 16);
      out = `$pbkdf2-sha512$i=${ITERATIONS},l=32$${b64(salt)}$${b64(pbkdf2Sync(c.client_secret, salt, ITERATIONS, 32, 'sha512'))}`;
    }
    hashed.set(c, out);
  }
  return out;
}

/** The credential as it may be shown: `client_secret` hashed when `hash_secret` is set. */
export function presentOauth2Credential<T extends Oauth2Credential>(c: T): T {
  return c.hash_secret ? { ...c, client_secret: hashedClientSecret(c) } : c;
}

/** Constant-time check of a presented secret against a stored one (clear text or PHC hash). */
export function verifyStoredSecret(stored: string, presented: string): boolean {
  const m = /^\$pbkdf2-sha512\$i=(\d+),l=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!m) {
    const a = createHash('sha256').update(stored).digest();
    const b = createHash('sha256').update(presented).digest();
    return timingSafeEqual(a, b);
  }
  const expected = Buffer.from(m[4]!, 'base64');
  const got = pbkdf2Sync(presented, Buffer.from(m[3]!, 'base64'), Number(m[1]), Number(m[2]), 'sha512');
  return got.length === expected.length && timingSafeEqual(got, expected);
}
