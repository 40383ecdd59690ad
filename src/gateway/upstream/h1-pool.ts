/**
 * @module gateway/upstream/h1-pool
 * Keep-alive HTTP/1.1 connections to one upstream origin, on `net`/`tls` sockets with the llhttp
 * parser that ships inside Node (`_http_common`'s HTTPParser). It replaces undici on the proxy's
 * hot path: one request per connection at a time, the request head written as one string, the
 * response headers taken straight from the parser's flat array (BENCHMARKS.md: undici's layers
 * cost ~11 µs of the ~100 µs a proxied request took).
 *
 * It speaks the handler protocol of undici's `dispatch` (onRequestStart/onResponseStart/
 * onResponseData/onResponseEnd/onResponseError, with undici's error codes), except that the
 * response headers come as the parser's flat [name, value, …] list, as sent: the request flow
 * copies them once, into the response state. WebSocket upgrades still go through undici.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { writeDirect } from '../../net/socket-write.ts';
import { InactivityTimer } from '../../net/inactivity-timer.ts';
import { fieldValue, isHeaderField, isHeaderName, isHeaderValue } from '../../net/http-fields.ts';
import { HTTPParser, kOnBody, kOnHeaders, kOnHeadersComplete, kOnMessageBegin, kOnMessageComplete, type LlhttpParser } from '../../net/llhttp.ts';

export interface H1Controller {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

/** The subset of undici's DispatchHandler the request flow implements. */
export interface H1Handler {
  onRequestStart?(controller: H1Controller, context: unknown): void;
  /** `rawHeaders`: [name, value, …] as received; shared with other answers, so read-only. */
  onResponseStart?(controller: H1Controller, statusCode: number, rawHeaders: readonly string[], statusMessage?: string): void;
  onResponseData?(controller: H1Controller, chunk: Buffer): void;
  onResponseEnd?(controller: H1Controller, trailers: Record<string, string | string[]>): void;
  onResponseError?(controller: H1Controller, err: Error): void;
}

export interface H1Request {
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  /** Header lines sent after `headers` as they are: each ends in CRLF, and the caller checked them. */
  lines?: string;
  /** A Buffer is sent as is (and may be sent again on a fresh connection); a stream is piped once. */
  body?: Buffer | string | Readable | null;
  /** Kong's read_timeout: the longest silence while waiting for the response, in ms (0: none). */
  headersTimeout?: number;
  bodyTimeout?: number;
}

export interface H1PoolOptions {
  host: string;
  port: number;
  connectTimeout: number;
  tls: { servername?: string; rejectUnauthorized?: boolean } | null;
  maxConnections: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
}

/** An error with undici's code, so retry and timeout decisions read the same for both clients. */
export class UpstreamError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'UpstreamError';
  }
}

/** A Content-Length this client accepts (a larger or odd one is llhttp's to refuse, or close-delimited). */
const CONTENT_LENGTH = /^\d{1,15}$/;

function invalidField(name: string): UpstreamError {
  return new UpstreamError('UND_ERR_INVALID_ARG', isHeaderName(name) ? `invalid ${name} header` : `invalid header name ${JSON.stringify(name)}`);
}

/** `GET /path HTTP/1.1\r\n...` with every header line; throws on a name or value that would split it. */
function requestHead(req: H1Request, chunked: boolean): string {
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  const headers = req.headers;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') {
      if (!isHeaderField(name, v)) throw invalidField(name);
      head += `${name}: ${v}\r\n`;
    } else {
      if (!isHeaderName(name)) throw invalidField(name);
      for (const one of v) {
        if (!isHeaderValue(one)) throw invalidField(name);
        head += `${name}: ${one}\r\n`;
      }
    }
  }
  if (req.lines !== undefined) head += req.lines;
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  return head + '\r\n';
}

