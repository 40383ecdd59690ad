/**
 * @module gateway/upstream/balancer/balancer
 * One upstream's load balancer: its targets as stable peer objects, the algorithm picking among
 * them, their health (passive reports, active probes, forced states) and their DNS state.
 *
 * - round-robin: a smooth weighted wheel over the available peers (round-robin.ts).
 * - consistent-hashing: Kong's continuum (consistent-hashing.ts) keyed by hash_on, then
 *   hash_fallback; a request with neither value is balanced round-robin (Kong would hash "").
 * - least-connections (and `latency`, which we do not model): a heap by (in-flight+1)/weight.
 *
 * Every pick counts the peer as in flight until `release(peer)`; the caller must release each
 * pick exactly once. The upstream as a whole is unhealthy, and `pick` returns null, when the
 * available share of the total weight is not above `healthchecks.threshold` percent (Kong's
 * `balancer:updateStatus`) — with the default threshold 0 that means "no peer available".
 *
 * Hostname targets are looked up with dns.lookup on first use and again after `dnsTtlSeconds`;
 * until the first answer `peer.address` holds the hostname (so a client connecting by name still
 * works), and `prepare()` lets a caller wait for it. A name that does not resolve takes its target
 * out of the balancer (DNS_ERROR in the health report) until a later lookup succeeds.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Target, Upstream } from '../../../config/entities.ts';
import { ActiveHealthChecker } from '../health/active-checker.ts';
import { targetHealthRows, type TargetHealthRow } from '../health/health-report.ts';
import { HealthRules, healthchecksEnabled, type HealthOutcome, type ProbeOutcome } from '../health/target-health.ts';
import { HashRing, hashString } from './consistent-hashing.ts';
import { valueToHash, type BalanceRequest } from './hash-value.ts';
import { LeastConnectionsHeap } from './least-connections.ts';
import { BalancerPeer } from './peer.ts';
import { RoundRobinWheel } from './round-robin.ts';

/** Who changed a target's health. `remote` = another process (do not broadcast it again). */
export type HealthSource = 'passive' | 'active' | 'admin' | 'remote';

/** A target's outward health changed. */
export interface TargetHealthChange {
  readonly upstream: Upstream;
  readonly peer: BalancerPeer;
  /** `host:port` of the target entity. */
  readonly target: string;
  readonly address: string;
  readonly port: number;
  readonly healthy: boolean;
  readonly source: HealthSource;
}

export type TargetHealthListener = (target: string, healthy: boolean, change: TargetHealthChange) => void;
export type UpstreamHealthListener = (healthy: boolean, upstream: Upstream) => void;

export interface BalancerOptions {
  /** Clock for DNS expiry (epoch ms). */
  now?: () => number;
  /** Resolver, dns.lookup by default. */
  lookup?: (host: string) => Promise<{ address: string; family: number }>;
  /** How long a looked-up address is used before it is looked up again (default 30 s). */
  dnsTtlSeconds?: number;
  /** How soon a failed lookup is retried (default 5 s). */
  dnsErrorRetrySeconds?: number;
  /** First wheel position for round-robin (default random, so workers do not move in lockstep). */
  wheelStart?: number;
  /**
   * This balancer stands for a service's own `host` rather than an upstream entity: DNS failures
   * then answer like Kong's plain DNS path (503 `name resolution failed` / 500) in `noPeerError()`.
   */
  serviceHost?: boolean;
}

export interface BalancerWeights { total: number; available: number; unavailable: number }

const TIMEOUT: HealthOutcome = { kind: 'timeout' };
const TCP_ERROR: HealthOutcome = { kind: 'tcp_error' };
const NO_PEER_MESSAGE = 'failure to get a peer from the ring-balancer';
const NAME_ERROR = 'dns server error: 3 name error';
const EMPTY_RECORD = 'dns client error: 101 empty record received';

type Algorithm = 'round-robin' | 'consistent-hashing' | 'least-connections';

export class Balancer {
  readonly upstream: Upstream;
  /** Every target in config order, weight 0 included. */
  readonly peers: readonly BalancerPeer[];
  readonly #byName = new Map<string, BalancerPeer>();
  readonly #algorithm: Algorithm;
  readonly #passive: HealthRules;
  readonly #activeRules: HealthRules;
  readonly #checker: ActiveHealthChecker<BalancerPeer>;
  readonly #targetListeners = new Set<TargetHealthListener>();
  readonly #upstreamListeners = new Set<UpstreamHealthListener>();
  readonly #now: () => number;
  readonly #lookup: (host: string) => Promise<{ address: string; family: number }>;
  readonly #dnsTtlMs: number;
  readonly #dnsRetryMs: number;
  readonly #wheelStart: number | undefined;
  readonly #serviceHost: boolean;
  readonly #hasNames: boolean;

