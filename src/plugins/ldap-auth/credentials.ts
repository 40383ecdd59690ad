/**
 * @module plugins/ldap-auth/credentials
 * Reads `<header_type> base64(username:password)` from an Authorization or Proxy-Authorization
 * value as Kong's ldap-auth does: the scheme is matched case-insensitively after optional leading
 * whitespace and must be followed by whitespace; the username ends at the first colon and the
 * password must not be empty (PCRE `^(.*?):(.+)$`, where `.` stops at a newline and `$` may sit
 * before a final newline).
 */
import { decodeBase64Strict } from '../key-auth/consumer-headers.ts';

export interface LdapCredentials { username: string; password: string }

/** Lua's string.lower: ASCII only, so offsets in the lowered string match the original. */
const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** PCRE's \s. */
const WS = '[ \\t\\n\\v\\f\\r]';

/** Compiles the scheme matcher once per plugin instance. */
export function credentialReader(headerType: string): (value: string) => LdapCredentials | null {
  const scheme = new RegExp(`^${WS}*${escapeRegex(asciiLower(headerType))}${WS}+`);
  return (value) => {
    const m = scheme.exec(asciiLower(value));
    if (!m) return null;
    const decoded = decodeBase64Strict(value.slice(m[0].length));
    if (!decoded) return null;
    return splitUserPass(decoded.toString('utf8'));
  };
}

function splitUserPass(s: string): LdapCredentials | null {
  const colon = s.indexOf(':');
  if (colon === -1) return null;
  const username = s.slice(0, colon);
  let password = s.slice(colon + 1);
  if (password.endsWith('\n')) password = password.slice(0, -1);
  if (username.includes('\n') || password === '' || password.includes('\n')) return null;
  return { username, password };
}
