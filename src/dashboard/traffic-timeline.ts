/**
 * @module dashboard/traffic-timeline
 * The primary's side of the live charts: the deltas every worker sends once a second, summed into
 * one-second slots of a ring that holds the last five minutes. `series()` turns the ring into the
 * JSON the dashboard polls: requests/s, status classes, 429s, cache hit ratio, and p50/p99 latency
 * per route (estimated from the histogram buckets, as Prometheus' histogram_quantile does).
 */
import { LATENCY_BOUNDS, type RouteTraffic, type TrafficDelta } from './traffic-recorder.ts';

export const WINDOW_SECONDS = 300;
/** The busiest routes get a latency line each; the rest would only clutter the chart. */
const MAX_ROUTE_LINES = 8;

interface Slot { second: number; routes: Map<string, RouteTraffic> }

export interface RouteSeries {
  id: string;
  name: string;
  requests: number;
  p50: (number | null)[];
  p99: (number | null)[];
}

export interface TrafficSeries {
  /** Epoch second of the last point; points are one second apart. */
  end: number;
  seconds: number[];
  requests: number[];
  classes: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number[]>;
  limited: number[];
  /** Hits / (hits + misses) per second; null when the cache answered nothing that second. */
  cacheHitRatio: (number | null)[];
  routes: RouteSeries[];
  totals: { requests: number; limited: number; cacheHits: number; cacheMisses: number; classes: number[] };
}

/** The q-quantile (0..1) of a bucketed histogram, interpolated inside its bucket; null when empty. */
export function quantile(buckets: readonly number[], q: number): number | null {
  let count = 0;
  for (const c of buckets) count += c;
  if (count === 0) return null;
  const rank = q * count;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = buckets[i]!;
    if (c > 0 && seen + c >= rank) {
      if (i >= LATENCY_BOUNDS.length) return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BOUNDS[i - 1]!;
      const upper = LATENCY_BOUNDS[i]!;
      return Math.round((lower + (upper - lower) * ((rank - seen) / c)) * 100) / 100;
    }
    seen += c;
  }
  return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1]!;
}

function ringIndex(second: number): number {
  return ((second % WINDOW_SECONDS) + WINDOW_SECONDS) % WINDOW_SECONDS;
}

function mergeInto(into: RouteTraffic, from: RouteTraffic): void {
  into.requests += from.requests;
  into.limited += from.limited;
  into.cacheHits += from.cacheHits;
  into.cacheMisses += from.cacheMisses;
  for (let i = 0; i < into.classes.length; i++) into.classes[i]! += from.classes[i] ?? 0;
  for (let i = 0; i < into.latency.length; i++) into.latency[i]! += from.latency[i] ?? 0;
}

function validRow(r: RouteTraffic): boolean {
  return typeof r.route === 'string' && Number.isFinite(r.requests) && Array.isArray(r.classes) && r.classes.length === 5
    && Array.isArray(r.latency) && r.latency.length === LATENCY_BOUNDS.length + 1;
}

export class TrafficTimeline {
  readonly #slots: Slot[] = Array.from({ length: WINDOW_SECONDS }, () => ({ second: -1, routes: new Map() }));
  readonly #now: () => number;

  constructor(now: () => number = Date.now) { this.#now = now; }

  #slot(second: number): Slot {
    const slot = this.#slots[ringIndex(second)]!;
    if (slot.second !== second) { slot.second = second; slot.routes = new Map(); }
    return slot;
  }

  /** Adds a worker's delta to the current second. */
  add(delta: TrafficDelta): void {
    const slot = this.#slot(Math.floor(this.#now() / 1000));
    for (const row of delta.routes) {
      if (!validRow(row)) continue;
      const have = slot.routes.get(row.route);
      if (have) mergeInto(have, row);
      else slot.routes.set(row.route, { ...row, classes: row.classes.slice(), latency: row.latency.slice() });
    }
  }

  /**
   * The last WINDOW_SECONDS whole seconds (the running second is left out: workers have not all
   * reported it yet). `routeName` labels route ids; '' is "no route matched".
   */
  series(routeName: (id: string) => string): TrafficSeries {
    const end = Math.floor(this.#now() / 1000) - 1;
    const start = end - WINDOW_SECONDS + 1;
    const n = WINDOW_SECONDS;
    const zeros = () => new Array<number>(n).fill(0);
    const out: TrafficSeries = {
      end, seconds: Array.from({ length: n }, (_, i) => start + i), requests: zeros(),
      classes: { '1xx': zeros(), '2xx': zeros(), '3xx': zeros(), '4xx': zeros(), '5xx': zeros() },
      limited: zeros(), cacheHitRatio: new Array<number | null>(n).fill(null), routes: [],
      totals: { requests: 0, limited: 0, cacheHits: 0, cacheMisses: 0, classes: [0, 0, 0, 0, 0] },
    };
    const classKeys = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
    const perRoute = new Map<string, { requests: number; buckets: (number[] | null)[] }>();
    for (let i = 0; i < n; i++) {
      const slot = this.#slots[ringIndex(start + i)]!;
      if (slot.second !== start + i) continue;
      let hits = 0, misses = 0;
      for (const row of slot.routes.values()) {
        out.requests[i]! += row.requests;
        out.limited[i]! += row.limited;
        hits += row.cacheHits;
        misses += row.cacheMisses;
        for (let c = 0; c < 5; c++) {
          out.classes[classKeys[c]!][i]! += row.classes[c]!;
          out.totals.classes[c]! += row.classes[c]!;
        }
        let r = perRoute.get(row.route);
        if (!r) perRoute.set(row.route, r = { requests: 0, buckets: new Array<number[] | null>(n).fill(null) });
        r.requests += row.requests;
        r.buckets[i] = row.latency;
      }
      if (hits + misses > 0) out.cacheHitRatio[i] = Math.round((hits / (hits + misses)) * 1000) / 1000;
      out.totals.requests += out.requests[i]!;
      out.totals.limited += out.limited[i]!;
      out.totals.cacheHits += hits;
      out.totals.cacheMisses += misses;
    }
    out.routes = [...perRoute.entries()]
      .sort((a, b) => b[1].requests - a[1].requests)
      .slice(0, MAX_ROUTE_LINES)
      .map(([id, r]) => ({
        id, name: routeName(id), requests: r.requests,
        p50: r.buckets.map((b) => (b ? quantile(b, 0.5) : null)),
        p99: r.buckets.map((b) => (b ? quantile(b, 0.99) : null)),
      }));
    return out;
  }
}