  #wheel: RoundRobinWheel<BalancerPeer> | null = null;
  #ring: HashRing<BalancerPeer> | null = null;
  #heap: LeastConnectionsHeap<BalancerPeer> | null = null;
  #totalWeight = 0;
  #availableWeight = 0;
  #healthy = false;
  #unresolved = 0;
  /** Epoch ms of the earliest DNS expiry among hostname peers (Infinity when none is due). */
  #nextDnsCheck = 0;

  constructor(upstream: Upstream, targets: readonly Target[], options: BalancerOptions = {}) {
    this.upstream = upstream;
    this.peers = targets.map((t, i) => new BalancerPeer(t, i));
    for (const p of this.peers) if (!this.#byName.has(p.name)) this.#byName.set(p.name, p);
    this.#algorithm = upstream.algorithm === 'consistent-hashing' ? 'consistent-hashing'
      : upstream.algorithm === 'least-connections' || upstream.algorithm === 'latency' ? 'least-connections'
      : upstream.hash_on && upstream.hash_on !== 'none' ? 'consistent-hashing'
      : 'round-robin';
    const hc = upstream.healthchecks;
    this.#passive = new HealthRules(hc.passive);
    this.#activeRules = new HealthRules(hc.active);
    this.#checker = new ActiveHealthChecker<BalancerPeer>(hc.active, upstream.host_header, {
      targets: (healthy) => this.#probeTargets(healthy),
      result: (peer, outcome) => this.#applyOutcome(peer, outcome, this.#activeRules, 'active'),
    });
    this.#now = options.now ?? Date.now;
    this.#lookup = options.lookup ?? ((host) => dnsLookup(host));
    this.#dnsTtlMs = (options.dnsTtlSeconds ?? 30) * 1000;
    this.#dnsRetryMs = (options.dnsErrorRetrySeconds ?? 5) * 1000;
    this.#wheelStart = options.wheelStart;
    this.#serviceHost = options.serviceHost ?? false;
    this.#unresolved = this.peers.filter((p) => p.dns === 'unresolved').length;
    this.#hasNames = this.#unresolved > 0;
    if (!this.#hasNames) this.#nextDnsCheck = Infinity;
    this.#rebuild(true);
  }

