/**
 * @module observability/tracing/types
 * What the request flow sees of tracing. With `--otlp-endpoint` unset the runtime has no tracer:
 * the flow checks one field per request and creates nothing, reads no trace headers.
 */
import type { ClientRequest } from '../../gateway/http1/bodiless-request.ts';
import type { HeaderMap, RequestContext } from '../../gateway/pipeline/context.ts';

export interface RequestTracer {
  /** Starts the request's server span, a child of the client's `traceparent` when it has one. */
  start(req: ClientRequest, ctx: RequestContext): RequestTrace;
  /** Exports what is still queued; for draining workers. */
  shutdown(): Promise<void>;
}

export interface RequestTrace {
  /**
   * Starts a client span for one upstream try and writes its `traceparent` (and the incoming
   * `tracestate`) into the upstream headers. A previous try still open is ended first.
   */
  startTry(headers: HeaderMap, peer: { address: string; port: number }, method: string, url: string): void;
  /** The upstream answered this try with `status`. */
  tryStatus(status: number): void;
  /** The try is over (its body ended, or it failed with `error`). */
  endTry(error?: string): void;
  /** The response is finished: ends any open try and the server span. */
  finish(ctx: RequestContext): void;
}
