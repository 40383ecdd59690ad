/**
 * @module controller/translator/fields
 * Defensive readers for untyped Kubernetes object fields. User objects can hold anything; these
 * helpers turn "wrong type" into "absent" so translation never throws on bad input.
 */

/** rec returns a plain object or undefined. */
export function rec(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** arr returns an array (empty when absent or not an array). */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** str returns a string or undefined (empty strings count as absent unless `keepEmpty`). */
export function str(v: unknown, keepEmpty = false): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v === '' && !keepEmpty ? undefined : v;
}

/** int returns an integer (numbers or integer strings) or undefined. */
export function int(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** bool returns a boolean or undefined. */
export function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

/** atoi parses like Go's strconv.Atoi: optional sign and decimal digits only. */
export function atoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** parseGoBool parses like Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      return undefined;
  }
}

/** compareStrings is a byte-order comparator (stable across locales). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** decodeBase64 decodes Secret data; returns undefined for non-strings. */
export function decodeBase64(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return Buffer.from(v, 'base64').toString('utf8');
}
