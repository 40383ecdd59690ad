/**
 * @module gateway/request-flow
 * The data plane's request path: client request -> global rewrite -> router -> access phase
 * (plugins by priority, consumer-aware) -> balancer -> upstream -> response phases -> log.
 * A request keeps the snapshot it started with, so a config swap never changes a request midway.
 * Every failure becomes Kong's status and body; nothing a client sends can throw out of here.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { PluginExit } from '../plugins/api.ts';
import { normalizePath, buildUpstreamPath } from './router/index.ts';
import {
  ClientRequestView, headerSpelling, RequestContext, UpstreamRequestState, type HeaderMap, type SharedServices,
} from './pipeline/context.ts';
import { resolveSlot, type PluginInstance } from './pipeline/plugin-chain.ts';
import { gatewayErrorBody, proxyErrorBody } from './response/errors.ts';
import type { GatewaySettings } from './settings.ts';
import { addStickyCookie, type Snapshot, type Peer, type ServiceUpstream } from './snapshot.ts';
import {
  addForwardedHeaders, copyResponseHeaders, FORWARDED_NAMES, ForwardedLines, realClientIp, upstreamHeadersFrom,
} from './upstream/request-headers.ts';
import type { UpstreamPools } from './upstream/pools.ts';
import type { H1Controller, H1Handler, H1Request } from './upstream/h1-pool.ts';
import type { RequestTrace, RequestTracer } from '../observability/tracing/types.ts';
import { nextRequestId } from './request-id.ts';
import { BodilessRequest, type ClientRequest } from './http1/bodiless-request.ts';

/** What the flow needs of an answer: node:http's ServerResponse (TLS) or ProxyResponse (plain). */
export interface ClientResponse {
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  writeHead(status: number, headers: string[] | Record<string, string | number>): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer | string): unknown;
  destroy(err?: Error): unknown;
  on(event: 'close', listener: () => void): unknown;
  /** ProxyResponse's writeHead from the response state's maps, without a flat list in between. */
  writeHeadFrom?(status: number, headers: HeaderMap, names: Record<string, string>): unknown;
  /** ProxyResponse's cheaper 'close' listener: `hook(arg)` once. */
  whenClosed?<T>(hook: (arg: T) => void, arg: T): void;
  once(event: 'drain', listener: () => void): unknown;
}

/** What the request flow needs from its process. */
export interface FlowRuntime {
  snapshot(): Snapshot | null;
  readonly settings: GatewaySettings;
  readonly pools: UpstreamPools;
  services(snapshot: Snapshot | null): SharedServices;
  /** Called once per request after the response is finished (metrics, access log). */
  onComplete?(ctx: RequestContext): void;
  onError?(err: unknown, where: string): void;
  /** Set only with `--otlp-endpoint`: otherwise no span is created and no trace header read. */
  readonly tracer?: RequestTracer | null;
}

/** The spellings of the headers the gateway adds to answers. */
const VIA = headerSpelling('Via');
const SERVER = headerSpelling('Server');
const UPSTREAM_LATENCY = headerSpelling('X-Kong-Upstream-Latency');
const PROXY_LATENCY = headerSpelling('X-Kong-Proxy-Latency');
const UPSTREAM_STATUS = headerSpelling('X-Kong-Upstream-Status');
const REQUEST_ID = headerSpelling('X-Kong-Request-Id');

const MAX_URI = 8192;
const MAX_HEADER_LINE = 8192;

function stripV4Mapped(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.indexOf('.') !== -1 ? ip.slice(7) : ip;
}

const kClientAddress = Symbol('client address');
/** The peer's address, IPv4 without its `::ffff:` prefix: once per connection, not per request. */
function clientAddress(socket: IncomingMessage['socket']): string {
  const s = socket as IncomingMessage['socket'] & { [kClientAddress]?: string };
  let addr = s[kClientAddress];
  if (addr === undefined) {
    addr = stripV4Mapped(socket.remoteAddress);
    // A socket that is already gone has no address to keep.
    if (addr !== '') s[kClientAddress] = addr;
  }
  return addr;
}

function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return (end === -1 ? host : host.slice(0, end + 1)).toLowerCase();
  }
  const colon = host.indexOf(':');
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

function isThenable<T>(v: unknown): v is Promise<T> {
  return v !== null && typeof v === 'object' && typeof (v as Promise<T>).then === 'function';
}

export class RequestFlow {
  readonly #rt: FlowRuntime;
  readonly #scheme: 'http' | 'https';
  readonly #port: number;
  readonly #forwarded = new ForwardedLines();
  /** This gateway's Via entry and Server value, made once. */
  #via: string | null = null;
  #server: string | null = null;

