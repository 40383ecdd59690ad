/**
 * @module observability/process-metrics
 * Process and event-loop metrics for `/metrics`, next to the prometheus plugin's families. Every
 * process (the primary and each worker) samples itself once a second: memory, CPU time and the
 * event-loop delay histogram of the last interval (perf_hooks' sampler, beyond its 10 ms tick).
 * Workers ship their sample with the stats message they already send; the primary renders one
 * series per process, labelled `process="primary"` or `process="worker-<id>"`, with the
 * prom-client default metric names so stock Node.js dashboards work too.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface ProcessSample {
  pid: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  startTimeSeconds: number;
  /** Event-loop delay over the last interval, seconds. */
  lag: { mean: number; p50: number; p90: number; p99: number; max: number; min: number };
}

const NS = 1e-9;
/** Sampling timer of the delay histogram, ms (prom-client's default). */
const RESOLUTION_MS = 10;
/** The histogram measures the time between timer ticks; the lag is what exceeds the tick. */
const lagSeconds = (ns: number) => Math.max(0, ns * NS - RESOLUTION_MS / 1000);

export class ProcessSampler {
  readonly #loop: IntervalHistogram;
  readonly #startTimeSeconds = Math.round((Date.now() - performance.now()) / 10) / 100;

  constructor() {
    this.#loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.#loop.enable();
  }

  /** This process now; the event-loop histogram restarts for the next interval. */
  sample(): ProcessSample {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const h = this.#loop;
    // An interval with no completed sample (a blocked loop) reports nothing rather than NaN.
    const has = h.count > 0;
    const lag = {
      mean: has ? lagSeconds(h.mean) : 0,
      p50: has ? lagSeconds(h.percentile(50)) : 0,
      p90: has ? lagSeconds(h.percentile(90)) : 0,
      p99: has ? lagSeconds(h.percentile(99)) : 0,
      max: has ? lagSeconds(h.max) : 0,
      min: has ? lagSeconds(h.min) : 0,
    };
    h.reset();
    return {
      pid: process.pid,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      externalBytes: mem.external,
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      startTimeSeconds: this.#startTimeSeconds,
      lag,
    };
  }

  stop(): void { this.#loop.disable(); }
}

interface Metric { name: string; type: 'gauge' | 'counter'; help: string; value(s: ProcessSample): number }

/** The exported families, in the order they are rendered. */
export const PROCESS_METRICS: readonly Metric[] = [
  { name: 'process_cpu_user_seconds_total', type: 'counter', help: 'Total user CPU time spent in seconds.', value: (s) => s.cpuUserSeconds },
  { name: 'process_cpu_system_seconds_total', type: 'counter', help: 'Total system CPU time spent in seconds.', value: (s) => s.cpuSystemSeconds },
  { name: 'process_cpu_seconds_total', type: 'counter', help: 'Total user and system CPU time spent in seconds.', value: (s) => s.cpuUserSeconds + s.cpuSystemSeconds },
  { name: 'process_start_time_seconds', type: 'gauge', help: 'Start time of the process since unix epoch in seconds.', value: (s) => s.startTimeSeconds },
  { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory size in bytes.', value: (s) => s.rssBytes },
  { name: 'nodejs_heap_size_used_bytes', type: 'gauge', help: 'Process heap size used from Node.js in bytes.', value: (s) => s.heapUsedBytes },
  { name: 'nodejs_heap_size_total_bytes', type: 'gauge', help: 'Process heap size from Node.js in bytes.', value: (s) => s.heapTotalBytes },
  { name: 'nodejs_external_memory_bytes', type: 'gauge', help: 'Node.js external memory size in bytes.', value: (s) => s.externalBytes },
  { name: 'nodejs_eventloop_lag_seconds', type: 'gauge', help: 'Mean event loop delay over the last second in seconds.', value: (s) => s.lag.mean },
  { name: 'nodejs_eventloop_lag_min_seconds', type: 'gauge', help: 'The minimum recorded event loop delay over the last second.', value: (s) => s.lag.min },
  { name: 'nodejs_eventloop_lag_max_seconds', type: 'gauge', help: 'The maximum recorded event loop delay over the last second.', value: (s) => s.lag.max },
  { name: 'nodejs_eventloop_lag_p50_seconds', type: 'gauge', help: 'The 50th percentile of the recorded event loop delays over the last second.', value: (s) => s.lag.p50 },
  { name: 'nodejs_eventloop_lag_p90_seconds', type: 'gauge', help: 'The 90th percentile of the recorded event loop delays over the last second.', value: (s) => s.lag.p90 },
  { name: 'nodejs_eventloop_lag_p99_seconds', type: 'gauge', help: 'The 99th percentile of the recorded event loop delays over the last second.', value: (s) => s.lag.p99 },
];

export const WORKERS_METRIC = 'turnpike_workers';

function num(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 1e9) / 1e9) : '0';
}

/**
 * The exposition text for the given processes. `label` becomes `process="…"` (`primary`,
 * `worker-3`); the pid is a label too so a replaced worker is told apart in a dashboard.
 */
export function renderProcessMetrics(processes: ReadonlyArray<{ label: string; sample: ProcessSample }>): string {
  let out = `# HELP ${WORKERS_METRIC} Worker processes currently reporting.\n# TYPE ${WORKERS_METRIC} gauge\n`;
  out += `${WORKERS_METRIC} ${processes.filter((p) => p.label !== 'primary').length}\n`;
  for (const m of PROCESS_METRICS) {
    out += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n`;
    for (const p of processes) out += `${m.name}{process="${p.label}",pid="${p.sample.pid}"} ${num(m.value(p.sample))}\n`;
  }
  return out;
}

/** Memory and CPU of this process right now (the event-loop numbers need an interval). */
export function currentMemory(): Pick<ProcessSample, 'rssBytes' | 'heapUsedBytes' | 'heapTotalBytes' | 'externalBytes' | 'cpuUserSeconds' | 'cpuSystemSeconds'> {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal, externalBytes: mem.external,
    cpuUserSeconds: cpu.user / 1e6, cpuSystemSeconds: cpu.system / 1e6,
  };
}
