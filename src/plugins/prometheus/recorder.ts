/**
 * @module plugins/prometheus/recorder
 * The worker side of the metrics: plain in-memory counters and histogram cells that the log
 * handler bumps (a string key and a Map lookup per metric), drained as a delta at most once a
 * second and shipped to the primary, which owns the totals (exporter.ts). Kong keeps the same
 * numbers in a shared dict that every worker increments.
 */

/** Kong's bucket bounds, ms. */
export const KONG_LATENCY_BUCKETS: readonly number[] = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000];
export const UPSTREAM_LATENCY_BUCKETS: readonly number[] = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];

/** Histogram families and their bucket bounds (names without the `kong_` prefix, as Kong's keys). */
export const HISTOGRAM_BUCKETS: Readonly<Record<string, readonly number[]>> = {
  kong_latency_ms: KONG_LATENCY_BUCKETS,
  upstream_latency_ms: UPSTREAM_LATENCY_BUCKETS,
  request_latency_ms: UPSTREAM_LATENCY_BUCKETS,
};

/** What a worker ships: increments since the previous delta. */
export interface MetricsDelta {
  /** [family, rendered label set, increment] */
  counters: [string, string, number][];
  /** [family, rendered label set, per-bucket counts (not cumulative; the last is +Inf), sum, count] */
  histograms: [string, string, number[], number, number][];
}

interface Cell { counts: number[]; sum: number; count: number }

/** Escapes a label value for the exposition format. */
export function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

export class MetricsRecorder {
  #counters = new Map<string, Map<string, number>>();
  #histograms = new Map<string, Map<string, Cell>>();
  #dirty = false;

  /** Adds `value` to a counter. `labels` is the rendered label set (`a="x",b="y"`). */
  inc(family: string, labels: string, value: number): void {
    let m = this.#counters.get(family);
    if (!m) this.#counters.set(family, m = new Map());
    m.set(labels, (m.get(labels) ?? 0) + value);
    this.#dirty = true;
  }

  /** Records one observation in a histogram family of HISTOGRAM_BUCKETS. */
  observe(family: string, labels: string, value: number): void {
    const bounds = HISTOGRAM_BUCKETS[family];
    if (!bounds) return;
    let m = this.#histograms.get(family);
    if (!m) this.#histograms.set(family, m = new Map());
    let cell = m.get(labels);
    if (!cell) m.set(labels, cell = { counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 });
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    cell.counts[i]!++;
    cell.sum += value;
    cell.count++;
    this.#dirty = true;
  }

  /** Everything recorded since the previous call, or null when nothing was. */
  take(): MetricsDelta | null {
    if (!this.#dirty) return null;
    const delta: MetricsDelta = { counters: [], histograms: [] };
    for (const [family, m] of this.#counters) for (const [labels, v] of m) delta.counters.push([family, labels, v]);
    for (const [family, m] of this.#histograms) {
      for (const [labels, c] of m) delta.histograms.push([family, labels, c.counts, c.sum, c.count]);
    }
    this.#counters = new Map();
    this.#histograms = new Map();
    this.#dirty = false;
    return delta;
  }
}

/** This process's recorder (the prometheus plugin's log handler writes here). */
export const recorder = new MetricsRecorder();

/** The worker's hook: the delta to send to the primary, or null. */
export function takeMetricsDelta(): MetricsDelta | null {
  return recorder.take();
}
