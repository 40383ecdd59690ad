/**
 * @module plugins/proxy-cache/rules
 * The checks that decide cacheability: Kong's Content-Type match (type/subtype equal or `*`, and
 * the parameters must match exactly — so `application/json; charset=utf-8` is not
 * `application/json`, Kong issue #6103) and a small Cache-Control parser.
 */

interface Mime { type: string; subtype: string; params: Map<string, string> }

function parseMime(v: string): Mime | null {
  const [main, ...rest] = v.split(';');
  const [type, subtype] = (main ?? '').trim().toLowerCase().split('/');
  if (!type || !subtype) return null;
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq === -1) continue;
    params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase());
  }
  return { type, subtype, params };
}

export function contentTypeMatches(header: string | string[] | undefined, allowed: readonly string[]): boolean {
  if (header === undefined) return false;
  const got = parseMime(Array.isArray(header) ? header[0]! : header);
  if (!got) return false;
  return allowed.some((a) => {
    const want = parseMime(a);
    if (!want) return false;
    if (want.type !== '*' && want.type !== got.type) return false;
    if (want.subtype !== '*' && want.subtype !== got.subtype) return false;
    if (want.params.size !== got.params.size) return false;
    for (const [k, v] of want.params) if (got.params.get(k) !== v) return false;
    return true;
  });
}

export function parseCacheControl(header: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const p = part.trim().toLowerCase();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq === -1) out[p] = '';
    else out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
  }
  return out;
}
