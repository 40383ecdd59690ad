/**
 * @module plugins/request-transformer/args
 * Query strings and urlencoded bodies as nginx decodes and Kong re-encodes them: a value is a
 * string, `true` for a bare name, or a list for a repeated name.
 */

export type ArgValue = string | true | ArgValue[];
export type Args = Map<string, ArgValue>;

function unescape(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try { return decodeURIComponent(plus); } catch { return plus; }
}

/** ngx.decode_args. */
export function decodeArgs(raw: string): Args {
  const out: Args = new Map();
  if (raw === '') return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = unescape(eq === -1 ? part : part.slice(0, eq));
    const value: ArgValue = eq === -1 ? true : unescape(part.slice(eq + 1));
    const prev = out.get(key);
    if (prev === undefined) out.set(key, value);
    else if (Array.isArray(prev)) prev.push(value);
    else out.set(key, [prev, value]);
  }
  return out;
}

/** ngx.escape_uri: every byte but `A-Z a-z 0-9 - . _ ~` as %XX. */
export function escapeUri(s: string): string {
  if (/^[A-Za-z0-9\-._~]*$/.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function encodeOne(key: string, value: ArgValue, out: string[]): void {
  if (Array.isArray(value)) { for (const v of value) encodeOne(key, v, out); return; }
  out.push(value === true ? escapeUri(key) : `${escapeUri(key)}=${escapeUri(value)}`);
}

/** ngx.encode_args, in insertion order. */
export function encodeArgs(args: Args): string {
  const out: string[] = [];
  for (const [k, v] of args) encodeOne(k, v, out);
  return out.join('&');
}

/** kong.service.request.set_query: each argument encoded on its own, then sorted. */
export function encodeArgsOrdered(args: Args): string {
  const pieces: string[] = [];
  for (const [k, v] of args) {
    const one: string[] = [];
    encodeOne(k, v, one);
    pieces.push(one.join('&'));
  }
  return pieces.sort().join('&');
}

/** Kong's append_value: a second value turns a string into a list; a list grows. */
export function appendArg(current: ArgValue | undefined, value: string): ArgValue {
  if (current === undefined) return [value];
  if (Array.isArray(current)) { current.push(value); return current; }
  if (typeof current === 'string') return [current, value];
  return [value];
}
