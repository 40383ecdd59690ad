/**
 * Process metrics and the Grafana dashboard against a real gateway with two workers: /metrics on
 * the Status API carries one series per process (primary and each worker) for memory, CPU and
 * event-loop lag, and every metric name that deploy/grafana/turnpike-dashboard.json queries is one
 * the gateway exports once traffic flowed through a prometheus-enabled route.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startGateway, type GatewayProcess } from '../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../test/harness/upstreams.ts';

const DASHBOARD = fileURLToPath(new URL('../../deploy/grafana/turnpike-dashboard.json', import.meta.url));

let gw: GatewayProcess;
let up: Upstream;

before(async () => {
  up = await startRecordingUpstream();
  gw = await startGateway({
    workers: 2,
    config: {
      _format_version: '3.0',
      upstreams: [{ name: 'backend', targets: [{ target: `127.0.0.1:${up.port}` }] }],
      services: [{ name: 'svc', host: 'backend', port: up.port, protocol: 'http', routes: [{ name: 'open', paths: ['/open'] }] }],
      plugins: [{
        name: 'prometheus',
        config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true },
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

/** Metric names in an exposition text (histograms: the _bucket/_count/_sum series names). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** Every PromQL expression of the dashboard: panel targets and template variable queries. */
function dashboardQueries(): string[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr?: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const out: string[] = [];
  for (const p of d.panels) for (const t of p.targets ?? []) if (t.expr) out.push(t.expr);
  for (const v of d.templating.list) {
    const q = typeof v.query === 'object' && v.query ? (v.query as { query?: string }).query : undefined;
    if (q && q.includes('(')) out.push(q);
  }
  return out;
}

/** Metric names a PromQL expression reads: identifiers with one of Turnpike's prefixes. */
function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:kong|process|nodejs|turnpike)_[a-zA-Z0-9_:]*)/g)].map((m) => m[1]!);
}

async function scrape(): Promise<string> {
  const r = await fetch(`${gw.status}/metrics`);
  assert.equal(r.status, 200);
  return r.text();
}

/** Polls /metrics until `done` holds (workers report once a second). */
async function waitFor(done: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const text = await scrape();
    if (done(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('every process reports memory, CPU and event-loop lag, labelled by process', async () => {
  const text = await waitFor((t) => (t.match(/^process_resident_memory_bytes\{process="worker-/gm) ?? []).length >= 2);
  const rss = text.split('\n').filter((l) => l.startsWith('process_resident_memory_bytes{'));
  assert.equal(rss.length, 3, text);
  assert.ok(rss.some((l) => l.startsWith('process_resident_memory_bytes{process="primary",pid="')));
  for (const l of rss) assert.ok(Number(l.split(' ')[1]) > 10_000_000, `an RSS of a real Node process: ${l}`);
  const lag = text.split('\n').filter((l) => /^nodejs_eventloop_lag_p99_seconds\{process="worker-\d+",pid="\d+"\} /.test(l));
  assert.equal(lag.length, 2, text);
  const value = (family: string, pid: string) => Number(new RegExp(`^${family}\\{[^}]*pid="${pid}"\\} (\\S+)$`, 'm').exec(text)![1]);
  for (const l of lag) {
    const pid = /pid="(\d+)"/.exec(l)![1]!;
    const [p50, p99, max] = ['p50', 'p99', 'max'].map((q) => value(`nodejs_eventloop_lag_${q}_seconds`, pid)) as [number, number, number];
    assert.ok(p50 >= 0 && p50 <= p99 && p99 <= max + 0.001 && max < 5, `a plausible event-loop delay (s): p50 ${p50}, p99 ${p99}, max ${max}`);
  }
  assert.match(text, /^turnpike_workers 2$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
  // The worker pids in the process series are the workers the gateway reports.
  const pids = new Set([...text.matchAll(/^kong_memory_workers_lua_vms_bytes\{[^}]*pid="(\d+)"/gm)].map((m) => m[1]));
  for (const l of lag) assert.ok(pids.has(/pid="(\d+)"/.exec(l)![1]), l);
});

test('every metric the Grafana dashboard queries is exported', async () => {
  const queries = dashboardQueries();
  assert.ok(queries.length >= 15, 'the dashboard has its panels');
  const wanted = new Set<string>();
  for (const q of queries) {
    const names = metricNamesIn(q);
    assert.ok(names.length > 0, `a query that reads no Turnpike metric: ${q}`);
    for (const n of names) wanted.add(n);
  }
  // Traffic that fills the per-request families on both workers.
  await Promise.all(Array.from({ length: 20 }, async () => {
    const r = await fetch(`${gw.proxy}/open/x`, { headers: { connection: 'close' } });
    await r.text();
    assert.equal(r.status, 200);
  }));
  const text = await waitFor((t) => [...wanted].every((n) => exportedNames(t).has(n)));
  const exported = exportedNames(text);
  const missing = [...wanted].filter((n) => !exported.has(n));
  assert.deepEqual(missing, [], `queried by the dashboard but not exported:\n${text}`);
  for (const family of ['kong_http_requests_total', 'kong_request_latency_ms_bucket', 'kong_bandwidth_bytes', 'kong_upstream_target_health',
    'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes']) {
    assert.ok(wanted.has(family), `the dashboard shows ${family}`);
  }
});
