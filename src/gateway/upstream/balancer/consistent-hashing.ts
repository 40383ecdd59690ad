/**
 * @module gateway/upstream/balancer/consistent-hashing
 * The consistent-hashing continuum, shaped like Kong's (a Ketama variant): a ring of `slots`
 * points (at least 1000); each enabled target gets about 160 x (its share of the weight x number
 * of targets) points, placed by hashing "<host:port> <i>"; a point already taken pushes the target
 * to one more point. A key hashes to a point and belongs to the first target found walking the
 * ring backwards from it. Targets are placed in sorted name order, so every process builds the
 * same ring, and a target's points do not depend on the others' health, so a target going down
 * (or being removed, at equal weights) moves only the keys it owned.
 *
 * Lookups are O(1): besides the ring we keep, per point, the owner after skipping unavailable
 * targets. That table is recomputed (O(slots)) when availability changes.
 *
 * The hash is FNV-1a with a murmur3 finalizer: fast, allocation-free and deterministic; it does
 * not need to match Kong's xxhash32 since no Kong node shares our rings.
 */
export const MIN_RING_POINTS = 1000;
const POINTS_PER_TARGET = 160;

/** 32-bit hash of a string's UTF-16 code units. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface RingMember {
  readonly name: string;
  readonly weight: number;
  readonly available: boolean;
}

export class HashRing<T extends RingMember> {
  readonly points: number;
  readonly #members: T[];
  /** Ring point -> index into #members, or -1. */
  readonly #ring: Int32Array;
  /** Ring point -> index of the first available member at or before it, or -1 if none. */
  readonly #owner: Int32Array;

  /** `members` are the enabled targets; their availability is read again by `refresh()`. */
  constructor(members: readonly T[], slots: number) {
    this.points = Math.max(MIN_RING_POINTS, Math.floor(slots));
    this.#members = [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#ring = new Int32Array(this.points).fill(-1);
    this.#owner = new Int32Array(this.points).fill(-1);
    this.#place();
    this.refresh();
  }

  #place(): void {
    const members = this.#members;
    let totalWeight = 0;
    for (const m of members) totalWeight += m.weight;
    if (totalWeight === 0) return;
    // Kong would refuse a ring too small for its points; we shrink the per-target points instead
    // and keep at least one free point in ten so collision probing ends quickly.
    const perTarget = Math.max(1, Math.min(POINTS_PER_TARGET, Math.floor((this.points * 0.9) / members.length)));
    let placed = 0;
    for (let t = 0; t < members.length; t++) {
      const m = members[t]!;
      let entries = Math.floor((m.weight / totalWeight) * members.length * perTarget);
      if (m.weight > 0 && entries === 0) entries = 1;
      for (let i = 1; i <= entries && placed < this.points; i++) {
        const p = hashString(`${m.name} ${i}`) % this.points;
        if (this.#ring[p] === -1) { this.#ring[p] = t; placed++; }
        else entries++; // taken: move the problem forward, as Kong does
      }
    }
  }

  /** Recomputes point owners from the members' current availability. */
  refresh(): void {
    const ring = this.#ring, owner = this.#owner, n = this.points;
    // Find the last available point on the ring so the backwards walk can wrap around.
    let carry = -1;
    for (let p = n - 1; p >= 0; p--) {
      const m = ring[p]!;
      if (m !== -1 && this.#members[m]!.available) { carry = m; break; }
    }
    for (let p = 0; p < n; p++) {
      const m = ring[p]!;
      if (m !== -1 && this.#members[m]!.available) carry = m;
      owner[p] = carry;
    }
  }

  /** The owner of `hash`, or null when no member is available. O(1). */
  lookup(hash: number): T | null {
    const m = this.#owner[hash % this.points]!;
    return m === -1 ? null : this.#members[m]!;
  }

  /** The first available member walking backwards from `hash` that is not in `skip`. */
  lookupExcluding(hash: number, skip: ReadonlySet<T>): T | null {
    const first = this.lookup(hash);
    if (first === null || !skip.has(first)) return first;
    let untried = false;
    for (const m of this.#members) if (m.available && !skip.has(m)) { untried = true; break; }
    if (!untried) return null;
    const n = this.points;
    let p = hash % n;
    for (let step = 0; step < n; step++) {
      const m = this.#ring[p]!;
      if (m !== -1) {
        const member = this.#members[m]!;
        if (member.available && !skip.has(member)) return member;
      }
      p = p === 0 ? n - 1 : p - 1;
    }
    return null;
  }
}
