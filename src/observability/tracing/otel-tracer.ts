/**
 * @module observability/tracing/otel-tracer
 * Tracing on the official OpenTelemetry SDK, loaded only when `--otlp-endpoint` is set: one SERVER
 * span per request (`kong`, as Kong's root span) and one CLIENT span per upstream try
 * (`kong.balancer`, as Kong's), W3C trace-context in and out, spans exported over OTLP/HTTP JSON by
 * a BatchSpanProcessor (queued in memory, sent from a timer, never on the request's path).
 * Sampling is the SDK's default: parent-based, always on for new traces. The standard OTEL_BSP_*
 * variables tune the batching and OTEL_SERVICE_NAME names the service (default `turnpike`).
 */
import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { HeaderMap, RequestContext } from '../../gateway/pipeline/context.ts';
import type { RequestTrace, RequestTracer } from './types.ts';

const propagator = new W3CTraceContextPropagator();

const headerGetter: TextMapGetter<IncomingMessage['headers']> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};
const headerSetter: TextMapSetter<HeaderMap> = {
  set: (carrier, key, value) => { carrier[key] = value; },
};

export function createOtelTracer(url: string, version: string): RequestTracer {
  const exporter = new OTLPTraceExporter({ url });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME || 'turnpike', 'service.version': version }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('turnpike', version);
  return {
    start(req, ctx) {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, headerGetter);
      const view = ctx.request;
      const span = tracer.startSpan('kong', {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': view.method,
          'http.method': view.method,
          'url.full': `${view.scheme}://${view.host}:${view.port}${view.path}`,
          'url.scheme': view.scheme,
          'server.address': view.host,
          'server.port': view.port,
          'client.address': view.clientIp,
          'network.peer.address': view.remoteAddr,
          'kong.request.id': ctx.requestId,
        },
      }, parent);
      // Log entries (access log, file-log, http-log) carry the trace id, as Kong's do with tracing on.
      ctx.setLogValue('trace_id', { w3c: span.spanContext().traceId });
      return new OtelRequestTrace(tracer, span, trace.setSpan(parent, span));
    },
    shutdown: () => provider.shutdown(),
  };
}

class OtelRequestTrace implements RequestTrace {
  readonly #tracer: Tracer;
  readonly #server: Span;
  readonly #context: Context;
  #try: Span | null = null;
  #tries = 0;

  constructor(tracer: Tracer, server: Span, context: Context) {
    this.#tracer = tracer;
    this.#server = server;
    this.#context = context;
  }

  startTry(headers: HeaderMap, peer: { address: string; port: number }, method: string, url: string): void {
    this.endTry();
    this.#tries++;
    const span = this.#tracer.startSpan('kong.balancer', {
      kind: SpanKind.CLIENT,
      attributes: {
        'try_count': this.#tries,
        'net.peer.ip': peer.address,
        'net.peer.port': peer.port,
        'server.address': peer.address,
        'server.port': peer.port,
        'http.request.method': method,
        'url.full': url,
      },
    }, this.#context);
    this.#try = span;
    propagator.inject(trace.setSpan(this.#context, span), headers, headerSetter);
  }

  tryStatus(status: number): void {
    const span = this.#try;
    if (!span) return;
    span.setAttribute('http.response.status_code', status);
    span.setAttribute('http.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }

  endTry(error?: string): void {
    const span = this.#try;
    if (!span) return;
    this.#try = null;
    if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    span.end();
  }

  finish(ctx: RequestContext): void {
    this.endTry();
    const span = this.#server;
    const status = ctx.response.status;
    span.setAttribute('http.response.status_code', status);
    span.setAttribute('http.status_code', status);
    if (ctx.route) {
      span.setAttribute('kong.route.id', ctx.route.id);
      if (ctx.route.name) span.setAttribute('kong.route.name', ctx.route.name);
      span.setAttribute('http.route', ctx.route.name ?? ctx.route.id);
    }
    if (ctx.service) {
      span.setAttribute('kong.service.id', ctx.service.id);
      if (ctx.service.name) span.setAttribute('kong.service.name', ctx.service.name);
    }
    if (ctx.consumer) span.setAttribute('kong.consumer.id', ctx.consumer.id);
    if (ctx.upstreamStatus !== null) span.setAttribute('kong.upstream.status_code', ctx.upstreamStatus);
    span.setAttribute('kong.response.source', ctx.response.source === 'service' ? 'upstream' : 'kong');
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}
