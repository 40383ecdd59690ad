/**
 * @module net/cidr
 * IPv4/IPv6 address and CIDR matching, compiled once. Used for `trusted_ips` (which client
 * `X-Forwarded-*` headers to believe) and by ip-restriction. Addresses are compared as
 * BigInts over a 128-bit space with IPv4 mapped into ::ffff:0:0/96, so `::ffff:1.2.3.4` (what
 * Node reports for IPv4 clients on a dual-stack socket) matches `1.2.3.0/24`.
 */
import { isIPv4, isIPv6 } from 'node:net';

const V4_MAPPED = 0xffffn << 32n;

function parseV4(ip: string): bigint {
  const p = ip.split('.');
  return (BigInt(Number(p[0])) << 24n) | (BigInt(Number(p[1])) << 16n) | (BigInt(Number(p[2])) << 8n) | BigInt(Number(p[3]));
}

function parseV6(ip: string): bigint {
  let s = ip;
  const pct = s.indexOf('%');
  if (pct !== -1) s = s.slice(0, pct);
  let tail4: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    tail4 = parseV4(s.slice(lastColon + 1));
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = s.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : null;
  const groups = r === null ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g || '0', 16));
  if (tail4 !== null) v = (v & ~0xffffffffn) | tail4;
  return v;
}

/** Parses an IPv4 or IPv6 address into the 128-bit space; null when it is not an IP. */
export function ipToBigInt(ip: string): bigint | null {
  if (isIPv4(ip)) return V4_MAPPED | parseV4(ip);
  if (isIPv6(ip)) return parseV6(ip);
  return null;
}

interface Range { base: bigint; mask: bigint }

/** A set of addresses and CIDR blocks; `has(ip)` is a handful of BigInt operations per block. */
export class CidrSet {
  readonly #ranges: Range[] = [];
  readonly #exact = new Set<string>();

  /** Throws `invalid ip or cidr range: '<entry>'` for entries that are neither. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const ip = slash === -1 ? entry : entry.slice(0, slash);
      const v = ipToBigInt(ip);
      if (v === null) throw new Error(`invalid ip or cidr range: '${entry}'`);
      const v4 = isIPv4(ip);
      let bits = slash === -1 ? (v4 ? 32 : 128) : Number(entry.slice(slash + 1));
      const max = v4 ? 32 : 128;
      if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new Error(`invalid ip or cidr range: '${entry}'`);
      if (v4) bits += 96;
      const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
      if (bits === 128) this.#exact.add(ip);
      this.#ranges.push({ base: v & mask, mask });
    }
  }

  get size(): number { return this.#ranges.length; }

  has(ip: string): boolean {
    if (this.#ranges.length === 0) return false;
    if (this.#exact.has(ip)) return true;
    const v = ipToBigInt(ip);
    if (v === null) return false;
    for (const r of this.#ranges) if ((v & r.mask) === r.base) return true;
    return false;
  }
}

/** Checks one `ip` or `ip/bits` entry without building a set. */
export function isIpOrCidr(entry: string): boolean {
  try { new CidrSet([entry]); return true; } catch { return false; }
}
