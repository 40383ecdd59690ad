/**
 * @module controller/sync/sync-loop
 * The controller's config flow after the store: changes mark the state dirty, a debounced rebuild
 * translates the store, and the result is pushed to every gateway (hash-gated per gateway). When
 * a gateway refuses the config, its flattened errors are mapped back to Kubernetes objects through
 * the `k8s-*` tags, each gets a `KongConfigurationApplyFailed` Event, and a config without those
 * objects is pushed instead; if even that fails, the last good config is pushed. New or restarted
 * gateways get the current (or last good) config on the next pass.
 */
import { ObjectStore, storeKindOf } from '../store/index.ts';
import type { K8sObject } from '../store/objects.ts';
import { translate, formatFailure, type TranslateOptions, type TranslationResult } from '../translator/index.ts';
import type { FailureObject } from '../translator/failures.ts';
import { GatewayClient, objectFromTags, pushHash, type PushOutcome, type TaggedObject } from './gateway-push.ts';

export interface EventSink {
  emit(object: FailureObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface SyncReport {
  hash: string;
  outcomes: PushOutcome[];
  translation: TranslationResult;
  /** Objects left out because a gateway refused them. */
  excluded: TaggedObject[];
  /** Whether every gateway now serves a config built from this pass. */
  ok: boolean;
}

export interface SyncLoopOptions {
  store: ObjectStore;
  translate: TranslateOptions;
  gateways: () => readonly GatewayClient[];
  events: EventSink;
  /** Called after each pass (status writers, metrics). */
  onSynced?: (report: SyncReport) => void | Promise<void>;
  debounceMs?: number;
  /** Re-check gateways even without changes (restarted-empty detection). */
  resyncMs?: number;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
}

function sameObject(obj: K8sObject, t: TaggedObject): boolean {
  return obj.kind === t.kind && obj.metadata.name === t.name && (t.namespace === undefined || obj.metadata.namespace === t.namespace);
}

/** A copy of the store without the given objects. */
function storeWithout(source: ObjectStore, excluded: readonly TaggedObject[]): ObjectStore {
  const objs: K8sObject[] = [];
  for (const kind of source.kinds()) {
    for (const o of source.list(kind)) if (!excluded.some((t) => sameObject(o, t))) objs.push(o);
  }
  return new ObjectStore(objs);
}

export class SyncLoop {
  readonly #o: SyncLoopOptions;
  #timer: NodeJS.Timeout | null = null;
  #resync: NodeJS.Timeout | null = null;
  #running: Promise<SyncReport | null> = Promise.resolve(null);
  #lastGood: string | null = null;
  #lastRevision = -1;
  #reportedFailures = new Set<string>();
  #stopped = false;
  lastReport: SyncReport | null = null;

  constructor(options: SyncLoopOptions) {
    this.#o = options;
  }

  get lastGoodConfig(): string | null { return this.#lastGood; }

  start(): void {
    this.markDirty();
    if (this.#o.resyncMs) {
      this.#resync = setInterval(() => { void this.sync(); }, this.#o.resyncMs);
      this.#resync.unref();
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#resync) clearInterval(this.#resync);
  }

  /** Debounced: a burst of watch events becomes one rebuild. */
  markDirty(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { this.#timer = null; void this.sync(); }, this.#o.debounceMs ?? 100);
  }

  /** Runs one pass after any pass in progress. */
  sync(): Promise<SyncReport | null> {
    this.#running = this.#running.then(() => this.#pass(), () => this.#pass());
    return this.#running;
  }

  async #pass(): Promise<SyncReport | null> {
    if (this.#stopped) return null;
    const o = this.#o;
    const store = o.store;
    const translation = translate(store, o.translate);
    this.#reportTranslationFailures(translation);
    let body = JSON.stringify(translation.config);
    let hash = pushHash(body);
    const gateways = o.gateways();
    let outcomes = await Promise.all(gateways.map((g) => g.push(body, hash)));
    const excluded: TaggedObject[] = [];
    const rejected = outcomes.filter((x): x is Extract<PushOutcome, { kind: 'rejected' }> => x.kind === 'rejected');
    if (rejected.length > 0) {
      for (const r of rejected) {
        o.log?.('gateway refused the config', { url: r.url, status: r.status, message: r.message });
        for (const fe of r.flattened) {
          const t = objectFromTags(fe.entity_tags);
          if (!t) continue;
          if (!excluded.some((e) => e.kind === t.kind && e.name === t.name && e.namespace === t.namespace)) excluded.push(t);
          for (const err of fe.errors ?? []) {
            const field = err.field ? `invalid ${err.field}: ` : '';
            o.events.emit({ apiVersion: t.group ? `${t.group}/${t.version ?? 'v1'}` : (t.version ?? 'v1'), kind: t.kind, namespace: t.namespace, name: t.name, uid: t.uid },
              'Warning', 'KongConfigurationApplyFailed', `${field}${err.message}`);
          }
        }
      }
      if (excluded.length > 0) {
        // Fallback: the same objects minus the broken ones (KIC's FallbackConfiguration).
        const fallback = translate(storeWithout(store, excluded), o.translate);
        body = JSON.stringify(fallback.config);
        hash = pushHash(body);
        outcomes = await Promise.all(gateways.map((g) => g.push(body, hash)));
      }
      if (outcomes.some((x) => x.kind === 'rejected') && this.#lastGood) {
        const good = this.#lastGood;
        outcomes = await Promise.all(gateways.map((g) => g.push(good, pushHash(good))));
        hash = pushHash(good);
      }
    }
    const ok = outcomes.every((x) => x.kind === 'applied' || x.kind === 'skipped');
    if (ok && outcomes.length > 0 && rejected.length === 0) this.#lastGood = body;
    else if (ok && outcomes.length > 0 && excluded.length > 0) this.#lastGood = body;
    this.#lastRevision = store.revision;
    const report: SyncReport = { hash, outcomes, translation, excluded, ok };
    this.lastReport = report;
    await o.onSynced?.(report);
    return report;
  }

  /** Each distinct failure becomes one Warning Event (not one per pass). */
  #reportTranslationFailures(t: TranslationResult): void {
    const now = new Set<string>();
    for (const f of t.failures) {
      const key = formatFailure(f);
      now.add(key);
      if (!this.#reportedFailures.has(key)) this.#o.events.emit(f.object, 'Warning', f.reason, f.message);
    }
    this.#reportedFailures = now;
  }

  get revisionSynced(): number { return this.#lastRevision; }
}

export { storeKindOf };
