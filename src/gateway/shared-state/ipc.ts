/**
 * @module gateway/shared-state/ipc
 * Counters and cache owned by the primary process, reached by the workers over the cluster IPC
 * channel. Each call is one message and one reply; the primary handles them one at a time on its
 * event loop, so `take` stays atomic across every worker. Cache hits are kept in a small
 * per-worker mirror so repeated hits do not cross processes.
 */
import { LRUCache } from 'lru-cache';
import type { CounterSpec, CounterStore, SharedCache } from '../../plugins/api.ts';
import type { LocalCounterStore, LocalSharedCache } from './local.ts';

export type SharedStateRequest =
  | { t: 'take'; id: number; counters: readonly CounterSpec[]; cost: number }
  | { t: 'cache-get'; id: number; key: string }
  | { t: 'cache-set'; key: string; value: Buffer; ttl: number }
  | { t: 'cache-del'; id: number; key: string }
  | { t: 'cache-purge'; prefix: string };

export type SharedStateReply = { t: 'reply'; id: number; value: unknown };
/** Broadcast by the primary so worker mirrors drop purged entries. */
export type CacheInvalidation = { t: 'cache-invalidate'; key: string | null; prefix: string | null };

interface Pending { resolve(v: unknown): void; timer: NodeJS.Timeout }

type Send = (msg: SharedStateRequest) => void;

/** Worker side: one instance per worker process. */
export class IpcSharedState {
  readonly #send: Send;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  readonly counters: CounterStore;
  readonly cache: SharedCache;

  constructor(send: Send, timeoutMs = 2000) {
    this.#send = send;
    const call = (build: (id: number) => SharedStateRequest, fallback: unknown): Promise<unknown> =>
      new Promise((resolve) => {
        const id = this.#nextId++;
        // If the primary does not answer, fail open rather than hang the request.
        const timer = setTimeout(() => { this.#pending.delete(id); resolve(fallback); }, timeoutMs);
        this.#pending.set(id, { resolve, timer });
        this.#send(build(id));
      });
    this.counters = {
      take: (counters, cost) =>
        call((id) => ({ t: 'take', id, counters, cost }), counters.map(() => 0)) as Promise<number[]>,
    };
    const mirror = new LRUCache<string, { value: Buffer; expiresAt: number }>({ max: 1024 });
    this.cache = {
      get: (key) => {
        const m = mirror.get(key);
        if (m && m.expiresAt > Date.now()) return m.value;
        return (call((id) => ({ t: 'cache-get', id, key }), undefined) as Promise<{ value: Buffer; ttl: number } | undefined>)
          .then((r) => {
            if (!r) return undefined;
            const value = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
            mirror.set(key, { value, expiresAt: Date.now() + r.ttl });
            return value;
          });
      },
      set: (key, value, ttl) => {
        mirror.set(key, { value, expiresAt: Date.now() + ttl * 1000 });
        this.#send({ t: 'cache-set', key, value, ttl });
      },
      // Answered after the primary told every worker to drop the key: a client that hears of the
      // delete (a refreshed oauth2 token) cannot reach a worker that still serves the old entry.
      delete: (key) => {
        mirror.delete(key);
        return call((id) => ({ t: 'cache-del', id, key }), undefined) as Promise<void>;
      },
      purge: (prefix) => {
        if (prefix === '') mirror.clear();
        else for (const k of [...mirror.keys()]) if (k.startsWith(prefix)) mirror.delete(k);
        this.#send({ t: 'cache-purge', prefix });
      },
    };
    this.invalidate = (inv: CacheInvalidation) => {
      if (inv.key !== null) mirror.delete(inv.key);
      else if (inv.prefix === '' || inv.prefix === null) mirror.clear();
      else for (const k of [...mirror.keys()]) if (k.startsWith(inv.prefix)) mirror.delete(k);
    };
  }

  readonly invalidate: (inv: CacheInvalidation) => void;

  onReply(msg: SharedStateReply): void {
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    p.resolve(msg.value);
  }
}

/** Primary side: answers one worker's request from the primary's local stores. */
export function serveSharedState(
  msg: SharedStateRequest,
  counters: LocalCounterStore,
  cache: LocalSharedCache & { ttlOf?(key: string): number },
  reply: (r: SharedStateReply) => void,
  broadcast: (inv: CacheInvalidation) => void,
): void {
  switch (msg.t) {
    case 'take':
      reply({ t: 'reply', id: msg.id, value: counters.take(msg.counters, msg.cost) });
      break;
    case 'cache-get': {
      const value = cache.get(msg.key);
      // Mirrors keep an entry at most a second: the entry's own freshness is in its payload.
      reply({ t: 'reply', id: msg.id, value: value ? { value, ttl: 1000 } : undefined });
      break;
    }
    case 'cache-set':
      cache.set(msg.key, Buffer.isBuffer(msg.value) ? msg.value : Buffer.from(msg.value as Uint8Array), msg.ttl);
      break;
    case 'cache-del':
      cache.delete(msg.key);
      broadcast({ t: 'cache-invalidate', key: msg.key, prefix: null });
      reply({ t: 'reply', id: msg.id, value: undefined });
      break;
    case 'cache-purge':
      cache.purge(msg.prefix);
      broadcast({ t: 'cache-invalidate', key: null, prefix: msg.prefix });
      break;
  }
}