/** The Content-Length of a response that has a body and no other framing, else -1. */
function sizedBody(status: number, raw: readonly string[]): number {
  if (status === 204 || status === 304) return -1;
  let size = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const v = raw[i + 1]!;
      if (!CONTENT_LENGTH.test(v)) return -1;
      size = Number(v);
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      return -1;
    }
  }
  return size;
}

/** A control character other than tab, or a CR or LF that is not part of a CRLF. */
const BAD_HEAD = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
const STATUS_LINE = /^HTTP\/1\.1 ([2-5]\d\d)(?: (.*))?$/;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

interface PlainHead { status: number; message: string; raw: readonly string[]; size: number }

/**
 * The head of the commonest answer, read in JavaScript: HTTP/1.1, a 2xx–5xx status with a body,
 * well-formed lines, one Content-Length and no Transfer-Encoding, `Connection` absent or
 * `keep-alive`. Anything else is null and goes to llhttp, which knows every other case. llhttp's
 * binding costs ~3 µs an answer more than this (it builds the header array in C++; BENCHMARKS.md,
 * session 8).
 */
function plainResponseHead(chunk: Buffer, end: number): PlainHead | null {
  const head = chunk.toString('latin1', 0, end);
  if (BAD_HEAD.test(head)) return null;
  const lines = head.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (m === null) return null;
  const status = Number(m[1]);
  if (status === 204 || status === 304) return null;
  const raw: string[] = [];
  let size = -1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    // A folded line starts with a space, which no token has.
    if (!isHeaderName(name)) return null;
    const value = fieldValue(line, colon + 1, line.length);
    if (name.length === 14 || name.length === 17 || name.length === 10) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        if (size !== -1 || !CONTENT_LENGTH.test(value)) return null;
        size = Number(value);
      } else if (lower === 'transfer-encoding' || (lower === 'connection' && value.toLowerCase() !== 'keep-alive')) {
        return null;
      }
    }
    raw.push(name, value);
  }
  return size < 0 ? null : { status, message: m[2] ?? '', raw, size };
}

/**
 * The last plain head an origin sent, with what it parsed to. An upstream tends to answer with the
 * same head byte for byte (only `Date` moves, once a second): one memcmp then stands for the whole
 * parse. The parsed head is shared, so nobody downstream may change its header list.
 */
class LastHead {
  #bytes: Buffer | null = null;
  #parsed: PlainHead | null = null;

  read(chunk: Buffer, end: number): PlainHead | null {
    const bytes = this.#bytes;
    if (bytes !== null && bytes.length === end && chunk.compare(bytes, 0, end, 0, end) === 0) return this.#parsed;
    const h = plainResponseHead(chunk, end);
    if (h !== null) {
      this.#bytes = Buffer.from(chunk.subarray(0, end));
      this.#parsed = h;
    }
    return h;
  }
}

/** One request in flight on a connection. */
class Exchange implements H1Controller {
  readonly req: H1Request;
  readonly handler: H1Handler;
  readonly pool: H1Pool;
  conn: Connection | null = null;
  /** Response headers were delivered to the handler. */
  started = false;
  /** Some byte of a response arrived (a reused connection that fails before this may retry). */
  answered = false;
  done = false;
  aborted = false;
  paused = false;
  headOnly: boolean;
  /** The request body went out (or started to): a stream cannot be sent twice. */
  bodySent = false;
  retried = false;
  /** The request line and headers, built (and checked) once. */
  readonly head: string;
  readonly streamed: boolean;
  readonly chunked: boolean;

  constructor(pool: H1Pool, req: H1Request, handler: H1Handler) {
    this.pool = pool;
    this.req = req;
    this.handler = handler;
    this.headOnly = req.method === 'HEAD';
    const b = req.body;
    this.streamed = !(b === null || b === undefined || typeof b === 'string' || Buffer.isBuffer(b));
    this.chunked = this.streamed && req.headers['content-length'] === undefined;
    this.head = requestHead(req, this.chunked);
  }

