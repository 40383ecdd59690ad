/**
 * @module gateway/supervisor
 * The gateway's primary process: the config flow's last step. It validates every config (file,
 * `POST /config`, controller push) once, compiles a snapshot of its own (for the Admin API and
 * active health checks), hands the config to every worker and answers only when all of them
 * acknowledged. It also owns the state workers share (rate-limit counters, cache), serves the
 * Admin and Status APIs, replaces workers that die and drains them on SIGTERM.
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AdminBackend, ApplyResult, LoadedConfig } from '../admin/backend.ts';
import type { Config } from '../config/entities.ts';
import { createAdminHandler } from '../admin/admin-api.ts';
import { createStatusHandler } from '../admin/status-api.ts';
import { configHash } from '../config/hash.ts';
import { declarativeErrorBody } from '../config/errors.ts';
import { parseConfigText } from '../config/load.ts';
import { parseFailure, validateConfig } from '../config/validate.ts';
import { warmUpValidator } from '../config/warm-up.ts';
import { createLogger, pluginLogger } from '../observability/logger.ts';
import { loadPluginRegistry, type PluginRegistry } from '../plugins/registry.ts';
import { parseListen, type ListenAddress } from './listen.ts';
import { ACCEPT_HANDLES, bindProxySockets, type BoundProxySocket } from './proxy-sockets.ts';
import { buildSettings, type SettingsInput } from './settings.ts';
import { compileSnapshot, type Snapshot } from './snapshot.ts';
import { packConfig } from './packed-config.ts';
import { serveSharedState, type CacheInvalidation } from './shared-state/ipc.ts';
import { LocalCounterStore, LocalSharedCache } from './shared-state/local.ts';
import type { PrimaryToWorker, WorkerInit, WorkerToPrimary } from './worker.ts';
import { ENTRY_PREFIX, decodeEntry } from '../plugins/proxy-cache/handler.ts';
import { METRICS_CONTENT_TYPE, MetricsAggregator, metricsRenderer, prometheusSettings } from '../plugins/prometheus/exporter.ts';
import { createDashboardHandler } from '../dashboard/server.ts';
import { TrafficTimeline } from '../dashboard/traffic-timeline.ts';
import type { ControllerReport } from '../dashboard/controller-report.ts';
import { ProcessSampler, currentMemory, renderProcessMetrics, type ProcessSample } from '../observability/process-metrics.ts';

export interface GatewayOptions {
  version: string;
  proxyListen: string;
  adminListen: string;
  statusListen: string;
  /** Dashboard listeners (`off` or absent: none). */
  guiListen?: string;
  workers: number;
  logLevel: string;
  settings: SettingsInput;
  pluginPaths: string[];
  /** Initial declarative config: file contents and where they came from. */
  initialConfig?: { text: string; source: string; filename?: string };
  adminToken?: string;
  drainTimeoutMs?: number;
}

interface WorkerState {
  worker: Worker;
  /** Asked for its sockets: from then on it gets every config (the running one first). */
  attached: boolean;
  listening: boolean;
  hash: string | null;
  stats: { total: number; active: number; accepted: number; heapUsed: number };
  proxy: { host: string; port: number; ssl: boolean }[];
  /** The worker's latest process sample (memory, CPU, event-loop lag), once a second. */
  process?: ProcessSample;
  forkedAt: number;
}

/** A worker that dies sooner than this after its start counts toward the restart back-off. */
const QUICK_EXIT_MS = 10_000;
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5_000;

export interface RunningGateway {
  readonly admin: ListenAddress[];
  readonly status: ListenAddress[];
  readonly gui: ListenAddress[];
  readonly proxy: { host: string; port: number; ssl: boolean }[];
  /** Validate and apply a config from inside the process (the all-in-one controller uses this). */
  apply(body: string | object, source: string, options?: { filename?: string; checkHash?: boolean }): Promise<ApplyResult>;
  /** The latest translation outcome of an in-process config source (shown by the dashboard). */
  reportController(report: ControllerReport): void;
  stop(): Promise<void>;
}

