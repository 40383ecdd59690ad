/**
 * @module plugins/openid-connect/provider
 * One OpenID provider as a worker sees it: the discovery document
 * (`<issuer>/.well-known/openid-configuration`) and the signing keys from its `jwks_uri`, held in
 * memory per worker process and shared by every plugin instance (and config) naming that issuer.
 *
 * Fetch rules, so that the request path never waits on the provider once keys are cached:
 * - nothing cached yet: the first request starts the fetch and waits for it; concurrent requests
 *   join the same fetch. After a failed fetch no new attempt is made for `RETRY_AFTER_FAILURE_MS`;
 *   requests in that window are answered without keys (the plugin answers 500).
 * - cached and older than `cache_ttl`: a background refresh starts; requests keep using the
 *   cached keys, and keep them if the refresh fails.
 * - a token names a `kid` the cache does not have (key rotation): the keys are re-fetched once,
 *   and at most once per `rediscovery_lifetime` seconds.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export const RETRY_AFTER_FAILURE_MS = 1000;
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface SigningKey {
  kid: string | undefined;
  kty: string;
  crv: string | undefined;
  alg: string | undefined;
  key: KeyObject;
}

export interface ProviderKeys {
  /** The `issuer` of the discovery document. */
  issuer: string;
  jwksUri: string;
  keys: SigningKey[];
  /** `Date.now()` when fetched. */
  fetchedAt: number;
}

/** The discovery URL for a configured issuer (an issuer that already is one is kept). */
export function discoveryUrlOf(issuer: string): string {
  if (issuer.includes('/.well-known/')) return issuer;
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

async function fetchJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url}: document too large`);
  const doc: unknown = JSON.parse(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${url}: not a JSON object`);
  return doc as Record<string, unknown>;
}

/** Parses a JWKS; keys marked for encryption and keys Node cannot read are left out. */
export function signingKeysOf(jwks: Record<string, unknown>): SigningKey[] {
  if (!Array.isArray(jwks.keys)) throw new Error('JWKS has no keys array');
  const keys: SigningKey[] = [];
  for (const jwk of jwks.keys as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const k = jwk as Record<string, unknown>;
    if (k.use !== undefined && k.use !== 'sig') continue;
    if (typeof k.kty !== 'string') continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: k as JsonWebKey, format: 'jwk' });
    } catch {
      continue;
    }
    keys.push({
      kid: typeof k.kid === 'string' ? k.kid : undefined,
      kty: k.kty,
      crv: typeof k.crv === 'string' ? k.crv : undefined,
      alg: typeof k.alg === 'string' ? k.alg : undefined,
      key,
    });
  }
  return keys;
}

const EC_CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Whether a key of this type may verify `alg` (no RSA key for ES256, no curve mix-ups). */
export function keyFitsAlgorithm(k: SigningKey, alg: string): boolean {
  if (k.alg !== undefined && k.alg !== alg) return false;
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return k.kty === 'RSA';
  if (EC_CURVE[alg]) return k.kty === 'EC' && k.crv === EC_CURVE[alg];
  if (alg === 'EdDSA') return k.kty === 'OKP' && (k.crv === 'Ed25519' || k.crv === 'Ed448');
  return false;
}

export class OidcProvider {
  readonly discoveryUrl: string;
  #current: ProviderKeys | null = null;
  #inflight: Promise<ProviderKeys | null> | null = null;
  #failedAt = -Infinity;
  #kidRefreshAt = -Infinity;
  /** Why the last fetch failed (for logs), null after a success. */
  lastError: string | null = null;
  /** Completed fetch attempts (successful or not): lets tests see the rate limits at work. */
  fetches = 0;

  constructor(issuer: string) {
    this.discoveryUrl = discoveryUrlOf(issuer);
  }

  get current(): ProviderKeys | null { return this.#current; }

  /** The cached keys, or (only when nothing is cached) a fetch; null when the provider is unreachable. */
  load(timeoutMs: number): ProviderKeys | null | Promise<ProviderKeys | null> {
    if (this.#current) return this.#current;
    if (this.#inflight) return this.#inflight;
    if (Date.now() - this.#failedAt < RETRY_AFTER_FAILURE_MS) return null;
    return this.#fetch(timeoutMs);
  }

  /** Starts a background refresh when the cache is older than `ttlMs` (never awaited by requests). */
  refreshIfStale(ttlMs: number, timeoutMs: number): void {
    const cur = this.#current;
    if (!cur || this.#inflight || Date.now() - cur.fetchedAt < ttlMs) return;
    if (Date.now() - this.#failedAt < RETRY_AFTER_FAILURE_MS) return;
    void this.#fetch(timeoutMs);
  }

  /**
   * Re-fetches for a token whose `kid` is not cached, at most once per `minIntervalMs`.
   * Returns the fresh keys, or null when rate-limited or the fetch failed.
   */
  async refreshForUnknownKid(minIntervalMs: number, timeoutMs: number): Promise<ProviderKeys | null> {
    if (this.#inflight) return this.#inflight;
    if (Date.now() - this.#kidRefreshAt < minIntervalMs) return null;
    this.#kidRefreshAt = Date.now();
    return this.#fetch(timeoutMs);
  }

  #fetch(timeoutMs: number): Promise<ProviderKeys | null> {
    const attempt = this.#download(timeoutMs).then(
      (keys) => { this.#current = keys; this.lastError = null; return keys; },
      (err: unknown) => {
        this.#failedAt = Date.now();
        this.lastError = err instanceof Error ? err.message : String(err);
        return null;
      },
    ).finally(() => { this.fetches++; this.#inflight = null; });
    this.#inflight = attempt;
    return attempt;
  }

  async #download(timeoutMs: number): Promise<ProviderKeys> {
    const discovery = await fetchJson(this.discoveryUrl, timeoutMs);
    const { issuer, jwks_uri: jwksUri } = discovery;
    if (typeof issuer !== 'string' || typeof jwksUri !== 'string') {
      throw new Error(`${this.discoveryUrl}: discovery document lacks issuer or jwks_uri`);
    }
    const keys = signingKeysOf(await fetchJson(new URL(jwksUri, this.discoveryUrl).href, timeoutMs));
    return { issuer, jwksUri, keys, fetchedAt: Date.now() };
  }
}

/** Per worker process: one provider per discovery URL, kept across config reloads. */
const providers = new Map<string, OidcProvider>();

export function providerFor(issuer: string): OidcProvider {
  const url = discoveryUrlOf(issuer);
  let p = providers.get(url);
  if (!p) providers.set(url, (p = new OidcProvider(issuer)));
  return p;
}
