/**
 * @module admin/backend
 * What the Admin and Status APIs need from the process that hosts them. The HTTP handlers in this
 * folder only translate between Kong's wire format and this interface; the gateway (supervisor,
 * all-in-one process or a test double) owns the config, the snapshot and the counters behind it.
 */
import type { Config } from '../config/entities.ts';
import type { PluginDefinition } from '../plugins/api.ts';

/** A configuration that was validated, compiled and is now serving. */
export interface LoadedConfig {
  config: Config;
  /** Kong's `configuration_hash`: md5 of the submitted text (32 hex chars). */
  hash: string;
  /** When it was loaded, in ms since the epoch. */
  loadedAt: number;
  /** Where it came from: `file:/path`, `admin` or `controller`. */
  source: string;
}

/** Kong's code-14 error body for an invalid declarative config (`POST /config` 400). */
export interface DeclarativeConfigErrorBody {
  code: 14;
  name: string;
  message: string;
  fields: object;
  /** Present when `flatten_errors` was asked for. */
  flattened_errors?: unknown[];
}

/** The outcome of `applyConfig`, one case per row of Kong's `POST /config` table. */
export type ApplyResult =
  /** `rendered`: what `options.render` made of the config while the workers compiled it. */
  | { kind: 'applied'; loaded: LoadedConfig; rendered?: Buffer }
  /** `check_hash` was set and the submitted config has the current hash → 304. */
  | { kind: 'unchanged' }
  /** Parse or validation failure → 400 with the body as given. */
  | { kind: 'invalid'; error: DeclarativeConfigErrorBody }
  /**
   * Another load is in progress → 429 `Currently loading previous configuration`. `retryAfter`
   * (seconds) becomes the `Retry-After` header; Kong sends the remaining lock time, capped at 10.
   * Defaults to 1 because a Turnpike load rarely takes longer.
   */
  | { kind: 'busy'; retryAfter?: number }
  /** The process is shutting down → 503 `Kong currently exiting`. */
  | { kind: 'exiting' }
  /**
   * Loading failed after validation (a worker refused it, …). `timeout: true` → 504
   * `Timed out while loading configuration`; otherwise 500 `An unexpected error occurred`
   * (Kong does not put the cause in the body; the backend should log `message`).
   */
  | { kind: 'failed'; message: string; timeout?: boolean };

/** One target of an upstream with its balancer health (`GET /upstreams/{u}/health`). */
export interface TargetHealth {
  targetId: string;
  /** `host:port`, as in the target entity. */
  target: string;
  weight: number;
  health: 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF' | 'DNS_ERROR';
  addresses: Array<{ ip: string; port: number; health: string; weight: number }>;
}

/** nginx-style connection counters (`GET /status` → `server`). */
export interface ServerStats {
  total_requests: number;
  connections_active: number;
  connections_accepted: number;
  connections_handled: number;
  connections_reading: number;
  connections_writing: number;
  connections_waiting: number;
}

/** Memory use in bytes (`GET /status` → `memory`, formatted by `unit`/`scale`). */
export interface MemoryStats {
  /** One entry per worker; `http_allocated_gc` is the worker's heap use. */
  workers: Array<{ pid: number; http_allocated_gc: number }>;
  /** Shared stores by name (Kong's `lua_shared_dicts`). */
  shared: Record<string, { allocated_slabs: number; capacity: number }>;
}

export type Readiness = { ready: true } | { ready: false; message: string };

/** A reply from a plugin-contributed admin route. */
export interface PluginAdminReply {
  status: number;
  /** Sent as compact JSON; omitted (or 204) means an empty body. */
  body?: unknown;
}

export interface AdminBackend {
  /** The version reported by `GET /` and the `Server: turnpike/<version>` header. */
  readonly version: string;
  /** This node's id (a UUID), as Kong's `node_id`. */
  readonly nodeId: string;
  readonly hostname: string;

  /** The configuration that is serving now, or null before the first load. */
  current(): LoadedConfig | null;

  /**
   * Validates and loads a declarative config. `body` is the config as text (YAML or JSON; the
   * hash is computed over this text) or an already-parsed object (a JSON body that carried
   * `_format_version` itself). `hashOf`: the bytes the hash is computed over instead (that JSON
   * body as sent: Kong hashes the raw body then). `render` (the 201 body) runs while the workers
   * compile, when the primary would otherwise wait; its bytes come back as `rendered`.
   */
  applyConfig(body: string | object, options: { checkHash: boolean; flattenErrors: boolean; hashOf?: Buffer; render?: (config: Config) => Buffer }): Promise<ApplyResult>;

  /** Plugins this node can run (Kong's `loaded_plugins`), by name. */
  readonly plugins: ReadonlyMap<string, PluginDefinition>;

  /**
   * Balancer health of the upstream with this id (the handlers always pass the id), one entry per
   * target the balancer knows. null when the upstream has no balancer.
   */
  upstreamHealth(upstreamId: string): TargetHealth[] | null;

  serverStats(): ServerStats;
  memoryStats(): MemoryStats;

  /**
   * `GET /status/ready`. Reasons use Kong's strings, e.g. `no configuration available
   * (configuration hash is not initialized)`, `draining`.
   */
  readiness(): Readiness;
  /** `POST /status/ready` with `status=draining`: fail readiness from now on. */
  setDraining(): void;

  /** Node settings shown by `GET /` as `configuration`; secrets already redacted. */
  configuration(): Record<string, unknown>;
  pids(): { master: number; workers: number[] };

  /** Kong's `timers` in `GET /`; `{running: 0, pending: 0}` when absent. */
  timers?(): { running: number; pending: number };

  /** `GET /metrics` on both APIs (Prometheus text). 404 when absent. */
  metrics?(): Promise<{ contentType: string; body: string }>;

  /**
   * Admin routes contributed by plugins (e.g. proxy-cache purge), tried before the 404. `path`
   * is the raw path without the query string. Return null when the route is not a plugin's.
   */
  pluginAdminRoute?(method: string, path: string, query: URLSearchParams, body: Buffer): Promise<PluginAdminReply | null>;
}

/** Earlier name of `DeclarativeConfigErrorBody`, kept for existing imports. */
export type InvalidConfigBody = DeclarativeConfigErrorBody;
