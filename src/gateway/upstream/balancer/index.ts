/**
 * @module gateway/upstream/balancer
 * Kong's ring-balancer, per upstream: weighted round-robin (smooth, nginx-style), consistent
 * hashing over a ring of `slots` points (hash_on / hash_fallback), least-connections; passive
 * health checks fed by each response, active health checks probing targets on a timer. `pick`
 * returns null when no healthy peer is left, which the gateway turns into Kong's 503
 * `failure to get a peer from the ring-balancer`.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Healthchecks, Target, Upstream } from '../../../config/entities.ts';

export interface BalanceRequest {
  clientIp: string;
  consumerId: string | null;
  header(name: string): string | string[] | undefined;
  cookie(name: string): string | undefined;
  path: string;
  query(name: string): string | undefined;
  uriCapture(name: string): string | undefined;
}

export type HealthOutcome = { kind: 'http'; status: number } | { kind: 'tcp_error' } | { kind: 'timeout' };

export interface BalancerPeer {
  readonly target: Target;
  /** host part of `target` (a name or an IP) */
  readonly host: string;
  readonly port: number;
  /** What to connect to: the IP (resolved once when `host` is a name). */
  address: string;
  readonly weight: number;
  healthy: boolean;
  inFlight: number;
  // passive counters
  successes: number;
  httpFailures: number;
  tcpFailures: number;
  timeouts: number;
  // smooth weighted round-robin state
  current: number;
}

function splitTarget(t: string): { host: string; port: number } {
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    return { host: t.slice(1, end), port: Number(t.slice(end + 2)) || 8000 };
  }
  const colon = t.lastIndexOf(':');
  if (colon === -1 || t.indexOf(':') !== colon) return { host: t, port: 8000 };
  return { host: t.slice(0, colon), port: Number(t.slice(colon + 1)) };
}

function hash32(s: string): number {
  return createHash('md5').update(s).digest().readUInt32BE(0);
}

type ChangeListener = (target: string, healthy: boolean) => void;

export class Balancer {
  readonly upstream: Upstream;
  readonly peers: BalancerPeer[];
  readonly #hc: Healthchecks;
  #ring: Uint32Array | null = null;
  #ringPeers: BalancerPeer[] = [];
  #rrCursor = 0;
  #timers: NodeJS.Timeout[] = [];
  #listeners: ChangeListener[] = [];
  #activeOn = false;

  constructor(upstream: Upstream, targets: readonly Target[]) {
    this.upstream = upstream;
    this.#hc = upstream.healthchecks;
    // Kong keeps the last entry for a repeated target; weight 0 disables it.
    const byTarget = new Map<string, Target>();
    for (const t of targets) byTarget.set(t.target, t);
    this.peers = [...byTarget.values()].filter((t) => t.weight > 0).map((t) => {
      const { host, port } = splitTarget(t.target);
      return {
        target: t, host, port, address: host, weight: t.weight, healthy: true, inFlight: 0,
        successes: 0, httpFailures: 0, tcpFailures: 0, timeouts: 0, current: 0,
      };
    });
    for (const p of this.peers) if (!net.isIP(p.host)) void this.#resolve(p);
    if (upstream.algorithm === 'consistent-hashing') this.#buildRing();
  }

