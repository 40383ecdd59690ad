/**
 * @module gateway/worker
 * A worker process of the data plane: it owns the proxy listeners and the current Snapshot, and
 * does nothing else. Configs arrive from the primary over IPC already validated; the worker
 * compiles its own snapshot, swaps it in one assignment and acknowledges, so `POST /config`
 * answers only once every worker serves the new config.
 */
import http from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { Config } from '../config/entities.ts';
import { createLogger, pluginLogger } from '../observability/logger.ts';
import { loadPluginRegistry } from '../plugins/registry.ts';
import type { SharedServices } from './pipeline/context.ts';
import { RequestFlow, type FlowRuntime } from './request-flow.ts';
import { buildSettings, type SettingsInput } from './settings.ts';
import { compileSnapshot, type Snapshot } from './snapshot.ts';
import { unpackConfig, type PackedConfig } from './packed-config.ts';
import { IpcSharedState, type CacheInvalidation, type SharedStateReply } from './shared-state/ipc.ts';
import { LocalCounterStore, LocalSharedCache } from './shared-state/local.ts';
import { UpstreamPools } from './upstream/pools.ts';
import { parseListen, type ListenAddress } from './listen.ts';
import { ProxyHttpServer } from './http1/proxy-server.ts';
import { takeMetricsDelta, type MetricsDelta } from '../plugins/prometheus/recorder.ts';
import { TrafficRecorder, type TrafficDelta } from '../dashboard/traffic-recorder.ts';
import { completionHook, setupWorkerObservability } from '../observability/worker-observability.ts';
import type { ProcessSample } from '../observability/process-metrics.ts';

/** What the primary hands a worker (as JSON in TURNPIKE_WORKER_INIT). */
export interface WorkerInit {
  settings: SettingsInput;
  proxyListen: string;
  pluginPaths: string[];
  workerCount: number;
  logLevel: string;
}

export type PrimaryToWorker =
  /** `json`: the validated, normalized Config, packed (packed-config.ts), as JSON text. */
  | { t: 'config'; seq: number; json: string; hash: string }
  /** One descriptor of proxy listener `index` (sent with the socket handle; see proxy-sockets.ts). */
  | { t: 'socket'; index: number; copy: number; port: number }
  | { t: 'health'; upstream: string; target: string; healthy: boolean }
  | { t: 'drain'; timeoutMs: number }
  | SharedStateReply
  | CacheInvalidation;

export type WorkerToPrimary =
  /** Ready for the proxy sockets: the primary answers with `socket` messages. */
  | { t: 'sockets' }
  | { t: 'listen-failed'; message: string; code?: string }
  | { t: 'listening'; proxy: { host: string; port: number; ssl: boolean }[] }
  | { t: 'ack'; seq: number; hash: string; error?: string }
  | { t: 'stats'; total: number; active: number; accepted: number; heapUsed: number; process?: ProcessSample }
  | { t: 'drained' }
  /** Prometheus counters recorded since the previous message (at most one a second). */
  | { t: 'metrics'; delta: MetricsDelta }
  /** The dashboard's always-on per-route counters since the previous message (at most one a second). */
  | { t: 'traffic'; delta: TrafficDelta }
  | { t: 'health'; upstream: string; target: string; healthy: boolean }
  | import('./shared-state/ipc.ts').SharedStateRequest;

