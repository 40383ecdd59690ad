/**
 * @module gateway/upstream/health/active-checker
 * Active health checks for one upstream. Two independent loops, as in lua-resty-healthcheck:
 * every `active.healthy.interval` seconds the currently healthy targets are probed, every
 * `active.unhealthy.interval` seconds the unhealthy ones (an interval of 0 turns that loop off).
 * The first round runs one interval after `start()`. A round that is still running when the next
 * tick comes makes that tick a no-op, so a slow target cannot pile up probes. Up to `concurrency`
 * probes run at once.
 *
 * Timers are unref'd (health checks never keep a process alive) and `stop()` clears them and
 * destroys every socket in flight, so swapping configs leaks nothing.
 */
import type { Socket } from 'node:net';
import type { Healthchecks } from '../../../config/entities.ts';
import { probe, serializeProbeHeaders, type ProbeRequest } from './probe.ts';
import type { ProbeOutcome } from './target-health.ts';

/** What the checker needs to know about a target. */
export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** The address to connect to (resolved IP, or the host while resolution is pending). */
  readonly address: string;
}

export interface ActiveCheckerHooks<T extends ProbeTarget> {
  /** The targets to probe in this round: `healthy` = those currently healthy, else the unhealthy ones. */
  targets(healthy: boolean): readonly T[];
  /** A probe finished (never called after `stop()`). */
  result(target: T, outcome: ProbeOutcome): void;
}

type Mode = 'healthy' | 'unhealthy';

export class ActiveHealthChecker<T extends ProbeTarget> {
  readonly #active: Healthchecks['active'];
  readonly #hostHeader: string | null;
  readonly #hooks: ActiveCheckerHooks<T>;
  readonly #headerLines: string;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running: Record<Mode, boolean> = { healthy: false, unhealthy: false };
  readonly #sockets = new Set<Socket>();
  #started = false;
  /** Bumped by stop(): probes begun before it report nothing. */
  #generation = 0;

  /** `hostHeader` is the upstream's `host_header`; without it a target is probed with its own host. */
  constructor(active: Healthchecks['active'], hostHeader: string | null, hooks: ActiveCheckerHooks<T>) {
    this.#active = active;
    this.#hostHeader = hostHeader;
    this.#hooks = hooks;
    this.#headerLines = serializeProbeHeaders(active.headers);
  }

  /** True when at least one probing loop is configured. */
  get enabled(): boolean { return this.#active.healthy.interval > 0 || this.#active.unhealthy.interval > 0; }
  get started(): boolean { return this.#started; }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule('healthy', this.#active.healthy.interval);
    this.#schedule('unhealthy', this.#active.unhealthy.interval);
  }

  stop(): void {
    this.#started = false;
    this.#generation++;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  /** Probes the given targets now (used by the loops; exposed for tests and on-demand checks). */
  async checkNow(targets: readonly T[]): Promise<void> {
    const concurrency = Math.max(1, Math.min(this.#active.concurrency, targets.length));
    const generation = this.#generation;
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const target = targets[next++]!;
        const outcome = await probe(this.#requestFor(target), (s) => this.#track(s));
        if (generation !== this.#generation) return;
        this.#hooks.result(target, outcome);
      }
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < concurrency; i++) workers.push(worker());
    await Promise.all(workers);
  }

  #schedule(mode: Mode, intervalSeconds: number): void {
    if (!(intervalSeconds > 0)) return;
    const timer = setInterval(() => this.#round(mode), Math.max(1, Math.round(intervalSeconds * 1000)));
    timer.unref();
    this.#timers.push(timer);
  }

  #round(mode: Mode): void {
    if (!this.#started || this.#running[mode]) return;
    const targets = this.#hooks.targets(mode === 'healthy');
    if (targets.length === 0) return;
    this.#running[mode] = true;
    this.checkNow(targets).finally(() => { this.#running[mode] = false; });
  }

  #track(socket: Socket): () => void {
    this.#sockets.add(socket);
    return () => { this.#sockets.delete(socket); };
  }

  #requestFor(target: T): ProbeRequest {
    const a = this.#active;
    const host = this.#hostHeader ?? target.host;
    return {
      address: target.address,
      port: target.port,
      type: a.type,
      timeoutMs: Math.max(1, Math.round(a.timeout * 1000)),
      path: a.http_path,
      host,
      headerLines: this.#headerLines,
      sni: a.https_sni ?? null,
      verifyCertificate: a.https_verify_certificate,
    };
  }
}
