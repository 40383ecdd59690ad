/**
 * prometheus: schema defaults, what the log handler records for each flag (labels as Kong's),
 * the worker delta and the primary's totals, and the exposition text (families, HELP/TYPE,
 * Kong's ordering, buckets, the plugin-less node gauges, upstream health).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../config/validate.ts';
import type { Plugin, Route, Service } from '../../config/entities.ts';
import type { PluginDefinition } from '../api.ts';
import { makeContext, silentLog } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';
import { MetricsRecorder, recorder, takeMetricsDelta } from './recorder.ts';
import { MetricsAggregator, metricsRenderer, prometheusSettings, type MetricsInput } from './exporter.ts';

const PLUGINS = new Map<string, PluginDefinition>([[plugin.name, plugin as unknown as PluginDefinition]]);

function validate(config: unknown): Record<string, unknown> {
  const r = validateConfig({ _format_version: '3.0', plugins: [{ name: plugin.name, config }] }, PLUGINS);
  assert.ok(r.ok, JSON.stringify(r));
  return r.config.plugins[0]!.config as Record<string, unknown>;
}

const route = { id: 'r-id', name: 'r1' } as Route;
const service = { id: 's-id', name: 'svc', host: 'up.test' } as Service;

function request(config: Record<string, unknown>, opts: { status?: number; source?: 'service' | 'exit' | 'error'; route?: Route | null; service?: Service | null; consumer?: string | null } = {}) {
  const h = plugin.create(validate(config) as never, { entity: {} as never, log: silentLog });
  const ctx = makeContext({ route: opts.route === undefined ? route : opts.route, service: opts.service === undefined ? service : opts.service, headers: { 'x-a': 'b' } });
  if (opts.consumer !== undefined) ctx.authenticate({ id: 'c-id', username: opts.consumer, custom_id: null } as never, null);
  ctx.response.status = opts.status ?? 200;
  (ctx.response as { source: string }).source = opts.source ?? 'service';
  ctx.response.setHeader('Content-Type', 'text/plain');
  (ctx as unknown as { bytesOut: number }).bytesOut = 100;
  h.log!(ctx);
}

test('schema: every flag defaults to false', () => {
  assert.deepEqual(validate({}), {
    per_consumer: false, status_code_metrics: false, ai_metrics: false, latency_metrics: false,
    bandwidth_metrics: false, upstream_health_metrics: false, wasm_metrics: false,
  });
});

test('defaults record nothing; no route means not counted', () => {
  takeMetricsDelta();
  request({});
  request({ status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true }, { route: null });
  assert.equal(takeMetricsDelta(), null);
});

test('status_code_metrics: kong_http_requests_total with Kong\'s labels; source kong for exits; consumer only with per_consumer', () => {
  takeMetricsDelta();
  request({ status_code_metrics: true });
  request({ status_code_metrics: true });
  request({ status_code_metrics: true }, { status: 401, source: 'exit', consumer: 'alice' });
  request({ status_code_metrics: true, per_consumer: true }, { status: 200, consumer: 'alice' });
  request({ status_code_metrics: true }, { status: 503, source: 'error', service: null, route: { id: 'rid-2', name: null } as Route });
  request({ status_code_metrics: true }, { service: { id: 's2', name: null, host: 'host.only' } as Service });
  const d = takeMetricsDelta()!;
  assert.deepEqual(d.histograms, []);
  assert.deepEqual(new Map(d.counters.map(([f, l, v]) => [`${f}{${l}}`, v])), new Map([
    ['http_requests_total{service="svc",route="r1",code="200",source="service",workspace="default",consumer=""}', 2],
    ['http_requests_total{service="svc",route="r1",code="401",source="kong",workspace="default",consumer=""}', 1],
    ['http_requests_total{service="svc",route="r1",code="200",source="service",workspace="default",consumer="alice"}', 1],
    ['http_requests_total{service="",route="rid-2",code="503",source="kong",workspace="default",consumer=""}', 1],
    ['http_requests_total{service="host.only",route="r1",code="200",source="service",workspace="default",consumer=""}', 1],
  ]));
});

test('latency_metrics and bandwidth_metrics: histograms and byte counters', () => {
  takeMetricsDelta();
  request({ latency_metrics: true, bandwidth_metrics: true, per_consumer: true }, { consumer: 'bob' });
  const d = takeMetricsDelta()!;
  const counters = new Map(d.counters.map(([f, l, v]) => [`${f}{${l}}`, v]));
  const egress = counters.get('bandwidth_bytes{service="svc",route="r1",direction="egress",workspace="default",consumer="bob"}');
  const ingress = counters.get('bandwidth_bytes{service="svc",route="r1",direction="ingress",workspace="default",consumer="bob"}');
  assert.ok(egress! > 100, `egress counts status line, headers and body (${egress})`);
  assert.ok(ingress! > 0);
  const families = d.histograms.map(([f, l]) => `${f}{${l}}`).sort();
  // No upstream was involved: the proxy latency is -1 and not observed (as Kong).
  assert.deepEqual(families, [
    'kong_latency_ms{service="svc",route="r1",workspace="default"}',
    'request_latency_ms{service="svc",route="r1",workspace="default"}',
  ]);
  for (const [, , counts, , count] of d.histograms) {
    assert.equal(count, 1);
    assert.equal(counts.reduce((a, b) => a + b, 0), 1);
  }
});

test('label values are escaped', () => {
  takeMetricsDelta();
  request({ status_code_metrics: true }, { route: { id: 'x', name: 'a"b\\c' } as Route });
  const d = takeMetricsDelta()!;
  assert.match(d.counters[0]![1], /route="a\\"b\\\\c"/);
});

test('recorder: bucket placement (le is inclusive), sum and count; take() resets', () => {
  const r = new MetricsRecorder();
  for (const v of [0, 1, 1.5, 6000, 6001]) r.observe('kong_latency_ms', 'x="1"', v);
  const d = r.take()!;
  const [, , counts, sum, count] = d.histograms[0]!;
  assert.equal(counts.length, 18);
  assert.equal(counts[0], 2); // 0 and 1 go to le=1
  assert.equal(counts[1], 1); // 1.5 to le=2
  assert.equal(counts[16], 1); // 6000 to le=6000
  assert.equal(counts[17], 1); // 6001 to +Inf
  assert.equal(sum, 12003.5);
  assert.equal(count, 5);
  assert.equal(r.take(), null);
  assert.notEqual(recorder, r);
});

function input(over: Partial<MetricsInput> = {}): MetricsInput {
  return {
    nodeId: 'node-1', version: '0.1.0',
    server: { total_requests: 7, connections_active: 2, connections_accepted: 5, connections_handled: 5, connections_reading: 0, connections_writing: 2, connections_waiting: 0 },
    memory: { workers: [{ pid: 11, http_allocated_gc: 1024 }], shared: {} },
    pluginEnabled: false, store: null, upstreams: null, ...over,
  };
}

test('without a prometheus plugin: only the node gauges, in Kong\'s order', () => {
  const store = new MetricsAggregator();
  store.add({ counters: [['http_requests_total', 'service="s",route="r",code="200",source="service",workspace="default",consumer=""', 3]], histograms: [] });
  const text = metricsRenderer(input({ store }));
  assert.equal(text, [
    '# HELP kong_datastore_reachable Datastore reachable from Kong, 0 is unreachable',
    '# TYPE kong_datastore_reachable gauge',
    'kong_datastore_reachable 1',
    '# HELP kong_memory_workers_lua_vms_bytes Allocated bytes in worker Lua VM',
    '# TYPE kong_memory_workers_lua_vms_bytes gauge',
    'kong_memory_workers_lua_vms_bytes{node_id="node-1",pid="11",kong_subsystem="http"} 1024',
    '# HELP kong_nginx_connections_total Number of connections by subsystem',
    '# TYPE kong_nginx_connections_total gauge',
    'kong_nginx_connections_total{node_id="node-1",subsystem="http",state="accepted"} 5',
    'kong_nginx_connections_total{node_id="node-1",subsystem="http",state="active"} 2',
    'kong_nginx_connections_total{node_id="node-1",subsystem="http",state="handled"} 5',
    'kong_nginx_connections_total{node_id="node-1",subsystem="http",state="reading"} 0',
    'kong_nginx_connections_total{node_id="node-1",subsystem="http",state="total"} 7',
    'kong_nginx_connections_total{node_id="node-1",subsystem="http",state="waiting"} 0',
    'kong_nginx_connections_total{node_id="node-1",subsystem="http",state="writing"} 2',
    '# HELP kong_nginx_requests_total Number of requests total',
    '# TYPE kong_nginx_requests_total gauge',
    'kong_nginx_requests_total{node_id="node-1",subsystem="http"} 7',
    '# HELP kong_nginx_timers Number of nginx timers',
    '# TYPE kong_nginx_timers gauge',
    'kong_nginx_timers{state="pending"} 0',
    'kong_nginx_timers{state="running"} 0',
    '# HELP kong_node_info Kong Node metadata information',
    '# TYPE kong_node_info gauge',
    'kong_node_info{node_id="node-1",version="0.1.0"} 1',
    '',
  ].join('\n'));
});

test('with the plugin: counters summed across deltas, histograms cumulative with +Inf last, _count and _sum', () => {
  const store = new MetricsAggregator();
  const a = new MetricsRecorder();
  const b = new MetricsRecorder();
  a.inc('http_requests_total', 'service="s",route="r",code="200",source="service",workspace="default",consumer=""', 2);
  b.inc('http_requests_total', 'service="s",route="r",code="200",source="service",workspace="default",consumer=""', 3);
  a.observe('kong_latency_ms', 'service="s",route="r",workspace="default"', 3);
  b.observe('kong_latency_ms', 'service="s",route="r",workspace="default"', 8000);
  store.add(a.take()!);
  store.add(b.take()!);
  assert.equal(store.counterTotal('http_requests_total'), 5);
  const text = metricsRenderer(input({ store, pluginEnabled: true }));
  assert.ok(text.includes('# HELP kong_http_requests_total HTTP status codes per consumer/service/route in Kong\n# TYPE kong_http_requests_total counter\n'
    + 'kong_http_requests_total{service="s",route="r",code="200",source="service",workspace="default",consumer=""} 5\n'));
  const lines = text.split('\n');
  const start = lines.indexOf('# TYPE kong_kong_latency_ms histogram');
  assert.equal(lines[start - 1], '# HELP kong_kong_latency_ms Latency added by Kong and enabled plugins for each service/route in Kong');
  const hist = lines.slice(start + 1, start + 1 + 20);
  assert.deepEqual(hist.slice(0, 4), [
    'kong_kong_latency_ms_bucket{service="s",route="r",workspace="default",le="1"} 0',
    'kong_kong_latency_ms_bucket{service="s",route="r",workspace="default",le="2"} 0',
    'kong_kong_latency_ms_bucket{service="s",route="r",workspace="default",le="5"} 1',
    'kong_kong_latency_ms_bucket{service="s",route="r",workspace="default",le="7"} 1',
  ]);
  assert.equal(hist[16], 'kong_kong_latency_ms_bucket{service="s",route="r",workspace="default",le="6000"} 1');
  assert.equal(hist[17], 'kong_kong_latency_ms_bucket{service="s",route="r",workspace="default",le="+Inf"} 2');
  assert.equal(hist[18], 'kong_kong_latency_ms_count{service="s",route="r",workspace="default"} 2');
  assert.equal(hist[19], 'kong_kong_latency_ms_sum{service="s",route="r",workspace="default"} 8003');
});

test('upstream_health_metrics: one series per state, 1 for the current one; dns_error without addresses', () => {
  const text = metricsRenderer(input({
    pluginEnabled: true,
    upstreams: [{ name: 'up', targets: [
      { target: 'a.test:80', addresses: [{ ip: '10.0.0.1', port: 80, health: 'HEALTHY' }] },
      { target: 'b.test:80', addresses: [] },
    ] }],
  }));
  const lines = text.split('\n').filter((l) => l.startsWith('kong_upstream_target_health'));
  assert.deepEqual(lines, [
    'kong_upstream_target_health{upstream="up",target="a.test:80",address="10.0.0.1:80",state="dns_error",subsystem="http"} 0',
    'kong_upstream_target_health{upstream="up",target="a.test:80",address="10.0.0.1:80",state="healthchecks_off",subsystem="http"} 0',
    'kong_upstream_target_health{upstream="up",target="a.test:80",address="10.0.0.1:80",state="healthy",subsystem="http"} 1',
    'kong_upstream_target_health{upstream="up",target="a.test:80",address="10.0.0.1:80",state="unhealthy",subsystem="http"} 0',
    'kong_upstream_target_health{upstream="up",target="b.test:80",address="",state="dns_error",subsystem="http"} 1',
    'kong_upstream_target_health{upstream="up",target="b.test:80",address="",state="healthchecks_off",subsystem="http"} 0',
    'kong_upstream_target_health{upstream="up",target="b.test:80",address="",state="healthy",subsystem="http"} 0',
    'kong_upstream_target_health{upstream="up",target="b.test:80",address="",state="unhealthy",subsystem="http"} 0',
  ]);
  assert.ok(text.includes('# TYPE kong_upstream_target_health gauge'));
});

test('prometheusSettings: enabled instances only; upstream health if any asks for it', () => {
  const p = (config: Record<string, unknown>, enabled = true) => ({ name: 'prometheus', enabled, config }) as unknown as Plugin;
  assert.deepEqual(prometheusSettings([]), { enabled: false, upstreamHealth: false });
  assert.deepEqual(prometheusSettings([p({ upstream_health_metrics: true }, false)]), { enabled: false, upstreamHealth: false });
  assert.deepEqual(prometheusSettings([p({}), p({ upstream_health_metrics: true })]), { enabled: true, upstreamHealth: true });
  assert.deepEqual(prometheusSettings([{ name: 'cors', enabled: true, config: {} } as unknown as Plugin]), { enabled: false, upstreamHealth: false });
});