export async function runWorker(init: WorkerInit): Promise<void> {
  const log = createLogger(init.logLevel, { role: 'worker' });
  const plog = pluginLogger(log);
  const send = (m: WorkerToPrimary) => { if (process.connected) process.send!(m); };
  const registry = await loadPluginRegistry(init.pluginPaths);
  const settings = buildSettings(init.settings);
  const pools = new UpstreamPools();
  const observability = await setupWorkerObservability(settings);

  let snapshot: Snapshot | null = null;
  let services: SharedServices;
  let ipc: IpcSharedState | null = null;
  const emptyDirectory = { consumer: () => undefined, consumerByCustomId: () => undefined, keyAuth: () => undefined, basicAuth: () => undefined,
    jwtSecret: () => undefined, hmacAuth: () => undefined, oauth2: () => undefined, acls: () => [] };
  if (init.workerCount > 1) {
    ipc = new IpcSharedState((m) => send(m));
    services = { consumers: emptyDirectory, counters: ipc.counters, cache: ipc.cache, log: plog };
  } else {
    services = { consumers: emptyDirectory, counters: new LocalCounterStore(), cache: new LocalSharedCache(), log: plog };
  }
  let boundServices = services;

  let total = 0;
  const traffic = new TrafficRecorder();
  const complete = completionHook(observability, () => { total++; });
  const runtime: FlowRuntime = {
    snapshot: () => snapshot,
    settings,
    pools,
    services: (s) => (s === snapshot ? boundServices : { ...services, consumers: s?.consumers ?? emptyDirectory }),
    onComplete: (ctx) => {
      complete(ctx);
      traffic.record(ctx.route?.id ?? null, ctx.response.status, performance.now() - ctx.startedAt, ctx.response.headers['x-cache-status']);
    },
    tracer: observability.tracer,
    onError: (err, where) => log.error({ err, where }, 'request failed'),
  };

  const servers: ProxyServer[] = [];
  let accepted = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => { accepted++; sockets.add(s); s.once('close', () => sockets.delete(s)); };
  // Sockets come from the primary (proxy-sockets.ts): copy 0 of each listener becomes its HTTP(S)
  // server's handle, the other copies only accept and hand their connections to that server.
  const addresses = parseListen(init.proxyListen);
  const acceptors: net.Server[] = [];
  let listening = 0;
  const adopt = (msg: { index: number; copy: number; port: number }, handle: unknown) => {
    const addr = addresses[msg.index];
    if (!addr || !handle) return;
    if (msg.copy === 0) {
      const server = createProxyServer({ ...addr, port: msg.port }, runtime, track, () => snapshot);
      servers[msg.index] = server;
      // Binding happened in the primary; listen can still fail (another process listens there).
      const listenFailed = (err: NodeJS.ErrnoException) => {
        send({ t: 'listen-failed', message: err.message, code: err.code });
        setTimeout(() => process.exit(1), 20);
      };
      server.once('error', listenFailed);
      server.listen(handle as net.ListenOptions, PROXY_BACKLOG, () => {
        server.off('error', listenFailed);
        server.on('error', (err) => log.error({ err, addr }, 'proxy server error'));
        log.debug({ addr }, 'proxy listening');
        if (++listening === addresses.length) announce();
      });
    } else {
      const acceptor = net.createServer((socket) => servers[msg.index]!.emit('connection', socket));
      // accept() can fail (EMFILE); libuv retries, the worker must not die of it.
      acceptor.on('error', (err) => log.error({ err, addr }, 'proxy acceptor error'));
      acceptor.listen(handle as net.ListenOptions, PROXY_BACKLOG);
      acceptors.push(acceptor);
    }
  };
  const announce = () => send({ t: 'listening', proxy: servers.map((s) => {
    const a = s.address() as net.AddressInfo;
    return { host: a.address, port: a.port, ssl: s instanceof https.Server };
  }) });

  process.on('message', (msg: PrimaryToWorker, handle?: unknown) => {
    switch (msg.t) {
      case 'socket': adopt(msg, handle); break;
      case 'config': {
        let next: Snapshot;
        try {
          next = compileSnapshot(unpackConfig(JSON.parse(msg.json) as PackedConfig), { previous: snapshot, plugins: registry, log: plog, hash: msg.hash, activeHealthchecks: false });
        } catch (err) {
          log.error({ err }, 'config compile failed');
          send({ t: 'ack', seq: msg.seq, hash: msg.hash, error: (err as Error).message });
          return;
        }
        // Passive checks seen here become every worker's view (Kong keeps health in shared memory).
        for (const [name, b] of next.balancers) {
          b.onChange((target, healthy, change) => {
            if (change.source === 'passive') send({ t: 'health', upstream: name, target, healthy });
          });
        }
        const old = snapshot;
        snapshot = next;
        boundServices = { ...services, consumers: next.consumers };
        // Requests in flight hold `old`; its health checks can stop now.
        old?.dispose();
        send({ t: 'ack', seq: msg.seq, hash: msg.hash });
        break;
      }
      case 'health': {
        snapshot?.balancers.get(msg.upstream)?.setHealth(msg.target, msg.healthy, 'remote');
        break;
      }
      case 'reply': ipc?.onReply(msg); break;
      case 'cache-invalidate':
        if (ipc) ipc.invalidate(msg);
        // With one worker the cache lives here: a purge from the Admin API lands on it directly.
        else if (msg.key !== null) services.cache.delete(msg.key);
        else services.cache.purge(msg.prefix ?? '');
        break;
      case 'drain': {
        for (const a of acceptors) a.close();
        for (const s of servers) s.close();
        for (const s of servers) s.closeIdleConnections();
        const deadline = setTimeout(() => { for (const s of sockets) s.destroy(); }, msg.timeoutMs);
        deadline.unref();
        const check = setInterval(() => {
          for (const s of servers) s.closeIdleConnections();
          if (sockets.size === 0) {
            clearInterval(check);
            const delta = takeMetricsDelta();
            if (delta) send({ t: 'metrics', delta });
            const trafficDelta = traffic.take();
            if (trafficDelta) send({ t: 'traffic', delta: trafficDelta });
            // Access-log lines and spans still buffered go out before the worker does.
            void observability.close().finally(() => {
              send({ t: 'drained' });
              setTimeout(() => process.exit(0), 20).unref();
            });
          }
        }, 25);
        break;
      }
    }
  });

  const statsTimer = setInterval(() => {
    const sample = observability.sampler.sample();
    send({ t: 'stats', total, active: sockets.size, accepted, heapUsed: sample.heapUsedBytes, process: sample });
    const delta = takeMetricsDelta();
    if (delta) send({ t: 'metrics', delta });
    const trafficDelta = traffic.take();
    if (trafficDelta) send({ t: 'traffic', delta: trafficDelta });
  }, 1000);
  statsTimer.unref();
  send({ t: 'sockets' });
  if (addresses.length === 0) announce();
}