  pause(): void {
    if (this.done || this.paused) return;
    this.paused = true;
    const c = this.conn;
    if (c) c.socket.pause();
  }

  resume(): void {
    if (this.done || !this.paused) return;
    this.paused = false;
    const c = this.conn;
    if (c) c.socket.resume();
  }

  abort(reason: Error): void {
    if (this.done) return;
    this.aborted = true;
    const c = this.conn;
    if (c) c.destroy(); // its close fails the exchange with `reason`
    this.fail(reason);
  }

  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.conn = null;
    try { this.handler.onResponseError?.(this, err); } catch { /* the handler owns its errors */ }
  }

  get replayable(): boolean {
    return !this.streamed || !this.bodySent;
  }
}

/** First read buffer of a plain connection; one that a read fills is followed by a larger one. */
const READ_BUFFER = 16 * 1024;
const LARGE_READ_BUFFER = 64 * 1024;
/**
 * Bodies up to this size are parsed (and copied) by llhttp; larger ones pass through as slices of
 * the read buffer (see #passBody), whose small remainders are copied out rather than lent.
 */
const COPIED_BODY_PART = 4096;

/** One keep-alive socket with its response parser. */
class Connection {
  readonly pool: H1Pool;
  readonly socket: net.Socket;
  readonly parser: LlhttpParser;
  exchange: Exchange | null = null;
  connected = false;
  closed = false;
  /** Requests this socket carried; a failure on a reused one may be a stale keep-alive. */
  uses = 0;
  #status = 0;
  #statusMessage = '';
  #rawHeaders: string[] = [];
  #keepAlive = true;
  /** connect_timeout, then read_timeout while an exchange waits, keepalive_timeout while idle. */
  readonly #inactivity: InactivityTimer;
  /** Heads written past the socket's Writable (not in its `bytesWritten`). */
  #headsWritten = 0;
  /** Body bytes still to pass through untouched (a sized body; see #passBody). */
  #bodyLeft = 0;
  #skipComplete = false;
  /**
   * llhttp is inside a message (from its first byte to its end): the next bytes are its. Still set
   * while #passBody passes a body whose head llhttp read, so llhttp starts afresh after it.
   */
  #inLlhttp = false;
  /** Plain sockets only: what reads land in (see #nextReadBuffer). */
  #readBuffer: Buffer | null = null;
  #readBufferLent = false;
  #readBufferSize = READ_BUFFER;

