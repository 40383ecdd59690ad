/**
 * @module net/llhttp
 * Node's own binding of llhttp, the parser node:http uses (`_http_common`'s HTTPParser): the one
 * place Turnpike touches this internal API. Both HTTP/1.1 sides use it (the upstream client,
 * gateway/upstream/h1-pool.ts, and the proxy listener, gateway/http1/proxy-server.ts); their tests
 * are the check to run first on a new Node major.
 */
// @ts-expect-error -- internal module without types
import { HTTPParser as NodeHTTPParser, methods as nodeMethods } from '_http_common';

/** What execute/finish return on bad input (`code` is llhttp's, e.g. HPE_INVALID_METHOD). */
export type LlhttpError = Error & { code?: string; reason?: string; bytesParsed?: number; rawPacket?: Buffer };

/** The parser's methods and its callback slots (`parser[kOnBody] = fn`). */
export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): number | LlhttpError;
  finish(): number | LlhttpError | undefined;
  consume(handle: unknown): void;
  unconsume(): void;
  getCurrentBuffer(): Buffer;
  close(): void;
  [slot: number]: unknown;
}

export const HTTPParser = NodeHTTPParser as {
  new (): LlhttpParser;
  readonly REQUEST: number;
  readonly RESPONSE: number;
};

export const kOnMessageBegin: number = NodeHTTPParser.kOnMessageBegin | 0;
export const kOnHeaders: number = NodeHTTPParser.kOnHeaders | 0;
export const kOnHeadersComplete: number = NodeHTTPParser.kOnHeadersComplete | 0;
export const kOnBody: number = NodeHTTPParser.kOnBody | 0;
export const kOnMessageComplete: number = NodeHTTPParser.kOnMessageComplete | 0;
export const kOnExecute: number = NodeHTTPParser.kOnExecute | 0;

/**
 * Method names by llhttp's method number (a request parser's `onHeadersComplete` gets the number),
 * read off the parser itself: `_http_common.methods` is a list of names whose positions stop
 * matching the numbers after the RTSP methods (QUERY is 46, not 34).
 */
export const METHOD_BY_NUMBER: readonly string[] = (() => {
  const out: string[] = [];
  for (const name of nodeMethods as string[]) {
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, 0, 0);
    p[kOnHeadersComplete] = (_a: number, _b: number, _h: unknown, n: number) => { out[n] = name; return 0; };
    p.execute(Buffer.from(`${name} / HTTP/1.1\r\nHost: x\r\n\r\n`));
    p.close();
  }
  return out;
})();
