/**
 * @module test/harness/oidc-issuer
 * A local OpenID provider for tests: a real HTTP server on 127.0.0.1 serving
 * `/realms/test/.well-known/openid-configuration` and its JWKS, with generated RSA, EC (P-256, P-384, P-521) and
 * Ed25519 signing keys. It signs JWTs with any of them, can rotate its keys (new kids, old ones
 * dropped from the JWKS) and counts the documents it served so tests can see caching at work.
 */
import http from 'node:http';
import net from 'node:net';
import { constants, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

export type SigningAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

interface KeyPair { kid: string; privateKey: KeyObject; publicKey: KeyObject }
interface KeySet { rsa: KeyPair; p256: KeyPair; p384: KeyPair; p521: KeyPair; ed25519: KeyPair }

export interface SignOptions {
  alg?: SigningAlg;
  /** Override the `kid` header (a string), or leave it out (null). */
  kid?: string | null;
  /** Sign with these keys instead of the published ones (e.g. a key the provider never published). */
  keys?: KeySet;
}

export interface OidcIssuer {
  /** The issuer identifier (`http://127.0.0.1:<port>/realms/test`), as in the discovery document. */
  readonly issuer: string;
  readonly port: number;
  /** How many times each document was served. */
  readonly served: { discovery: number; jwks: number };
  /** A signed JWT; claims default to iss, sub, aud `turnpike`, iat now and exp in five minutes. */
  token(claims?: Record<string, unknown>, opts?: SignOptions): string;
  /** Replaces every key with a new one (new kid); the old keys leave the JWKS. */
  rotate(): void;
  /** The kid the provider currently publishes for `alg`'s key. */
  kidOf(alg: SigningAlg): string;
  /** A key set the provider never published (for forged tokens). */
  foreignKeys(): KeySet;
  close(): Promise<void>;
}

let kidCounter = 0;
function keyPair(type: 'rsa' | 'ec' | 'ed25519', curve?: string): KeyPair {
  const kid = `k${++kidCounter}-${randomUUID().slice(0, 8)}`;
  const pair = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : type === 'ec' ? generateKeyPairSync('ec', { namedCurve: curve! }) : generateKeyPairSync('ed25519');
  return { kid, ...pair };
}

export function generateKeySet(): KeySet {
  return {
    rsa: keyPair('rsa'), p256: keyPair('ec', 'P-256'), p384: keyPair('ec', 'P-384'), p521: keyPair('ec', 'P-521'),
    ed25519: keyPair('ed25519'),
  };
}

function keyFor(keys: KeySet, alg: SigningAlg): KeyPair {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return keys.rsa;
  if (alg === 'ES256') return keys.p256;
  if (alg === 'ES384') return keys.p384;
  if (alg === 'ES512') return keys.p521;
  return keys.ed25519;
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function signJws(input: string, alg: SigningAlg, key: KeyObject): Buffer {
  const data = Buffer.from(input);
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  if (alg.startsWith('PS')) {
    return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  }
  if (alg.startsWith('ES')) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  return sign(hash, data, key);
}

function jwksOf(keys: KeySet): { keys: unknown[] } {
  return {
    keys: Object.values(keys).map((k: KeyPair) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, use: 'sig' })),
  };
}

/** Starts the provider; `port` lets a test bring it up where a gateway already expects it. */
export async function startOidcIssuer(opts: { port?: number } = {}): Promise<OidcIssuer> {
  let keys = generateKeySet();
  const served = { discovery: 0, jwks: 0 };
  let issuer = '';
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.url === '/realms/test/.well-known/openid-configuration') {
      served.discovery++;
      return send(200, {
        issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs`,
        authorization_endpoint: `${issuer}/protocol/openid-connect/auth`, token_endpoint: `${issuer}/protocol/openid-connect/token`,
        id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      });
    }
    if (req.url === '/realms/test/protocol/openid-connect/certs') {
      served.jwks++;
      return send(200, jwksOf(keys));
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  issuer = `http://127.0.0.1:${port}/realms/test`;

  return {
    issuer,
    port,
    served,
    token(claims = {}, o = {}) {
      const alg = o.alg ?? 'RS256';
      const pair = keyFor(o.keys ?? keys, alg);
      const now = Math.floor(Date.now() / 1000);
      const header: Record<string, unknown> = { typ: 'JWT', alg };
      const kid = o.kid === undefined ? pair.kid : o.kid;
      if (kid !== null) header.kid = kid;
      const body = { iss: issuer, sub: 'user-1', aud: 'turnpike', iat: now, exp: now + 300, ...claims };
      const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(body))}`;
      return `${input}.${b64u(signJws(input, alg, pair.privateKey))}`;
    },
    rotate() { keys = generateKeySet(); },
    kidOf: (alg) => keyFor(keys, alg).kid,
    foreignKeys: generateKeySet,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