  get algorithm(): Algorithm { return this.#algorithm; }
  /** The upstream-level health (threshold applied). */
  get healthy(): boolean { return this.#healthy; }
  /** Kong's test for "this upstream uses health checks" (else the report says HEALTHCHECKS_OFF). */
  get healthchecksEnabled(): boolean { return healthchecksEnabled(this.upstream.healthchecks); }
  get weights(): BalancerWeights {
    return { total: this.#totalWeight, available: this.#availableWeight, unavailable: this.#totalWeight - this.#availableWeight };
  }

  /** The peer of a target (`host:port` as in the target entity). */
  peer(target: string): BalancerPeer | undefined { return this.#byName.get(target); }

  /**
   * Picks a peer for this request and counts it in flight (see `release`). `tried` holds peers
   * that already failed this request: another peer is preferred, and null is returned when every
   * available peer has been tried. Null also when nothing is available or the upstream is below
   * its health threshold (answer 503 with `noPeerError()`).
   */
  pick(req: BalanceRequest, tried?: ReadonlySet<BalancerPeer>): BalancerPeer | null {
    if (this.#hasNames && this.#now() >= this.#nextDnsCheck) this.#refreshDns();
    if (!this.#healthy) return null;
    const retry = tried !== undefined && tried.size > 0;
    let peer: BalancerPeer | null = null;
    if (this.#algorithm === 'least-connections') {
      const heap = this.#heap!;
      peer = retry ? heap.peekExcluding(tried) : heap.peek();
      if (peer) { peer.active++; heap.update(peer); }
      return peer;
    }
    if (this.#algorithm === 'consistent-hashing') {
      const value = valueToHash(this.upstream, req);
      if (value !== undefined) {
        const hash = hashString(value);
        peer = retry ? this.#ring!.lookupExcluding(hash, tried) : this.#ring!.lookup(hash);
        if (peer) peer.active++;
        return peer;
      }
    }
    const wheel = this.#wheel!;
    peer = retry ? wheel.nextExcluding(tried) : wheel.next();
    if (peer) peer.active++;
    return peer;
  }

  /** Ends one pick of `peer` (the request finished or failed). */
  release(peer: BalancerPeer): void {
    if (peer.active <= 0) return;
    peer.active--;
    this.#heap?.update(peer);
  }

  /** The error to answer when `pick` returned null. */
  noPeerError(): { status: number; message: string } {
    if (this.#serviceHost) {
      const failed = this.peers.find((p) => p.dns === 'error');
      if (failed && this.#totalWeight === 0) {
        const nameError = failed.dnsError === NAME_ERROR || failed.dnsError === EMPTY_RECORD;
        return nameError ? { status: 503, message: 'name resolution failed' } : { status: 500, message: failed.dnsError ?? 'DNS error' };
      }
    }
    return { status: 503, message: NO_PEER_MESSAGE };
  }

  // ------------------------------------------------------------------ health

  /** A passive observation from the proxy path (an HTTP 504 counts as a timeout, as in Kong). */
  report(peer: BalancerPeer, outcome: HealthOutcome): void {
    if (outcome.kind === 'http' && outcome.status === 504) outcome = TIMEOUT;
    this.#applyOutcome(peer, outcome, this.#passive, 'passive');
  }
  reportStatus(peer: BalancerPeer, status: number): void {
    if (status === 504) this.#applyOutcome(peer, TIMEOUT, this.#passive, 'passive');
    else this.#applyOutcome(peer, { kind: 'http', status }, this.#passive, 'passive');
  }
  reportTcpError(peer: BalancerPeer): void { this.#applyOutcome(peer, TCP_ERROR, this.#passive, 'passive'); }
  reportTimeout(peer: BalancerPeer): void { this.#applyOutcome(peer, TIMEOUT, this.#passive, 'passive'); }

  /**
   * Forces a target healthy or unhealthy and clears its counters (Admin API
   * `PUT /upstreams/{u}/targets/{t}/healthy|unhealthy`, or a state broadcast by another process:
   * pass `source: 'remote'` then). Returns false for an unknown target.
   */
  setHealth(target: string | BalancerPeer, healthy: boolean, source: HealthSource = 'admin'): boolean {
    const peer = typeof target === 'string' ? this.#byName.get(target) : target;
    if (!peer || this.peers[peer.index] !== peer) return false;
    if (peer.health.force(healthy)) this.#healthChanged(peer, source);
    return true;
  }

  /** Every target's outward health, e.g. to bring a new worker process up to date. */
  healthStates(): { target: string; healthy: boolean }[] {
    return this.peers.map((p) => ({ target: p.name, healthy: p.health.healthy }));
  }

  /**
   * Takes over health states, counters and resolved addresses from the balancer this one replaces
   * (same target names), so a config swap neither revives a dead target nor forgets a lookup.
   * No events are emitted.
   */
  inheritHealth(previous: Balancer): void {
    for (const p of this.peers) {
      const old = previous.#byName.get(p.name);
      if (!old) continue;
      p.health.copyFrom(old.health);
      if (p.dns === 'unresolved' && old.dns === 'resolved') {
        p.address = old.address;
        p.dns = 'resolved';
        p.dnsExpiresAt = old.dnsExpiresAt;
        this.#unresolved--;
      }
    }
    this.#nextDnsCheck = 0;
    this.#rebuild(true);
  }

  /**
   * Subscribes to target health changes (only real changes of healthy/unhealthy, whatever their
   * source); returns the unsubscribe function. Listener errors are swallowed.
   */
  onChange(listener: TargetHealthListener): () => void {
    this.#targetListeners.add(listener);
    return () => { this.#targetListeners.delete(listener); };
  }

  /** Subscribes to the upstream's own health (threshold crossed either way). */
  onUpstreamChange(listener: UpstreamHealthListener): () => void {
    this.#upstreamListeners.add(listener);
    return () => { this.#upstreamListeners.delete(listener); };
  }

  /** Per-target rows for the Admin API (see health-report.ts for Kong's full body). */
  healthReport(): TargetHealthRow[] {
    return targetHealthRows(this);
  }

  /** Starts active health checks (when configured) and looks up hostname targets. */
  start(): void {
    if (this.#hasNames) this.#refreshDns();
    if (this.#checker.enabled) this.#checker.start();
  }

  /** Stops active health checks: clears their timers and aborts probes in flight. */
  stop(): void {
    this.#checker.stop();
  }

  /** Probes every enabled target once now, whatever its state (tests, on-demand refresh). */
  checkNow(): Promise<void> {
    return this.#checker.checkNow(this.peers.filter((p) => p.enabled));
  }

  // ------------------------------------------------------------------ DNS

  /**
   * Null when every hostname target has an address (the hot path); otherwise a promise that
   * settles once the pending lookups have finished.
   */
  prepare(): Promise<void> | null {
    if (!this.#hasNames) return null;
    if (this.#now() >= this.#nextDnsCheck) this.#refreshDns();
    if (this.#unresolved === 0) return null;
    const pending: Promise<void>[] = [];
    for (const p of this.peers) if (p.dns === 'unresolved' && p.dnsInFlight) pending.push(p.dnsInFlight);
    return Promise.all(pending).then(() => undefined);
  }

  #refreshDns(): void {
    const now = this.#now();
    let next = Infinity;
    for (const p of this.peers) {
      if (p.dns === 'ip') continue;
      if (p.dnsInFlight === null && now >= p.dnsExpiresAt) this.#resolve(p);
      else if (p.dnsInFlight === null && p.dnsExpiresAt < next) next = p.dnsExpiresAt;
    }
    // Peers being looked up set the next check when their answer arrives.
    this.#nextDnsCheck = next;
  }

  #resolve(peer: BalancerPeer): void {
    peer.dnsInFlight = this.#lookup(peer.host).then(
      (answer) => {
        const wasEnabled = peer.enabled;
        if (peer.dns === 'unresolved') this.#unresolved--;
        peer.address = answer.address;
        peer.dns = 'resolved';
        peer.dnsError = null;
        peer.dnsExpiresAt = this.#now() + this.#dnsTtlMs;
        if (!wasEnabled) this.#rebuild(true);
      },
      (err: NodeJS.ErrnoException) => {
        peer.dnsExpiresAt = this.#now() + this.#dnsRetryMs;
        // A name that resolved before keeps its last address (a resolver hiccup should not
        // take a working target out); a name that never resolved is a DNS error.
        if (peer.dns === 'resolved') return;
        if (peer.dns === 'unresolved') this.#unresolved--;
        peer.dns = 'error';
        peer.dnsError = err.code === 'ENOTFOUND' ? NAME_ERROR : err.code === 'ENODATA' ? EMPTY_RECORD : (err.message || String(err));
        this.#rebuild(true);
      },
    ).finally(() => {
      peer.dnsInFlight = null;
      if (peer.dnsExpiresAt < this.#nextDnsCheck) this.#nextDnsCheck = peer.dnsExpiresAt;
    });
  }

  // ------------------------------------------------------------------ internals

  #probeTargets(healthy: boolean): BalancerPeer[] {
    if (this.#hasNames && this.#now() >= this.#nextDnsCheck) this.#refreshDns();
    return this.peers.filter((p) => p.enabled && p.health.healthy === healthy);
  }

  #applyOutcome(peer: BalancerPeer, outcome: ProbeOutcome, rules: HealthRules, source: HealthSource): void {
    // Kong's health checker never sees weight-0 targets, and reports for a peer of another
    // balancer (an older config) are dropped.
    if (peer.weight === 0 || this.peers[peer.index] !== peer) return;
    if (peer.health.apply(outcome, rules)) this.#healthChanged(peer, source);
  }

  #healthChanged(peer: BalancerPeer, source: HealthSource): void {
    const wasHealthy = this.#healthy;
    this.#rebuild(false);
    const healthy = peer.health.healthy;
    if (this.#targetListeners.size > 0) {
      const change: TargetHealthChange = {
        upstream: this.upstream, peer, target: peer.name, address: peer.address, port: peer.port, healthy, source,
      };
      for (const l of this.#targetListeners) {
        try { l(peer.name, healthy, change); } catch { /* a listener's failure must not break balancing */ }
      }
    }
    if (wasHealthy !== this.#healthy) {
      for (const l of this.#upstreamListeners) {
        try { l(this.#healthy, this.upstream); } catch { /* as above */ }
      }
    }
  }

  /** Recomputes weights, upstream health and the algorithm's structures after a change. */
  #rebuild(membershipChanged: boolean): void {
    let total = 0, available = 0;
    const availablePeers: BalancerPeer[] = [];
    const enabledPeers: BalancerPeer[] = [];
    for (const p of this.peers) {
      if (!p.enabled) continue;
      total += p.weight;
      enabledPeers.push(p);
      if (p.health.healthy) { available += p.weight; availablePeers.push(p); }
    }
    this.#totalWeight = total;
    this.#availableWeight = available;
    this.#healthy = total > 0 && (available / total) * 100 > this.upstream.healthchecks.threshold;

    if (this.#algorithm === 'least-connections') {
      this.#heap?.detach();
      this.#heap = new LeastConnectionsHeap(this.peers);
      return;
    }
    this.#wheel = new RoundRobinWheel(availablePeers, availablePeers.map((p) => p.weight), this.#wheelStart);
    if (this.#algorithm === 'consistent-hashing') {
      if (membershipChanged || !this.#ring) this.#ring = new HashRing(enabledPeers, this.upstream.slots);
      else this.#ring.refresh();
    }
  }
}
