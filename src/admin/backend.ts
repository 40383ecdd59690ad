/**
 * @module admin/backend
 * What the Admin and Status APIs need from the gateway process, whatever its process layout.
 * The supervisor implements it; tests implement it in memory.
 */
import type { Config } from '../config/entities.ts';
import type { PluginDefinition } from '../plugins/api.ts';

export interface LoadedConfig { config: Config; hash: string; loadedAt: number; source: string }

export interface InvalidConfigBody { code: 14; name: string; message: string; fields: object; flattened_errors?: unknown[] }

export type ApplyResult =
  | { kind: 'applied'; loaded: LoadedConfig }
  | { kind: 'unchanged' }
  | { kind: 'invalid'; error: InvalidConfigBody }
  | { kind: 'busy' }
  | { kind: 'exiting' }
  | { kind: 'failed'; message: string };

export interface TargetHealth {
  targetId: string; target: string; weight: number;
  health: 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF' | 'DNS_ERROR';
  addresses: Array<{ ip: string; port: number; health: string; weight: number }>;
}

export interface AdminBackend {
  readonly version: string;
  readonly nodeId: string;
  readonly hostname: string;
  current(): LoadedConfig | null;
  /** body = the declarative config as text (YAML/JSON) or an already-parsed object */
  applyConfig(body: string | object, options: { checkHash: boolean; flattenErrors: boolean }): Promise<ApplyResult>;
  readonly plugins: ReadonlyMap<string, PluginDefinition>;
  upstreamHealth(upstreamIdOrName: string): TargetHealth[] | null;
  serverStats(): { total_requests: number; connections_active: number; connections_accepted: number; connections_handled: number; connections_reading: number; connections_writing: number; connections_waiting: number };
  memoryStats(): { workers: Array<{ pid: number; http_allocated_gc: number }>; shared: Record<string, { allocated_slabs: number; capacity: number }> };
  readiness(): { ready: true } | { ready: false; message: string };
  setDraining(): void;
  configuration(): Record<string, unknown>;
  pids(): { master: number; workers: number[] };
  /** Prometheus exposition for GET /metrics. */
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** Routes contributed by plugins (e.g. proxy-cache purge); null when not handled. */
  pluginAdminRoute?(method: string, path: string, query: URLSearchParams, body: Buffer): Promise<{ status: number; body?: unknown } | null>;
}
