/**
 * @module gateway/http1/proxy-server
 * The proxy listener's HTTP/1.1 server for plain TCP: each read lands in one buffer shared by the
 * worker's connections (net's `onread` mode); the head of a plain bodiless request is read there in
 * JavaScript, everything else goes to llhttp (the parser node:http uses, through `_http_common`).
 * Requests are node:http IncomingMessages (bodies stream with backpressure), or for a plain
 * bodiless head a `BodilessRequest` with no stream at all; answers go through
 * ProxyResponse. node:http's server costs ~11 µs a request more (BENCHMARKS.md); what it gave us
 * is here, in the same words on the wire: keep-alive, pipelining (answered in order, one at a
 * time), `Expect: 100-continue`, the Host check, the header/request/keep-alive timeouts (checked by
 * one timer for all connections), upgrades handed over with their first bytes, and `clientError`
 * for every parse failure, so the worker answers 400/408/414 as before. TLS listeners keep
 * node:https.
 */
import net, { type Socket } from 'node:net';
import { IncomingMessage } from 'node:http';
import {
  HTTPParser, METHOD_BY_NUMBER, kOnBody, kOnExecute, kOnHeaders, kOnHeadersComplete, kOnMessageBegin, kOnMessageComplete,
  type LlhttpError, type LlhttpParser,
} from '../../net/llhttp.ts';
import { ProxyResponse, type ResponseOwner } from './proxy-response.ts';
import { BodilessRequest, type ClientRequest } from './bodiless-request.ts';
import { fieldValue } from '../../net/http-fields.ts';

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

export type RequestListener = (req: ClientRequest, res: ProxyResponse) => void;
export type UpgradeListener = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

/** node:http keeps the first 2,000 header lines of a request and drops the rest. */
const MAX_HEADER_ENTRIES = 4000;
/** Parsed requests waiting behind the one being answered, before reading stops. */
const MAX_PIPELINED = 32;
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * Where net.Socket keeps an `onread` buffer and its callback (Node's private symbols, found on a
 * probe socket by their descriptions). An accepted socket can only get this mode through them: the
 * server creates its sockets itself. Not found (another Node): llhttp reads the socket, as before.
 */
const USER_READS = ((): { buffer: symbol; callback: symbol } | null => {
  const marker = Buffer.alloc(1);
  const probe = new net.Socket({ onread: { buffer: marker, callback: noop } } as net.SocketConstructorOpts);
  let buffer: symbol | null = null;
  let callback: symbol | null = null;
  for (const sym of Object.getOwnPropertySymbols(probe)) {
    const v = (probe as unknown as Record<symbol, unknown>)[sym];
    if (v === marker && sym.description === 'kBuffer') buffer = sym;
    else if (v === noop && sym.description === 'kBufferCb') callback = sym;
  }
  probe.destroy();
  return buffer !== null && callback !== null ? { buffer, callback } : null;
})();

/**
 * Every read of every connection of this worker lands here, and is parsed (or copied) before the
 * callback returns: nothing may keep a view of it. Reads are delivered one at a time.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** Heads up to this size (with their blank line) may be read in JavaScript; larger ones go to llhttp and its limits. */
const PLAIN_HEAD_MAX = 8 * 1024;
/**
 * The heads read in JavaScript, whole: a bodiless method, an origin-form target of printable
 * ASCII, HTTP/1.1, then lines of a token, a colon and a value without control characters but tab.
 * One pass, and nothing allocated; a value holds no CR, so it is linear.
 */
