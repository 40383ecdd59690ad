/**
 * @module plugins/request-transformer/cjson
 * JSON text as Kong's cjson writes it, so transformed bodies match Kong byte for byte where it
 * matters: `/` escaped as `\/`, numbers with 14 significant digits (`%.14g`), and Lua's number
 * formatting for template output.
 */

/** C's `%.14g`, which is also how LuaJIT's `tostring` prints numbers. */
export function formatNumber14g(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? (Object.is(n, NaN) ? 'nan' : '-nan') : n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  if (Number.isInteger(n) && Math.abs(n) < 1e14) return String(n);
  const [mantissa, expText] = n.toExponential(13).split('e') as [string, string];
  const exp = Number(expText);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 14) {
    const sign = exp < 0 ? '-' : '+';
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${trim(mantissa)}e${sign}${digits}`;
  }
  return trim(n.toFixed(13 - exp));
}

function encodeString(s: string): string {
  return JSON.stringify(s).replace(/\//g, '\\/').replace(/\u007f/g, '\\u007f');
}

/** Encodes a JSON value like `cjson.encode` (object keys in insertion order). */
export function cjsonEncode(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string': return encodeString(value);
    case 'number': return formatNumber14g(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(cjsonEncode).join(',')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        parts.push(`${encodeString(k)}:${cjsonEncode(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default: return 'null';
  }
}