  constructor(pool: H1Pool) {
    this.pool = pool;
    const o = pool.options;
    if (o.tls) {
      this.socket = tls.connect({ host: o.host, port: o.port, servername: o.tls.servername, rejectUnauthorized: o.tls.rejectUnauthorized ?? false, ALPNProtocols: ['http/1.1'] });
      this.socket.on('data', this.#onData);
    } else {
      // Reads land in this connection's own buffer and come straight here: no Buffer allocated
      // per read and no Readable stream bookkeeping (2–4 µs of CPU a request; BENCHMARKS.md, session 7).
      this.socket = net.connect({ host: o.host, port: o.port, onread: { buffer: this.#nextReadBuffer, callback: this.#onRead } });
    }
    this.socket.setNoDelay(true);
    const socket = this.socket;
    this.#inactivity = new InactivityTimer(() => socket.bytesRead + socket.bytesWritten + this.#headsWritten, this.#onTimeout);
    this.setTimeout(o.connectTimeout > 0 ? o.connectTimeout : 0);
    this.socket.once(o.tls ? 'secureConnect' : 'connect', this.#onConnect);
    this.socket.on('end', this.#onEnd);
    this.socket.on('error', this.#onError);
    this.socket.on('close', this.#onClose);
    const p = new HTTPParser();
    p.initialize(HTTPParser.RESPONSE, {}, o.maxHeaderSize);
    p[kOnMessageBegin] = this.#onParserMessageBegin;
    p[kOnHeaders] = this.#onParserHeaders;
    p[kOnHeadersComplete] = this.#onHeadersComplete;
    p[kOnBody] = this.#onBody;
    p[kOnMessageComplete] = this.#onMessageComplete;
    this.parser = p;
  }

  armReadTimeout(): void {
    const ex = this.exchange;
    if (!ex) return;
    const ms = ex.started ? ex.req.bodyTimeout : ex.req.headersTimeout;
    this.setTimeout(ms && ms > 0 ? ms : 0);
  }

  /** Inactivity timeout; set only when it changes (each change makes a timer). */
  setTimeout(ms: number): void {
    if (ms === this.#inactivity.ms || this.closed) return;
    this.#inactivity.set(ms);
  }

  /** Writes the request; the exchange is now this connection's. */
  send(ex: Exchange): void {
    this.exchange = ex;
    ex.conn = this;
    this.uses++;
    this.#status = 0;
    this.#rawHeaders = [];
    if (!this.connected) return; // #onConnect sends it
    // Requests read in one event-loop turn go out together after it: the upstream (often on the
    // same core) then wakes once per batch, not once per request (BENCHMARKS.md, "write batching").
    pendingWrites.push(this);
    if (pendingWrites.length === 1) setImmediate(flushWrites);
  }

  /** Writes the waiting request (after the batch's loop turn, or once connected). */
  flush(): void {
    const ex = this.exchange;
    if (ex && !ex.done && !this.closed) {
      try { this.#write(ex); } catch (err) { this.exchange = null; this.destroy(); ex.fail(err as Error); }
    }
  }

  #write(ex: Exchange): void {
    this.armReadTimeout();
    this.#headsWritten++;
    const body = ex.req.body;
    const socket = this.socket;
    if (!ex.streamed) {
      if (body && (body as Buffer | string).length) {
        socket.cork();
        socket.write(ex.head, 'latin1');
        socket.write(body as Buffer | string);
        socket.uncork();
      } else if (!writeDirect(socket, ex.head, null)) {
        socket.write(ex.head, 'latin1');
      }
      return;
    }
    socket.write(ex.head, 'latin1');
    ex.bodySent = true;
    pipeBody(body as Readable, socket, ex.chunked, ex);
  }

  #onConnect = (): void => {
    this.connected = true;
    if (this.exchange) this.flush();
    else this.setTimeout(this.pool.options.keepAliveTimeout);
  };

  /**
   * The buffer the next read goes into. It is reused until a slice of it was handed on (a large
   * body part, see #passBody) or a read filled it; then the next read gets a fresh one, 64 KiB
   * after a full read (a large chunked body never lends it, and must not stay at 16 KiB reads).
   */
  #nextReadBuffer = (): Buffer => {
    let b = this.#readBuffer;
    if (b === null || this.#readBufferLent || b.length < this.#readBufferSize) {
      b = this.#readBuffer = Buffer.allocUnsafeSlow(this.#readBufferSize);
      this.#readBufferLent = false;
    }
    return b;
  };

  #onRead = (n: number, buffer: Uint8Array): boolean => {
    if (n === buffer.length) this.#readBufferSize = LARGE_READ_BUFFER;
    this.#onData((buffer as Buffer).subarray(0, n));
    return true; // pausing goes through socket.pause(), which stops the reads
  };

  #onData = (chunk: Buffer): void => {
    const ex = this.exchange;
    if (!ex) { this.destroy(); return; } // bytes nobody asked for: the connection is not reusable
    ex.answered = true;
    if (this.#bodyLeft > 0) { this.#passBody(chunk); return; }
    if (!this.#inLlhttp && this.#plainHead(chunk, ex)) return;
    const r = this.parser.execute(chunk);
    if (r instanceof Error) {
      this.destroy();
      const cur = this.exchange;
      if (cur) { this.exchange = null; cur.fail(new UpstreamError((r as Error & { code?: string }).code ?? 'HPE_INVALID', 'invalid upstream response')); }
      return;
    }
    // The head ended inside this chunk and the body is passed through: the rest of it is body.
    if (this.#bodyLeft > 0 && (r as number) < chunk.length) this.#passBody(chunk.subarray(r as number));
  };

  /**
   * A body of known length goes to the handler as slices of what the socket read: Node's parser
   * would copy every body byte into a new Buffer first (a 1 MiB answer cost a 1 MiB memcpy).
   */
  #passBody(chunk: Buffer): void {
    const ex = this.exchange!;
    const left = this.#bodyLeft;
    const extra = chunk.length > left;
    let part = extra ? chunk.subarray(0, left) : chunk;
    this.#bodyLeft = left - part.length;
    // The handler may keep what it gets (a cache entry, a write the client is not ready for).
    // A small part is copied so the read buffer stays ours; a large one is lent, and the next
    // read gets a fresh buffer.
    if (this.#readBuffer !== null && part.buffer === this.#readBuffer.buffer) {
      if (part.length <= COPIED_BODY_PART) part = Buffer.from(part);
      else this.#readBufferLent = true;
    }
    if (!ex.done) ex.handler.onResponseData?.(ex, part);
    if (this.#bodyLeft > 0) return;
    // llhttp stopped after the head it read (see #onHeadersComplete); a head read here left it untouched.
    if (this.#inLlhttp) this.parser.initialize(HTTPParser.RESPONSE, {}, this.pool.options.maxHeaderSize);
    // Bytes after a sized body were never asked for: the connection cannot be trusted again.
    if (extra) this.#keepAlive = false;
    this.#complete();
  }

  /**
   * A new answer whose head is whole in this read and plain (see plainResponseHead): read here,
   * its body passed through. False leaves the read to llhttp.
   */
  #plainHead(chunk: Buffer, ex: Exchange): boolean {
    if (ex.headOnly) return false;
    const end = chunk.indexOf(HEAD_END);
    if (end === -1 || end > this.pool.options.maxHeaderSize) return false;
    const h = this.pool.lastHead.read(chunk, end);
    if (h === null) return false;
    this.#status = h.status;
    if (!this.#startAnswer(ex, h.status, h.message, h.raw, true)) return true;
    const rest = chunk.subarray(end + 4);
    if (h.size > 0) {
      this.#bodyLeft = h.size;
      if (rest.length > 0) this.#passBody(rest);
      return true;
    }
    // Bytes after an empty body were never asked for: the connection cannot be trusted again.
    if (rest.length > 0) this.#keepAlive = false;
    this.#complete();
    return true;
  }

  /** A final answer's head, from llhttp or #plainHead, goes to the handler; false if the handler threw. */
  #startAnswer(ex: Exchange, status: number, message: string, raw: readonly string[], keepAlive: boolean): boolean {
    this.#statusMessage = message;
    this.#keepAlive = keepAlive;
    ex.started = true;
    this.armReadTimeout();
    try {
      ex.handler.onResponseStart?.(ex, status, raw, message);
      return true;
    } catch (err) {
      this.destroy();
      this.exchange = null;
      ex.fail(err as Error);
      return false;
    }
  }

  #onParserMessageBegin = (): void => {
    this.#inLlhttp = true;
  };

  #onParserHeaders = (headers: string[]): void => {
    for (const h of headers) this.#rawHeaders.push(h);
  };

  #onHeadersComplete = (_major: number, _minor: number, headers: string[] | undefined, _method: unknown, _url: unknown,
    statusCode: number, statusMessage: string, _upgrade: boolean, shouldKeepAlive: boolean): number => {
    const ex = this.exchange;
    this.#status = statusCode;
    if (!ex || statusCode < 200) return 0; // 1xx: wait for the final answer
    const raw = headers ?? this.#rawHeaders;
    if (!this.#startAnswer(ex, statusCode, statusMessage, raw, shouldKeepAlive)) return 1;
    if (ex.headOnly) return 1;
    const size = sizedBody(statusCode, raw);
    // A small body is left to llhttp, which hands it over as a copy: the read buffer stays ours and
    // the parser needs no reset after it (the reset was ~1 % of a small request's CPU).
    if (size > COPIED_BODY_PART) {
      // Tell llhttp to stop after the head (2: "upgrade"): #onData passes the body through.
      this.#bodyLeft = size;
      this.#skipComplete = true;
      return 2;
    }
    return 0;
  };

  #onBody = (chunk: Buffer): void => {
    const ex = this.exchange;
    if (!ex || ex.done) return;
    ex.handler.onResponseData?.(ex, chunk);
  };

  #onMessageComplete = (): void => {
    if (this.#status < 200) { this.#rawHeaders = []; return; }
    // The head of a passed-through body: the message completes when its last byte arrives.
    if (this.#skipComplete) { this.#skipComplete = false; return; }
    this.#complete();
  };

  #complete(): void {
    this.#inLlhttp = false;
    const ex = this.exchange;
    if (!ex) return;
    this.exchange = null;
    ex.conn = null;
    if (ex.done) return;
    ex.done = true;
    if (this.#keepAlive && !ex.aborted && !this.closed) {
      // The socket goes back before the handler runs, so the handler's next request can reuse it.
      if (ex.paused) this.socket.resume();
      this.pool.release(this);
    } else {
      this.destroy();
    }
    ex.handler.onResponseEnd?.(ex, {});
  }

  #onEnd = (): void => {
    // A body delimited by the connection closing ends here.
    if (this.exchange && this.exchange.started && this.#bodyLeft === 0) this.parser.finish();
    this.destroy();
  };

  #onTimeout = (): void => {
    const ex = this.exchange;
    if (!ex) { this.destroy(); return; } // idle past keepalive_timeout
    // Not reading because the client is slow is not the upstream's silence: checked again a timeout later.
    if (ex.paused) return;
    this.exchange = null;
    this.destroy();
    const code = !this.connected ? 'UND_ERR_CONNECT_TIMEOUT' : ex.started ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT';
    ex.fail(new UpstreamError(code, code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timeout' : 'upstream timed out'));
  };

  #onError = (err: Error & { code?: string }): void => {
    this.#failExchange(err.code ? err : new UpstreamError('UND_ERR_SOCKET', err.message));
  };

  #onClose = (): void => {
    this.closed = true;
    this.#inactivity.clear();
    this.pool.forget(this);
    this.#failExchange(new UpstreamError('UND_ERR_SOCKET', 'other side closed'));
    const p = this.parser;
    // Not from inside the parser's own callback.
    setImmediate(() => { try { p.close(); } catch { /* already freed */ } });
  };

  #failExchange(err: Error): void {
    const ex = this.exchange;
    this.exchange = null;
    if (!this.closed) this.destroy();
    if (!ex || ex.done) return;
    ex.conn = null;
    // A keep-alive socket the upstream closed while idle: the request never reached it.
    if (this.uses > 1 && !ex.answered && ex.replayable && !ex.aborted && !ex.retried) {
      ex.retried = true;
      this.pool.redispatch(ex);
      return;
    }
    ex.fail(err);
  }

  destroy(): void {
    if (!this.closed) {
      this.closed = true;
      this.#inactivity.clear();
      this.pool.forget(this);
      this.socket.destroy();
    }
  }
}

let pendingWrites: Connection[] = [];
/** The other of the two lists flushWrites takes turns with (no new list a batch). */
let flushing: Connection[] = [];
function flushWrites(): void {
  const list = pendingWrites;
  // A request sent while these are written (a retry) goes into the next batch.
  pendingWrites = flushing;
  flushing = list;
  // Emptied whatever happens: this list is the next batch's, and a connection left in it would
  // have its request written twice.
  try {
    for (let i = 0; i < list.length; i++) list[i]!.flush();
  } finally {
    list.length = 0;
  }
}

/** Streams a request body with backpressure; chunked when its length is unknown. */
function pipeBody(body: Readable, socket: net.Socket, chunked: boolean, ex: Exchange): void {
  const onData = (chunk: Buffer): void => {
    if (!chunk.length) return;
    let ok: boolean;
    if (chunked) {
      socket.cork();
      socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) {
      body.pause();
      socket.once('drain', () => body.resume());
    }
  };
  const onEnd = (): void => {
    cleanup();
    if (chunked && !socket.destroyed) socket.write('0\r\n\r\n', 'latin1');
  };
  const onAbort = (): void => {
    cleanup();
    // The client stopped sending: the upstream request cannot complete.
    if (!ex.done) ex.abort(new UpstreamError('UND_ERR_ABORTED', 'request body aborted'));
  };
  const cleanup = (): void => {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onAbort);
    body.off('close', onClose);
  };
  const onClose = (): void => {
    if ((body as Readable & { readableEnded?: boolean }).readableEnded) return;
    onAbort();
  };
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onAbort);
  body.once('close', onClose);
  if (body.isPaused()) body.resume();
}

/** Connections to one origin: idle ones reused last-in first-out, at most `maxConnections`. */
export class H1Pool {
  readonly options: H1PoolOptions;
  readonly lastHead = new LastHead();
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #queue: Exchange[] = [];
  #closed = false;