const PLAIN_HEAD = /^(?:GET|HEAD|DELETE|OPTIONS) \/[!-~]* HTTP\/1\.1(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*)*$/;
const VERSION_SUFFIX = ' HTTP/1.1'.length;
/** Buffer's own latin1 decoder (what `toString('latin1', a, b)` ends in, without its checks). */
type LatinSlicing = Buffer & { latin1Slice(start: number, end: number): string };

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
  /** Reads arrive in READ_BUFFER (the `onread` mode); plain heads are read in JavaScript. */
  #userReads = false;
  /** A request said the connection ends after it: nothing after it is read. */
  #lastRequest = false;
  /** The request being answered, its response, and the requests parsed behind it. */
  #current: ClientRequest | null = null;
  #currentRes: ProxyResponse | null = null;
  readonly #waiting: ClientRequest[] = [];
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
    const handle = (socket as unknown as { _handle?: { isStreamBase?: boolean; _consumed?: boolean; useUserBuffer?(b: Buffer): void } })._handle;
    if (USER_READS !== null && handle?.isStreamBase && !handle._consumed && typeof handle.useUserBuffer === 'function') {
      // No read has been delivered yet (that happens on a later turn of the loop), so every byte
      // of this connection comes through #onRead.
      const slots = socket as unknown as Record<symbol, unknown>;
      slots[USER_READS.buffer] = READ_BUFFER;
      slots[USER_READS.callback] = this.#onRead;
      handle.useUserBuffer(READ_BUFFER);
      this.#userReads = true;
    } else if (handle?.isStreamBase && !handle._consumed) {
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
    const lines = headers ?? this.#partialHeaders;
    if (headers === undefined) this.#partialHeaders = [];
    if (lines.length > MAX_HEADER_ENTRIES) lines.length = MAX_HEADER_ENTRIES;
    const target = url ?? this.#partialUrl;
    this.#partialUrl = '';
    this.#onHead(major, minor, lines, METHOD_BY_NUMBER[method] ?? 'GET', target, upgrade, keepAlive);
    return 0;
  };

  /** A request's head, from llhttp or from #readPlainHead: its IncomingMessage, answered now or queued. */
  #onHead(major: number, minor: number, lines: string[], method: string, url: string, upgrade: boolean, keepAlive: boolean): void {
    const req = new IncomingMessage(this.socket);
    req.httpVersionMajor = major;
    req.httpVersionMinor = minor;
    req.httpVersion = major === 1 && minor === 1 ? '1.1' : `${major}.${minor}`;
    req.method = method;
    req.url = url;
    (req as { upgrade?: boolean }).upgrade = upgrade;
    (req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(lines, lines.length);
    this.#parsing = req;
    if (upgrade) {
      this.#headDone = true;
      if (!keepAlive) this.#lastRequest = true;
      this.#upgrade = req;
      return;
    }
    this.#accept(req, keepAlive);
  }

  /** A request whose head is read: answered now, or queued behind the one being answered. */
  #accept(req: ClientRequest, keepAlive: boolean): void {
    this.#headDone = true;
    if (!keepAlive) this.#lastRequest = true;
    if (this.#current === null && this.#waiting.length === 0) {
      this.#dispatch(req, keepAlive);
    } else {
      this.#waiting.push(req);
      this.#waitingKeepAlive.push(keepAlive);
      if (this.#waiting.length >= MAX_PIPELINED) { this.#queueFull = true; this.socket.pause(); }
    }
  }

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

  /**
   * One read, in READ_BUFFER (`onread` mode). Between messages, whole heads of plain requests are
   * read here; from the first byte of anything else, llhttp parses until that message's end.
   */
  #onRead = (n: number, buf: Buffer): boolean => {
    // Reading stopped for good: what came with the last read is not parsed either.
    if (this.#stopped) return true;
    let at = 0;
    while (at < n && !this.#inMessage && this.#upgrade === null) {
      if (this.#lastRequest || this.#stopped) {
        // Bytes after a request that asked to close (llhttp's HPE_CLOSED_CONNECTION): ignored.
        this.#stopReading();
        return true;
      }
      const next = this.#readPlainHead(buf, at, n);
      if (next === -1) break;
      at = next;
    }
    if (at >= n || this.#reported) return true;
    const p = this.#parser;
    if (p === null) return true;
    const data = buf.subarray(at, n);
    this.#afterExecute(p.execute(data), data);
    return true;
  };

  /**
   * The head at `at` if it is whole in this read and plain: GET, HEAD, DELETE or OPTIONS of an
   * origin-form target over HTTP/1.1, token names, no control characters, no Content-Length,
   * Transfer-Encoding or Upgrade, `Connection` absent, `keep-alive` or `close`. Such a request has
   * no body and means the same to every parser. Returns where the next message starts, or -1 for
   * llhttp to parse this one (it answers every other case, malformed ones included). llhttp's
   * binding cost 1–3 µs a request more (four calls from C++, the header array built there;
   * BENCHMARKS.md, session 11).
   */
  #readPlainHead(buf: Buffer, at: number, n: number): number {
    // Only these methods start with G, H, D or O: anything else goes to llhttp undecoded.
    const first = buf[at];
    if (first !== 0x47 && first !== 0x48 && first !== 0x44 && first !== 0x4f) return -1;
    const text = (buf as LatinSlicing).latin1Slice(at, Math.min(n, at + PLAIN_HEAD_MAX));
    const end = text.indexOf('\r\n\r\n');
    if (end === -1) return -1;
    const head = text.slice(0, end);
    if (!PLAIN_HEAD.test(head)) return -1;
    let lineEnd = head.indexOf('\r\n');
    if (lineEnd === -1) lineEnd = end;
    const sp = head.indexOf(' ');
    const lines: string[] = [];
    // node:http's header object, while no name repeats and none is Set-Cookie (then its joining
    // rules and its Set-Cookie array would apply, and node:http builds the request).
    let headers: Record<string, string> | null = {};
    let keepAlive = true;
    for (let i = lineEnd + 2; i < end;) {
      let e = head.indexOf('\r\n', i);
      if (e === -1) e = end;
      const colon = head.indexOf(':', i);
      const name = head.slice(i, colon);
      const value = fieldValue(head, colon + 1, e);
      const lower = name.toLowerCase();
      const len = name.length;
      if (len === 14 || len === 17 || len === 7 || len === 10) {
        if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'upgrade') return -1;
        if (lower === 'connection') {
          const v = value.toLowerCase();
          if (v === 'close') keepAlive = false;
          else if (v !== 'keep-alive') return -1;
        }
      }
      if (headers !== null) {
        if (headers[lower] !== undefined || lower === 'set-cookie') headers = null;
        else headers[lower] = value;
      }
      lines.push(name, value);
      if (lines.length > MAX_HEADER_ENTRIES) return -1;
      i = e + 2;
    }
    const method = head.slice(0, sp);
    const target = head.slice(sp + 1, lineEnd - VERSION_SUFFIX);
    if (headers !== null) {
      this.#accept(new BodilessRequest(this.socket, method, target, headers, lines), keepAlive);
      return at + end + 4;
    }
    this.#onHead(1, 1, lines, method, target, false, keepAlive);
    // No body: the message is complete with its head (what llhttp's onMessageComplete does).
    const req = this.#parsing;
    if (req !== null) {
      this.#parsing = null;
      req.complete = true;
      req.push(null);
    }
    return at + end + 4;
  }

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
      // A copy: `data` may be a view of READ_BUFFER, and the failure may be answered later.
      ret.rawPacket = data !== null ? Buffer.from(data) : this.#parser?.getCurrentBuffer();
      // Bytes after a request that asked to close: the answer goes out, the rest is ignored.
      if (ret.code === 'HPE_CLOSED_CONNECTION') { this.#stopReading(); return; }
      this.#fail(ret);
      return;
    }
    if (this.#upgrade !== null) this.#startUpgrade(ret, data);
  }

  // ------------------------------------------------------------------ answering

  /** `req` is now the one being answered; its handler runs now or, `deferred`, on the next tick. */
  #dispatch(req: ClientRequest, keepAlive: boolean, deferred = false): void {
    const http10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
    const res = new ProxyResponse(this, keepAlive, req.method!, http10);
    this.#current = req;
    this.#currentRes = res;
    if (deferred) process.nextTick(() => { if (!this.socket.destroyed) this.#start(req, res); });
    else this.#start(req, res);
  }

  #start(req: ClientRequest, res: ProxyResponse): void {
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
    // A copy: `data` may be a view of READ_BUFFER.
    const head = Buffer.from(buffer.subarray(parsed));
    if (this.#userReads) {
      // The handle stays in `onread` mode: from now on each read is copied into the socket's
      // Readable, where the upgrade handler reads it as from any socket.
      (socket as unknown as Record<symbol, unknown>)[USER_READS!.callback] = (n: number, b: Buffer): boolean => socket.push(Buffer.from(b.subarray(0, n)));
    }
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
