/**
 * @module gateway/upstream/health/target-health
 * The health state of one target and the rules that move it, as lua-resty-healthcheck (which Kong
 * uses) defines them:
 * - four internal states: healthy, mostly_healthy (healthy, but failures are being counted),
 *   unhealthy, mostly_unhealthy (unhealthy, but successes are being counted). Outside this module
 *   only "healthy or not" matters; the mostly_* states are healthy and unhealthy respectively.
 * - one success counter and three failure counters (http, tcp, timeout), each capped at 255.
 *   A success clears every failure counter; a failure clears the success counter (failure
 *   counters of other kinds keep counting). Counters are not cleared on a state change.
 * - a threshold of 0 disables that counter entirely: such a report is a no-op, it does not even
 *   clear the opposite counters.
 * - successes are not counted while fully healthy, failures not while fully unhealthy.
 * - forcing a state (Admin API, another process) clears every counter.
 */
import type { Healthchecks } from '../../../config/entities.ts';

export type InternalHealth = 'healthy' | 'mostly_healthy' | 'unhealthy' | 'mostly_unhealthy';

/** What the proxy (passive) or a probe (active) observed. An HTTP 0 means "no valid status line". */
export type HealthOutcome = { kind: 'http'; status: number } | { kind: 'tcp_error' } | { kind: 'timeout' };

/** A probe outcome: an active TCP check that connected counts as a success. */
export type ProbeOutcome = HealthOutcome | { kind: 'tcp_success' };

const COUNTER_MAX = 255;

/** One side (active or passive) of an upstream's `healthchecks`, compiled for O(1) status lookups. */
export class HealthRules {
  readonly #healthyStatus: Uint8Array;
  readonly #unhealthyStatus: Uint8Array;
  readonly successes: number;
  readonly httpFailures: number;
  readonly tcpFailures: number;
  readonly timeouts: number;

  constructor(side: {
    healthy: { http_statuses: readonly number[]; successes: number };
    unhealthy: { http_statuses: readonly number[]; http_failures: number; tcp_failures: number; timeouts: number };
  }) {
    this.#healthyStatus = statusSet(side.healthy.http_statuses);
    this.#unhealthyStatus = statusSet(side.unhealthy.http_statuses);
    this.successes = side.healthy.successes;
    this.httpFailures = side.unhealthy.http_failures;
    this.tcpFailures = side.unhealthy.tcp_failures;
    this.timeouts = side.unhealthy.timeouts;
  }

  /** True when no report can ever change a state (every threshold is 0). */
  get inert(): boolean {
    return this.successes === 0 && this.httpFailures === 0 && this.tcpFailures === 0 && this.timeouts === 0;
  }

  isHealthyStatus(status: number): boolean { return status >= 0 && status < 1000 && this.#healthyStatus[status] === 1; }
  isUnhealthyStatus(status: number): boolean {
    // lua-resty-healthcheck treats a missing/garbled status (0) as an unhealthy one.
    return status === 0 || (status > 0 && status < 1000 && this.#unhealthyStatus[status] === 1);
  }
}

function statusSet(statuses: readonly number[]): Uint8Array {
  const set = new Uint8Array(1000);
  for (const s of statuses) if (Number.isInteger(s) && s >= 0 && s < 1000) set[s] = 1;
  return set;
}

/** Kong's "is this upstream using health checks" test: it decides HEALTHCHECKS_OFF in the health report. */
export function healthchecksEnabled(hc: Healthchecks | null | undefined): boolean {
  if (!hc) return false;
  return hc.active.healthy.interval !== 0 || hc.active.unhealthy.interval !== 0
    || hc.passive.unhealthy.tcp_failures !== 0 || hc.passive.unhealthy.timeouts !== 0
    || hc.passive.unhealthy.http_failures !== 0;
}

/** The health of one target: its internal state and its four counters. */
export class TargetHealth {
  state: InternalHealth = 'healthy';
  successes = 0;
  httpFailures = 0;
  tcpFailures = 0;
  timeouts = 0;

  get healthy(): boolean { return this.state === 'healthy' || this.state === 'mostly_healthy'; }

  /**
   * Applies one observation under `rules`. Returns true when the outward health (healthy or not)
   * changed, so the caller can rebalance and announce it.
   */
  apply(outcome: ProbeOutcome, rules: HealthRules): boolean {
    switch (outcome.kind) {
      case 'http':
        if (rules.isHealthyStatus(outcome.status)) return this.#success(rules.successes);
        if (rules.isUnhealthyStatus(outcome.status)) return this.#failure('http', rules.httpFailures);
        return false; // in neither list: ignored
      case 'tcp_error': return this.#failure('tcp', rules.tcpFailures);
      case 'timeout': return this.#failure('timeout', rules.timeouts);
      case 'tcp_success': return this.#success(rules.successes);
    }
  }

  /** Forces a state and clears every counter. Returns true when the outward health changed. */
  force(healthy: boolean): boolean {
    const was = this.healthy;
    this.state = healthy ? 'healthy' : 'unhealthy';
    this.successes = this.httpFailures = this.tcpFailures = this.timeouts = 0;
    return was !== healthy;
  }

  copyFrom(other: TargetHealth): void {
    this.state = other.state;
    this.successes = other.successes;
    this.httpFailures = other.httpFailures;
    this.tcpFailures = other.tcpFailures;
    this.timeouts = other.timeouts;
  }

  #success(limit: number): boolean {
    if (limit === 0 || this.state === 'healthy') return false;
    if (this.successes < COUNTER_MAX) this.successes++;
    this.httpFailures = this.tcpFailures = this.timeouts = 0;
    const was = this.healthy;
    if (this.successes >= limit) this.state = 'healthy';
    else if (this.state === 'unhealthy') this.state = 'mostly_unhealthy';
    return was !== this.healthy;
  }

  #failure(kind: 'http' | 'tcp' | 'timeout', limit: number): boolean {
    if (limit === 0 || this.state === 'unhealthy') return false;
    let count: number;
    if (kind === 'http') count = this.httpFailures = Math.min(COUNTER_MAX, this.httpFailures + 1);
    else if (kind === 'tcp') count = this.tcpFailures = Math.min(COUNTER_MAX, this.tcpFailures + 1);
    else count = this.timeouts = Math.min(COUNTER_MAX, this.timeouts + 1);
    this.successes = 0;
    const was = this.healthy;
    if (count >= limit) this.state = 'unhealthy';
    else if (this.state === 'healthy') this.state = 'mostly_healthy';
    return was !== this.healthy;
  }
}
