/**
 * @module config/schema/checks
 * Kong's custom field validators (typedefs.lua custom_validator functions) restated as pure
 * functions: each returns the message Kong shows, or null when the value is fine. The ajv
 * `kongCheck` keyword and the entity walker both call into `FIELD_CHECKS` by name.
 */

export type FieldCheck = (value: string) => string | null;

interface ParsedHost { kind: 'name' | 'ipv4' | 'ipv6'; host: string; port: number | null }

const HOSTNAME = /^[A-Za-z0-9_.\-\u0080-\uffff]+$/;
const DIGITS = /^\d+$/;

/** One or more ASCII digits and nothing else. */
export const isDigits = (s: string): boolean => DIGITS.test(s);
const DIGITS_AND_DOTS = /^[\d.]+$/;

/** Four dot-separated groups of 1-3 digits, each at most 255. Scanned: no match arrays per host. */
function isIpv4(s: string): boolean {
  let dots = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++dots > 3) return false;
      digits = 0;
      value = 0;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0 && value <= 255;
}

function countColons(s: string): number {
  let n = 0;
  for (let i = s.indexOf(':'); i !== -1; i = s.indexOf(':', i + 1)) n++;
  return n;
}

function isIpv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = s.replace('::', ':x:').split(':').filter((g) => g !== '' && g !== 'x');
  const last = groups[groups.length - 1];
  let count = groups.length;
  if (last !== undefined && last.includes('.')) {
    if (!isIpv4(last)) return false;
    count += 1;
  }
  if (!groups.every((g) => g.includes('.') || /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return dbl.length === 2 ? count < 8 : count === 8;
}

/** Kong's `normalize_ip`: a hostname, IPv4 or IPv6 with an optional port. 'bad-port' = port > 65535. */
export function parseHost(input: string): ParsedHost | 'invalid' | 'bad-port' {
  const colons = countColons(input);
  if (colons > 1) {
    let addr = input;
    let port: number | null = null;
    const bracket = /^\[([^\]]*)\](.*)$/.exec(input);
    if (bracket) {
      addr = bracket[1] ?? '';
      const rest = bracket[2] ?? '';
      if (rest !== '') {
        const pm = /^:(\d+)$/.exec(rest);
        if (!pm) return 'invalid';
        port = Number(pm[1]);
        if (port > 65535) return 'bad-port';
      }
    }
    return isIpv6(addr) ? { kind: 'ipv6', host: addr, port } : 'invalid';
  }
  let host = input;
  let port: number | null = null;
  if (colons === 1) {
    const idx = input.indexOf(':');
    host = input.slice(0, idx);
    const p = input.slice(idx + 1);
    if (!DIGITS.test(p)) return 'invalid';
    port = Number(p);
    if (port > 65535) return 'bad-port';
  }
  if (DIGITS_AND_DOTS.test(host)) return isIpv4(host) ? { kind: 'ipv4', host, port } : 'invalid';
  return host !== '' && HOSTNAME.test(host) ? { kind: 'name', host, port } : 'invalid';
}

function checkHost(value: string): string | null {
  const p = parseHost(value);
  if (p === 'invalid') return `invalid value: ${value}`;
  if (p === 'bad-port' || p.port !== null) return 'must not have a port';
  return null;
}

function checkHostWithOptionalPort(value: string): string | null {
  const p = parseHost(value);
  if (p === 'invalid' || p === 'bad-port') return `invalid value: ${value}`;
  return null;
}

function checkSni(host: string): string | null {
  const p = parseHost(host);
  if (p === 'invalid') return `invalid value: ${host}`;
  if (p === 'bad-port') return 'must not have a port';
  if (p.kind !== 'name') return 'must not be an IP';
  if (p.port !== null) return 'must not have a port';
  return null;
}

function checkWildcardHost(value: string): string | null {
  let host = value;
  const idx = host.indexOf('*');
  if (idx !== -1) {
    if (idx !== 0 && idx !== host.length - 1) return 'wildcard must be leftmost or rightmost character';
    if (host.split('*').length > 2) return 'only one wildcard must be specified';
    host = host.replace('*', 'wildcard');
  }
  return checkSni(host);
}

/** Route `hosts` elements: at most one wildcard, as the leftmost or rightmost label; optional port. */
function checkRouteHost(value: string): string | null {
  if (value.split('*').length > 2) return 'invalid wildcard: must have at most one wildcard';
  if (value.includes('*') && !(value.startsWith('*.') || value.endsWith('.*'))) {
    return 'invalid wildcard: must be placed at leftmost or rightmost label';
  }
  return checkHostWithOptionalPort(value.replace(/\*/g, 'abc'));
}

