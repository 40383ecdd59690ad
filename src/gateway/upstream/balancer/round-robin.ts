/**
 * @module gateway/upstream/balancer/round-robin
 * Weighted round-robin as a precomputed wheel. Kong builds a wheel of weight/gcd slots per target
 * (then shuffles it); we interleave the slots smoothly instead, so a target of weight 3 next to
 * one of weight 1 goes A A B A ... rather than in runs. The order is stride scheduling: the k-th
 * slot of a target with w units sits at (k + 1/2) / w on [0, 1), and the wheel lists all slots in
 * that order. Over one turn of the wheel every target gets exactly its w units, and in any prefix
 * each target is within one pick of its share.
 *
 * `next()` is O(1). The wheel is rebuilt only when the set of available peers changes (health,
 * DNS), which is rare. Wheels are capped at MAX_WHEEL_SLOTS; beyond that weights are scaled down
 * (each keeps at least one slot), which bends proportions by less than 1/MAX_WHEEL_SLOTS.
 */
export const MAX_WHEEL_SLOTS = 1 << 16;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Slot counts per weight: divided by their gcd, scaled down if the wheel would be too large. */
export function wheelUnits(weights: readonly number[], maxSlots = MAX_WHEEL_SLOTS): number[] {
  let g = 0;
  let total = 0;
  for (const w of weights) { g = gcd(g, w); total += w; }
  if (g === 0) return weights.map(() => 0);
  let units = weights.map((w) => w / g);
  if (total / g > maxSlots) {
    units = weights.map((w) => Math.max(1, Math.floor((w * maxSlots) / total)));
    let g2 = 0;
    for (const u of units) g2 = gcd(g2, u);
    units = units.map((u) => u / g2);
  }
  return units;
}

/**
 * The smooth order of slots for the given unit counts: indices into `units`. Built with a small
 * binary heap over the targets keyed by (2k+1)/(2u), compared in integers so ties are exact and
 * broken by index (deterministic across processes).
 */
export function smoothOrder(units: readonly number[]): Uint32Array {
  let total = 0;
  for (const u of units) total += u;
  const order = new Uint32Array(total);
  const taken = new Float64Array(units.length);
  const heap: number[] = [];
  // a before b when (2ka+1)/ua < (2kb+1)/ub, i.e. (2ka+1)*ub < (2kb+1)*ua (exact below 2^53).
  const before = (a: number, b: number): boolean => {
    const l = (2 * taken[a]! + 1) * units[b]!;
    const r = (2 * taken[b]! + 1) * units[a]!;
    return l < r || (l === r && a < b);
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = 0; i < units.length; i++) if (units[i]! > 0) { heap.push(i); up(heap.length - 1); }
  for (let n = 0; n < total; n++) {
    const top = heap[0]!;
    order[n] = top;
    taken[top]!++;
    if (taken[top] === units[top]) {
      const last = heap.pop()!;
      if (heap.length > 0) { heap[0] = last; down(0); }
    } else {
      down(0);
    }
  }
  return order;
}

/** A wheel over a fixed set of items (the available peers when it was built). */
export class RoundRobinWheel<T> {
  readonly #slots: T[];
  /** Items that own at least one slot. */
  readonly #owners: T[];
  #pointer: number;

  /** `start` offsets the first pick; random by default so worker processes do not move in lockstep. */
  constructor(items: readonly T[], weights: readonly number[], start?: number) {
    const units = wheelUnits(weights);
    const order = smoothOrder(units);
    this.#slots = new Array<T>(order.length);
    for (let i = 0; i < order.length; i++) this.#slots[i] = items[order[i]!]!;
    this.#owners = items.filter((_, i) => units[i]! > 0);
    this.#pointer = order.length === 0 ? 0 : (start ?? Math.floor(Math.random() * order.length)) % order.length;
  }

  get size(): number { return this.#slots.length; }

  next(): T | null {
    const n = this.#slots.length;
    if (n === 0) return null;
    const item = this.#slots[this.#pointer]!;
    this.#pointer = this.#pointer + 1 === n ? 0 : this.#pointer + 1;
    return item;
  }

  /** The next item not in `skip`, or null when every item is in it. */
  nextExcluding(skip: ReadonlySet<T>): T | null {
    const n = this.#slots.length;
    if (n === 0) return null;
    // Scanning the wheel for an untried item could take a full turn; rule out "none left" first.
    let untried = false;
    for (const o of this.#owners) if (!skip.has(o)) { untried = true; break; }
    if (!untried) return null;
    for (let i = 0; i < n; i++) {
      const item = this.#slots[this.#pointer]!;
      this.#pointer = this.#pointer + 1 === n ? 0 : this.#pointer + 1;
      if (!skip.has(item)) return item;
    }
    return null;
  }
}