  async #resolve(p: BalancerPeer): Promise<void> {
    const { lookup } = await import('node:dns/promises');
    try {
      p.address = (await lookup(p.host)).address;
    } catch {
      // Unresolvable names stay as they are; connecting will fail and count as a tcp failure.
    }
  }

  /** A ring of `slots` points spread over the peers by weight; stable when peers come and go. */
  #buildRing(): void {
    const points: { h: number; p: BalancerPeer }[] = [];
    const total = this.peers.reduce((s, p) => s + p.weight, 0) || 1;
    const slots = Math.max(this.upstream.slots ?? 10000, this.peers.length);
    for (const p of this.peers) {
      const n = Math.max(1, Math.round((slots * p.weight) / total));
      for (let i = 0; i < n; i++) points.push({ h: hash32(`${p.target.target}#${i}`), p });
    }
    points.sort((a, b) => a.h - b.h);
    this.#ring = Uint32Array.from(points.map((x) => x.h));
    this.#ringPeers = points.map((x) => x.p);
  }

  #healthyWeight(): { healthy: number; total: number } {
    let healthy = 0, total = 0;
    for (const p of this.peers) { total += p.weight; if (p.healthy) healthy += p.weight; }
    return { healthy, total };
  }

  pick(req: BalanceRequest, tried?: ReadonlySet<BalancerPeer>): BalancerPeer | null {
    if (this.peers.length === 0) return null;
    const threshold = this.#hc?.threshold ?? 0;
    if (threshold > 0) {
      const { healthy, total } = this.#healthyWeight();
      if (total === 0 || (healthy * 100) / total < threshold) return null;
    }
    const usable = (p: BalancerPeer) => p.healthy && !(tried && tried.has(p));
    let chosen: BalancerPeer | null = null;
    switch (this.upstream.algorithm) {
      case 'consistent-hashing': {
        const key = this.#hashKey(req, this.upstream.hash_on, false) ?? this.#hashKey(req, this.upstream.hash_fallback, true);
        if (key !== null && this.#ring && this.#ring.length > 0) {
          const h = hash32(key);
          // binary search for the first point >= h, then walk to a usable peer
          let lo = 0, hi = this.#ring.length;
          while (lo < hi) { const mid = (lo + hi) >>> 1; if (this.#ring[mid]! < h) lo = mid + 1; else hi = mid; }
          for (let i = 0; i < this.#ring.length; i++) {
            const p = this.#ringPeers[(lo + i) % this.#ring.length]!;
            if (usable(p)) { chosen = p; break; }
          }
        } else {
          chosen = this.#roundRobin(usable);
        }
        break;
      }
      case 'least-connections': {
        let best: BalancerPeer | null = null;
        for (const p of this.peers) {
          if (!usable(p)) continue;
          // fewer in-flight per unit of weight wins
          if (!best || p.inFlight * best.weight < best.inFlight * p.weight) best = p;
        }
        chosen = best;
        break;
      }
      default:
        chosen = this.#roundRobin(usable);
    }
    if (chosen) chosen.inFlight++;
    return chosen;
  }

  /** nginx's smooth weighted round-robin: spreads picks evenly by weight. */
  #roundRobin(usable: (p: BalancerPeer) => boolean): BalancerPeer | null {
    let best: BalancerPeer | null = null;
    let total = 0;
    for (const p of this.peers) {
      if (!usable(p)) continue;
      p.current += p.weight;
      total += p.weight;
      if (!best || p.current > best.current) best = p;
    }
    if (best) best.current -= total;
    this.#rrCursor++;
    return best;
  }

  #hashKey(req: BalanceRequest, on: string, fallback: boolean): string | null {
    const u = this.upstream;
    switch (on) {
      case 'consumer': return req.consumerId;
      case 'ip': return req.clientIp || null;
      case 'header': {
        const v = req.header((fallback ? u.hash_fallback_header : u.hash_on_header) ?? '');
        return v === undefined ? null : Array.isArray(v) ? v.join(',') : v;
      }
      case 'cookie': return req.cookie(u.hash_on_cookie ?? '') ?? null;
      case 'path': return req.path;
      case 'query_arg': return req.query((fallback ? u.hash_fallback_query_arg : u.hash_on_query_arg) ?? '') ?? null;
      case 'uri_capture': return req.uriCapture((fallback ? u.hash_fallback_uri_capture : u.hash_on_uri_capture) ?? '') ?? null;
      default: return null;
    }
  }

  release(peer: BalancerPeer): void {
    if (peer.inFlight > 0) peer.inFlight--;
  }

  /** Passive health check: counts outcomes of real traffic against Kong's thresholds. */
  report(peer: BalancerPeer, outcome: HealthOutcome): void {
    const passive = this.#hc?.passive;
    if (!passive) return;
    if (outcome.kind === 'http') {
      if (passive.unhealthy.http_statuses.includes(outcome.status)) {
        peer.successes = 0;
        peer.httpFailures++;
        if (passive.unhealthy.http_failures > 0 && peer.httpFailures >= passive.unhealthy.http_failures) this.#set(peer, false);
      } else if (passive.healthy.http_statuses.includes(outcome.status)) {
        peer.httpFailures = 0; peer.tcpFailures = 0; peer.timeouts = 0;
        peer.successes++;
        if (!peer.healthy && passive.healthy.successes > 0 && peer.successes >= passive.healthy.successes) this.#set(peer, true);
      }
    } else if (outcome.kind === 'tcp_error') {
      peer.successes = 0;
      peer.tcpFailures++;
      if (passive.unhealthy.tcp_failures > 0 && peer.tcpFailures >= passive.unhealthy.tcp_failures) this.#set(peer, false);
    } else {
      peer.successes = 0;
      peer.timeouts++;
      if (passive.unhealthy.timeouts > 0 && peer.timeouts >= passive.unhealthy.timeouts) this.#set(peer, false);
    }
  }

  #set(peer: BalancerPeer, healthy: boolean): void {
    if (peer.healthy === healthy) return;
    peer.healthy = healthy;
    peer.successes = 0; peer.httpFailures = 0; peer.tcpFailures = 0; peer.timeouts = 0;
    for (const l of this.#listeners) l(peer.target.target, healthy);
  }

  /** Sets a target's health from outside (the primary broadcasts active-check results). */
  setHealth(target: string, healthy: boolean): void {
    for (const p of this.peers) if (p.target.target === target) this.#set(p, healthy);
  }

  onChange(listener: ChangeListener): void { this.#listeners.push(listener); }

  // ------------------------------------------------------------------ active checks

  /** Starts active probing when an interval is configured; probes never overlap per target. */
  start(): void {
    const active = this.#hc?.active;
    if (!active || this.#activeOn) return;
    if (active.healthy.interval <= 0 && active.unhealthy.interval <= 0) return;
    this.#activeOn = true;
    for (const p of this.peers) this.#schedule(p);
  }

  #schedule(p: BalancerPeer): void {
    const active = this.#hc.active;
    const interval = p.healthy ? active.healthy.interval : active.unhealthy.interval;
    if (interval <= 0) {
      // No probing in this state; look again in a second in case the state changes.
      const t = setTimeout(() => this.#schedule(p), 1000);
      t.unref();
      this.#timers.push(t);
      return;
    }
    const t = setTimeout(() => {
      if (!this.#activeOn) return;
      void this.#probe(p).then((outcome) => {
        this.#activeReport(p, outcome);
        if (this.#activeOn) this.#schedule(p);
      });
    }, interval * 1000);
    t.unref();
    this.#timers.push(t);
    if (this.#timers.length > 1000) this.#timers = this.#timers.slice(-this.peers.length * 2);
  }

  #probe(p: BalancerPeer): Promise<HealthOutcome> {
    const active = this.#hc.active;
    const timeoutMs = active.timeout * 1000;
    if (active.type === 'tcp') {
      return new Promise((resolve) => {
        const s = net.connect({ host: p.address, port: p.port, timeout: timeoutMs });
        s.once('connect', () => { s.destroy(); resolve({ kind: 'http', status: active.healthy.http_statuses[0] ?? 200 }); });
        s.once('timeout', () => { s.destroy(); resolve({ kind: 'timeout' }); });
        s.once('error', () => resolve({ kind: 'tcp_error' }));
      });
    }
    const mod = active.type === 'https' ? https : http;
    return new Promise((resolve) => {
      const headers: Record<string, string> = { host: this.upstream.host_header ?? p.host };
      for (const [k, v] of Object.entries(active.headers ?? {})) headers[k] = v.join(', ');
      const req = mod.request({
        host: p.address, port: p.port, path: active.http_path, method: 'GET', headers, timeout: timeoutMs, agent: false,
        rejectUnauthorized: active.https_verify_certificate, servername: active.https_sni ?? undefined,
      }, (res) => { res.resume(); resolve({ kind: 'http', status: res.statusCode ?? 0 }); });
      req.once('timeout', () => { req.destroy(); resolve({ kind: 'timeout' }); });
      req.once('error', () => resolve({ kind: 'tcp_error' }));
      req.end();
    });
  }

  #activeReport(p: BalancerPeer, outcome: HealthOutcome): void {
    const a = this.#hc.active;
    if (outcome.kind === 'http') {
      if (a.healthy.http_statuses.includes(outcome.status)) {
        p.httpFailures = 0; p.tcpFailures = 0; p.timeouts = 0; p.successes++;
        if (!p.healthy && a.healthy.successes > 0 && p.successes >= a.healthy.successes) this.#set(p, true);
      } else if (a.unhealthy.http_statuses.includes(outcome.status)) {
        p.successes = 0; p.httpFailures++;
        if (p.healthy && a.unhealthy.http_failures > 0 && p.httpFailures >= a.unhealthy.http_failures) this.#set(p, false);
      }
    } else if (outcome.kind === 'tcp_error') {
      p.successes = 0; p.tcpFailures++;
      if (p.healthy && a.unhealthy.tcp_failures > 0 && p.tcpFailures >= a.unhealthy.tcp_failures) this.#set(p, false);
    } else {
      p.successes = 0; p.timeouts++;
      if (p.healthy && a.unhealthy.timeouts > 0 && p.timeouts >= a.unhealthy.timeouts) this.#set(p, false);
    }
  }

  stop(): void {
    this.#activeOn = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
  }

  /** Kong's `GET /upstreams/{u}/health` rows. */
  healthReport(): Array<{ targetId: string; target: string; weight: number; health: 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF' | 'DNS_ERROR'; addresses: Array<{ ip: string; port: number; health: string; weight: number }> }> {
    const hc = this.#hc;
    const off = !hc || (hc.active.healthy.interval <= 0 && hc.active.unhealthy.interval <= 0
      && hc.passive.unhealthy.http_failures <= 0 && hc.passive.unhealthy.tcp_failures <= 0 && hc.passive.unhealthy.timeouts <= 0);
    return this.peers.map((p) => {
      const health = off ? 'HEALTHCHECKS_OFF' : p.healthy ? 'HEALTHY' : 'UNHEALTHY';
      return {
        targetId: p.target.id, target: p.target.target, weight: p.weight, health,
        addresses: [{ ip: p.address, port: p.port, health, weight: p.weight }],
      };
    });
  }
}
