/**
 * @module observability/worker-observability
 * What a worker process sets up for observability, from its settings: the access log, the tracer
 * (the OpenTelemetry SDK is imported only when tracing is on) and the process sampler whose
 * numbers ride on the worker's stats message to the primary.
 */
import type { RequestContext } from '../gateway/pipeline/context.ts';
import type { GatewaySettings } from '../gateway/settings.ts';
import { openAccessLog, parseAccessLogTarget, type AccessLog } from './access-log.ts';
import { ProcessSampler } from './process-metrics.ts';
import type { RequestTracer } from './tracing/types.ts';

export interface WorkerObservability {
  readonly accessLog: AccessLog | null;
  readonly tracer: RequestTracer | null;
  readonly sampler: ProcessSampler;
  /** Writes what is buffered and exports queued spans (before a draining worker exits). */
  close(): Promise<void>;
}

export async function setupWorkerObservability(settings: GatewaySettings): Promise<WorkerObservability> {
  const accessLog = openAccessLog(parseAccessLogTarget(settings.accessLog));
  let tracer: RequestTracer | null = null;
  if (settings.otlpEndpoint) {
    const { createOtelTracer } = await import('./tracing/otel-tracer.ts');
    tracer = createOtelTracer(settings.otlpEndpoint, settings.version);
  }
  const sampler = new ProcessSampler();
  return {
    accessLog, tracer, sampler,
    async close() {
      accessLog?.flushSync();
      // A collector that does not answer must not hold the drain: give it a second.
      if (tracer) await Promise.race([tracer.shutdown().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    },
  };
}

/** The worker's `onComplete`: counts the request and writes its access-log line. */
export function completionHook(obs: WorkerObservability, count: () => void): (ctx: RequestContext) => void {
  const log = obs.accessLog;
  if (!log) return count;
  return (ctx) => { count(); log.write(ctx); };
}
