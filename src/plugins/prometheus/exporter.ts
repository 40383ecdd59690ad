/**
 * @module plugins/prometheus/exporter
 * The primary's side of the metrics: it sums the deltas workers send (MetricsAggregator) and
 * renders the Prometheus text exposition for `GET /metrics` (metricsRenderer), as Kong's exporter
 * does:
 *
 * - the node gauges are always there, plugin or not (`kong_node_info`, `kong_datastore_reachable`,
 *   `kong_nginx_connections_total`, `kong_nginx_requests_total`, `kong_nginx_timers`, memory);
 * - the per-request families appear only while a prometheus plugin is configured and enabled
 *   (Kong's `local_only` export otherwise), `kong_upstream_target_health` only while one of them
 *   sets `upstream_health_metrics`;
 * - lines are sorted by Kong's internal key (bucket bounds zero-padded so they sort numerically,
 *   `+Inf` last), with `# HELP` / `# TYPE` before each family's first line.
 *
 * Totals live as long as the gateway process, like Kong's shared dict: a config change or a
 * replaced worker does not reset them.
 */
import type { Plugin } from '../../config/entities.ts';
import { formatNumber14g } from '../request-transformer/cjson.ts';
import { HISTOGRAM_BUCKETS, escapeLabel, type MetricsDelta } from './recorder.ts';

export const METRICS_CONTENT_TYPE = 'text/plain; charset=UTF-8';
const PREFIX = 'kong_';
const SUBSYSTEM = 'http';

interface Family { help: string; type: 'counter' | 'gauge' | 'histogram' }

/** Kong's families (names without the prefix) with their help texts. */
const FAMILIES: Record<string, Family> = {
  bandwidth_bytes: { type: 'counter', help: 'Total bandwidth (ingress/egress) throughput in bytes' },
  datastore_reachable: { type: 'gauge', help: 'Datastore reachable from Kong, 0 is unreachable' },
  http_requests_total: { type: 'counter', help: 'HTTP status codes per consumer/service/route in Kong' },
  kong_latency_ms: { type: 'histogram', help: 'Latency added by Kong and enabled plugins for each service/route in Kong' },
  memory_lua_shared_dict_bytes: { type: 'gauge', help: 'Allocated slabs in bytes in a shared_dict' },
  memory_lua_shared_dict_total_bytes: { type: 'gauge', help: 'Total capacity in bytes of a shared_dict' },
  memory_workers_lua_vms_bytes: { type: 'gauge', help: 'Allocated bytes in worker Lua VM' },
  nginx_connections_total: { type: 'gauge', help: 'Number of connections by subsystem' },
  nginx_requests_total: { type: 'gauge', help: 'Number of requests total' },
  nginx_timers: { type: 'gauge', help: 'Number of nginx timers' },
  node_info: { type: 'gauge', help: 'Kong Node metadata information' },
  request_latency_ms: { type: 'histogram', help: 'Total latency incurred during requests for each service/route in Kong' },
  upstream_latency_ms: { type: 'histogram', help: 'Latency added by upstream response for each service/route in Kong' },
  upstream_target_health: {
    type: 'gauge',
    help: 'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
  },
};

interface Cell { counts: number[]; sum: number; count: number }

/** Totals of every worker's deltas. */
export class MetricsAggregator {
  readonly counters = new Map<string, Map<string, number>>();
  readonly histograms = new Map<string, Map<string, Cell>>();

  add(delta: MetricsDelta): void {
    for (const [family, labels, v] of delta.counters) {
      if (!Number.isFinite(v)) continue;
      let m = this.counters.get(family);
      if (!m) this.counters.set(family, m = new Map());
      m.set(labels, (m.get(labels) ?? 0) + v);
    }
    for (const [family, labels, counts, sum, count] of delta.histograms) {
      const bounds = HISTOGRAM_BUCKETS[family];
      if (!bounds || counts.length !== bounds.length + 1) continue;
      let m = this.histograms.get(family);
      if (!m) this.histograms.set(family, m = new Map());
      let cell = m.get(labels);
      if (!cell) m.set(labels, cell = { counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 });
      for (let i = 0; i < counts.length; i++) cell.counts[i]! += counts[i]!;
      cell.sum += sum;
      cell.count += count;
    }
  }

  /** The total of one counter family (all label sets), for tests and logs. */
  counterTotal(family: string): number {
    let n = 0;
    for (const v of this.counters.get(family)?.values() ?? []) n += v;
    return n;
  }
}

/** What Kong's `configure(configs)` derives from the prometheus plugins of a config. */
export function prometheusSettings(plugins: readonly Plugin[]): { enabled: boolean; upstreamHealth: boolean } {
  let enabled = false;
  let upstreamHealth = false;
  for (const p of plugins) {
    if (p.name !== 'prometheus' || p.enabled === false) continue;
    enabled = true;
    if ((p.config as { upstream_health_metrics?: unknown }).upstream_health_metrics === true) upstreamHealth = true;
  }
  return { enabled, upstreamHealth };
}

/** One target as the balancer reports it (the Admin API's `TargetHealth`). */
export interface TargetHealthInput {
  target: string;
  addresses: ReadonlyArray<{ ip: string; port: number; health: string }>;
}

