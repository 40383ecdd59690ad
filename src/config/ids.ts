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

/** The variant nibble (10xx) that replaces a digest's hex digit at position 16. */
const VARIANT: Record<string, string> = {};
for (let n = 0; n < 16; n++) VARIANT[n.toString(16)] = ((n & 0x3) | 0x8).toString(16);

/** Namespace bytes followed by the name: one buffer, reused while names fit. */
let scratch = Buffer.allocUnsafe(256);

/** RFC 4122 version-5 UUID of `name` in `namespace` (given as 16 bytes). */
function uuidV5Bytes(ns: Buffer, name: string): string {
  // ~2x cheaper per id than concatenating buffers and decoding the digest back to bytes: a
  // 10,000-service config makes 20,000 ids (BENCHMARKS.md, session 12).
  if (16 + name.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(16 + name.length * 3);
  ns.copy(scratch, 0);
  const end = 16 + scratch.write(name, 16, 'utf8');
  // One-shot hashing is several times cheaper than createHash for short input.
  const hex = oneShotHash('sha1', scratch.subarray(0, end), 'hex');
  // The version (5) and variant bits, set on the hex digits that hold them.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${VARIANT[hex[16]!]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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
