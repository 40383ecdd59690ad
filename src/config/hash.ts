/**
 * @module config/hash
 * The configuration hash Kong reports (`configuration_hash`) and compares for `check_hash=1`:
 * md5 hex of the submitted text (or bytes), or of the canonical JSON of a submitted object.
 */
import { createHash } from 'node:crypto';

/** Kong's hash when no configuration is loaded. */
export const EMPTY_CONFIG_HASH = '00000000000000000000000000000000';

/** JSON with object keys sorted at every level, so equal objects hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const rec = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(rec).sort()) {
    if (rec[key] === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(rec[key])}`);
  }
  return `{${parts.join(',')}}`;
}

export function configHash(config: string | Buffer | object): string {
  if (Buffer.isBuffer(config)) return createHash('md5').update(config).digest('hex');
  const text = typeof config === 'string' ? config : canonicalJson(config);
  return createHash('md5').update(text, 'utf8').digest('hex');
}