const PATH_CHARS = /^\/[A-Za-z0-9.\-_~/%:@!$&'()*+,;=]*$/;

/** Kong's `typedefs.path` custom validator (after `starts_with` and `//` checks). */
function validatePathChars(path: string): { message: string; code: 'rfc3986' | 'percent' } | null {
  if (!PATH_CHARS.test(path)) {
    return { message: `invalid path: '${path}' (characters outside of the reserved list of RFC 3986 found)`, code: 'rfc3986' };
  }
  if (!path.includes('%')) return null;
  const raw = path.replace(/%[0-9A-Fa-f]{2}/g, '___');
  const pct = raw.indexOf('%');
  if (pct !== -1) return { message: `invalid url-encoded value: '${raw.slice(pct, pct + 3)}'`, code: 'percent' };
  return null;
}

function checkPath(path: string): string | null {
  if (!path.startsWith('/')) return 'should start with: /';
  if (path.includes('//')) return 'must not have empty segments';
  return validatePathChars(path)?.message ?? null;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Kong's router path normalization: decode unreserved %XX, upper-case the rest, drop dot segments. */
export function normalizeRoutePath(path: string): string {
  // Nothing to decode and no dot segment: already normal (the common case, checked per route).
  if (path.charCodeAt(0) === 0x2f && !path.includes('%') && !path.includes('/.')) return path;
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : m.toUpperCase();
  });
  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '.') { if (last) out.push(''); continue; }
    if (seg === '..') { if (out.length > 1) out.pop(); if (last) out.push(''); continue; }
    out.push(seg);
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

function checkRouterPath(path: string): string | null {
  if (!path.startsWith('/') && !path.startsWith('~/')) return 'should start with: / (fixed path) or ~/ (regex path)';
  if (path.includes('//')) return 'must not have empty segments';
  if (!path.startsWith('~')) {
    const bad = validatePathChars(path);
    if (bad?.code === 'percent') return bad.message;
    const normalized = normalizeRoutePath(path);
    if (normalized !== path) return `non-normalized path, consider use '${normalized}' instead`;
    return null;
  }
  const regex = path.slice(1);
  try {
    new RegExp(regex);
  } catch (e) {
    // Kong reports PCRE's text; we report the JS engine's, in the same frame.
    const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '') : String(e);
    return `invalid regex: '${regex}' (PCRE returned: ${reason})`;
  }
  return null;
}

const UTF8_NAME = /^[A-Za-z0-9.\-_~\u0080-\u{10ffff}]+$/u;
function checkUtf8Name(name: string): string | null {
  if (!UTF8_NAME.test(name)) {
    return `invalid value '${name}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`;
  }
  return null;
}

function checkName(name: string): string | null {
  if (!/^[A-Za-z0-9.\-_~]+$/.test(name)) {
    return `invalid value '${name}': it must only contain alphanumeric and '., -, _, ~' characters`;
  }
  return null;
}

const TAG = /^[ !-+\-.0-~\u0080-\u{10ffff}]+$/u;
function checkTag(tag: string): string | null {
  if (!TAG.test(tag)) {
    return `invalid tag '${tag}': expected printable ascii (except \`,\` and \`/\`) or valid utf-8 sequences`;
  }
  return null;
}

function checkUpstreamName(name: string): string | null {
  const p = parseHost(name);
  if (p === 'invalid') return `Invalid name ('${name}'); must be a valid hostname`;
  if (p === 'bad-port') return `Invalid name ('${name}'); no port allowed`;
  if (p.kind !== 'name') return `Invalid name ('${name}'); no ip addresses allowed`;
  if (p.port !== null) return `Invalid name ('${name}'); no port allowed`;
  return null;
}

function checkTarget(target: string): string | null {
  const p = parseHost(target);
  if (p === 'invalid' || p === 'bad-port') return `Invalid target ('${target}'); not a valid hostname or ip address`;
  return null;
}

function checkIpOrCidr(value: string): string | null {
  const [ip, bits, extra] = value.split('/');
  const okIp = ip !== undefined && (isIpv4(ip) || isIpv6(ip));
  const max = ip !== undefined && isIpv4(ip) ? 32 : 128;
  const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max);
  if (!okIp || !okBits || extra !== undefined) return `invalid ip or cidr range: '${value}'`;
  return null;
}

function checkHeaderName(name: string): string | null {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return `bad header name '${name}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`;
  return null;
}

function checkRouteHeaderName(name: string): string | null {
  if (/^host$/i.test(name)) return "cannot contain 'host' header, which must be specified in the 'hosts' attribute";
  return checkHeaderName(name);
}

function checkCertificate(pem: string): string | null {
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) return 'invalid certificate: unable to read PEM';
  return null;
}

function checkKey(pem: string): string | null {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----/.test(pem)) return 'invalid key: unable to read PEM';
  return null;
}

/** Every named check; the names are the values of the `kongCheck` schema keyword. */
export const FIELD_CHECKS = {
  host: checkHost,
  host_with_optional_port: checkHostWithOptionalPort,
  sni: checkSni,
  wildcard_host: checkWildcardHost,
  route_host: checkRouteHost,
  path: checkPath,
  router_path: checkRouterPath,
  utf8_name: checkUtf8Name,
  name: checkName,
  tag: checkTag,
  upstream_name: checkUpstreamName,
  target: checkTarget,
  ip_or_cidr: checkIpOrCidr,
  header_name: checkHeaderName,
  route_header_name: checkRouteHeaderName,
  certificate: checkCertificate,
  key: checkKey,
} satisfies Record<string, FieldCheck>;

export type FieldCheckName = keyof typeof FIELD_CHECKS;