/**
 * Whether the packet that overflowed the header limit starts a request whose request line alone is
 * over 8 KiB (Node counts the request line into `maxHeaderSize`; nginx answers it with 414).
 */
function requestLineTooLong(packet: Buffer | undefined): boolean {
  if (!packet || !/^[A-Z]+ /.test(packet.subarray(0, 16).toString('latin1'))) return false;
  const eol = packet.indexOf('\n');
  return eol === -1 ? packet.length > 8192 : eol > 8192;
}

/** A proxy listener's server: ProxyHttpServer for plain HTTP, node:https for TLS. */
type ProxyServer = ProxyHttpServer | http.Server | https.Server;

/** Pending connections per listening socket (the kernel caps it at net.core.somaxconn). */
const PROXY_BACKLOG = 16384;

function createProxyServer(addr: ListenAddress, runtime: FlowRuntime, track: (s: Socket) => void,
  snapshot: () => Snapshot | null): ProxyServer {
  const flow = new RequestFlow(runtime, addr.ssl ? 'https' : 'http', addr.port);
  const headersTimeout = runtime.settings.clientHeaderTimeoutMs;
  const keepAliveTimeout = 60_000;
  const requestTimeout = Math.max(300_000, headersTimeout);
  // Slowloris defence: headers must arrive within client_header_timeout (checked every
  // quarter of it, so a stalled connection goes within 1.25x the timeout).
  const checkEvery = Math.min(30_000, Math.max(100, Math.floor(headersTimeout / 4)));
  const maxHeaderSize = 32 * 1024;
  let server: ProxyServer;
  if (!addr.ssl && process.env.TURNPIKE_PROXY_HTTP !== 'node') {
    server = new ProxyHttpServer({ headersTimeoutMs: headersTimeout, requestTimeoutMs: requestTimeout, keepAliveTimeoutMs: keepAliveTimeout, checkEveryMs: checkEvery, maxHeaderSize },
      flow.handle, flow.handleUpgrade);
  } else {
    const common = {
      keepAliveTimeout, headersTimeout, requestTimeout, connectionsCheckingInterval: checkEvery, maxHeaderSize,
      // Smuggling defence: reject ambiguous framing rather than guess.
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
    };
    server = addr.ssl
      ? https.createServer({
        ...common,
        SNICallback: (name, cb) => cb(null, snapshot()?.secureContext(name) ?? snapshot()?.defaultSecureContext ?? undefined),
      })
      : http.createServer(common);
    server.on('request', flow.handle);
    server.on('upgrade', flow.handleUpgrade);
  }
  server.on('connection', track);
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) { socket.destroy(); return; }
    // Kong answers oversized headers with 400 "Request header or cookie too large".
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    // nginx answers a request line over its 8 KiB buffer with 414, whatever follows it.
    const uriTooLong = tooLarge && requestLineTooLong((err as { rawPacket?: Buffer }).rawPacket);
    const msg = tooLarge ? 'Request header or cookie too large' : 'Bad request';
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : uriTooLong ? 414 : 400;
    const body = `${status === 408 ? 'Request timeout' : status === 414 ? 'URI too long' : msg}\n`;
    const reason = status === 408 ? 'Request Timeout' : status === 414 ? 'Request-URI Too Large' : 'Bad Request';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
  return server;
}
