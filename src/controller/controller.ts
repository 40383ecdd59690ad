/**
 * @module controller/controller
 * `turnpike controller`: the control plane as one process. Informers fill the store, the sync
 * loop translates and pushes to every gateway, and the status writer reports back to Kubernetes
 * (Events, KongConsumer `Programmed`, HTTPRoute parents, Gateway conditions/addresses/listeners,
 * Ingress load-balancer addresses from `--publish-service` or `--publish-status-address`) while
 * this replica holds the leader Lease. `/healthz` and `/readyz` answer on 10254, Prometheus
 * metrics on 10255.
 */
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { ObjectStore, filterSecrets, referencedSecretKeys, shouldKeepSecret, storeKindOf } from './store/index.ts';
import type { K8sObject } from './store/objects.ts';
import type { TranslateOptions } from './translator/index.ts';
import { GatewayClient } from './sync/gateway-push.ts';
import { SyncLoop, type SyncReport } from './sync/sync-loop.ts';
import { watchResources, createEvent, patchStatus, LeaderElector, KNOWN_KINDS, type KindSpec } from './k8s/index.ts';
import { writeStatus } from './status/status-writer.ts';
import { parseListen } from '../gateway/listen.ts';

export interface ControllerOptions {
  kubeconfig?: string;
  namespace?: string;
  translate: TranslateOptions;
  gatewayAdminUrls: string[];
  /** `ns/name` of a Service whose EndpointSlices list the gateways' admin endpoints. */
  kongAdminSvc?: string;
  kongAdminPortNames: string[];
  adminToken?: string;
  publishService?: string;
  publishStatusAddress: string[];
  healthListen: string;
  metricsListen: string;
  electionId: string;
  electionNamespace: string;
  leaderElection: boolean;
  log: Logger;
}

/** The kinds the controller reads (KIC's set for DB-less). */
const WATCHED = new Set(['Service', 'Secret', 'EndpointSlice', 'Ingress', 'IngressClass', 'GatewayClass', 'Gateway', 'HTTPRoute',
  'ReferenceGrant', 'KongPlugin', 'KongClusterPlugin', 'KongConsumer', 'KongUpstreamPolicy']);
export const WATCHED_KINDS: KindSpec[] = KNOWN_KINDS.filter((k) => WATCHED.has(k.kind));

export interface RunningController {
  readonly sync: SyncLoop;
  readonly store: ObjectStore;
  stop(): Promise<void>;
}

