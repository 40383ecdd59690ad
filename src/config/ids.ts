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

/** Namespace bytes followed by the name: one buffer, reused while names fit. */
let scratch = Buffer.allocUnsafe(256);

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the UUID's 16 bytes goes in its 36-character text. */
const TEXT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** The UUID's text is laid out here, dashes in place, and read back as one flat string. */
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

/** RFC 4122 version-5 UUID of `name` in `namespace` (given as 16 bytes). */
function uuidV5Bytes(ns: Buffer, name: string): string {
  // A 10,000-service config makes 20,000 ids (BENCHMARKS.md, sessions 12 and 15). Slicing the hex
  // digest and joining the parts left a tree of eight strings per id for the collector and took
  // 0.6-3.9 us an id from one pass to the next; the digest as 20 one-byte characters written out
  // here takes 0.6-0.8.
  if (16 + name.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(16 + name.length * 3);
  ns.copy(scratch, 0);
  const end = 16 + scratch.write(name, 16, 'utf8');
  // One-shot hashing is several times cheaper than createHash for short input.
  const digest = oneShotHash('sha1', scratch.subarray(0, end), 'binary');
  for (let i = 0; i < 16; i++) {
    let b = digest.charCodeAt(i);
    if (i === 6) b = (b & 0x0f) | 0x50; // version 5
    else if (i === 8) b = (b & 0x3f) | 0x80; // variant 10xx
    const at = TEXT_AT[i]!;
    text[at] = HEX_DIGITS[b >> 4]!;
    text[at + 1] = HEX_DIGITS[b & 15]!;
  }
  return text.toString('latin1', 0, 36);
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