function invalidBody(error: Parameters<typeof declarativeErrorBody>[0], flatten: boolean) {
  return declarativeErrorBody(error, flatten) as { code: 14; name: string; message: string; fields: object; flattened_errors?: unknown[] };
}

export class ConfigLoadError extends Error {
  readonly code = 'TP_CONFIG_INVALID';
  constructor(message: string, readonly detail: unknown) { super(message); }
}

export async function runGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const log = createLogger(opts.logLevel, { role: 'primary' });
  const registry = await loadPluginRegistry(opts.pluginPaths);
  buildSettings(opts.settings); // fail fast on bad settings, before forking
  const nodeId = randomUUID();
  const counters = new LocalCounterStore();
  const cache = new LocalSharedCache();
  /** Prometheus totals: the sum of the deltas every worker sends. */
  const metricsStore = new MetricsAggregator();
  /** The dashboard's always-on per-second traffic, last five minutes. */
  const traffic = new TrafficTimeline();
  let controllerState: ControllerReport | null = null;
  /** The primary's own process metrics, sampled once a second like a worker's. */
  const processSampler = new ProcessSampler();
  let primarySample = processSampler.sample();
  const sampleTimer = setInterval(() => { primarySample = processSampler.sample(); }, 1000);
  sampleTimer.unref();
  const workers = new Map<number, WorkerState>();
  let current: LoadedConfig | null = null;
  let snapshot: Snapshot | null = null;
  let seq = 0;
  let loading = false;
  let draining = false;
  let exiting = false;
  const waiters = new Map<number, { pending: Set<number>; resolve(errors: string[]): void; errors: string[] }>();

  const init: WorkerInit = {
    settings: opts.settings, proxyListen: opts.proxyListen, pluginPaths: opts.pluginPaths,
    workerCount: opts.workers, logLevel: opts.logLevel,
  };
  // A proxy's garbage is short-lived and small: 4 MiB semi-spaces (V8's default grows to 16) cut
  // ~20 MB of worker RSS under load at the same throughput (BENCHMARKS.md); 2 MiB cost throughput.
  // An explicit flag (command line or NODE_OPTIONS) wins.
  const ownSemiSpace = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-semi-space-size'));
  cluster.setupPrimary({
    serialization: 'advanced',
    execArgv: ownSemiSpace ? process.execArgv : [...process.execArgv, '--max-semi-space-size=4'],
  });

  const broadcast = (m: PrimaryToWorker) => {
    for (const w of workers.values()) if (w.attached && w.worker.isConnected()) w.worker.send(m);
  };

  /**
   * A config as the workers receive it: packed (packed-config.ts), as JSON text made once for all
   * of them (the structured clone of the records ran once per worker).
   */
  const configJson = (loaded: LoadedConfig): string => JSON.stringify(packConfig(loaded.config));

  /** The running config to one worker outside a distribution (seq 0: nobody waits for its ack). */
  const sendRunning = (worker: Worker, loaded: LoadedConfig): void => {
    worker.send({ t: 'config', seq: 0, json: configJson(loaded), hash: loaded.hash } satisfies PrimaryToWorker);
  };

  const sendSockets = (worker: Worker): void => {
    proxySockets.forEach((p, index) => {
      for (let copy = 0; copy < ACCEPT_HANDLES; copy++) {
        // Handle sends queue behind one another (each waits for the worker's ack); a stop closes
        // the primary's descriptors and fails the ones still queued, which is harmless then.
        worker.send({ t: 'socket', index, copy, port: p.address.port } satisfies PrimaryToWorker, p.handle as never, (err: Error | null) => {
          if (err && !exiting) log.warn({ err: err.message, pid: worker.process.pid }, 'could not pass a proxy socket to a worker');
        });
      }
    });
  };

  let quickExits = 0;
  const fork = (): void => {
    const worker = cluster.fork({ TURNPIKE_WORKER_INIT: JSON.stringify(init) });
    const state: WorkerState = { worker, attached: false, listening: false, hash: null, stats: { total: 0, active: 0, accepted: 0, heapUsed: 0 }, proxy: [], forkedAt: Date.now() };
    workers.set(worker.id, state);
    // A send to a worker that just died fails with an 'error' on the worker; unheard, it would
    // take the primary down with it. The 'exit' handler below does the recovery.
    worker.on('error', (err) => log.debug({ err: err.message, pid: worker.process.pid }, 'IPC to a worker failed'));
    worker.on('message', (m: WorkerToPrimary) => {
      switch (m.t) {
        case 'sockets':
          // The running config before the sockets: a replacement worker must not accept a
          // connection it would answer with an empty config (404 "no Route matched").
          state.attached = true;
          log.debug({ pid: worker.process.pid, ms: Date.now() - state.forkedAt }, 'worker started');
          if (current) sendRunning(worker, current);
          if (!holdSockets) sendSockets(worker);
          break;
        case 'listen-failed':
          if (!started) startFailure ??= Object.assign(new Error(m.message), { code: m.code });
          else log.error({ err: m.message }, 'a worker could not listen on the proxy sockets');
          break;
        case 'listening':
          state.listening = true;
          state.proxy = m.proxy;
          break;
        case 'ack': {
          if (!m.error) state.hash = m.hash;
          const w = waiters.get(m.seq);
          if (w) {
            w.pending.delete(worker.id);
            if (m.error) w.errors.push(m.error);
            if (w.pending.size === 0) { waiters.delete(m.seq); w.resolve(w.errors); }
          }
          break;
        }
        case 'stats': state.stats = m; state.process = m.process; break;
        case 'health':
          // A worker's passive check: record it here (Admin /health) and tell the other workers.
          snapshot?.balancers.get(m.upstream)?.setHealth(m.target, m.healthy, 'remote');
          for (const w of workers.values()) {
            if (w !== state && w.attached && w.worker.isConnected()) w.worker.send({ t: 'health', upstream: m.upstream, target: m.target, healthy: m.healthy } satisfies PrimaryToWorker);
          }
          break;
        case 'drained': break;
        case 'metrics': metricsStore.add(m.delta); break;
        case 'traffic': traffic.add(m.delta); break;
        default:
          serveSharedState(m, counters, cache, (r) => { if (worker.isConnected()) worker.send(r); },
            (inv: CacheInvalidation) => broadcast(inv));
      }
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker.id);
      for (const [id, w] of waiters) {
        if (w.pending.delete(worker.id) && w.pending.size === 0) { waiters.delete(id); w.resolve(w.errors); }
      }
      if (!exiting) {
        // A worker that keeps dying at start (a port it cannot listen on, a plugin that throws
        // on load) is restarted ever more slowly, not every 100 ms forever.
        quickExits = Date.now() - state.forkedAt < QUICK_EXIT_MS ? quickExits + 1 : 0;
        const restartInMs = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.max(0, quickExits - 1));
        log.error({ code, signal, pid: worker.process.pid, restartInMs }, 'worker exited; starting a replacement');
        setTimeout(fork, restartInMs).unref();
      }
    });
  };

  /**
   * Sends a config to every listening worker: `written` settles when the message is out of this
   * process (the primary's event loop is then free for other work), `acks` when every worker took
   * it or refused it (or exited).
   */
  const distribute = (loaded: LoadedConfig): { written: Promise<void>; acks: Promise<string[]> } => {
    const id = ++seq;
    const pending = new Set<number>();
    for (const w of workers.values()) if (w.attached) pending.add(w.worker.id);
    if (pending.size === 0) return { written: Promise.resolve(), acks: Promise.resolve([]) };
    const json = configJson(loaded);
    const sends: Promise<void>[] = [];
    const acks = new Promise<string[]>((resolve) => {
      waiters.set(id, { pending, resolve, errors: [] });
      for (const w of workers.values()) {
        if (!w.attached || !w.worker.isConnected()) continue;
        // A failed send is the worker's exit, which the 'exit' handler turns into a missing ack.
        sends.push(new Promise((done) => w.worker.send({ t: 'config', seq: id, json, hash: loaded.hash } satisfies PrimaryToWorker, () => done())));
      }
    });
    return { written: Promise.all(sends).then(() => undefined), acks };
  };

  type ApplyOptions = { checkHash?: boolean; flattenErrors?: boolean; filename?: string; hashOf?: Buffer; render?: (config: Config) => Buffer };
  /**
   * A config parsed and validated here, not yet sent to the workers. `next` is its snapshot when
   * it was compiled up front (the --config file, whose errors must stop the start before any port
   * is bound); otherwise the primary compiles it while the workers do.
   */
  interface PreparedConfig { kind: 'prepared'; loaded: LoadedConfig; next?: Snapshot; ms: { parse: number; validate: number; compile?: number } }

  const prepare = (body: string | object, source: string, options: ApplyOptions, compileNow = false): PreparedConfig | ApplyResult => {
    const t0 = performance.now();
    const hash = configHash(options.hashOf ?? body);
    if (options.checkHash && current && current.hash === hash) return { kind: 'unchanged' };
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = parseConfigText(body, options.filename);
      } catch (err) {
        return { kind: 'invalid', error: invalidBody(parseFailure((err as Error).message), false) };
      }
    }
    const t1 = performance.now();
    const result = validateConfig(parsed, registry);
    const t2 = performance.now();
    if (!result.ok) return { kind: 'invalid', error: invalidBody(result.error, !!options.flattenErrors) };
    const loaded: LoadedConfig = { config: result.config, hash, loadedAt: Date.now(), source };
    const ms = { parse: Math.round(t1 - t0), validate: Math.round(t2 - t1) };
    if (!compileNow) return { kind: 'prepared', loaded, ms };
    const compiled = compile(loaded);
    if (compiled instanceof Error) return { kind: 'invalid', error: invalidBody(parseFailure(compiled.message), false) };
    return { kind: 'prepared', loaded, next: compiled, ms: { ...ms, compile: Math.round(performance.now() - t2) } };
  };

  /** The primary's own snapshot of a validated config (it runs the active health checks). */
  const compile = (loaded: LoadedConfig): Snapshot | Error => {
    try {
      return compileSnapshot(loaded.config, { previous: snapshot, plugins: registry, log: pluginLogger(log), hash: loaded.hash, activeHealthchecks: true });
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  };

  /**
   * Sends a prepared config to every worker; it becomes the running one when all took it. The
   * primary compiles its own snapshot (if not yet done) while the workers compile theirs: a config
   * that fails to compile here fails the same way in every worker, which then keep the previous one.
   */
  const commit = async ({ loaded, next: compiled, ms }: PreparedConfig, render?: (config: Config) => Buffer): Promise<ApplyResult> => {
    const t3 = performance.now();
    const { written, acks } = distribute(loaded);
    let next: Snapshot | Error | undefined = compiled;
    let compileMs = ms.compile;
    if (next === undefined) {
      // After the write: compiling before the last byte left would stall the transfer.
      await written;
      const t = performance.now();
      next = compile(loaded);
      compileMs = Math.round(performance.now() - t);
    }
    // Still waiting for the workers: the answer's body can be made now.
    const rendered = next instanceof Error ? undefined : render?.(loaded.config);
    const errors = await acks;
    const t4 = performance.now();
    if (next instanceof Error || errors.length > 0) {
      if (!(next instanceof Error)) next.dispose();
      // Workers that failed keep their previous snapshot; put the rest back on it too.
      if (current) await distribute(current).acks;
      if (next instanceof Error) return { kind: 'invalid', error: invalidBody(parseFailure(next.message), false) };
      log.error({ errors }, 'a worker refused a validated config; the previous config was restored');
      return { kind: 'failed', message: errors[0]! };
    }
    const old = snapshot;
    snapshot = next;
    current = loaded;
    // A worker that attached while the workers compiled got the previous config: send this one.
    for (const w of workers.values()) {
      if (w.attached && w.hash !== loaded.hash && w.worker.isConnected()) sendRunning(w.worker, loaded);
    }
    old?.dispose();
    watchHealth(next);
    // Where the apply time goes: parse (and hash), validate, compile here (overlapping the
    // workers'), from the send to the last worker's ack.
    log.info({ hash: loaded.hash, source: loaded.source, services: loaded.config.services.length, routes: loaded.config.routes.length, ms: { ...ms, compile: compileMs, workers: Math.round(t4 - t3) } }, 'configuration loaded');
    return { kind: 'applied', loaded, rendered };
  };

  const apply = async (body: string | object, source: string, options: ApplyOptions = {}): Promise<ApplyResult> => {
    if (exiting) return { kind: 'exiting' };
    if (loading) return { kind: 'busy' };
    loading = true;
    try {
      const p = prepare(body, source, options);
      return p.kind === 'prepared' ? await commit(p, options.render) : p;
    } finally {
      loading = false;
    }
  };

  /** Active checks run here once; workers learn the outcome so they skip unhealthy targets. */
  const watchHealth = (s: Snapshot) => {
    for (const [name, b] of s.balancers) {
      b.onChange((target, healthy, change) => {
        if (snapshot !== s || change.source === 'remote') return;
        // Only the primary's own checks are relayed; workers already know what they saw.
        log.warn({ upstream: name, target, healthy }, 'target health changed');
        broadcast({ t: 'health', upstream: name, target, healthy });
      });
    }
  };

  /**
   * Kong's proxy-cache Admin endpoints. Entries are keyed `proxy-cache:<plugin id>:<cache key>`;
   * purges reach the primary's store and every worker (mirrors, or the one worker's own cache).
   */
  const proxyCacheAdmin = (method: string, path: string): { status: number; body?: unknown } | null => {
    const m = /^\/proxy-cache(?:\/([^/]+)(?:\/caches\/([^/]+))?)?\/?$/.exec(path);
    if (!m) return null;
    const ids = (current?.config.plugins ?? []).filter((p) => p.name === 'proxy-cache').map((p) => p.id);
    const purge = (prefix: string | null, key: string | null) => {
      if (key !== null) cache.delete(key); else cache.purge(prefix ?? '');
      broadcast({ t: 'cache-invalidate', key, prefix } satisfies CacheInvalidation);
    };
    const [, first, second] = m;
    if (!first) {
      if (method !== 'DELETE') return { status: 405, body: { message: 'Method not allowed' } };
      purge(ENTRY_PREFIX, null);
      return { status: 204 };
    }
    const pluginIds = second !== undefined ? ids.filter((id) => id === first) : ids;
    const key = second ?? first;
    if (second !== undefined && pluginIds.length === 0) return { status: 404, body: { message: 'Not found' } };
    const found = pluginIds.map((id) => `${ENTRY_PREFIX}${id}:${key}`).find((k) => cache.get(k) !== undefined);
    if (method === 'DELETE') {
      for (const id of pluginIds) purge(null, `${ENTRY_PREFIX}${id}:${key}`);
      return { status: 204 };
    }
    if (method !== 'GET') return { status: 405, body: { message: 'Method not allowed' } };
    if (!found) return { status: 404, body: { message: 'Not found' } };
    const decoded = decodeEntry(cache.get(found)!);
    return decoded ? { status: 200, body: { ...decoded.entry, body: decoded.body.toString('base64') } } : { status: 404, body: { message: 'Not found' } };
  };

  const backend: AdminBackend = {
    version: opts.version,
    nodeId,
    hostname: os.hostname(),
    plugins: registry,
    current: () => current,
    applyConfig: (body, o) => apply(body, 'admin', { checkHash: o.checkHash, flattenErrors: o.flattenErrors, hashOf: o.hashOf, render: o.render }),
    upstreamHealth: (idOrName) => {
      if (!snapshot || !current) return null;
      const u = current.config.upstreams.find((x) => x.id === idOrName || x.name === idOrName);
      if (!u) return null;
      return snapshot.balancers.get(u.name)?.healthReport() ?? null;
    },
    serverStats: () => {
      let total = 0, active = 0, accepted = 0;
      for (const w of workers.values()) { total += w.stats.total; active += w.stats.active; accepted += w.stats.accepted; }
      return {
        total_requests: total, connections_active: active, connections_accepted: accepted, connections_handled: accepted,
        connections_reading: 0, connections_writing: active, connections_waiting: 0,
      };
    },
    memoryStats: () => ({
      workers: [...workers.values()].map((w) => ({ pid: w.worker.process.pid ?? 0, http_allocated_gc: w.stats.heapUsed })),
      shared: {},
    }),
    readiness: () => {
      if (draining) return { ready: false, message: 'draining' };
      if (!current) return { ready: false, message: 'no configuration available (configuration hash is not initialized)' };
      const listening = [...workers.values()].filter((w) => w.listening);
      const ready = listening.filter((w) => w.hash === current!.hash).length;
      if (listening.length < opts.workers || ready < opts.workers) {
        return { ready: false, message: `router builds not yet complete, router ready in ${ready} of ${opts.workers} workers` };
      }
      if (current.config.services.length === 0 && current.config.routes.length === 0 && current.config.upstreams.length === 0
        && current.config.consumers.length === 0 && current.config.plugins.length === 0) {
        return { ready: false, message: 'no configuration available (empty configuration present)' };
      }
      return { ready: true };
    },
    setDraining: () => { draining = true; },
    configuration: () => ({
      proxy_listen: opts.proxyListen.split(',').map((s) => s.trim()),
      admin_listen: opts.adminListen.split(',').map((s) => s.trim()),
      status_listen: opts.statusListen.split(',').map((s) => s.trim()),
      nginx_worker_processes: opts.workers,
      database: 'off',
      router_flavor: 'traditional_compatible',
      log_level: opts.logLevel,
      headers: opts.settings.headers,
      trusted_ips: opts.settings.trustedIps ?? null,
      real_ip_header: opts.settings.realIpHeader ?? 'X-Real-IP',
      plugins: [...registry.keys()],
      admin_token: opts.adminToken ? '******' : null,
    }),
    pids: () => ({ master: process.pid, workers: [...workers.values()].map((w) => w.worker.process.pid ?? 0) }),
    pluginAdminRoute: async (method, path) => proxyCacheAdmin(method, path),
    // Kong's exporter: node gauges always, per-request families while a prometheus plugin is on.
    metrics: async () => {
      const p = prometheusSettings(current?.config.plugins ?? []);
      const upstreams = p.upstreamHealth
        ? (current?.config.upstreams ?? []).map((u) => ({ name: u.name, targets: backend.upstreamHealth(u.id) ?? [] }))
        : null;
      const body = metricsRenderer({
        nodeId, version: opts.version, server: backend.serverStats(), memory: backend.memoryStats(),
        pluginEnabled: p.enabled, store: metricsStore, upstreams,
      });
      const processes = [{ label: 'primary', sample: { ...primarySample, ...currentMemory() } }];
      for (const w of workers.values()) if (w.process) processes.push({ label: `worker-${w.worker.id}`, sample: w.process });
      return { contentType: METRICS_CONTENT_TYPE, body: body + renderProcessMetrics(processes) };
    },
  };

  // Like Kong, serve nothing before the initial config is in: workers get their sockets after it
  // (and, in any case, not before they are bound below).
  let holdSockets = true;
  let proxySockets: BoundProxySocket[] = [];
  let initial: PreparedConfig | undefined;
  let started = false;
  let startFailure: Error | undefined;
  const abortStart = () => {
    exiting = true;
    if (initial?.next && snapshot !== initial.next) initial.next.dispose();
    for (const w of workers.values()) w.worker.kill();
    for (const p of proxySockets) p.handle.close();
  };
  const startedWorkers = (what: string, count: () => number) => new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => { clearInterval(check); clearTimeout(timer); abortStart(); reject(err); };
    const timer = setTimeout(() => fail(new Error(`workers did not ${what} within 30 s`)), 30_000);
    const check = setInterval(() => {
      if (startFailure) fail(startFailure);
      else if (count() >= opts.workers) { clearInterval(check); clearTimeout(timer); resolve(); }
    }, 10);
  });
  // Workers first: their start (~0.5–0.8 s of module loading) runs while this process validates
  // the initial config, and a config applied before they attach would be lost. They bind nothing.
  for (let i = 0; i < opts.workers; i++) fork();

  // A bad --config file is the error to report, whatever else would fail (Kong reads it before
  // nginx binds a port): check it before binding anything.
  if (opts.initialConfig) {
    const r = prepare(opts.initialConfig.text, opts.initialConfig.source, { filename: opts.initialConfig.filename }, true);
    if (r.kind !== 'prepared') {
      abortStart();
      throw new ConfigLoadError(`invalid configuration in ${opts.initialConfig.source}`, r.kind === 'invalid' ? r.error : r);
    }
    initial = r;
  }

  // Bound here so that a taken port fails the start at once, and a restarted worker gets the
  // same sockets (connections wait in the backlog meanwhile instead of being refused).
  proxySockets = await bindProxySockets(parseListen(opts.proxyListen)).catch((err: Error) => {
    abortStart();
    throw err;
  });
  await startedWorkers('start', () => [...workers.values()].filter((w) => w.attached).length);

  if (initial) {
    // Nothing else can apply yet: the Admin API and --watch start after this.
    const r = await commit(initial);
    if (r.kind !== 'applied') {
      abortStart();
      // A worker refused what the primary compiled.
      throw new ConfigLoadError(`invalid configuration in ${initial.loaded.source}`, r);
    }
  }
  holdSockets = false;
  for (const w of workers.values()) if (w.attached) sendSockets(w.worker);
  await startedWorkers('listen', () => [...workers.values()].filter((w) => w.listening).length);
  started = true;

  const listeners: http.Server[] = [];
  const listen = async (value: string, handler: http.RequestListener) => {
    const addrs = parseListen(value);
    for (const a of addrs) {
      const server = http.createServer({ keepAliveTimeout: 5_000 }, handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(a.port, a.host, () => { server.off('error', reject); resolve(); });
      });
      a.port = (server.address() as import('node:net').AddressInfo).port;
      listeners.push(server);
    }
    return addrs;
  };
  const admin = await listen(opts.adminListen, createAdminHandler(backend, { token: opts.adminToken }));
  const status = await listen(opts.statusListen, createStatusHandler(backend));
  // The dashboard is a convenience: a port already taken must not keep the gateway down.
  const gui = await listen(opts.guiListen ?? 'off', createDashboardHandler({
    version: opts.version, plugins: registry, current: () => current, snapshot: () => snapshot, traffic,
    upstreamHealth: (name) => snapshot?.balancers.get(name)?.healthReport() ?? null,
    proxy: () => [...workers.values()][0]?.proxy[0] ?? null,
    workers: () => opts.workers,
    controller: () => controllerState,
  })).catch((err: Error) => {
    log.warn({ err: err.message, listen: opts.guiListen }, 'dashboard listener failed; continuing without the dashboard');
    return [] as ListenAddress[];
  });

  const stop = async (): Promise<void> => {
    if (exiting) return;
    draining = true;
    exiting = true;
    const timeoutMs = opts.drainTimeoutMs ?? 10_000;
    // Draining workers stop accepting; closing the primary's descriptors closes the sockets.
    for (const p of proxySockets) p.handle.close();
    const exits = [...workers.values()].map((w) => new Promise<void>((resolve) => {
      if (w.worker.isDead()) return resolve();
      w.worker.once('exit', () => resolve());
      w.worker.send({ t: 'drain', timeoutMs } satisfies PrimaryToWorker);
      setTimeout(() => { w.worker.kill('SIGKILL'); }, timeoutMs + 2000).unref();
    }));
    await Promise.all(exits);
    for (const l of listeners) { l.closeAllConnections(); l.close(); }
    snapshot?.dispose();
    counters.close();
    clearInterval(sampleTimer);
    processSampler.stop();
  };

  // So that the first large config posted finds the validator optimized. After the start, which
  // it would slow down by ~0.3 s (its rounds delay every step of the workers' start); a round at
  // a time, and a load in progress stops it.
  const warmUpStart = performance.now();
  void warmUpValidator(registry, () => !exiting && !loading).then((rounds) => {
    log.debug({ rounds, ms: Math.round(performance.now() - warmUpStart) }, 'validator warmed up');
  });

  return {
    admin, status, gui,
    get proxy() { return [...workers.values()][0]?.proxy ?? []; },
    apply: (body, source, options) => apply(body, source, options),
    reportController: (report) => { controllerState = report; },
    stop,
  };
}
