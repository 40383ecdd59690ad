/**
 * @module gateway/http1/proxy-response
 * The response half of ProxyHttpServer: the subset of node:http's ServerResponse the request flow
 * uses (writeHead, write, end, destroy, headersSent, writableFinished, 'drain', 'close'), written
 * straight to the socket. The head is one string; a sized answer goes out with its head in one
 * writev; anything else is chunked (HTTP/1.1) or ends with the connection (HTTP/1.0).
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { writeDirect } from '../../net/socket-write.ts';
import { isHeaderField, isHeaderName } from '../../net/http-fields.ts';

/** What a response needs from its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  readonly keepAliveSeconds: number;
  /** The server is draining: answers say `Connection: close`. */
  readonly closing: boolean;
  /** The response's bytes are all handed to the socket; `keepAlive` false: close after them. */
  responseDone(res: ProxyResponse, keepAlive: boolean): void;
  /** The socket wrote the response's last byte. */
  responseFlushed(res: ProxyResponse): void;
}


let dateSecond = 0;
let dateLine = '';
/** `Date: …\r\n`, rebuilt at most once a second. */
function currentDateLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (statusLines.size < 1000) statusLines.set(status, line);
  }
  return line;
}

let keepAliveSeconds = -1;
let keepAliveText = '';
/** `Connection: keep-alive` and `Keep-Alive: timeout=…` lines (one timeout per listener). */
function keepAliveLines(seconds: number): string {
  if (seconds !== keepAliveSeconds) {
    keepAliveSeconds = seconds;
    keepAliveText = `Connection: keep-alive\r\nKeep-Alive: timeout=${seconds}\r\n`;
  }
  return keepAliveText;
}

/** Buffer's latin1 encoder (what \`write(s, offset, 'latin1')\` ends in, without its checks). */
type LatinWriting = Buffer & { latin1Write(s: string, offset: number, length: number): number };

const CRLF = Buffer.from('\r\n');
const LENGTH = 1;
const CHUNKED = 2;
const DATE = 4;
/** Up to this size a body is copied next to its head rather than written beside it. */
const ONE_WRITE_MAX = 16 * 1024;
const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/;
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

function invalidHeader(kind: 'name' | 'value', name: string): Error {
  const err = new TypeError(kind === 'name' ? `Header name must be a valid HTTP token ["${name}"]` : `Invalid character in header content ["${name}"]`) as Error & { code: string };
  err.code = kind === 'name' ? 'ERR_INVALID_HTTP_TOKEN' : 'ERR_INVALID_CHAR';
  return err;
}

/**
 * Its events ('drain', 'finish', 'close') go through an EventEmitter made only when something
 * listens: the flow uses `whenClosed`, so most answers never need one (its constructor and two
 * emits were ~0.4 µs a request). A listener's `this` is that emitter, not the response.
 */
export class ProxyResponse {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  readonly #owner: ResponseOwner;
  readonly #keepAliveAsked: boolean;
  readonly #headRequest: boolean;
  readonly #http10: boolean;
  #keepAlive = false;
  #chunked = false;
  #noBody = false;
  #closed = false;
  #waitingDrain = false;

  /** `keepAlive`: what the request's framing allows (llhttp's shouldKeepAlive). */
  constructor(owner: ResponseOwner, keepAlive: boolean, method: string, http10: boolean) {
    this.#owner = owner;
    this.#keepAliveAsked = keepAlive;
    this.#headRequest = method === 'HEAD';
    this.#http10 = http10;
  }

  #events: EventEmitter | null = null;

