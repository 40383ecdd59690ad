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

/** The HTTP method names llhttp knows (positions are not its method numbers past the RTSP ones). */
export const PARSER_METHODS: readonly string[] = nodeMethods as string[];