  constructor(options: H1PoolOptions) {
    this.options = options;
  }

  /** undici's `dispatch`, for the options the proxy uses. Throws on a header that cannot be sent. */
  dispatch(req: H1Request, handler: H1Handler): boolean {
    // Builds and checks the head before anything is written, as undici does.
    const ex = new Exchange(this, req, handler);
    handler.onRequestStart?.(ex, {});
    if (ex.done) return true;
    this.#assign(ex);
    return true;
  }

  /** A stale keep-alive connection failed before any answer: send once more on a fresh socket. */
  redispatch(ex: Exchange): void {
    const conn = new Connection(this);
    this.#all.add(conn);
    conn.send(ex);
  }

  #assign(ex: Exchange): void {
    if (this.#closed) { ex.fail(new UpstreamError('UND_ERR_DESTROYED', 'pool closed')); return; }
    let conn = this.#idle.pop();
    while (conn && conn.closed) conn = this.#idle.pop();
    if (!conn) {
      if (this.#all.size >= this.options.maxConnections) { this.#queue.push(ex); return; }
      conn = new Connection(this);
      this.#all.add(conn);
    }
    try {
      conn.send(ex);
    } catch (err) {
      conn.exchange = null;
      conn.destroy();
      ex.fail(err as Error);
    }
  }

  release(conn: Connection): void {
    while (this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      if (next.done) continue;
      try {
        conn.send(next);
      } catch (err) {
        conn.exchange = null;
        next.fail(err as Error);
        continue;
      }
      return;
    }
    conn.setTimeout(this.options.keepAliveTimeout);
    this.#idle.push(conn);
  }

  forget(conn: Connection): void {
    if (!this.#all.delete(conn)) return;
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    // A queued request takes the freed slot.
    while (this.#queue.length > 0 && !this.#closed) {
      const next = this.#queue.shift()!;
      if (next.done) continue;
      this.#assign(next);
      break;
    }
  }

  get connections(): number { return this.#all.size; }

  async close(): Promise<void> {
    this.#closed = true;
    for (const ex of this.#queue.splice(0)) ex.fail(new UpstreamError('UND_ERR_DESTROYED', 'pool closed'));
    for (const c of [...this.#all]) {
      if (c.exchange) continue; // in flight: ends with its response
      c.destroy();
    }
  }

  destroy(): void {
    this.#closed = true;
    for (const c of [...this.#all]) c.destroy();
  }
}
