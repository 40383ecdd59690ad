/**
 * @module plugins/jwt/token
 * Decoding and verifying a compact JWS the way Kong's `jwt_parser.lua` does: same part splitting,
 * same strict base64url decoding, same error strings (`invalid JSON`, `invalid alg`, ...), same
 * registered-claim checks. Signatures are checked with Node's crypto; HMACs compare in constant time.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify, constants, type KeyObject } from 'node:crypto';
import { decodeBase64Strict } from '../key-auth/consumer-headers.ts';

export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signature: Buffer;
  /** `<header>.<claims>` as sent: the signed bytes. */
  signingInput: string;
}

const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const RSA_HASH: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };
const PSS_HASH: Record<string, string> = { PS256: 'sha256', PS384: 'sha384', PS512: 'sha512' };
const EC_HASH: Record<string, [string, number]> = { ES256: ['sha256', 64], ES384: ['sha384', 96], ES512: ['sha512', 132] };

export const SUPPORTED_ALGORITHMS = new Set([
  ...Object.keys(HMAC_HASH), ...Object.keys(RSA_HASH), ...Object.keys(EC_HASH), ...Object.keys(PSS_HASH), 'EdDSA',
]);

function decodeJson(part: string): unknown {
  const bytes = decodeBase64Strict(part, true);
  if (!bytes) throw new Error('bad base64');
  return JSON.parse(bytes.toString('utf8'));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Splits and decodes a token; returns Kong's error string on failure. */
export function decodeToken(token: string): DecodedToken | string {
  // Kong splits on the first two dots; anything after them belongs to the signature part.
  const d1 = token.indexOf('.');
  const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1);
  if (d2 === -1) return 'invalid JSON';
  const header64 = token.slice(0, d1);
  const claims64 = token.slice(d1 + 1, d2);
  const signature64 = token.slice(d2 + 1);
  let header: unknown;
  let claims: unknown;
  try {
    header = decodeJson(header64);
    claims = decodeJson(claims64);
  } catch {
    return 'invalid JSON';
  }
  if (!isRecord(header) || typeof header.alg !== 'string' || !SUPPORTED_ALGORITHMS.has(header.alg)) return 'invalid alg';
  if (!isRecord(claims)) return 'invalid claims';
  const signature = decodeBase64Strict(signature64, true);
  if (!signature) return 'invalid signature';
  return { header, claims, signature, signingInput: `${header64}.${claims64}` };
}

/** A public key parsed once per credential (config snapshot objects are stable). */
const publicKeys = new WeakMap<object, KeyObject | null>();

export function publicKeyOf(owner: object, pem: string): KeyObject | null {
  let key = publicKeys.get(owner);
  if (key === undefined) {
    try { key = createPublicKey(pem); } catch { key = null; }
    publicKeys.set(owner, key);
  }
  return key;
}

/** HMAC verification for HS*; `secret` is the (possibly base64-decoded) shared secret. */
export function verifyHmac(alg: string, token: DecodedToken, secret: Buffer | string): boolean {
  const hash = HMAC_HASH[alg];
  if (!hash) return false;
  const expected = createHmac(hash, secret).update(token.signingInput).digest();
  return expected.length === token.signature.length && timingSafeEqual(expected, token.signature);
}

/** Public-key verification for RS*, ES*, PS* and EdDSA. A wrong key type simply does not verify. */
export function verifyAsymmetric(alg: string, token: DecodedToken, key: KeyObject): boolean {
  const data = Buffer.from(token.signingInput);
  try {
    if (RSA_HASH[alg]) return verify(RSA_HASH[alg], data, key, token.signature);
    if (PSS_HASH[alg]) {
      return verify(PSS_HASH[alg], data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, token.signature);
    }
    const ec = EC_HASH[alg];
    if (ec) {
      // RFC 7518 §3.4: R || S of fixed length; anything else cannot be valid.
      if (token.signature.length !== ec[1]) return false;
      return verify(ec[0], data, { key, dsaEncoding: 'ieee-p1363' }, token.signature);
    }
    if (alg === 'EdDSA') return verify(null, data, key, token.signature);
  } catch {
    return false;
  }
  return false;
}

/** Kong's registered-claim checks; errors keyed by claim name, in `claims` order. */
export function verifyRegisteredClaims(token: DecodedToken, claims: readonly string[], now: number): Record<string, string> | null {
  let errors: Record<string, string> | null = null;
  for (const name of claims) {
    const value = token.claims[name];
    let error: string | null = null;
    if (typeof value !== 'number') error = 'must be a number';
    else if (name === 'exp' && value <= now) error = 'token expired';
    else if (name === 'nbf' && value > now) error = 'token not valid yet';
    if (error) (errors ??= {})[name] = error;
  }
  return errors;
}

/** Kong's `maximum_expiration`: the token must expire, and no later than `max` seconds from now. */
export function exceedsMaximumExpiration(token: DecodedToken, max: number, now: number): boolean {
  if (max <= 0) return false;
  const exp = token.claims.exp;
  return typeof exp !== 'number' || exp - now > max;
}
