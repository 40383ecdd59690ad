/**
 * @module dashboard/traffic-recorder
 * The worker side of the dashboard's live charts: always on, whatever plugins are configured.
 * Per route it keeps a request count, counts by status class, latency histogram buckets, the 429s
 * and the proxy-cache Hit/Miss answers. Recording a request is a Map lookup and a few increments
 * on numbers that already exist (no allocation per request); once a second the worker takes the
 * non-zero rows as a delta and ships them to the primary (TrafficTimeline).
 */

/** Upper bounds of the latency buckets, ms; one more bucket catches everything above. */
export const LATENCY_BOUNDS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** One route's numbers over one interval. `route` is the route id, '' for requests no route matched. */
export interface RouteTraffic {
  route: string;
  requests: number;
  /** Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx. */
  classes: number[];
  /** Per-bucket counts (not cumulative) for LATENCY_BOUNDS plus the overflow bucket. */
  latency: number[];
  /** 429 answers (rate limiting). */
  limited: number;
  cacheHits: number;
  cacheMisses: number;
}

export interface TrafficDelta { routes: RouteTraffic[] }

function emptyRow(route: string): RouteTraffic {
  return {
    route, requests: 0, classes: [0, 0, 0, 0, 0],
    latency: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0), limited: 0, cacheHits: 0, cacheMisses: 0,
  };
}

export class TrafficRecorder {
  readonly #rows = new Map<string, RouteTraffic>();
  #dirty = false;

  /**
   * Counts one finished request. `cacheStatus` is the X-Cache-Status the client got (if any).
   * Rows live as long as the recorder, so a route's second request onward allocates nothing.
   */
  record(routeId: string | null, status: number, latencyMs: number, cacheStatus: unknown): void {
    const key = routeId ?? '';
    let row = this.#rows.get(key);
    if (row === undefined) this.#rows.set(key, row = emptyRow(key));
    row.requests++;
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) row.classes[cls - 1]!++;
    if (status === 429) row.limited++;
    let i = 0;
    while (i < LATENCY_BOUNDS.length && latencyMs > LATENCY_BOUNDS[i]!) i++;
    row.latency[i]!++;
    if (cacheStatus === 'Hit') row.cacheHits++;
    else if (cacheStatus === 'Miss') row.cacheMisses++;
    this.#dirty = true;
  }

  /** The rows recorded since the previous call (copied, then zeroed), or null when nothing was. */
  take(): TrafficDelta | null {
    if (!this.#dirty) return null;
    this.#dirty = false;
    const routes: RouteTraffic[] = [];
    for (const row of this.#rows.values()) {
      if (row.requests === 0) continue;
      routes.push({ ...row, classes: row.classes.slice(), latency: row.latency.slice() });
      row.requests = row.limited = row.cacheHits = row.cacheMisses = 0;
      row.classes.fill(0);
      row.latency.fill(0);
    }
    // Forget rows of routes that went quiet for good (e.g. removed by a config change).
    if (this.#rows.size > 1000) for (const [k, row] of this.#rows) if (row.requests === 0) this.#rows.delete(k);
    return { routes };
  }
}
