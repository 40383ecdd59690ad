/**
 * @module controller/k8s/leader
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection: try to
 * acquire or renew every retry period (2 s); a Lease held by someone else counts as taken until
 * `leaseDurationSeconds` (15 s) have passed since *we* last saw its record change (local clock, so
 * clock skew between replicas does not matter); a leader that cannot renew for the renew deadline
 * (10 s) steps down; stopping releases the Lease (empty holder, duration 1 s) so another replica
 * takes over at its next attempt instead of waiting out the lease.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { type KubeObject, KubeApiError, kubeRequest, loadKubeConfig } from './client.ts';
import type { WatchLog } from './informer.ts';

export interface LeaderElectorOptions {
  kubeconfig?: string | KubeConfig;
  namespace: string;
  /** Lease name (KIC: `--election-id`, default `5b374a9e.konghq.com`). */
  name: string;
  /** This replica's identity, unique among replicas. */
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onChange?: (isLeader: boolean) => void;
  log?: WatchLog;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** MicroTime, the Lease timestamp format (`2006-01-02T15:04:05.000000Z`). */
function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly kc: KubeConfig;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly listeners = new Set<(isLeader: boolean) => void>();
  private readonly log: WatchLog;
  private leader = false;
  private running = false;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<void>;
  private lastRenew = 0;
  private observedRecord = '';
  private observedTime = 0;

  constructor(private readonly options: LeaderElectorOptions) {
    this.kc = loadKubeConfig(options.kubeconfig);
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2000;
    this.log = options.log ?? (() => {});
    if (options.onChange) this.listeners.add(options.onChange);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get identity(): string {
    return this.options.identity;
  }

  /** Subscribes to leadership changes; returns the unsubscribe function. */
  onChange(listener: (isLeader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts campaigning; resolves after the first attempt (leader or not). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.tick();
  }

  /** Stops campaigning and, when leading, releases the Lease. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    await this.inFlight;
    if (this.leader) {
      await this.release().catch((err: Error) => this.log('lease release failed', { lease: this.options.name, error: err.message }));
      this.setLeader(false);
    }
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases/${encodeURIComponent(this.options.name)}`;
  }

  private setLeader(value: boolean): void {
    if (this.leader === value) return;
    this.leader = value;
    this.log(value ? 'became leader' : 'lost leadership', { lease: this.options.name, identity: this.options.identity });
    for (const l of [...this.listeners]) l(value);
  }

  private tick(): Promise<void> {
    const attempt = (async () => {
      try {
        const outcome = await this.tryAcquireOrRenew();
        if (outcome === 'held') {
          this.lastRenew = Date.now();
          this.setLeader(true);
        } else {
          // Someone else holds it: a leader that finds this has already been replaced.
          this.setLeader(false);
        }
      } catch (err) {
        this.log('lease update failed', { lease: this.options.name, error: (err as Error).message });
        if (this.leader && Date.now() - this.lastRenew > this.renewDeadlineMs) this.setLeader(false);
      }
    })();
    this.inFlight = attempt;
    return attempt.finally(() => {
      if (this.inFlight === attempt) this.inFlight = undefined;
      if (!this.running) return;
      // Followers jitter their attempts (client-go: JitterFactor 1.2) so replicas do not collide.
      const wait = this.leader ? this.retryPeriodMs : this.retryPeriodMs * (1 + Math.random() * 0.2);
      this.timer = setTimeout(() => { void this.tick(); }, wait);
    });
  }

  private async tryAcquireOrRenew(): Promise<'held' | 'other'> {
    const me = this.options.identity;
    const now = microTime();
    let lease: Lease;
    try {
      lease = await kubeRequest<Lease>(this.kc, 'GET', this.path);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
      try {
        await kubeRequest(this.kc, 'POST', `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases`, {
          body: {
            apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
            metadata: { name: this.options.name, namespace: this.options.namespace },
            spec: { holderIdentity: me, leaseDurationSeconds: this.leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        return 'held';
      } catch (createErr) {
        if (createErr instanceof KubeApiError && createErr.statusCode === 409) return 'other';
        throw createErr;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify(spec);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedTime = Date.now();
    }
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== me && this.observedTime + durationMs > Date.now()) return 'other';
    const next: LeaseSpec = {
      holderIdentity: me,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: holder === me && spec.acquireTime ? spec.acquireTime : now,
      renewTime: now,
      leaseTransitions: holder === me ? spec.leaseTransitions ?? 0 : (spec.leaseTransitions ?? 0) + 1,
    };
    try {
      // PUT carries the resourceVersion we read: a concurrent writer makes this a 409, not a double leader.
      const updated = await kubeRequest<Lease>(this.kc, 'PUT', this.path, { body: { ...lease, spec: next } });
      this.observedRecord = JSON.stringify(updated.spec ?? {});
      this.observedTime = Date.now();
      return 'held';
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 409) return 'other';
      throw err;
    }
  }

  private async release(): Promise<void> {
    const lease = await kubeRequest<Lease>(this.kc, 'GET', this.path);
    if (lease.spec?.holderIdentity !== this.options.identity) return;
    const now = microTime();
    await kubeRequest(this.kc, 'PUT', this.path, {
      body: { ...lease, spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 } },
    });
  }
}
