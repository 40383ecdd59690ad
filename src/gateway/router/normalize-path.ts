/**
 * @module gateway/router/normalize-path
 * Kong's request-path normalization before routing: percent-decode what is not reserved, remove
 * dot segments, merge repeated slashes. Prefix and regex routes both match against the result,
 * so `/echo/../admin` and `/%2e%2e/admin` cannot slip past a prefix route. Never throws.
 */

/** Characters that stay percent-encoded (RFC 3986 reserved set plus `%`). */
const RESERVED = new Set([...'!*\'();:@&=+$,/?%#[]'].map((c) => c.charCodeAt(0)));

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const HEX = '0123456789ABCDEF';

function decodeUnreserved(p: string): string {
  if (p.indexOf('%') === -1) return p;
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p.charCodeAt(i);
    if (ch === 37 && i + 2 < p.length) {
      const hi = hexVal(p.charCodeAt(i + 1));
      const lo = hexVal(p.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const byte = hi * 16 + lo;
        // Printable ASCII that is not reserved is decoded; everything else keeps its (upper-case) escape.
        if (byte > 0x20 && byte < 0x7f && !RESERVED.has(byte)) out += String.fromCharCode(byte);
        else out += '%' + HEX[hi] + HEX[lo];
        i += 2;
        continue;
      }
    }
    out += p[i];
  }
  return out;
}

/** RFC 3986 §5.2.4 over '/'-separated segments, with empty segments merged. */
function removeDotSegments(p: string): string {
  const trailing = p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { out.pop(); continue; }
    out.push(seg);
  }
  if (out.length === 0) return '/';
  return '/' + out.join('/') + (trailing ? '/' : '');
}

export function normalizePath(raw: string): string {
  let p = raw.length === 0 || raw.charCodeAt(0) !== 47 ? '/' + raw : raw;
  p = decodeUnreserved(p);
  // Fast path: nothing to remove or merge.
  if (p.indexOf('//') === -1 && p.indexOf('/.') === -1) return p;
  return removeDotSegments(p);
}
