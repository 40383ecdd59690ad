/**
 * @module gateway/consumer-directory
 * Consumers and credentials indexed for the auth plugins, built once per snapshot: every lookup
 * a plugin makes per request is one Map access. key-auth keys are secrets presented as they are,
 * so they are indexed by their SHA-256 digest: how long a lookup (its hashing and its string
 * compare) takes depends on the digest, which says nothing about how close a guess was. A key
 * presented again on the same connection is confirmed by a constant-time compare with the one
 * that connection last had accepted, instead of being hashed again (see `keyAuth`). The plugins
 * compare other secrets (passwords, HMAC and JWT signatures) in constant time themselves.
 */
import { hash as oneShotHash } from 'node:crypto';
import type {
  Acl, BasicAuthCredential, Config, Consumer, HmacAuthCredential, JwtSecret, KeyAuthCredential, Oauth2Credential,
} from '../config/entities.ts';
import type { ConsumerDirectory } from '../plugins/api.ts';

const NO_ACLS: readonly Acl[] = Object.freeze([]);

/** A connection's last accepted key-auth key and the credential it found. */
interface KeyMemo { key: string; credential: KeyAuthCredential }

/** The digest key-auth keys are indexed by: base64 SHA-256. */
function keyDigest(key: string): string {
  // One-shot hashing to base64 is ~3x cheaper than createHash per request.
  return oneShotHash('sha256', key, 'base64');
}

/**
 * Whether two strings are equal, in a time that depends only on the length of `presented` (the
 * client's own input): every character is compared, whatever the first difference.
 */
export function sameSecret(presented: string, known: string): boolean {
  let diff = presented.length ^ known.length;
  // Past the end of `known`, charCodeAt gives NaN, which `^` reads as 0: the lengths differ anyway.
  for (let i = 0; i < presented.length; i++) diff |= presented.charCodeAt(i) ^ known.charCodeAt(i);
  return diff === 0;
}

export class IndexedConsumerDirectory implements ConsumerDirectory {
  readonly #consumers = new Map<string, Consumer>();
  readonly #byCustomId = new Map<string, Consumer>();
  /** base64 SHA-256 of the key -> credential. */
  readonly #keyAuth = new Map<string, KeyAuthCredential>();
  /** Per client connection, for this snapshot only: a new config starts with none. */
  readonly #keyMemo = new WeakMap<object, KeyMemo>();
  readonly #basicAuth = new Map<string, BasicAuthCredential>();
  readonly #jwt = new Map<string, JwtSecret>();
  readonly #hmac = new Map<string, HmacAuthCredential>();
  readonly #oauth2 = new Map<string, Oauth2Credential>();
  readonly #acls = new Map<string, Acl[]>();

  constructor(config: Config) {
    for (const c of config.consumers) {
      this.#consumers.set(c.id, c);
      if (c.username !== null) this.#consumers.set(c.username, c);
      if (c.custom_id !== null) this.#byCustomId.set(c.custom_id, c);
    }
    for (const k of config.keyauth_credentials) {
      this.#keyAuth.set(keyDigest(k.key), k);
    }
    for (const b of config.basicauth_credentials) this.#basicAuth.set(b.username, b);
    for (const j of config.jwt_secrets) this.#jwt.set(j.key, j);
    for (const h of config.hmacauth_credentials) this.#hmac.set(h.username, h);
    for (const o of config.oauth2_credentials) this.#oauth2.set(o.client_id, o);
    for (const a of config.acls) {
      let list = this.#acls.get(a.consumer.id);
      if (!list) this.#acls.set(a.consumer.id, (list = []));
      list.push(a);
    }
  }

  consumer(idOrUsername: string): Consumer | undefined { return this.#consumers.get(idOrUsername); }
  consumerByCustomId(customId: string): Consumer | undefined { return this.#byCustomId.get(customId); }
  /**
   * The credential of a key-auth key. `connection` (the request's `RequestView.connection`) lets a
   * keep-alive client skip the SHA-256 (~1 µs a request under load): the key is compared in
   * constant time with the last key accepted on that connection, and only an exact match reuses
   * its credential. A miss is looked up by digest as any key. Only accepted keys are kept, so a
   * failed guess leaves nothing behind. A hit is faster, but it tells the client only that its key
   * is exactly one accepted before on that connection, and such a key authenticates it anyway.
   */
  keyAuth(key: string, connection?: object): KeyAuthCredential | undefined {
    const memo = connection === undefined ? undefined : this.#keyMemo.get(connection);
    let cred: KeyAuthCredential | undefined;
    if (memo !== undefined && sameSecret(key, memo.key)) {
      cred = memo.credential;
    } else {
      cred = this.#keyAuth.get(keyDigest(key));
      if (cred === undefined) return undefined;
      // The credential's own copy of the key (equal, as their digests are): the presented one may
      // be a slice that keeps the whole request head alive.
      if (memo !== undefined) { memo.key = cred.key; memo.credential = cred; }
      else if (connection !== undefined) this.#keyMemo.set(connection, { key: cred.key, credential: cred });
    }
    // A credential with a ttl is valid for ttl seconds after it was created.
    if (cred.ttl && cred.created_at + cred.ttl < Date.now() / 1000) return undefined;
    return cred;
  }
  basicAuth(username: string): BasicAuthCredential | undefined { return this.#basicAuth.get(username); }
  jwtSecret(key: string): JwtSecret | undefined { return this.#jwt.get(key); }
  hmacAuth(username: string): HmacAuthCredential | undefined { return this.#hmac.get(username); }
  oauth2(clientId: string): Oauth2Credential | undefined { return this.#oauth2.get(clientId); }
  acls(consumerId: string): readonly Acl[] { return this.#acls.get(consumerId) ?? NO_ACLS; }
}
