/**
 * @module net/http-fields
 * What may be sent as an HTTP/1.1 header name and value (RFC 9110 §5.1, §5.5), as node:http
 * checks them: a name is a non-empty token; a value has no control character but tab (so no CR,
 * LF or NUL to split a head with). Both HTTP/1.1 sides of the proxy use these.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Names already found valid: the same few dozen repeat on every message (bounded). */
const checkedNames = new Set<string>();

export function isHeaderName(name: string): boolean {
  if (checkedNames.has(name)) return true;
  if (!TOKEN.test(name)) return false;
  if (checkedNames.size < 4096) checkedNames.add(name);
  return true;
}

export function isHeaderValue(value: string): boolean {
  return !INVALID_VALUE.test(value);
}

/**
 * The last value each name was found valid with (short ones, for a bounded number of names). Most
 * fields repeat from message to message (Host, Via, the X-Forwarded-* set, an upstream's own
 * headers): one map lookup then stands for both checks.
 */
const lastValid = new Map<string, string>();
const REMEMBERED_VALUE_MAX = 128;

/** `isHeaderName(name) && isHeaderValue(value)`. */
export function isHeaderField(name: string, value: string): boolean {
  const last = lastValid.get(name);
  if (last === value) return true;
  // A name in the map was found valid when it went in.
  if (last === undefined && !isHeaderName(name)) return false;
  if (INVALID_VALUE.test(value)) return false;
  if (value.length <= REMEMBERED_VALUE_MAX && (last !== undefined || lastValid.size < 4096)) lastValid.set(name, value);
  return true;
}

/** The value of a header line in `text` from `start` to `end`, without the spaces and tabs around it (as llhttp gives it). */
export function fieldValue(text: string, start: number, end: number): string {
  let a = start;
  let b = end;
  while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
  while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
  return text.slice(a, b);
}
