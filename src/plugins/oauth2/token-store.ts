/**
 * @module plugins/oauth2/token-store
 * Access tokens, refresh tokens and authorization codes, kept in the gateway's shared cache (the
 * primary process owns it when there are several workers), so a token issued through one worker
 * is accepted by every other. Kong keeps them in its database (DB-less: in memory, per node, lost
 * on restart); Turnpike's are per gateway process tree and also lost on restart.
 *
 * Codes and refresh tokens are single-use: the claim goes through the shared counters, whose
 * `take` is atomic across workers, so two concurrent exchanges cannot both win.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { CounterStore, SharedCache } from '../api.ts';

const PREFIX = 'oauth2:';
/** Entries without an expiry (Kong: no row TTL) still need one for the cache: ten years. */
const FOREVER_SECONDS = 10 * 365 * 24 * 3600;
/** Kong keeps authorization codes for five minutes. */
export const CODE_TTL_SECONDS = 300;

export interface StoredToken {
  access_token: string;
  refresh_token: string | null;
  credential_id: string;
  client_id: string;
  /** null for tokens issued with `global_credentials`. */
  service_id: string | null;
  authenticated_userid: string | null;
  scope: string | null;
  /** Seconds; 0 = never expires. */
  expires_in: number;
  /** Milliseconds since the epoch. */
  created_at: number;
  /** How long the entry is kept, in seconds (Kong's row TTL: `refresh_token_ttl`). */
  ttl: number;
}

export interface StoredCode {
  code: string;
  credential_id: string;
  client_id: string;
  service_id: string | null;
  authenticated_userid: string | null;
  scope: string | null;
  challenge: string | null;
  challenge_method: string | null;
  plugin_id: string;
}

/** Kong's `random_string`: 24 random bytes in base64, `/` and `+` replaced by random letters. */
export function randomToken(): string {
  const b64 = randomBytes(24).toString('base64');
  let out = '';
  for (const ch of b64) {
    if (ch === '/') out += String.fromCharCode(randomInt(65, 91));
    else if (ch === '+') out += String.fromCharCode(randomInt(97, 123));
    else out += ch;
  }
  return out;
}

const encode = (v: unknown) => Buffer.from(JSON.stringify(v));
function decode<T>(b: Buffer | undefined): T | undefined {
  if (!b) return undefined;
  try { return JSON.parse(b.toString('utf8')) as T; } catch { return undefined; }
}

/** Kong's row TTL: tokens that can expire live `refresh_token_ttl` seconds (0 = forever). */
export function entryTtl(tokenExpiration: number, refreshTokenTtl: number): number {
  return tokenExpiration > 0 && refreshTokenTtl > 0 ? refreshTokenTtl : FOREVER_SECONDS;
}

export class TokenStore {
  readonly #cache: SharedCache;
  readonly #counters: CounterStore;

  constructor(cache: SharedCache, counters: CounterStore) {
    this.#cache = cache;
    this.#counters = counters;
  }

  /**
   * Resolves once every earlier write of this worker has reached the shared store: the counters'
   * round trip travels the same ordered channel as the writes. Run before answering a client, so
   * the token it gets is already visible to every worker.
   */
  async #flush(): Promise<void> {
    await this.#counters.take([], 0);
  }

  async saveToken(token: StoredToken): Promise<void> {
    this.#cache.set(`${PREFIX}at:${token.access_token}`, encode(token), token.ttl);
    if (token.refresh_token) this.#cache.set(`${PREFIX}rt:${token.refresh_token}`, encode(token.access_token), token.ttl);
    await this.#flush();
  }

  async token(accessToken: string): Promise<StoredToken | undefined> {
    return decode<StoredToken>(await this.#cache.get(`${PREFIX}at:${accessToken}`));
  }

  async tokenByRefresh(refreshToken: string): Promise<StoredToken | undefined> {
    const access = decode<string>(await this.#cache.get(`${PREFIX}rt:${refreshToken}`));
    if (access === undefined) return undefined;
    const token = await this.token(access);
    return token && token.refresh_token === refreshToken ? token : undefined;
  }

  /** Removes the access token (and its refresh token unless `keepRefresh`). */
  async deleteToken(token: StoredToken, keepRefresh = false): Promise<void> {
    await Promise.all([
      this.#cache.delete(`${PREFIX}at:${token.access_token}`),
      token.refresh_token && !keepRefresh ? this.#cache.delete(`${PREFIX}rt:${token.refresh_token}`) : undefined,
    ]);
  }

  async saveCode(code: StoredCode): Promise<void> {
    this.#cache.set(`${PREFIX}code:${code.code}`, encode(code), CODE_TTL_SECONDS);
    await this.#flush();
  }

  async code(code: string): Promise<StoredCode | undefined> {
    return decode<StoredCode>(await this.#cache.get(`${PREFIX}code:${code}`));
  }

  async deleteCode(code: string): Promise<void> { await this.#cache.delete(`${PREFIX}code:${code}`); }

  /** True for exactly one caller per `kind:value` within `ttl` seconds, across all workers. */
  async claimOnce(kind: 'code' | 'refresh', value: string, ttl: number): Promise<boolean> {
    const [used] = await this.#counters.take([{ key: `${PREFIX}used:${kind}:${value}`, limit: 1, ttl }], 1);
    return used === 0;
  }
}