export async function runController(opts: ControllerOptions): Promise<RunningController> {
  const log = opts.log;
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else {
    try { kc.loadFromCluster(); } catch { kc.loadFromDefault(); }
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const syncs = new Counter({ name: 'turnpike_controller_syncs_total', help: 'config sync passes', labelNames: ['result'], registers: [registry] });
  const pushes = new Counter({ name: 'turnpike_controller_config_push_total', help: 'config pushes per gateway and outcome', labelNames: ['gateway', 'outcome'], registers: [registry] });
  const failuresGauge = new Gauge({ name: 'turnpike_controller_translation_failures', help: 'translation failures in the last pass', registers: [registry] });
  const sizeGauge = new Gauge({ name: 'turnpike_controller_config_size_bytes', help: 'size of the last pushed config', registers: [registry] });
  const duration = new Histogram({ name: 'turnpike_controller_sync_duration_seconds', help: 'duration of a sync pass', registers: [registry], buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

  const store = new ObjectStore();
  const allSecrets = new Map<string, K8sObject>();
  const secretKey = (o: K8sObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  /** Secrets are kept only when labelled or referenced (KIC's memory rule); re-checked as references change. */
  const refreshSecrets = () => {
    const referenced = referencedSecretKeys(allObjects());
    for (const s of allSecrets.values()) {
      const keep = shouldKeepSecret(s, referenced);
      const inStore = store.get('Secret', s.metadata.namespace, s.metadata.name) !== undefined;
      if (keep && !inStore) store.upsert(s);
      if (!keep && inStore) store.removeObject(s);
    }
  };
  const allObjects = () => store.kinds().flatMap((k) => [...store.list(k)]);

  const clients = new Map<string, GatewayClient>();
  for (const url of opts.gatewayAdminUrls) clients.set(url, new GatewayClient(url, { token: opts.adminToken }));
  const discovered = new Map<string, GatewayClient>();
  const [adminNs, adminName] = (opts.kongAdminSvc ?? '/').split('/');
  const discover = () => {
    if (!opts.kongAdminSvc) return;
    const urls = new Set<string>();
    for (const slice of store.list('EndpointSlice.discovery.k8s.io')) {
      if (slice.metadata.namespace !== adminNs || slice.metadata.labels?.['kubernetes.io/service-name'] !== adminName) continue;
      const s = slice as unknown as { ports?: { name?: string; port?: number }[]; endpoints?: { addresses?: string[]; conditions?: { ready?: boolean; terminating?: boolean } }[] };
      for (const port of s.ports ?? []) {
        if (!port.port || !opts.kongAdminPortNames.includes(port.name ?? '')) continue;
        for (const ep of s.endpoints ?? []) {
          if (ep.conditions?.terminating || ep.conditions?.ready === false) continue;
          const ip = ep.addresses?.[0];
          if (ip) urls.add(`http://${ip.includes(':') ? `[${ip}]` : ip}:${port.port}`);
        }
      }
    }
    for (const url of [...discovered.keys()]) if (!urls.has(url)) discovered.delete(url);
    for (const url of urls) if (!discovered.has(url)) discovered.set(url, new GatewayClient(url, { token: opts.adminToken }));
  };

  const elector = opts.leaderElection
    ? new LeaderElector({ kubeconfig: kc, namespace: opts.electionNamespace, name: opts.electionId, identity: `${process.env.POD_NAME ?? 'turnpike'}-${process.pid}` })
    : null;
  const isLeader = () => elector === null || elector.isLeader;

  let synced = false;
  const sync = new SyncLoop({
    store,
    translate: opts.translate,
    // Only the leader pushes (as KIC); a replica that becomes leader pushes at once.
    gateways: () => (isLeader() ? [...clients.values(), ...discovered.values()] : []),
    events: {
      emit: (object, type, reason, message) => {
        if (!isLeader()) return;
        void createEvent(kc, object, type, reason, message).catch((err: Error) => log.warn({ err: err.message }, 'event not written'));
      },
    },
    debounceMs: 100,
    resyncMs: 10_000,
    log: (msg, extra) => log.warn(extra ?? {}, msg),
    onSynced: async (report: SyncReport) => {
      const end = duration.startTimer();
      syncs.inc({ result: report.ok ? 'success' : 'failure' });
      failuresGauge.set(report.translation.failures.length);
      sizeGauge.set(JSON.stringify(report.translation.config).length);
      for (const o of report.outcomes) pushes.inc({ gateway: o.url, outcome: o.kind });
      if (report.ok) synced = true;
      if (isLeader()) {
        await writeStatus(kc, store, report, {
          publishStatusAddress: opts.publishStatusAddress, publishService: opts.publishService,
          controllerName: opts.translate.gatewayControllerName ?? 'konghq.com/kic-gateway-controller',
          patchStatus,
        }).catch((err: Error) => log.warn({ err: err.message }, 'status not written'));
      }
      end();
    },
  });

  const onEvent = (type: 'add' | 'update' | 'delete', raw: unknown) => {
    const obj = raw as K8sObject;
    if (obj.kind === 'Secret') {
      if (type === 'delete') { allSecrets.delete(secretKey(obj)); store.removeObject(obj); }
      else {
        allSecrets.set(secretKey(obj), obj);
        if (shouldKeepSecret(obj, referencedSecretKeys(allObjects()))) store.upsert(obj);
      }
    } else if (type === 'delete') {
      store.removeObject(obj);
    } else {
      store.upsert(obj);
    }
    if (obj.kind !== 'Secret') refreshSecrets();
    if (obj.kind === 'EndpointSlice') discover();
    sync.markDirty();
  };
  const watchLog = (msg: string, extra?: Record<string, unknown>) => log.debug(extra ?? {}, msg);
  const watch = watchResources({ kubeconfig: kc, kinds: WATCHED_KINDS, namespace: opts.namespace, onEvent, log: watchLog });
  // With --watch-namespace, the publish Service may live elsewhere: watch Services there too (as KIC adds its namespace).
  const publishNs = opts.publishService?.split('/')[0];
  const publishWatch = opts.namespace && publishNs && publishNs !== opts.namespace
    ? watchResources({ kubeconfig: kc, kinds: WATCHED_KINDS.filter((k) => k.kind === 'Service'), namespace: publishNs, onEvent, log: watchLog })
    : undefined;
  await watch.synced;
  await publishWatch?.synced;
  sync.start();
  elector?.onChange(() => sync.markDirty());
  await elector?.start();

  const servers: http.Server[] = [];
  const serve = async (listen: string, handler: http.RequestListener) => {
    for (const a of parseListen(listen)) {
      const s = http.createServer(handler);
      await new Promise<void>((resolve) => s.listen(a.port, a.host, resolve));
      servers.push(s);
    }
  };
  await serve(opts.healthListen, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') { res.writeHead(200).end('ok'); return; }
    if (path === '/readyz') { res.writeHead(synced ? 200 : 503).end(synced ? 'ok' : 'not synced'); return; }
    res.writeHead(404).end();
  });
  await serve(opts.metricsListen, (req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') { res.writeHead(404).end(); return; }
    registry.metrics().then((text) => { res.writeHead(200, { 'Content-Type': registry.contentType }); res.end(text); },
      () => { res.writeHead(500).end(); });
  });

  return {
    sync, store,
    async stop() {
      sync.stop();
      watch.stop();
      publishWatch?.stop();
      await elector?.stop();
      for (const s of servers) { s.closeAllConnections(); s.close(); }
    },
  };
}

export { filterSecrets, storeKindOf };
