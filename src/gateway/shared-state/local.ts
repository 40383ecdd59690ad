/**
 * @module gateway/shared-state/local
 * The in-process implementations of the counters and the cache plugins share. With one worker
 * the worker owns them; with several, the primary process owns them and the workers reach them
 * over IPC (./ipc.ts), which is what makes `policy: local` rate limits exact across workers.
 */
import { LRUCache } from 'lru-cache';
import type { CounterSpec, CounterStore, SharedCache } from '../../plugins/api.ts';

interface Counter { value: number; expiresAt: number }

export class LocalCounterStore implements CounterStore {
  readonly #counters = new Map<string, Counter>();
  readonly #sweep: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#sweep = setInterval(() => this.#expire(), 10_000);
    this.#sweep.unref();
  }

  /** Atomic here because it runs to completion on one event loop. */
  take(counters: readonly CounterSpec[], cost: number): number[] {
    const now = this.#now();
    const usages = new Array<number>(counters.length);
    let allowed = true;
    for (let i = 0; i < counters.length; i++) {
      const spec = counters[i]!;
      const c = this.#counters.get(spec.key);
      const used = c && c.expiresAt > now ? c.value : 0;
      usages[i] = used;
      if (used + cost > spec.limit) allowed = false;
    }
    if (allowed && cost > 0) {
      for (let i = 0; i < counters.length; i++) {
        const spec = counters[i]!;
        const c = this.#counters.get(spec.key);
        if (c && c.expiresAt > now) c.value += cost;
        else this.#counters.set(spec.key, { value: cost, expiresAt: now + spec.ttl * 1000 });
      }
    }
    return usages;
  }

  #expire(): void {
    const now = this.#now();
    for (const [k, c] of this.#counters) if (c.expiresAt <= now) this.#counters.delete(k);
  }

  close(): void { clearInterval(this.#sweep); }
}

export class LocalSharedCache implements SharedCache {
  readonly #lru: LRUCache<string, Buffer>;

  constructor(maxBytes = 128 * 1024 * 1024) {
    this.#lru = new LRUCache<string, Buffer>({
      maxSize: maxBytes,
      sizeCalculation: (v, k) => v.length + k.length + 64,
      ttlAutopurge: false,
    });
  }

  get(key: string): Buffer | undefined { return this.#lru.get(key); }
  set(key: string, value: Buffer, ttlSeconds: number): void {
    if (value.length + key.length + 64 > this.#lru.maxSize) return;
    this.#lru.set(key, value, { ttl: Math.max(1, Math.round(ttlSeconds * 1000)) });
  }
  delete(key: string): void { this.#lru.delete(key); }
  purge(prefix: string): void {
    if (prefix === '') { this.#lru.clear(); return; }
    for (const k of [...this.#lru.keys()]) if (k.startsWith(prefix)) this.#lru.delete(k);
  }
}