  on(event: string, listener: (...args: unknown[]) => void): this {
    (this.#events ??= new EventEmitter()).on(event, listener);
    return this;
  }

  once(event: string, listener: (...args: unknown[]) => void): this {
    (this.#events ??= new EventEmitter()).once(event, listener);
    return this;
  }

  off(event: string, listener: (...args: unknown[]) => void): this {
    this.#events?.off(event, listener);
    return this;
  }

  removeListener(event: string, listener: (...args: unknown[]) => void): this {
    return this.off(event, listener);
  }

  listenerCount(event: string): number {
    return this.#events?.listenerCount(event) ?? 0;
  }

  #emit(event: string): void {
    if (this.#events !== null) this.#events.emit(event);
  }

  get socket(): Socket | null { return this.#closed ? null : this.#owner.socket; }

  /** `headers`: a flat [name, value, …] list or an object. Throws on a name or value node:http would refuse. */
  writeHead(status: number, headers?: readonly string[] | Record<string, string | number | readonly string[]>): this {
    if (this.headersSent) return this;
    this.#startHead(status);
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.#addHeader(headers[i]!, headers[i + 1]!);
    } else if (headers) {
      const obj = headers as Record<string, string | number | readonly string[]>;
      for (const name in obj) {
        const v = obj[name]!;
        if (Array.isArray(v)) for (const one of v) this.#addHeader(name, String(one));
        else this.#addHeader(name, String(v));
      }
    }
    return this.#endHead(status);
  }

  /**
   * writeHead from a map keyed by lower-case name (a value, a list of them, or undefined for none)
   * and the spelling each is sent with (the key itself when it has none).
   */
  writeHeadFrom(status: number, headers: Record<string, string | readonly string[] | undefined>, names: Record<string, string>): this {
    if (this.headersSent) return this;
    this.#startHead(status);
    for (const key in headers) {
      const v = headers[key];
      if (v === undefined) continue;
      const name = names[key] ?? key;
      if (typeof v === 'string') this.#addHeader(name, v, key);
      else if (Array.isArray(v)) for (const one of v) this.#addHeader(name, String(one), key);
      else this.#addHeader(name, String(v), key);
    }
    return this.#endHead(status);
  }

  #startHead(status: number): void {
    this.statusCode = status;
    this.#head = statusLine(status);
    this.#framing = 0;
    this.#connection = null;
  }

  #endHead(status: number): this {
    let head = this.#head!;
    const framing = this.#framing;
    const connection = this.#connection as string | null;
    if ((framing & DATE) === 0) head += currentDateLine();
    this.#noBody = this.#headRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
    let keepAlive = this.#keepAliveAsked && !this.#owner.closing;
    if (connection !== null && CLOSE_TOKEN.test(connection)) keepAlive = false;
    if (!this.#noBody && (framing & LENGTH) === 0) {
      if ((framing & CHUNKED) !== 0) {
        // A Transfer-Encoding set by a plugin: as node:http, the writes are chunked here.
        this.#chunked = true;
      } else if (this.#http10) {
        // No length: the connection's end delimits the body for HTTP/1.0 ...
        keepAlive = false;
      } else {
        // ... and chunks do for HTTP/1.1.
        this.#chunked = true;
        head += 'Transfer-Encoding: chunked\r\n';
      }
    }
    if (connection === null) head += keepAlive ? keepAliveLines(this.#owner.keepAliveSeconds) : 'Connection: close\r\n';
    this.#keepAlive = keepAlive;
    this.headersSent = true;
    this.#head = head + '\r\n';
    return this;
  }

  /** Which framing headers the head has (LENGTH, CHUNKED, DATE bits) and its Connection value. */
  #framing = 0;
  #connection: string | null = null;

  /** `key`: the name in lower case, when the caller has it. */
  #addHeader(name: string, value: string, key?: string): void {
    if (!isHeaderField(name, value)) throw invalidHeader(isHeaderName(name) ? 'value' : 'name', name);
    const n = name.length;
    if (n === 4 || n === 10 || n === 14 || n === 17) {
      const lower = key ?? name.toLowerCase();
      if (lower === 'content-length') this.#framing |= LENGTH;
      else if (lower === 'transfer-encoding') this.#framing |= CHUNKED;
      else if (lower === 'connection') this.#connection = value.toLowerCase();
      else if (lower === 'date') this.#framing |= DATE;
    }
    this.#head += `${name}: ${value}\r\n`;
  }

