/**
 * @module gateway/packed-config
 * The normalized config as the primary hands it to the workers. Normalized records spell out every
 * default, so most of a large collection's fields repeat: the 8.6 MB of 10,000 services and routes
 * hold 2.5 MB that differ. A packed collection carries its first record's fields once (`base`)
 * and, per record, only what differs from it. Stringify, transfer and parse then handle a third of
 * the bytes, and under load the transfer is most of what a worker spends on a config.
 *
 * Unpacking gives back what `JSON.parse(JSON.stringify(config))` would, field order aside. Only
 * scalars are left out, so no two records share an array or object.
 */
import type { Config } from '../config/entities.ts';

/**
 * A collection packed: the first record's scalars in `base` (null for the rest), the differences
 * per record. `same`: the first record's arrays of scalars, which a row leaves out when its array
 * holds the same values (a route's `protocols`, a service's `tags`); unpacking gives each record
 * a copy of its own.
 */
export interface PackedCollection {
  base: Record<string, Scalar>;
  rows: Record<string, unknown>[];
  same?: Record<string, Scalar[]>;
}
type Scalar = string | number | boolean | null;
export type PackedConfig = Record<string, unknown>;

/** A row's fields that `base` has and the record had not (undefined counts as absent, as in JSON). */
const ABSENT = '\u0000absent';

const isScalar = (v: unknown): v is Scalar => v === null || (typeof v !== 'object' && typeof v !== 'function');
const isScalarArray = (v: unknown): v is Scalar[] => Array.isArray(v) && v.every(isScalar);

/** Whether `v` is an array holding `template`'s values, in order (NaN never matches: JSON has none). */
function sameScalars(v: unknown, template: readonly Scalar[]): boolean {
  if (!Array.isArray(v) || v.length !== template.length) return false;
  for (let i = 0; i < v.length; i++) if (v[i] !== template[i]) return false;
  return true;
}
const isPlainRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function packCollection(records: Record<string, unknown>[]): PackedCollection {
  const base: Record<string, Scalar> = {};
  let same: Record<string, Scalar[]> | undefined;
  const first = records[0]!;
  for (const key in first) {
    const v = first[key];
    if (v === undefined) continue;
    // Every field of the first record, in its order: the rows then only overwrite fields of a copy
    // of `base`, which is ~10x cheaper than adding them (V8 copies the object's shape as is).
    // Arrays and objects stand as null here, so every record carries its own. (A NaN or Infinity
    // base reads null after JSON, as do the records equal to it.)
    base[key] = isScalar(v) ? v : null;
    if (isScalarArray(v)) (same ??= {})[key] = v;
  }
  const baseKeys = Object.keys(base);
  const rows = new Array<Record<string, unknown>>(records.length);
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const row: Record<string, unknown> = {};
    for (const key in record) {
      const v = record[key];
      if (v === undefined) continue;
      if (same !== undefined && Object.hasOwn(same, key)) {
        // Left out only when equal to the template: a null or another array is written out.
        if (!sameScalars(v, same[key]!)) row[key] = v;
        continue;
      }
      if (v === base[key] && Object.hasOwn(base, key)) continue;
      row[key] = v;
    }
    let absent: string[] | undefined;
    for (const key of baseKeys) if (record[key] === undefined) (absent ??= []).push(key);
    if (absent) row[ABSENT] = absent;
    rows[i] = row;
  }
  return same === undefined ? { base, rows } : { base, rows, same };
}

function unpackCollection({ base, rows, same }: PackedCollection): Record<string, unknown>[] {
  const out = new Array<Record<string, unknown>>(rows.length);
  const sameKeys = same === undefined ? [] : Object.keys(same);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const record = { ...base, ...row };
    for (let k = 0; k < sameKeys.length; k++) {
      const key = sameKeys[k]!;
      if (!Object.hasOwn(row, key)) record[key] = same![key]!.slice();
    }
    const absent = row[ABSENT] as string[] | undefined;
    if (absent) {
      delete record[ABSENT];
      for (const key of absent) delete record[key];
    }
    out[i] = record;
  }
  return out;
}

const PACKED = '\u0000packed';

/** The config with each collection of two or more records packed. */
export function packConfig(config: Config): PackedConfig {
  const out: PackedConfig = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = Array.isArray(value) && value.length > 1 && value.every(isPlainRecord)
      ? { [PACKED]: packCollection(value as Record<string, unknown>[]) } : value;
  }
  return out;
}

/** The config `packConfig` packed, once it has been through JSON. */
export function unpackConfig(packed: PackedConfig): Config {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(packed)) {
    out[key] = isPlainRecord(value) && Object.hasOwn(value, PACKED) ? unpackCollection(value[PACKED] as PackedCollection) : value;
  }
  return out as unknown as Config;
}
