/**
 * @module plugins/rate-limiting/redis-policy
 * `policy: redis`: counters in a Redis server shared by every gateway replica. One Lua script
 * reads every period's counter and increments all of them only if none is at its limit, so the
 * check and the increment are one atomic step (Kong reads then increments, and overshoots).
 * A call that Redis does not answer within `redis.timeout` fails; the handler then applies
 * `fault_tolerant`. With `sync_rate > 0`, increments are counted locally and flushed in batches.
 */
import type { RedisClientType } from 'redis';
import type { CounterSpec } from '../api.ts';
import type { RedisConfig } from './schema.ts';

const TAKE_SCRIPT = `
local cost = tonumber(ARGV[1])
local usages = {}
local allowed = true
for i = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  usages[i] = v
  if v + cost > tonumber(ARGV[i * 2]) then allowed = false end
end
if allowed and cost > 0 then
  for i = 1, #KEYS do
    local v = redis.call('INCRBY', KEYS[i], cost)
    if v == cost then redis.call('EXPIRE', KEYS[i], ARGV[i * 2 + 1]) end
  end
end
return usages
`;

export class RedisTimeoutError extends Error {
  readonly code = 'TP_REDIS_TIMEOUT';
  constructor(ms: number) { super(`redis did not answer within ${ms} ms`); }
}

/**
 * `client` is null until the `redis` package has loaded: it is imported only when a config uses it.
 * `firstTry` settles when the first connection is made or has failed: until then a request waits
 * for it (a config just applied counts its first requests); afterwards one finds Redis up or fails fast.
 */
interface Connection {
  client: RedisClientType | null;
  firstTry: Promise<void>;
  tried: boolean;
  users: number;
  closed: boolean;
}
const connections = new Map<string, Connection>();

function keyOf(r: RedisConfig): string {
  return JSON.stringify([r.host, r.port, r.database, r.username ?? null, r.password ?? null, r.ssl, r.ssl_verify, r.server_name ?? null]);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

/** One client per Redis server and credentials, shared by every plugin instance that uses it. */
function connect(r: RedisConfig, onError: (err: Error) => void): Connection {
  const key = keyOf(r);
  let c = connections.get(key);
  if (!c) {
    // The client library costs ~250 ms of start-up per process: load it only for a config that needs it.
    let tried!: () => void;
    const conn: Connection = { client: null, firstTry: new Promise<void>((resolve) => { tried = resolve; }), tried: false, users: 0, closed: false };
    const settle = () => { conn.tried = true; tried(); };
    void import('redis').then(({ createClient }) => {
      if (conn.closed) return undefined;
      const client = createClient({
        socket: {
          host: r.host ?? '127.0.0.1', port: r.port, connectTimeout: r.timeout,
          ...(r.ssl ? { tls: true as const, rejectUnauthorized: r.ssl_verify, servername: r.server_name ?? undefined } : {}),
          // Keep trying in the background; requests meanwhile fail fast (no offline queue).
          reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 1000),
        },
        username: r.username ?? undefined,
        password: r.password ?? undefined,
        database: r.database,
        disableOfflineQueue: true,
      }) as RedisClientType;
      client.on('error', (err: Error) => { settle(); onError(err); });
      conn.client = client;
      return client.connect();
    }).then(settle, (err: Error) => { settle(); onError(err); });
    c = conn;
    connections.set(key, c);
  }
  c.users++;
  return c;
}

export class RedisCounters {
  readonly #conn: Connection;
  readonly #timeout: number;
  readonly #syncRate: number;
  /** sync_rate > 0: local deltas and the last values read from Redis, per key. */
  readonly #pending = new Map<string, { delta: number; base: number; ttl: number }>();
  #flushTimer: NodeJS.Timeout | null = null;

  constructor(r: RedisConfig, syncRate: number, onError: (err: Error) => void) {
    this.#conn = connect(r, onError);
    this.#timeout = r.timeout;
    this.#syncRate = syncRate;
    if (syncRate > 0) {
      this.#flushTimer = setInterval(() => { void this.#flush().catch(onError); }, syncRate * 1000);
      this.#flushTimer.unref();
    }
  }

  async take(counters: readonly CounterSpec[], cost: number): Promise<number[]> {
    if (this.#syncRate > 0) return this.#takeBatched(counters, cost);
    const conn = this.#conn;
    if (!conn.tried) await withTimeout(conn.firstTry, this.#timeout);
    const client = conn.client;
    if (!client?.isReady) throw new Error('redis is not connected');
    const args = [String(cost)];
    for (const c of counters) args.push(String(c.limit), String(c.ttl));
    const res = await withTimeout(client.eval(TAKE_SCRIPT, { keys: counters.map((c) => c.key), arguments: args }) as Promise<number[]>, this.#timeout);
    return res.map(Number);
  }

  /** Counts locally between flushes: usage = last value read from Redis + what this node added since. */
  #takeBatched(counters: readonly CounterSpec[], cost: number): number[] {
    const usages = counters.map((c) => {
      const p = this.#pending.get(c.key);
      return p ? p.base + p.delta : 0;
    });
    if (cost > 0 && counters.every((c, i) => usages[i]! + cost <= c.limit)) {
      for (const c of counters) {
        let p = this.#pending.get(c.key);
        if (!p) this.#pending.set(c.key, (p = { delta: 0, base: 0, ttl: c.ttl }));
        p.delta += cost;
      }
    }
    return usages;
  }

  async #flush(): Promise<void> {
    const client = this.#conn.client;
    if (!client?.isReady || this.#pending.size === 0) return;
    for (const [key, p] of this.#pending) {
      const delta = p.delta;
      p.delta = 0;
      const v = delta > 0
        ? Number(await withTimeout(client.incrBy(key, delta), this.#timeout))
        : Number((await withTimeout(client.get(key), this.#timeout)) ?? 0);
      if (delta > 0 && v === delta) await withTimeout(client.expire(key, p.ttl), this.#timeout);
      p.base = v;
      // Windows end; an entry no one increments any more is dropped once Redis no longer has it.
      if (delta === 0 && v === 0) this.#pending.delete(key);
    }
  }

  close(): void {
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    const c = this.#conn;
    if (--c.users === 0) {
      for (const [k, v] of connections) if (v === c) connections.delete(k);
      c.closed = true;
      c.tried = true;
      const client = c.client;
      if (client) {
        // Commands in flight may finish (a frozen Redis gets `timeout`). A client no longer open
        // throws, even from destroy(): unheard, that rejection would end the worker.
        const destroy = () => { try { client.destroy(); } catch { /* closed already */ } };
        const timer = setTimeout(destroy, this.#timeout);
        timer.unref();
        client.close().then(() => clearTimeout(timer), () => { clearTimeout(timer); destroy(); });
      }
    }
  }
}
