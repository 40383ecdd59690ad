/**
 * @module controller/k8s/informer
 * `watchResources`: one @kubernetes/client-node `ListWatch` informer per kind, feeding add/update/delete
 * callbacks, plus what client-node leaves out:
 *  - restart with backoff (0.2 s doubling to 5 s, reset once data flows again). client-node's
 *    ListWatch relists by itself only on 410 Gone; any other failure (500s, a refused connection
 *    while the API server restarts, a reset watch socket) fires `error` and the informer stays
 *    stopped. Restarting resumes the watch from the last resourceVersion, or relists if it has none;
 *    a relist reports objects that vanished meanwhile as deletes and does not repeat unchanged ones.
 *  - CRD kinds that are not installed (404) count as synced-and-empty so startup is not blocked;
 *    they are retried quietly and their objects arrive as adds once the CRD appears.
 *  - watch bookmarks (`allowWatchBookmarks`) keep the resourceVersion fresh so a reconnect rarely
 *    needs a relist, and a server-side `timeoutSeconds` (5-10 min, as client-go) recycles watches
 *    that a middlebox silently dropped.
 *  - list items get their apiVersion/kind back (typed lists omit them on the wire).
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { type KindSpec, type KubeObject, collectionPath, groupVersion, kubeRequest, loadKubeConfig } from './client.ts';

export type ResourceEventType = 'add' | 'update' | 'delete';

export type WatchLog = (msg: string, extra?: Record<string, unknown>) => void;

export interface WatchResourcesOptions {
  /** A kubeconfig file or a loaded KubeConfig; else in-cluster, else the default loading rules. */
  kubeconfig?: string | KubeConfig;
  kinds: KindSpec[];
  /** Watch one namespace (cluster-scoped kinds are always watched cluster-wide). */
  namespace?: string;
  onEvent: (type: ResourceEventType, obj: object) => void;
  /** Called once, when every kind has delivered its initial list (or is known not to be served). */
  onSynced?: () => void;
  log?: WatchLog;
  /** Restart backoff; defaults 200 ms doubling to 5 s. */
  backoff?: { initialMs?: number; maxMs?: number };
}

export interface ResourceWatch {
  /** Resolves when every kind has delivered its initial list (or answered 404). */
  readonly synced: Promise<void>;
  /** Whether the initial lists are all in. */
  readonly isSynced: boolean;
  /** Kinds (`Kind.group`) that the server does not serve right now. */
  readonly missingKinds: string[];
  stop(): void;
}

/** client-node's Watch with bookmarks and a server-side timeout, and a hook when a watch is opened. */
class InformerWatch extends Watch {
  constructor(config: KubeConfig, private readonly spec: KindSpec, private readonly onOpen: () => void, private readonly onData: () => void) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
    done: (err: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  ): Promise<AbortController> {
    // ListWatch opens a watch only after its list has been applied: the first call means "synced".
    this.onOpen();
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 300) };
    return super.watch(path, params, (phase, obj: KubeObject | undefined, raw) => {
      this.onData();
      if (obj && typeof obj === 'object' && phase !== 'ERROR' && phase !== 'BOOKMARK') {
        obj.apiVersion ??= groupVersion(this.spec.group, this.spec.version);
        obj.kind ??= this.spec.kind;
      }
      callback(phase, obj, raw);
    }, done);
  }
}

function kindName(spec: KindSpec): string {
  return spec.group ? `${spec.kind}.${spec.group}` : spec.kind;
}

export function watchResources(options: WatchResourcesOptions): ResourceWatch {
  const kc = loadKubeConfig(options.kubeconfig);
  const log: WatchLog = options.log ?? (() => {});
  const initialMs = options.backoff?.initialMs ?? 200;
  const maxMs = options.backoff?.maxMs ?? 5000;
  let stopped = false;
  const pendingKinds = new Set(options.kinds.map(kindName));
  const missing = new Set<string>();
  let resolveSynced!: () => void;
  const synced = new Promise<void>((resolve) => { resolveSynced = resolve; });
  let isSynced = false;

  const markSynced = (name: string) => {
    if (!pendingKinds.delete(name) || pendingKinds.size > 0 || isSynced) return;
    isSynced = true;
    resolveSynced();
    options.onSynced?.();
  };
  if (options.kinds.length === 0) { isSynced = true; resolveSynced(); queueMicrotask(() => options.onSynced?.()); }

  const informers: { informer: ListWatch<KubernetesObject>; timer?: NodeJS.Timeout }[] = [];

  for (const spec of options.kinds) {
    const name = kindName(spec);
    const path = collectionPath(spec, spec.namespaced ? options.namespace : undefined);
    let delay = initialMs;
    const entry: { informer: ListWatch<KubernetesObject>; timer?: NodeJS.Timeout } = { informer: undefined as unknown as ListWatch<KubernetesObject> };

    const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const list = await kubeRequest<{ metadata?: { resourceVersion?: string }; items?: KubeObject[] }>(kc, 'GET', path);
      const items = (list.items ?? []).map((o) => ({ ...o, apiVersion: o.apiVersion ?? groupVersion(spec.group, spec.version), kind: o.kind ?? spec.kind }));
      if (missing.delete(name)) log('kind is served again', { kind: name });
      delay = initialMs;
      return { metadata: list.metadata, items } as KubernetesListObject<KubernetesObject>;
    };

    const watch = new InformerWatch(kc, spec, () => markSynced(name), () => { delay = initialMs; });
    const informer = new ListWatch<KubernetesObject>(path, watch, listFn, false);
    entry.informer = informer;
    informer.on('add', (obj) => { if (!stopped) options.onEvent('add', obj); });
    informer.on('update', (obj) => { if (!stopped) options.onEvent('update', obj); });
    informer.on('delete', (obj) => { if (!stopped) options.onEvent('delete', obj); });
    informer.on('error', (err?: { statusCode?: number; code?: number | string; message?: string }) => {
      if (stopped) return;
      const status = err?.statusCode ?? (typeof err?.code === 'number' ? err.code : undefined);
      if (status === 404) {
        // Not served (CRD not installed): empty for now, and not worth a log line on every retry.
        if (!missing.has(name)) { missing.add(name); log('kind not served by the API server; retrying', { kind: name }); }
        markSynced(name);
      } else {
        log('watch failed; restarting', { kind: name, status, error: err?.message ?? String(err), retryInMs: delay });
      }
      clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        if (stopped) return;
        informer.start().catch((e: Error) => log('informer restart failed', { kind: name, error: e.message }));
      }, status === 404 ? Math.max(delay, maxMs) : delay);
      delay = Math.min(delay * 2, maxMs);
    });
    informers.push(entry);
  }

  for (const { informer } of informers) {
    informer.start().catch((e: Error) => log('informer start failed', { error: e.message }));
  }

  return {
    synced,
    get isSynced() { return isSynced; },
    get missingKinds() { return [...missing]; },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const e of informers) {
        clearTimeout(e.timer);
        void e.informer.stop();
      }
    },
  };
}