  constructor(runtime: FlowRuntime, scheme: 'http' | 'https', port: number) {
    this.#rt = runtime;
    this.#scheme = scheme;
    this.#port = port;
  }

  /** The `request` listener of the proxy server. */
  readonly handle = (req: ClientRequest, res: ClientResponse): void => {
    try {
      this.#start(req, res);
    } catch (err) {
      this.#rt.onError?.(err, 'request');
      if (!res.headersSent) this.#plainError(req, res, 500);
      else res.destroy();
    }
  };

  /** `bodyStatus` picks the message when it differs from the status (nginx's 494 is sent as 400). */
  #plainError(req: ClientRequest, res: ClientResponse, status: number, bodyStatus = status): void {
    const { contentType, body } = proxyErrorBody(req.headers.accept, req.headers['content-type'], bodyStatus, null);
    res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), Server: `turnpike/${this.#rt.settings.version}` });
    res.end(body);
  }

  #start(req: ClientRequest, res: ClientResponse): void {
    const t0 = performance.now();
    const settings = this.#rt.settings;
    const url = req.url ?? '/';
    if (url.length > MAX_URI) return this.#plainError(req, res, 414);
    for (let i = 1; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.length + req.rawHeaders[i - 1]!.length > MAX_HEADER_LINE) return this.#plainError(req, res, 400, 494);
    }
    if (req.method === 'TRACE') return this.#plainError(req, res, 405);
    const max = settings.clientMaxBodySize;
    if (max > 0 && Number(req.headers['content-length'] ?? 0) > max) return this.#plainError(req, res, 413);
    if (!req.complete && (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0')) {
      guardBody(req, settings.clientBodyTimeoutMs);
    }
    let pathAndQuery = url;
    if (url[0] !== '/') {
      // absolute-form (RFC 9112 §3.2.2): route on its path.
      const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(url);
      if (!m) return this.#plainError(req, res, 400);
      pathAndQuery = url.slice(m[0].length) || '/';
      if (pathAndQuery[0] !== '/') pathAndQuery = '/' + pathAndQuery;
    }
    const q = pathAndQuery.indexOf('?');
    const path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
    const rawQuery = q === -1 ? '' : pathAndQuery.slice(q + 1);
    const hostHeader = req.headers.host ?? '';
    const remoteAddr = clientAddress(req.socket);
    const trusted = settings.trustedIps.size > 0 && settings.trustedIps.has(remoteAddr);
    const clientIp = trusted
      ? realClientIp(remoteAddr, req.headers as HeaderMap, settings.realIpHeader, settings.realIpRecursive, (ip) => settings.trustedIps.has(ip))
      : remoteAddr;
    const view = new ClientRequestView(req, this.#scheme, this.#port, path, rawQuery, hostWithoutPort(hostHeader), remoteAddr, clientIp);
    view.trustedPeer = trusted;
    const snapshot = this.#rt.snapshot();
    const upstream = new UpstreamRequestState(upstreamHeadersFrom(req.headers as HeaderMap), view.method, path, rawQuery);
    const ctx = new RequestContext(view, upstream, this.#rt.services(snapshot), t0, nextRequestId);
    const tracer = this.#rt.tracer;
    const flow: Flow = { ctx, req, res, snapshot, trusted, finished: false, trace: tracer ? tracer.start(req, ctx) : null, pluginHost: undefined, lastFailure: undefined, upstreamCall: undefined, forwarded: undefined };
    if (res.whenClosed) res.whenClosed(this.#finishFlow, flow);
    else res.on('close', () => this.#finish(flow));

    if (snapshot && snapshot.chains.rewrite.length > 0) {
      ctx.active = snapshot.chains.rewrite.slice();
      const r = this.#runRewrite(flow, 0);
      if (isThenable(r)) {
        r.then(() => {}, (err) => this.#pluginFailed(flow, err));
        return;
      }
      return;
    }
    this.#route(flow);
  }

  #runRewrite(flow: Flow, from: number): void | Promise<void> {
    const list = flow.snapshot!.chains.rewrite;
    for (let i = from; i < list.length; i++) {
      const r = list[i]!.handlers.rewrite!(flow.ctx);
      if (isThenable<void | PluginExit>(r)) {
        return r.then((exit) => {
          if (exit) return this.#exit(flow, exit);
          return this.#runRewrite(flow, i + 1);
        });
      }
      if (r) return this.#exit(flow, r);
    }
    this.#route(flow);
  }

  #route(flow: Flow): void {
    const { ctx, snapshot } = flow;
    const view = ctx.request;
    view.normalizedPath = normalizePath(view.path);
    const match = snapshot?.router.match({
      method: view.method,
      host: view.raw.headers.host ?? '',
      path: view.normalizedPath,
      headers: view.headers,
      sni: (view.raw.socket as { servername?: string }).servername || undefined,
      scheme: view.scheme,
      port: view.port,
    }) ?? null;
    if (!match) {
      ctx.active = snapshot ? activeGlobals(snapshot) : [];
      return this.#error(flow, 404, 'no Route matched with those values');
    }
    const route = match.route;
    ctx.route = route;
    ctx.service = match.service;
    ctx.uriCaptures = match.uriCaptures;

    const forwardedProto = (flow.trusted && first(view.headers['x-forwarded-proto'])?.toLowerCase()) || view.scheme;
    if (!route.protocols.includes(forwardedProto as never) && (forwardedProto === 'http' && route.protocols.includes('https'))) {
      const code = route.https_redirect_status_code;
      if (code === 426) {
        return this.#exit(flow, { status: 426, message: 'Please use HTTPS protocol', headers: { Connection: 'Upgrade', Upgrade: 'TLS/1.2, HTTP/1.1' } });
      }
      const host = (flow.trusted && first(view.headers['x-forwarded-host'])) || view.host;
      return this.#exit(flow, { status: code, body: '', headers: { Location: `https://${host}${view.raw.url}` } });
    }
    const service = match.service;
    if (service) {
      const built = buildUpstreamPath(service.path, { matched: match.matchedPath, stripPath: route.strip_path }, view.normalizedPath);
      ctx.upstream.path = built.path;
      ctx.shared['_strippedPrefix'] = built.strippedPrefix;
    }
    // A route without a service still runs its plugins (request-termination is the usual one);
    // if none answers, Kong's 503 follows.
    const chain = snapshot!.chains.forRoute(route.id, service?.id ?? null);
    ctx.active = [];
    this.#runAccess(flow, chain.slots, 0, chain.buffersResponse);
  }

  #runAccess(flow: Flow, slots: readonly import('./pipeline/plugin-chain.ts').PluginSlot[], from: number, buffer: boolean): void {
    const ctx = flow.ctx;
    const https = ctx.request.scheme === 'https';
    for (let i = from; i < slots.length; i++) {
      const inst = resolveSlot(slots[i]!, ctx.consumer?.id ?? null);
      if (!inst || !(https ? inst.onHttps : inst.onHttp)) continue;
      ctx.active.push(inst);
      const access = inst.handlers.access;
      if (!access) continue;
      let r: ReturnType<typeof access>;
      try {
        r = access.call(inst.handlers, ctx);
      } catch (err) {
        return this.#pluginFailed(flow, err, inst);
      }
      if (isThenable<void | PluginExit>(r)) {
        r.then((exit) => {
          if (flow.finished) return;
          if (exit) return this.#exitAfterAccess(flow, slots, i + 1, exit);
          this.#runAccess(flow, slots, i + 1, buffer);
        }, (err) => this.#pluginFailed(flow, err, inst));
        return;
      }
      if (r) return this.#exitAfterAccess(flow, slots, i + 1, r);
    }
    if (!ctx.service) return this.#error(flow, 503, 'no Service found with those values');
    // Plugins collected after access may include some with a response handler.
    const buffered = buffer && ctx.active.some((p) => p.handlers.response);
    this.#proxy(flow, buffered, null);
  }

  /**
   * Kong still resolves the plugins after the one that exited (without running their access
   * handlers), so e.g. cors and response-transformer see a key-auth 401 in their later phases.
   */
  #exitAfterAccess(flow: Flow, slots: readonly import('./pipeline/plugin-chain.ts').PluginSlot[], from: number, exit: PluginExit): void {
    const ctx = flow.ctx;
    const https = ctx.request.scheme === 'https';
    for (let i = from; i < slots.length; i++) {
      const inst = resolveSlot(slots[i]!, ctx.consumer?.id ?? null);
      if (inst && (https ? inst.onHttps : inst.onHttp)) ctx.active.push(inst);
    }
    this.#exit(flow, exit);
  }

  #pluginFailed(flow: Flow, err: unknown, inst?: PluginInstance): void {
    this.#rt.onError?.(err, inst ? `plugin ${inst.name}` : 'plugin');
    if (flow.res.headersSent) { flow.res.destroy(); return; }
    this.#error(flow, 500, 'An unexpected error occurred');
  }

  // ---------------------------------------------------------------- upstream

  #proxy(flow: Flow, buffered: boolean, tried: Peer[] | null): void {
    const { ctx, snapshot } = flow;
    const service = ctx.service!;
    const target: ServiceUpstream = snapshot!.upstreamOf(service);
    const pending = target.prepare();
    if (pending) {
      // First request to a hostname target: wait for its lookup, once.
      pending.then(() => { if (!flow.finished) this.#proxy(flow, buffered, tried); }, () => this.#error(flow, 503, 'name resolution failed'));
      return;
    }
    const tBalance = performance.now();
    const peer = target.pick(ctx, tried);
    // A retry with no untried target left answers with the failure that caused it (nginx's last error).
    if (!peer && tried && flow.lastFailure) return this.#error(flow, flow.lastFailure);
    if (!peer) {
      const e = target.noPeerError();
      return this.#error(flow, e.status, e.message);
    }
    const settings = this.#rt.settings;
    const view = ctx.request;
    const up = ctx.upstream;
    const headers = up.headers;
    if (!tried) {
      const via = settings.headers.via ? (this.#via ??= `1.1 turnpike/${settings.version}`) : null;
      const lines = this.#forwarded.render(view.headers, {
        trusted: flow.trusted, scheme: view.scheme, host: view.host, port: view.port, remoteAddr: view.remoteAddr,
        clientIp: view.clientIp, path: view.path, strippedPrefix: ctx.shared['_strippedPrefix'] as string | null,
      }, via);
      if (lines === null) {
        target.release(peer);
        this.#rt.onError?.(new Error('a forwarded header value has a control character'), 'dispatch');
        return this.#error(flow, 502);
      }
      // The gateway's values win over the client's and the plugins' (as Kong's proxy_set_header).
      for (const name of FORWARDED_NAMES) if (name in headers && (via !== null || name !== 'via')) delete headers[name];
      if (settings.upstreamRequestId) {
        if ('x-kong-request-id' in headers) delete headers['x-kong-request-id'];
        flow.forwarded = `${lines}x-kong-request-id: ${ctx.requestId}\r\n`;
      } else {
        flow.forwarded = lines;
      }
    }
    if (!tried) flow.pluginHost = headers['host'] as string | undefined;
    headers['host'] = flow.pluginHost
      ?? (ctx.route!.preserve_host && view.raw.headers.host ? view.raw.headers.host : peer.hostHeader);
    const pathWithQuery = up.query ? `${up.path}?${up.query}` : up.path;
    ctx.upstreamUri = pathWithQuery;
    // balancer_latency is filled in below from the clock read that starts the upstream exchange.
    const attempt = { ip: peer.address, port: peer.port, balancer_latency: 0 } as RequestContext['tries'][number];
    ctx.tries.push(attempt);

    let body: H1Request['body'] = null;
    let replayable = true;
    if (up.body !== null) {
      body = up.body;
      headers['content-length'] = String(up.body.length);
      delete headers['transfer-encoding'];
    } else if ((view.raw.headers['content-length'] !== undefined || view.raw.headers['transfer-encoding'] !== undefined)
      && !(view.raw instanceof BodilessRequest)) {
      if (view.bodyRead) {
        // A plugin already read the body: send what it read.
        replayable = true;
        body = null;
        const pending = view.readBody();
        pending.then((b) => { up.setBody(b); this.#proxy(flow, buffered, tried); }, () => this.#error(flow, 400));
        return;
      }
      body = view.raw;
      replayable = false;
    }

    const pool = this.#rt.pools.get(peer.origin, service.connect_timeout, peer.tls);
    ctx.upstreamStartAt = performance.now();
    attempt.balancer_latency = Math.round(ctx.upstreamStartAt - tBalance);
    const handler = new UpstreamResponseHandler(this, flow, peer, target, buffered, replayable, tried, attempt);
    if (flow.trace) flow.trace.startTry(headers, peer, up.method, `${peer.origin}${pathWithQuery}`);
    try {
      pool.dispatch({
        path: pathWithQuery,
        method: up.method,
        headers: headers as Record<string, string | string[]>,
        lines: flow.forwarded,
        body,
        headersTimeout: service.read_timeout,
        bodyTimeout: service.read_timeout,
      }, handler);
    } catch (err) {
      this.#rt.onError?.(err, 'dispatch');
      flow.trace?.endTry((err as Error).message);
      this.#error(flow, 502);
    }
  }

  /** Retries on connection failures when the body can be sent again (Kong: `retries`). */
  retryOrFail(flow: Flow, peer: Peer, buffered: boolean, replayable: boolean, tried: Peer[] | null, status: 502 | 504, connectFailure: boolean): void {
    const list = tried ?? [];
    list.push(peer);
    const service = flow.ctx.service!;
    // A streamed body that the failed connection never read can go to the next target as it is.
    const resendable = replayable || !flow.req.readableDidRead;
    flow.lastFailure = status;
    if (connectFailure && resendable && list.length <= service.retries && !flow.finished) {
      return this.#proxy(flow, buffered, list);
    }
    this.#error(flow, status);
  }

  /** Upstream answered: run response phases and start the response. */
  respond(flow: Flow, status: number, rawHeaders: readonly string[]): void {
    const { ctx } = flow;
    const settings = this.#rt.settings;
    const r = ctx.response;
    r.status = status;
    r.source = 'service';
    copyResponseHeaders(rawHeaders, r.headers, r.names);
    ctx.upstreamStatus = status;
    addStickyCookie(ctx);
    if (settings.headers.via) {
      const via = r.headers['via'];
      const ours = this.#via ??= `1.1 turnpike/${settings.version}`;
      r.setSpelled(VIA, via ? `${first(via)}, ${ours}` : ours);
    }
    if (settings.headers.server && r.headers['server'] === undefined) r.setSpelled(SERVER, this.#server ??= `turnpike/${settings.version}`);
    if (settings.headers.upstreamLatency) r.setSpelled(UPSTREAM_LATENCY, String(Math.round(ctx.upstreamHeadersAt - ctx.upstreamStartAt)));
    if (settings.headers.proxyLatency) r.setSpelled(PROXY_LATENCY, String(Math.round(ctx.upstreamStartAt - ctx.startedAt)));
    if (settings.headers.upstreamStatus) r.setSpelled(UPSTREAM_STATUS, String(status));
    if (settings.headers.requestId) r.setSpelled(REQUEST_ID, ctx.requestId);
  }

  /** Runs header phase handlers (in priority order) and writes the status line and headers. */
  writeHead(flow: Flow): void {
    const { ctx, res } = flow;
    for (const p of ctx.active) {
      if (p.handlers.header) {
        try { p.handlers.header(ctx); } catch (err) { this.#rt.onError?.(err, `plugin ${p.name} header`); }
      }
    }
    if (flow.finished || res.headersSent) return;
    const r = ctx.response;
    if (res.writeHeadFrom) res.writeHeadFrom(r.status, r.headers, r.names);
    else res.writeHead(r.status, r.toRaw());
  }

  bodyChunk(flow: Flow, chunk: Buffer | null): void {
    const ctx = flow.ctx;
    for (const p of ctx.active) {
      if (p.handlers.body) {
        try { p.handlers.body(ctx, chunk); } catch (err) { this.#rt.onError?.(err, `plugin ${p.name} body`); }
      }
    }
  }

  /** Runs `response` handlers over a buffered body, then sends it. */
  async sendBuffered(flow: Flow, body: Buffer): Promise<void> {
    const { ctx, res } = flow;
    let out = body;
    for (const p of ctx.active) {
      if (!p.handlers.response) continue;
      try {
        const r = await p.handlers.response(ctx, out);
        if (r) out = r;
      } catch (err) { this.#rt.onError?.(err, `plugin ${p.name} response`); }
    }
    if (flow.finished) return;
    if (ctx.response.headers['content-length'] !== undefined || out !== body) ctx.response.setHeader('Content-Length', out.length);
    delete ctx.response.headers['transfer-encoding'];
    this.writeHead(flow);
    this.bodyChunk(flow, out.length ? out : null);
    if (out.length) this.bodyChunk(flow, null);
    ctx.bytesOut = out.length;
    res.end(out);
  }

  // ---------------------------------------------------------------- responses made here

  /** Kong's `kong.response.error`: negotiated template. */
  #error(flow: Flow, status: number, message?: string): void {
    this.#exit(flow, { status, message }, 'error');
  }

  #exit(flow: Flow, exit: PluginExit, source: 'exit' | 'error' = 'exit'): void {
    const { ctx, res } = flow;
    if (flow.finished) return;
    if (res.headersSent) { res.destroy(); return; }
    const settings = this.#rt.settings;
    const r = ctx.response;
    // An exit replaces whatever an earlier attempt collected.
    for (const k in r.headers) delete r.headers[k];
    r.status = exit.status;
    r.source = source;
    const requestId = settings.headers.requestId ? ctx.requestId : null;
    let body: Buffer | string;
    if (exit.body !== undefined) {
      if (typeof exit.body === 'string' || Buffer.isBuffer(exit.body)) {
        body = exit.body;
      } else {
        body = JSON.stringify(exit.body);
        r.setHeader('Content-Type', 'application/json; charset=utf-8');
      }
    } else if (exit.message !== undefined || exit.status >= 400) {
      const viaProxyPath = source === 'error' && (exit.status === 502 || exit.status === 504 || exit.status === 400 || exit.status === 413 || exit.status === 414);
      const rendered = viaProxyPath
        ? proxyErrorBody(first(ctx.request.headers['accept']), first(ctx.request.headers['content-type']), exit.status, requestId)
        : gatewayErrorBody(first(ctx.request.headers['accept']), exit.status, exit.message, requestId);
      body = rendered.body;
      r.setHeader('Content-Type', rendered.contentType);
    } else {
      body = '';
    }
    if (exit.headers) for (const k in exit.headers) r.setHeader(k, exit.headers[k]!);
    const bodiless = exit.status === 204 || exit.status === 304 || exit.status < 200;
    if (bodiless) body = '';
    else r.setHeader('Content-Length', Buffer.byteLength(body));
    if (settings.headers.responseLatency) r.setHeader('X-Kong-Response-Latency', Math.round(performance.now() - ctx.startedAt));
    if (settings.headers.server) r.setHeader('Server', `turnpike/${settings.version}`);
    if (settings.headers.requestId) r.setHeader('X-Kong-Request-Id', ctx.requestId);
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    if (!bodiless && ctx.active.some((p) => p.handlers.response)) {
      void this.sendBuffered(flow, buf);
      return;
    }
    this.writeHead(flow);
    this.bodyChunk(flow, buf.length ? buf : null);
    if (buf.length) this.bodyChunk(flow, null);
    ctx.bytesOut = buf.length;
    if (ctx.request.method === 'HEAD') res.end();
    else res.end(buf);
  }

  readonly #finishFlow = (flow: Flow): void => this.#finish(flow);

  #finish(flow: Flow): void {
    if (flow.finished) return;
    flow.finished = true;
    // The client went away before the upstream's answer was through: stop that exchange.
    if (flow.upstreamCall && !flow.res.writableFinished) flow.upstreamCall.abort(new Error('client went away'));
    const ctx = flow.ctx;
    for (const p of ctx.active) {
      if (p.handlers.log) {
        try { p.handlers.log(ctx); } catch (err) { this.#rt.onError?.(err, `plugin ${p.name} log`); }
      }
    }
    this.#rt.onComplete?.(ctx);
    if (flow.trace) flow.trace.finish(ctx);
  }

  // ---------------------------------------------------------------- WebSocket

  /** The `upgrade` listener: routes the request and tunnels the upgraded connection. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    try {
      void this.#upgrade(req, socket, head);
    } catch (err) {
      this.#rt.onError?.(err, 'upgrade');
      socket.destroy();
    }
  };

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const snapshot = this.#rt.snapshot();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const normalized = normalizePath(path);
    const match = snapshot?.router.match({
      method: req.method ?? 'GET', host: req.headers.host ?? '', path: normalized,
      headers: req.headers as HeaderMap, scheme: this.#scheme, port: this.#port,
    });
    const reject = (status: number, message: string) => {
      const body = `{\n  "message":"${message}"\n}`;
      socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Service Unavailable'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    if (!match) return reject(404, 'no Route matched with those values');
    if (!match.service) return reject(503, 'no Service found with those values');
    const remoteAddr = stripV4Mapped(req.socket.remoteAddress);
    const view = new ClientRequestView(req, this.#scheme, this.#port, path, rawQuery, hostWithoutPort(req.headers.host ?? ''), remoteAddr, remoteAddr);
    view.normalizedPath = normalized;
    const up = new UpstreamRequestState(upstreamHeadersFrom(req.headers as HeaderMap), view.method, path, rawQuery);
    const ctx = new RequestContext(view, up, this.#rt.services(snapshot), performance.now(), nextRequestId);
    ctx.route = match.route;
    ctx.service = match.service;
    ctx.uriCaptures = match.uriCaptures;
    // Access-phase plugins (auth, ACLs) guard WebSocket upgrades too.
    const chain = snapshot!.chains.forRoute(match.route.id, match.service.id);
    for (const slot of chain.slots) {
      const inst = resolveSlot(slot, ctx.consumer?.id ?? null);
      if (!inst?.handlers.access) continue;
      const exit = await inst.handlers.access(ctx);
      if (exit) {
        const msg = exit.message ?? (typeof exit.body === 'object' && exit.body && 'message' in exit.body ? String((exit.body as { message: unknown }).message) : 'Unauthorized');
        const hdrs = Object.entries(exit.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
        const body = `{\n  "message":"${msg}"\n}`;
        socket.end(`HTTP/1.1 ${exit.status} Error\r\nContent-Type: application/json; charset=utf-8\r\n${hdrs}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
    }
    const built = buildUpstreamPath(match.service.path, { matched: match.matchedPath, stripPath: match.route.strip_path }, normalized);
    const target = snapshot!.upstreamOf(match.service);
    await target.prepare();
    const peer = target.pick(ctx, null);
    if (!peer) return reject(503, target.noPeerError().message);
    const headers = up.headers;
    addForwardedHeaders(headers, view.headers, {
      trusted: false, scheme: view.scheme, host: view.host, port: view.port, remoteAddr, clientIp: remoteAddr,
      path, strippedPrefix: built.strippedPrefix,
    });
    headers['host'] = match.route.preserve_host && req.headers.host ? req.headers.host : peer.hostHeader;
    const pool = await this.#rt.pools.getUpgrade(peer.origin, match.service.connect_timeout, peer.tls);
    const rawUpgrade = first(req.headers['upgrade']) ?? 'websocket';
    const pathWithQuery = up.query ? `${built.path}?${up.query}` : built.path;
    const settings = this.#rt.settings;
    pool.dispatch({
      origin: peer.origin, path: pathWithQuery, method: 'GET', headers: headers as Record<string, string>,
      upgrade: rawUpgrade, headersTimeout: match.service.read_timeout,
    }, {
      onRequestStart() {},
      onRequestUpgrade(_c: unknown, statusCode: number, resHeaders: Record<string, string | string[]>, upstreamSocket: Duplex) {
        let head2 = `HTTP/1.1 ${statusCode} Switching Protocols\r\n`;
        for (const [k, v] of Object.entries(resHeaders)) {
          for (const one of Array.isArray(v) ? v : [v]) head2 += `${k}: ${one}\r\n`;
        }
        if (settings.headers.via) head2 += `Via: 1.1 turnpike/${settings.version}\r\n`;
        socket.write(head2 + '\r\n');
        if (head.length) upstreamSocket.write(head);
        upstreamSocket.pipe(socket);
        socket.pipe(upstreamSocket);
        upstreamSocket.on('error', () => socket.destroy());
        socket.on('error', () => upstreamSocket.destroy());
        socket.on('close', () => upstreamSocket.destroy());
        upstreamSocket.on('close', () => socket.destroy());
      },
      onResponseStart(_c: unknown, statusCode: number) {
        // The upstream refused the upgrade; tell the client and close.
        socket.end(`HTTP/1.1 ${statusCode} Upgrade Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      },
      onResponseData() {},
      onResponseEnd() {},
      onResponseError(_c: unknown, err: Error) {
        const body = 'An invalid response was received from the upstream server\n';
        socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        void err;
      },
    } as unknown as Dispatcher.DispatchHandler);
  }
}

interface Flow {
  ctx: RequestContext;
  req: ClientRequest;
  res: ClientResponse;
  snapshot: Snapshot | null;
  trusted: boolean;
  finished: boolean;
  /** A Host header set by a plugin in access (request-transformer); it wins over preserve_host. */
  pluginHost?: string;
  /** The status of the last failed upstream attempt, for a retry that finds no target left. */
  lastFailure?: 502 | 504;
  /** Spans of this request (tracing on), else null. */
  trace: RequestTrace | null;
  /** The upstream exchange in flight, to abort if the client leaves. */
  upstreamCall?: H1Controller;
  /** The X-Forwarded-*, X-Real-IP, Via and X-Kong-Request-Id lines, made for the first try. */
  forwarded?: string;
}

/**
 * nginx's client_body_timeout: a client that stops sending its body for `ms` loses the connection
 * (and the upstream request with it). Progress is the socket's byte count, so watching does not
 * consume the body; time we are not reading (backpressure, a plugin still deciding) does not count.
 */
function guardBody(req: IncomingMessage, ms: number): void {
  const socket = req.socket;
  let bytes = socket.bytesRead;
  let lastProgress = performance.now();
  const timer = setInterval(() => {
    if (req.complete || req.destroyed || socket.destroyed) { clearInterval(timer); return; }
    const now = performance.now();
    if (socket.bytesRead !== bytes || req.readableFlowing !== true) {
      bytes = socket.bytesRead;
      lastProgress = now;
    } else if (now - lastProgress >= ms) {
      clearInterval(timer);
      socket.destroy();
    }
  }, Math.max(50, Math.min(1000, Math.floor(ms / 4))));
  timer.unref();
  req.once('end', () => clearInterval(timer));
  req.once('close', () => clearInterval(timer));
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function activeGlobals(snapshot: Snapshot): PluginInstance[] {
  const out: PluginInstance[] = [];
  for (const slot of snapshot.chains.global.slots) if (slot.baseline) out.push(slot.baseline);
  return out;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Receives the upstream response (the H1Pool dispatch handler) and streams it to the client with
 * backpressure, or buffers it when a plugin transforms bodies.
 */
class UpstreamResponseHandler implements H1Handler {
  readonly #flow: RequestFlow;
  readonly #f: Flow;
  readonly #peer: Peer;
  readonly #target: ServiceUpstream;
  readonly #buffered: boolean;
  readonly #replayable: boolean;
  readonly #tried: Peer[] | null;
  readonly #attempt: RequestContext['tries'][number];
  #chunks: Buffer[] | null = null;
  #started = false;
  /** Body bytes still expected by Content-Length (-1: unknown), and whether end() went out. */
  #left = -1;
  #ended = false;

  constructor(flow: RequestFlow, f: Flow, peer: Peer, target: ServiceUpstream, buffered: boolean, replayable: boolean,
    tried: Peer[] | null, attempt: RequestContext['tries'][number]) {
    this.#flow = flow;
    this.#f = f;
    this.#peer = peer;
    this.#target = target;
    this.#buffered = buffered;
    this.#replayable = replayable;
    this.#tried = tried;
    this.#attempt = attempt;
  }

  onRequestStart(controller: H1Controller): void {
    if (this.#f.finished) controller.abort(new Error('client went away'));
    else this.#f.upstreamCall = controller;
  }

  onResponseStart(_c: unknown, statusCode: number, rawHeaders: readonly string[]): void {
    if (statusCode < 200) return; // 1xx informational
    this.#started = true;
    const ctx = this.#f.ctx;
    ctx.upstreamHeadersAt = performance.now();
    this.#attempt.code = statusCode;
    if (this.#f.trace) this.#f.trace.tryStatus(statusCode);
    this.#target.report(this.#peer, { kind: 'http', status: statusCode });
    this.#target.release(this.#peer);
    this.#flow.respond(this.#f, statusCode, rawHeaders);
    if (this.#buffered) {
      this.#chunks = [];
    } else {
      // As the upstream sent it: header-phase plugins have not run yet.
      const cl = ctx.response.headers['content-length'];
      if (typeof cl === 'string' && this.#f.ctx.upstream.method !== 'HEAD') this.#left = Number(cl);
      this.#flow.writeHead(this.#f);
    }
  }

  onResponseData(controller: H1Controller, chunk: Buffer): void {
    if (this.#chunks) { this.#chunks.push(chunk); return; }
    const f = this.#f;
    if (f.finished) return;
    f.ctx.bytesOut += chunk.length;
    this.#flow.bodyChunk(f, chunk);
    if (chunk.length === this.#left) {
      // The last bytes of a sized body: one end() sends them (with the head, for a small answer).
      this.#left = 0;
      this.#ended = true;
      // The body phase ends before the client has the last byte, as Kong's body filter at eof:
      // proxy-cache's store is on its way to the shared cache before the client can ask again.
      this.#flow.bodyChunk(f, null);
      f.res.end(chunk);
      return;
    }
    if (this.#left > 0) this.#left -= chunk.length;
    if (!f.res.write(chunk)) {
      controller.pause();
      f.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    const f = this.#f;
    if (this.#chunks) {
      const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      if (f.trace) f.trace.endTry();
      void this.#flow.sendBuffered(f, body);
      return;
    }
    if (f.trace) f.trace.endTry();
    if (this.#ended) return;
    this.#flow.bodyChunk(f, null);
    f.res.end();
  }

  onResponseError(_c: unknown, err: Error & { code?: string }): void {
    const f = this.#f;
    if (f.trace) f.trace.endTry(err.message || err.code || 'upstream error');
    if (f.finished) return;
    this.#target.release(this.#peer);
    if (this.#started) {
      // Headers already went out: all we can do is cut the connection.
      f.res.destroy(err);
      return;
    }
    const code = err.code ?? '';
    const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
    this.#target.report(this.#peer, timeout ? { kind: 'timeout' } : { kind: 'tcp_error' });
    this.#attempt.state = 'failed';
    // A reset may come after the request was sent: only idempotent requests are tried again then
    // (nginx's proxy_next_upstream without non_idempotent).
    const connectFailure = CONNECT_ERRORS.has(code)
      || (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') && !this.#started && this.#replayable && IDEMPOTENT.has(f.ctx.upstream.method);
    this.#flow.retryOrFail(f, this.#peer, this.#buffered, this.#replayable, this.#tried, timeout ? 504 : 502, connectFailure);
  }
}
