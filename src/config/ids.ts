/**
 * @module config/ids
 * Deterministic entity ids. Kong (declarative_config.lua) names an entity without an `id` by a
 * UUIDv5 in a per-collection namespace derived from a fixed root; we use the same root and
 * derivation, so an entity keyed the way Kong keys it gets the id Kong would give it.
 */
import { hash as oneShotHash } from 'node:crypto';

/** Kong's root namespace for declarative entity ids. */
export const ENTITY_ID_ROOT = 'fd02801f-0957-4a15-a55a-c8d9606f30b5';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 4122 version-5 UUID of `name` in `namespace` (given as 16 bytes). */
function uuidV5Bytes(ns: Buffer, name: string): string {
  const data = Buffer.concat([ns, Buffer.from(name, 'utf8')]);
  // One-shot hashing is several times cheaper than createHash for short input.
  const hash = Buffer.from(oneShotHash('sha1', data, 'hex'), 'hex');
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** RFC 4122 version-5 UUID of `name` in `namespace`. */
export function uuidV5(namespace: string, name: string): string {
  return uuidV5Bytes(uuidBytes(namespace), name);
}

const namespaces = new Map<string, Buffer>();

/** The id of the entity of collection `type` (e.g. `services`) whose key is `key` (e.g. its name). */
export function entityId(type: string, key: string): string {
  let ns = namespaces.get(type);
  if (ns === undefined) {
    ns = uuidBytes(uuidV5(ENTITY_ID_ROOT, type));
    namespaces.set(type, ns);
  }
  return uuidV5Bytes(ns, key);
}
