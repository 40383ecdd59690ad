/**
 * @module gateway/upstream/pools
 * Keep-alive connection pools to upstream peers, one per (origin, connect timeout, TLS options),
 * kept across config swaps so a new snapshot does not reconnect to every target. Idle pools are
 * closed after a while so removed targets do not leak sockets. Proxied requests use the lean
 * HTTP/1.1 client (`H1Pool`); WebSocket upgrades use undici's, which hands over the socket.
 */
import type { Pool } from 'undici';
import { loadUndici } from '../../net/undici.ts';
import { H1Pool } from './h1-pool.ts';

type TlsOptions = { servername?: string; rejectUnauthorized?: boolean } | null;
interface Entry { pool: H1Pool | Pool; lastUsed: number }

function hostPort(origin: string): { host: string; port: number } {
  const u = new URL(origin);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { host, port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
}

export class UpstreamPools {
  readonly #pools = new Map<string, Entry>();
  /** Plain-HTTP pools by origin alone, the last one used for it; cleared whenever a pool closes. */
  readonly #plain = new Map<string, { connectTimeout: number; entry: Entry }>();
  readonly #sweep: NodeJS.Timeout;
  readonly #maxConnections: number;

  constructor(options: { maxConnectionsPerPeer?: number; idleSweepMs?: number } = {}) {
    this.#maxConnections = options.maxConnectionsPerPeer ?? 512;
    this.#sweep = setInterval(() => this.#closeIdle(), options.idleSweepMs ?? 120_000);
    this.#sweep.unref();
  }

  /** The pool proxied requests go through. */
  get(origin: string, connectTimeout: number, tls: TlsOptions): H1Pool {
    if (tls === null) {
      // The common case without building a key: the origin is the peer's own string.
      const plain = this.#plain.get(origin);
      if (plain !== undefined && plain.connectTimeout === connectTimeout) {
        plain.entry.lastUsed = Date.now();
        return plain.entry.pool as H1Pool;
      }
    }
    const key = tls ? `${origin}|${connectTimeout}|${tls.servername ?? ''}|${tls.rejectUnauthorized ? 1 : 0}` : `${origin}|${connectTimeout}`;
    const pool = (this.#used(key) as H1Pool | undefined) ?? this.#add(key, new H1Pool({
      ...hostPort(origin),
      connectTimeout,
      tls,
      maxConnections: this.#maxConnections,
      keepAliveTimeout: 60_000,
      maxHeaderSize: 64 * 1024,
    }));
    if (tls === null) this.#plain.set(origin, { connectTimeout, entry: this.#pools.get(key)! });
    return pool;
  }

  /** undici's pool, for WebSocket upgrades (it hands the upgraded socket over). */
  async getUpgrade(origin: string, connectTimeout: number, tls: TlsOptions): Promise<Pool> {
    const key = `upgrade|${origin}|${connectTimeout}|${tls?.servername ?? ''}|${tls?.rejectUnauthorized ? 1 : 0}`;
    const found = this.#used(key) as Pool | undefined;
    if (found) return found;
    const { Pool } = await loadUndici();
    // Another upgrade may have made it while undici loaded.
    return (this.#used(key) as Pool | undefined) ?? this.#add(key, new Pool(origin, {
      connections: this.#maxConnections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      connect: { timeout: connectTimeout, ...(tls ?? {}) },
      // Timeouts are per request (the service's read timeout); these are only the ceilings.
      headersTimeout: 0,
      bodyTimeout: 0,
      maxHeaderSize: 64 * 1024,
    }));
  }

  /** The pool under `key`, marked used; undefined if there is none yet (no closure per request). */
  #used(key: string): H1Pool | Pool | undefined {
    const e = this.#pools.get(key);
    if (e === undefined) return undefined;
    e.lastUsed = Date.now();
    return e.pool;
  }

  #add<P extends H1Pool | Pool>(key: string, pool: P): P {
    this.#pools.set(key, { pool, lastUsed: Date.now() });
    return pool;
  }

  #closeIdle(): void {
    const cutoff = Date.now() - 300_000;
    this.#plain.clear();
    for (const [key, e] of this.#pools) {
      if (e.lastUsed < cutoff) {
        this.#pools.delete(key);
        e.pool.close().catch(() => {});
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const all = [...this.#pools.values()];
    this.#pools.clear();
    this.#plain.clear();
    await Promise.all(all.map((e) => e.pool.close().catch(() => e.pool.destroy())));
  }
}
