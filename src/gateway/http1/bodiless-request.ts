/**
 * @module gateway/http1/bodiless-request
 * The request object of a plain bodiless request, the kind `ProxyServer` reads in JavaScript (a
 * GET, HEAD, DELETE or OPTIONS over HTTP/1.1 with nothing that frames a body). It carries what the
 * flow reads of an `IncomingMessage` (method, target, version, headers, socket) and no stream: the
 * message is complete with its head, so there is nothing to read, dump or destroy. node:http's
 * `IncomingMessage` cost ~1 µs a request for that (its Readable, the header object built on first
 * use, the end-of-stream tick; BENCHMARKS.md, session 13).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export class BodilessRequest {
  /** Complete with its head: `complete` narrows a `ClientRequest` to this class where it is false. */
  readonly complete = true as const;
  readonly destroyed = false;
  readonly readableDidRead = false;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly httpVersion = '1.1';
  #distinct: Record<string, string[]> | null = null;

  /**
   * `headers` as node:http would build them from `rawHeaders`: lower-case names, one value each.
   * The reader only makes this object for a head without repeated names and without Set-Cookie,
   * where node:http's joining rules and its Set-Cookie array never apply.
   */
  constructor(
    readonly socket: Socket,
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly rawHeaders: string[],
  ) {}

  /** Every value of each header, as `IncomingMessage.headersDistinct` (made on first use). */
  get headersDistinct(): Record<string, string[]> {
    if (this.#distinct === null) {
      const d: Record<string, string[]> = {};
      const raw = this.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) d[raw[i]!.toLowerCase()] = [raw[i + 1]!];
      this.#distinct = d;
    }
    return this.#distinct;
  }
}

/** A request as the proxy listener hands it on: node:http's, or the lean bodiless one. */
export type ClientRequest = IncomingMessage | BodilessRequest;