  /** The head not yet written: it goes out with the first body bytes, in one writev. */
  #head: string | null = null;

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.#closed || this.#owner.socket.writableEnded) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const socket = this.#owner.socket;
    const body = this.#noBody ? null : chunk;
    const size = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    let ok: boolean;
    if (size === 0) {
      if (this.#head === null) return true;
      ok = socket.write(this.#head, 'latin1');
      this.#head = null;
    } else {
      socket.cork();
      if (this.#head !== null) { socket.write(this.#head, 'latin1'); this.#head = null; }
      if (this.#chunked) {
        socket.write(`${size.toString(16)}\r\n`, 'latin1');
        socket.write(body!);
        ok = socket.write(CRLF);
      } else {
        ok = socket.write(body!);
      }
      socket.uncork();
    }
    if (!ok && !this.#waitingDrain) {
      this.#waitingDrain = true;
      // Made when first needed: most answers never wait for a drain.
      socket.once('drain', this.#onDrain ??= () => {
        this.#waitingDrain = false;
        if (!this.#closed) this.#emit('drain');
      });
    }
    return ok;
  }

  #onDrain: (() => void) | null = null;

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.#closed) return this;
    // The connection was already ended (a parse failure answered it): nothing more goes out.
    if (this.#owner.socket.writableEnded) { this.writableEnded = true; return this; }
    if (!this.headersSent) this.writeHead(this.statusCode);
    const socket = this.#owner.socket;
    const body = this.#noBody || chunk === undefined ? null : chunk;
    const size = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    this.writableEnded = true;
    if (size === 0 && !this.#chunked) {
      // No body: the head alone.
      const head = this.#head ?? '';
      this.#head = null;
      if (head.length === 0 || !writeDirect(socket, head, this.#onFlushed)) socket.write(head, 'latin1', this.#onFlushed);
    } else if (!this.#chunked && this.#head !== null && size <= ONE_WRITE_MAX) {
      // A small sized answer: head and body copied into one buffer, one plain write (no writev).
      // The head is latin1 only (writeHead refuses anything else), so its length is its size.
      const head = this.#head;
      this.#head = null;
      const out = Buffer.allocUnsafe(head.length + size) as LatinWriting;
      // Buffer's own latin1 encoder and TypedArray#set: \`write\` and \`copy\` check and normalise
      // their arguments first (~0.1 µs an answer in a hot loop; BENCHMARKS.md, session 18).
      out.latin1Write(head, 0, head.length);
      if (typeof body === 'string') out.write(body, head.length, 'utf8');
      else out.set(body!, head.length);
      if (!writeDirect(socket, out, this.#onFlushed)) socket.write(out, this.#onFlushed);
    } else {
      socket.cork();
      if (this.#head !== null) { socket.write(this.#head, 'latin1'); this.#head = null; }
      if (this.#chunked) {
        if (size > 0) {
          socket.write(`${size.toString(16)}\r\n`, 'latin1');
          socket.write(body!);
          socket.write(CRLF);
        }
        if (!this.#noBody) socket.write(LAST_CHUNK, this.#onFlushed);
        else socket.write('', 'latin1', this.#onFlushed);
      } else {
        socket.write(body!, this.#onFlushed);
      }
      socket.uncork();
    }
    // The connection can read (and parse) the next request now; it is answered after this one.
    this.#owner.responseDone(this, this.#keepAlive);
    return this;
  }

  // Made by a method, not written as the field's own arrow: tsx transpiles with esbuild's
  // keepNames, which wraps a named arrow in a `defineProperty` call (__name), here once per answer
  // (~4 µs a request through tsx). Not assigned in the constructor either: that cost the build
  // ~14 µs a request in bench/cpu-pair.sh, with three times the GC time in its profile (session 19).
  readonly #onFlushed = this.#flushedCallback();

  #flushedCallback(): (err?: Error | null) => void {
    return (err) => {
      if (err || this.#closed) return;
      this.#owner.responseFlushed(this);
      this.writableFinished = true;
      this.#emit('finish');
      this.#close();
    };
  }

  /** The connection closed, or this answer is complete: 'close' once. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const hook = this.#closeHook;
    if (hook !== null) { this.#closeHook = null; hook(this.#closeArg); }
    this.#emit('close');
  }

  #closeHook: ((arg: unknown) => void) | null = null;
  #closeArg: unknown = null;

  /** As a 'close' listener, without a listener list or a closure per answer: `hook(arg)` once. */
  whenClosed<T>(hook: (arg: T) => void, arg: T): void {
    this.#closeHook = hook as (arg: unknown) => void;
    this.#closeArg = arg;
  }

  /** The connection went away (before or after this answer was through). */
  connectionClosed(): void {
    this.#close();
  }

  /** As node:http: destroying a response destroys its connection. */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#owner.socket.destroy(err);
    return this;
  }
}
