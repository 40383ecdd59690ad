/**
 * @module gateway/http1/proxy-server
 * The proxy listener's HTTP/1.1 server for plain TCP: `net` sockets read straight into llhttp (the
 * parser node:http uses, through `_http_common`), requests as node:http IncomingMessages (bodies
 * stream with backpressure), answers through ProxyResponse. node:http's server costs ~11 µs a
 * request more (BENCHMARKS.md); what it gave us is here, in the same words on the wire:
 * keep-alive, pipelining (answered in order, one at a time), `Expect: 100-continue`, the Host
 * check, the header/request/keep-alive timeouts (checked by one timer for all connections),
 * upgrades handed over with their first bytes, and `clientError` for every parse failure, so the
 * worker answers 400/408/414 as before. TLS listeners keep node:https.
 */
import net, { type Socket } from 'node:net';
import { IncomingMessage } from 'node:http';
import {
  HTTPParser, METHOD_BY_NUMBER, kOnBody, kOnExecute, kOnHeaders, kOnHeadersComplete, kOnMessageBegin, kOnMessageComplete,
  type LlhttpError, type LlhttpParser,
} from '../../net/llhttp.ts';
import { ProxyResponse, type ResponseOwner } from './proxy-response.ts';

export interface ProxyServerOptions {
  /** The whole head of a request must arrive within this (slowloris); also a silent new connection. */
  headersTimeoutMs: number;
  /** The whole request (head and body) must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often the timeouts are checked. */
  checkEveryMs: number;
  maxHeaderSize: number;
}

export type RequestListener = (req: IncomingMessage, res: ProxyResponse) => void;
export type UpgradeListener = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

/** node:http keeps the first 2,000 header lines of a request and drops the rest. */
const MAX_HEADER_ENTRIES = 4000;
/** Parsed requests waiting behind the one being answered, before reading stops. */
const MAX_PIPELINED = 32;
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

export class ProxyHttpServer extends net.Server {
  readonly options: ProxyServerOptions;
  readonly onRequest: RequestListener;
  readonly onUpgrade: UpgradeListener;
  /** Set by close(): answers say `Connection: close` from now on. */
  closing = false;
  readonly #connections = new Set<ClientConnection>();
  #timer: NodeJS.Timeout | null = null;

