/**
 * @module gateway/upstream/balancer/least-connections
 * Least-connections as Kong does it: a binary min-heap of the available peers keyed by
 * (in-flight + 1) / weight. The "+ 1" makes an idle balancer start with the heaviest peer instead
 * of treating every idle peer alike. Ties go to the earlier target. Pick and release are
 * O(log n) and allocate nothing; the heap position lives on the peer (`heapIndex`).
 */
export interface HeapPeer {
  readonly weight: number;
  readonly index: number;
  readonly available: boolean;
  active: number;
  heapIndex: number;
}

/** a ranks before b: (a.active+1)/a.weight < (b.active+1)/b.weight, compared in integers. */
function before(a: HeapPeer, b: HeapPeer): boolean {
  const l = (a.active + 1) * b.weight;
  const r = (b.active + 1) * a.weight;
  return l < r || (l === r && a.index < b.index);
}

export class LeastConnectionsHeap<T extends HeapPeer> {
  readonly #heap: T[] = [];

  /** Builds the heap from the peers that are available now. */
  constructor(peers: readonly T[]) {
    for (const p of peers) p.heapIndex = -1;
    for (const p of peers) {
      if (!p.available || p.weight <= 0) continue;
      p.heapIndex = this.#heap.length;
      this.#heap.push(p);
      this.#up(p.heapIndex);
    }
  }

  get size(): number { return this.#heap.length; }

  /** The least-loaded peer, without taking it. */
  peek(): T | null { return this.#heap[0] ?? null; }

  /** The least-loaded peer not in `skip` (O(n); only retries pass a skip set). */
  peekExcluding(skip: ReadonlySet<T>): T | null {
    let best: T | null = null;
    for (const p of this.#heap) if (!skip.has(p) && (best === null || before(p, best))) best = p;
    return best;
  }

  /** Call after changing `peer.active`; reorders it if it is in the heap. */
  update(peer: T): void {
    const i = peer.heapIndex;
    if (i < 0 || this.#heap[i] !== peer) return;
    this.#up(i);
    this.#down(peer.heapIndex);
  }

  /** Drops every heap position (the peers may be reused by a new heap). */
  detach(): void {
    for (const p of this.#heap) p.heapIndex = -1;
    this.#heap.length = 0;
  }

  #swap(i: number, j: number): void {
    const h = this.#heap;
    const a = h[i]!, b = h[j]!;
    h[i] = b; b.heapIndex = i;
    h[j] = a; a.heapIndex = j;
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
