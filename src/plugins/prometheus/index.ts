/**
 * @module plugins/prometheus
 * Kong's prometheus plugin (priority 13). The log handler only bumps in-memory counters
 * (recorder.ts); workers ship them to the primary once a second and the primary renders
 * `GET /metrics` on the Admin and Status APIs (exporter.ts). What is recorded follows the config
 * flags, with Kong's label sets:
 *
 * - `status_code_metrics`: `kong_http_requests_total{service,route,code,source,workspace,consumer}`
 * - `latency_metrics`: `kong_kong_latency_ms`, `kong_upstream_latency_ms`, `kong_request_latency_ms`
 *   histograms `{service,route,workspace}`
 * - `bandwidth_metrics`: `kong_bandwidth_bytes{service,route,direction,workspace,consumer}`
 * - `per_consumer`: the consumer label carries the consumer's username (else it is empty)
 * - `upstream_health_metrics`: read by the primary when it renders (exporter.ts)
 *
 * Requests that matched no route are not counted (as in Kong). The service label is the
 * service's name or else its host; the route label the route's name or else its id.
 */
import { definePlugin, type PluginContext } from '../api.ts';
import { VERSION } from '../../version.ts';
import { PrometheusSchema, type PrometheusConfig } from './schema.ts';
import { escapeLabel, recorder } from './recorder.ts';

const WORKSPACE = 'default';

/** Records one finished request (the log phase). Exported for tests. */
export function recordRequest(config: PrometheusConfig, ctx: PluginContext): void {
  const route = ctx.route;
  if (!route) return;
  const service = ctx.service;
  const serviceLabel = escapeLabel(service ? (service.name ?? service.host ?? '') : '');
  const routeLabel = escapeLabel(route.name ?? route.id);
  const consumer = config.per_consumer && ctx.consumer?.username ? escapeLabel(ctx.consumer.username) : '';
  const head = `service="${serviceLabel}",route="${routeLabel}"`;

  if (config.status_code_metrics) {
    const source = ctx.response.source === 'service' ? 'service' : 'kong';
    recorder.inc('http_requests_total',
      `${head},code="${ctx.response.status}",source="${source}",workspace="${WORKSPACE}",consumer="${consumer}"`, 1);
  }
  if (!config.latency_metrics && !config.bandwidth_metrics) return;
  const entry = ctx.serialize();
  if (config.bandwidth_metrics) {
    const ingress = Number((entry.request as { size?: unknown } | undefined)?.size ?? 0);
    const egress = Number((entry.response as { size?: unknown } | undefined)?.size ?? 0);
    if (ingress > 0) recorder.inc('bandwidth_bytes', `${head},direction="ingress",workspace="${WORKSPACE}",consumer="${consumer}"`, ingress);
    if (egress > 0) recorder.inc('bandwidth_bytes', `${head},direction="egress",workspace="${WORKSPACE}",consumer="${consumer}"`, egress);
  }
  if (config.latency_metrics) {
    const l = (entry.latencies ?? {}) as { kong?: number; proxy?: number; request?: number };
    const labels = `${head},workspace="${WORKSPACE}"`;
    if (typeof l.request === 'number' && l.request >= 0) recorder.observe('request_latency_ms', labels, l.request);
    if (typeof l.proxy === 'number' && l.proxy >= 0) recorder.observe('upstream_latency_ms', labels, l.proxy);
    if (typeof l.kong === 'number' && l.kong >= 0) recorder.observe('kong_latency_ms', labels, l.kong);
  }
}

export default definePlugin({
  name: 'prometheus',
  version: VERSION,
  priority: 13,
  schema: PrometheusSchema,
  create(config) {
    return {
      log(ctx) {
        try { recordRequest(config, ctx); } catch (err) {
          ctx.log.error(`prometheus: could not record the request: ${(err as Error).message}`);
        }
      },
    };
  },
});