export interface MetricsInput {
  nodeId: string;
  version: string;
  /** nginx-style connection counters of all workers. */
  server: {
    total_requests: number; connections_active: number; connections_accepted: number; connections_handled: number;
    connections_reading: number; connections_writing: number; connections_waiting: number;
  };
  memory?: {
    workers: ReadonlyArray<{ pid: number; http_allocated_gc: number }>;
    shared: Readonly<Record<string, { allocated_slabs: number; capacity: number }>>;
  };
  timers?: { running: number; pending: number };
  /** DB-less: always reachable (Kong's `off` strategy connects trivially). */
  datastoreReachable?: boolean;
  /** An enabled prometheus plugin exists: the per-request families are exported. */
  pluginEnabled: boolean;
  /** Per-request totals (null: none). */
  store: MetricsAggregator | null;
  /** Upstream health by upstream name, or null when `upstream_health_metrics` is off everywhere. */
  upstreams: ReadonlyArray<{ name: string; targets: readonly TargetHealthInput[] }> | null;
}

/** Kong's sprintf format for bucket bounds: enough leading zeros and decimals to sort as text. */
function bucketFormatter(bounds: readonly number[]): (n: number) => string {
  let order = 1;
  let precision = 1;
  for (const b of bounds) {
    const s = b.toFixed(6).replace(/0*$/, '');
    const dot = s.indexOf('.');
    order = Math.max(order, dot);
    precision = Math.max(precision, s.length - dot - 1);
  }
  const width = order + precision + 1;
  return (n) => n.toFixed(precision).padStart(width, '0');
}

const STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'] as const;

/** Renders the exposition text. */
export function metricsRenderer(input: MetricsInput): string {
  /** [sort key (Kong's shm key), family, line without the prefix] */
  const rows: [string, string, string][] = [];
  const put = (family: string, key: string, value: number, printed = key) => {
    rows.push([key, family, `${printed} ${formatNumber14g(value)}`]);
  };
  const node = escapeLabel(input.nodeId);
  const s = input.server;
  const conn: [string, number][] = [
    ['accepted', s.connections_accepted], ['handled', s.connections_handled], ['total', s.total_requests],
    ['active', s.connections_active], ['reading', s.connections_reading], ['writing', s.connections_writing],
    ['waiting', s.connections_waiting],
  ];
  for (const [state, v] of conn) {
    put('nginx_connections_total', `nginx_connections_total{node_id="${node}",subsystem="${SUBSYSTEM}",state="${state}"}`, v);
  }
  put('nginx_requests_total', `nginx_requests_total{node_id="${node}",subsystem="${SUBSYSTEM}"}`, s.total_requests);
  const timers = input.timers ?? { running: 0, pending: 0 };
  put('nginx_timers', 'nginx_timers{state="running"}', timers.running);
  put('nginx_timers', 'nginx_timers{state="pending"}', timers.pending);
  put('datastore_reachable', 'datastore_reachable', input.datastoreReachable === false ? 0 : 1);
  put('node_info', `node_info{node_id="${node}",version="${escapeLabel(input.version)}"}`, 1);
  for (const w of input.memory?.workers ?? []) {
    put('memory_workers_lua_vms_bytes', `memory_workers_lua_vms_bytes{node_id="${node}",pid="${w.pid}",kong_subsystem="${SUBSYSTEM}"}`, w.http_allocated_gc);
  }
  for (const [name, d] of Object.entries(input.memory?.shared ?? {})) {
    const labels = `{node_id="${node}",shared_dict="${escapeLabel(name)}",kong_subsystem="${SUBSYSTEM}"}`;
    put('memory_lua_shared_dict_bytes', `memory_lua_shared_dict_bytes${labels}`, d.allocated_slabs);
    put('memory_lua_shared_dict_total_bytes', `memory_lua_shared_dict_total_bytes${labels}`, d.capacity);
  }

  if (input.pluginEnabled && input.upstreams) {
    for (const u of input.upstreams) {
      for (const t of u.targets) {
        const addrs = t.addresses.length > 0
          ? t.addresses.map((a) => ({ address: `${a.ip}:${a.port}`, state: a.health.toLowerCase() }))
          : [{ address: '', state: 'dns_error' }];
        for (const a of addrs) {
          for (const state of STATES) {
            put('upstream_target_health',
              `upstream_target_health{upstream="${escapeLabel(u.name)}",target="${escapeLabel(t.target)}",address="${escapeLabel(a.address)}",state="${state}",subsystem="${SUBSYSTEM}"}`,
              a.state === state ? 1 : 0);
          }
        }
      }
    }
  }

  if (input.pluginEnabled && input.store) {
    for (const [family, m] of input.store.counters) {
      for (const [labels, v] of m) put(family, `${family}{${labels}}`, v);
    }
    for (const [family, m] of input.store.histograms) {
      const bounds = HISTOGRAM_BUCKETS[family]!;
      const fmt = bucketFormatter(bounds);
      for (const [labels, cell] of m) {
        let cumulative = 0;
        for (let i = 0; i <= bounds.length; i++) {
          cumulative += cell.counts[i]!;
          const le = i < bounds.length ? bounds[i]! : null;
          const key = `${family}_bucket{${labels},le="${le === null ? 'Inf' : fmt(le)}"}`;
          put(family, key, cumulative, `${family}_bucket{${labels},le="${le === null ? '+Inf' : formatNumber14g(le)}"}`);
        }
        put(family, `${family}_count{${labels}}`, cell.count);
        put(family, `${family}_sum{${labels}}`, cell.sum);
      }
    }
  }

  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const seen = new Set<string>();
  let out = '';
  for (const [, family, line] of rows) {
    if (!seen.has(family)) {
      seen.add(family);
      const f = FAMILIES[family];
      if (f) out += `# HELP ${PREFIX}${family} ${f.help}\n# TYPE ${PREFIX}${family} ${f.type}\n`;
    }
    out += `${PREFIX}${line}\n`;
  }
  return out;
}
