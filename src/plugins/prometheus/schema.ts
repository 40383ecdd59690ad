/**
 * @module plugins/prometheus/schema
 * Kong's prometheus config: which metric families to collect, all off by default (Kong 3.x).
 * `ai_metrics` and `wasm_metrics` are accepted for compatibility; Turnpike has neither AI proxy
 * plugins nor Wasm filters, so they export nothing.
 */
import { Type, type Static } from '@sinclair/typebox';

export const PrometheusSchema = Type.Object({
  per_consumer: Type.Boolean({ default: false }),
  status_code_metrics: Type.Boolean({ default: false }),
  ai_metrics: Type.Boolean({ default: false }),
  latency_metrics: Type.Boolean({ default: false }),
  bandwidth_metrics: Type.Boolean({ default: false }),
  upstream_health_metrics: Type.Boolean({ default: false }),
  wasm_metrics: Type.Boolean({ default: false }),
});

export type PrometheusConfig = Static<typeof PrometheusSchema>;