  constructor(options: ProxyServerOptions, onRequest: RequestListener, onUpgrade: UpgradeListener) {
    // Half-open: a client that shuts down its side after a request still gets the answer.
    super({ allowHalfOpen: true });
    this.options = options;
    this.onRequest = onRequest;
    this.onUpgrade = onUpgrade;
    this.on('connection', (socket: Socket) => this.#accept(socket));
    this.on('listening', () => {
      this.#timer ??= setInterval(() => this.#checkTimeouts(), options.checkEveryMs);
      this.#timer.unref();
    });
  }

  override close(callback?: (err?: Error) => void): this {
    this.closing = true;
    if (this.#timer) {
      // Idle connections still time out while the server drains.
      const timer = this.#timer;
      this.once('close', () => clearInterval(timer));
    }
    return super.close(callback);
  }

  /** Closes every connection that is not receiving or answering a request. */
  closeIdleConnections(): void {
    for (const c of this.#connections) if (c.idle()) c.socket.destroy();
  }

  /** Removes a connection from the timeout checks (closed or upgraded). */
  forget(c: ClientConnection): void {
    this.#connections.delete(c);
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.#connections.add(new ClientConnection(this, socket));
  }

  #checkTimeouts(): void {
    const now = performance.now();
    const o = this.options;
    for (const c of this.#connections) c.checkTimeouts(now, o);
  }
}

class ClientConnection implements ResponseOwner {
  readonly socket: Socket;
  readonly keepAliveSeconds: number;
  readonly #server: ProxyHttpServer;
  #parser: LlhttpParser | null;
  #consumed = false;
  /** The request being answered, its response, and the requests parsed behind it. */
  #current: IncomingMessage | null = null;
  #currentRes: ProxyResponse | null = null;
  readonly #waiting: IncomingMessage[] = [];
  readonly #waitingKeepAlive: boolean[] = [];
  /** The request whose body the parser is reading. */
  #parsing: IncomingMessage | null = null;
  #upgrade: IncomingMessage | null = null;
  /** Answers ended but not yet written out by the socket. */
  readonly #unflushed: ProxyResponse[] = [];
  #headStartedAt: number;
  #headDone = false;
  /** Bytes of a request have arrived and its last byte has not. */
  #inMessage = false;
  #idleSince: number;
  #partialHeaders: string[] = [];
  #partialUrl = '';
  /** Reading stopped for good (an answer said close, or the parser failed). */
  #stopped = false;
  /** Reading stopped until the queue of pipelined requests shrinks. */
  #queueFull = false;
  /** A parse failure waiting for the requests before it to be answered. */
  #failed: LlhttpError | null = null;
  #closeAfterAnswers = false;
  #reported = false;

  constructor(server: ProxyHttpServer, socket: Socket) {
    this.#server = server;
    this.socket = socket;
    this.keepAliveSeconds = Math.floor(server.options.keepAliveTimeoutMs / 1000);
    this.#headStartedAt = this.#idleSince = performance.now();
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, server.options.maxHeaderSize, 0);
    p[kOnMessageBegin] = this.#onMessageBegin;
    p[kOnHeaders] = this.#onHeaders;
    p[kOnHeadersComplete] = this.#onHeadersComplete;
    p[kOnBody] = this.#onBody;
    p[kOnMessageComplete] = this.#onMessageComplete;
    this.#parser = p;
    socket.on('error', noop);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('pause', this.#onPause);
    socket.on('resume', this.#onResume);
    const handle = (socket as unknown as { _handle?: { isStreamBase?: boolean; _consumed?: boolean } })._handle;
    if (handle?.isStreamBase && !handle._consumed) {
      // The parser reads the socket itself: no 'data' events, no Buffer per read.
      handle._consumed = true;
      this.#consumed = true;
      p.consume(handle);
      p[kOnExecute] = this.#onExecute;
    } else {
      socket.on('data', this.#onData);
    }
  }

  get closing(): boolean { return this.#server.closing; }

  /** Not receiving or answering a request (a new connection that sent nothing yet is idle). */
  idle(): boolean {
    return this.#current === null && this.#waiting.length === 0 && !this.#inMessage;
  }

  checkTimeouts(now: number, o: ProxyServerOptions): void {
    if (!this.#headDone) {
      if (o.headersTimeoutMs > 0 && now - this.#headStartedAt > o.headersTimeoutMs) this.#timedOut();
    } else if (this.#parsing !== null) {
      if (o.requestTimeoutMs > 0 && now - this.#headStartedAt > o.requestTimeoutMs) this.#timedOut();
    } else if (this.idle() && this.#unflushed.length === 0) {
      if (o.keepAliveTimeoutMs > 0 && now - this.#idleSince > o.keepAliveTimeoutMs) this.socket.destroy();
    }
  }

  #timedOut(): void {
    const err = new Error('Request timeout') as LlhttpError;
    err.code = 'ERR_HTTP_REQUEST_TIMEOUT';
    this.#fail(err);
  }

  // ------------------------------------------------------------------ parser callbacks

  #onMessageBegin = (): void => {
    this.#headStartedAt = performance.now();
    this.#headDone = false;
    this.#inMessage = true;
    if (this.#partialHeaders.length > 0) this.#partialHeaders = [];
    this.#partialUrl = '';
  };

  /** Header lines the parser hands over before the head is complete (long or split heads). */
  #onHeaders = (headers: string[], url: string): void => {
    for (const h of headers) this.#partialHeaders.push(h);
    if (url) this.#partialUrl += url;
  };

  #onHeadersComplete = (major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
    _status: unknown, _message: unknown, upgrade: boolean, keepAlive: boolean): number => {
    this.#headDone = true;
    const lines = headers ?? this.#partialHeaders;
    if (headers === undefined) this.#partialHeaders = [];
    if (lines.length > MAX_HEADER_ENTRIES) lines.length = MAX_HEADER_ENTRIES;
    const req = new IncomingMessage(this.socket);
    req.httpVersionMajor = major;
    req.httpVersionMinor = minor;
    req.httpVersion = major === 1 && minor === 1 ? '1.1' : `${major}.${minor}`;
    req.method = METHOD_BY_NUMBER[method] ?? 'GET';
    req.url = url ?? this.#partialUrl;
    this.#partialUrl = '';
    (req as { upgrade?: boolean }).upgrade = upgrade;
    (req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(lines, lines.length);
    this.#parsing = req;
    if (upgrade) { this.#upgrade = req; return 0; }
    if (this.#current === null && this.#waiting.length === 0) {
      this.#dispatch(req, keepAlive);
    } else {
      this.#waiting.push(req);
      this.#waitingKeepAlive.push(keepAlive);
      if (this.#waiting.length >= MAX_PIPELINED) { this.#queueFull = true; this.socket.pause(); }
    }
    return 0;
  };

  #onBody = (chunk: Buffer): void => {
    const req = this.#parsing;
    if (req === null || (req as { _dumped?: boolean })._dumped) return;
    if (!req.push(chunk)) this.socket.pause();
  };

  #onMessageComplete = (): void => {
    this.#inMessage = false;
    const req = this.#parsing;
    if (req === null) return;
    this.#parsing = null;
    req.complete = true;
    req.push(null);
  };

  #onExecute = (ret: number | LlhttpError): void => {
    this.#afterExecute(ret, null);
  };

  #onData = (data: Buffer): void => {
    const p = this.#parser;
    if (p === null) return;
    this.#afterExecute(p.execute(data), data);
  };

  #afterExecute(ret: number | LlhttpError, data: Buffer | null): void {
    if (typeof ret !== 'number') {
      ret.rawPacket = data ?? this.#parser?.getCurrentBuffer();
      // Bytes after a request that asked to close: the answer goes out, the rest is ignored.
      if (ret.code === 'HPE_CLOSED_CONNECTION') { this.#stopReading(); return; }
      this.#fail(ret);
      return;
    }
    if (this.#upgrade !== null) this.#startUpgrade(ret, data);
  }

  // ------------------------------------------------------------------ answering

  /** `req` is now the one being answered; its handler runs now or, `deferred`, on the next tick. */
  #dispatch(req: IncomingMessage, keepAlive: boolean, deferred = false): void {
    const http10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
    const res = new ProxyResponse(this, keepAlive, req.method!, http10);
    this.#current = req;
    this.#currentRes = res;
    if (deferred) process.nextTick(() => { if (!this.socket.destroyed) this.#start(req, res); });
    else this.#start(req, res);
  }

  #start(req: IncomingMessage, res: ProxyResponse): void {
    const headers = req.headers;
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
      // As node:http: HTTP/1.1 without Host is a 400, an Expect other than 100-continue a 417.
      if (headers.host === undefined) {
        res.writeHead(400, ['Connection', 'close']);
        res.end();
        return;
      }
      const expect = headers.expect;
      if (expect !== undefined) {
        if (!CONTINUE.test(expect)) {
          res.writeHead(417);
          res.end();
          return;
        }
        this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
      }
    }
    this.#server.onRequest(req, res);
  }

  responseDone(res: ProxyResponse, keepAlive: boolean): void {
    if (res !== this.#currentRes) return;
    this.#unflushed.push(res);
    const req = this.#current!;
    this.#current = null;
    this.#currentRes = null;
    // A body nobody read is read and dropped, so the next request can be parsed (node:http's _dump).
    const r = req as unknown as { _consuming: boolean; _dump(): void; _readableState: { resumeScheduled: boolean } };
    if (!req.complete && !r._consuming && !r._readableState.resumeScheduled) r._dump();
    if (!keepAlive) {
      this.#stopReading();
      this.#endConnection();
      return;
    }
    if (this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      const nextKeepAlive = this.#waitingKeepAlive.shift()!;
      if (this.#queueFull && this.#waiting.length < MAX_PIPELINED / 2) { this.#queueFull = false; this.socket.resume(); }
      // Its handler starts after the previous answer's end() returned to its caller.
      this.#dispatch(next, nextKeepAlive, true);
      return;
    }
    this.#idleSince = performance.now();
    // Everything asked before a parse failure (or the client's FIN) is answered: now that.
    if (this.#failed !== null) this.#fail(this.#failed);
    else if (this.#closeAfterAnswers) this.#endConnection();
  }

  responseFlushed(res: ProxyResponse): void {
    const i = this.#unflushed.indexOf(res);
    if (i !== -1) this.#unflushed.splice(i, 1);
  }

  /** After the answers already given are written: FIN, then close. */
  #endConnection(): void {
    const s = this.socket;
    if (s.destroyed) return;
    s.end();
    if (s.writableFinished) s.destroy();
    else s.once('finish', () => s.destroy());
  }

  /**
   * A parse failure or a timeout: the requests before it are answered first; then the worker's
   * `clientError` listener answers (400/408/414) unless an answer is already on the wire.
   */
  #fail(err: LlhttpError): void {
    if (this.#reported) return;
    this.#stopReading();
    // A request whose body failed to parse is not answered (the 400 below is its answer).
    const broken = this.#waiting.indexOf(this.#parsing!);
    if (this.#parsing !== null && broken !== -1) {
      this.#waiting.splice(broken, 1);
      this.#waitingKeepAlive.splice(broken, 1);
    }
    const midBody = this.#parsing !== null && this.#parsing === this.#current;
    if (!midBody && (this.#current !== null || this.#waiting.length > 0)) {
      this.#failed = err;
      this.#closeAfterAnswers = true;
      return;
    }
    this.#failed = null;
    // Reported once: the timeout check may see this connection again before it is gone.
    this.#reported = true;
    // A request cut off here is aborted when the connection closes (#onClose): destroying it now
    // would destroy the socket (IncomingMessage does) before the answer below goes out.
    if (this.#currentRes?.headersSent || this.socket.destroyed) { this.socket.destroy(); return; }
    if (!this.#server.emit('clientError', err, this.socket)) this.socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    this.#endConnection();
  }

  #stopReading(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.socket.pause();
  }

  // Reading is paused and resumed through the socket's own pause()/resume(), as node:http does
  // with a consumed socket: IncomingMessage resumes it when its reader wants more body.
  #onPause = (): void => {
    const h = (this.socket as unknown as { _handle?: { reading: boolean; readStop(): number } })._handle;
    if (this.#consumed && h?.reading) { h.reading = false; h.readStop(); }
  };

  #onResume = (): void => {
    if (this.#stopped || this.#queueFull) { this.socket.pause(); return; }
    const h = (this.socket as unknown as { _handle?: { reading: boolean; readStart(): number } })._handle;
    if (this.#consumed && h && !h.reading) { h.reading = true; h.readStart(); }
  };

  // ------------------------------------------------------------------ end of connection

  #onEnd = (): void => {
    const p = this.#parser;
    const ret = p?.finish();
    if (ret !== undefined && typeof ret !== 'number') { ret.rawPacket = undefined; this.#fail(ret); return; }
    // The client is done sending: answer what it asked, then close.
    if (this.#current === null && this.#waiting.length === 0) this.#endConnection();
    else this.#closeAfterAnswers = true;
  };

  #onClose = (): void => {
    this.#server.forget(this);
    this.#releaseParser();
    const aborted = (): LlhttpError => Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    for (const req of [this.#parsing, this.#current, ...this.#waiting]) {
      if (req !== null && !req.complete && !req.destroyed) req.destroy(aborted());
    }
    this.#currentRes?.connectionClosed();
    for (const res of this.#unflushed) res.connectionClosed();
    this.#unflushed.length = 0;
    this.#waiting.length = 0;
  };

  #releaseParser(): void {
    const p = this.#parser;
    if (p === null) return;
    this.#parser = null;
    if (this.#consumed) { p.unconsume(); this.#consumed = false; }
    // Not now: this can run inside the parser's own callback, and closing frees it under itself.
    setImmediate(() => p.close());
  }

  // ------------------------------------------------------------------ upgrades

  #startUpgrade(parsed: number, data: Buffer | null): void {
    const req = this.#upgrade!;
    this.#upgrade = null;
    const socket = this.socket;
    // CONNECT is not proxied (node:http without a 'connect' listener closes too); nor is an upgrade
    // behind pipelined requests or with a body still coming.
    if (req.method === 'CONNECT' || this.#current !== null || this.#waiting.length > 0 || !req.complete) {
      socket.destroy();
      return;
    }
    const buffer = data ?? this.#parser!.getCurrentBuffer();
    const head = buffer.subarray(parsed);
    this.#server.forget(this);
    this.#releaseParser();
    this.#parsing = null;
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
    socket.off('pause', this.#onPause);
    socket.off('resume', this.#onResume);
    socket.off('data', this.#onData);
    // Until the upgrade handler reads it, the socket buffers what arrives.
    (socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    this.#server.onUpgrade(req, socket, head);
  }
}

function noop(): void {}
