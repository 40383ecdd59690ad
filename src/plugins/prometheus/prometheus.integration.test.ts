/**
 * prometheus through a real gateway with two workers: N requests spread over both workers sum to
 * N on the Status API's /metrics (and the Admin API's), with Kong's labels for proxied answers and
 * plugin exits, latency histograms, bandwidth, upstream target health; without the plugin only the
 * node gauges remain.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

function config(withPlugin: boolean) {
  return {
    _format_version: '3.0',
    upstreams: [{ name: 'backend', targets: [{ target: `127.0.0.1:${up.port}` }] }],
    services: [{
      name: 'svc', host: 'backend', port: up.port, protocol: 'http',
      routes: [
        { name: 'open', paths: ['/open'] },
        { name: 'locked', paths: ['/locked'], plugins: [{ name: 'key-auth' }] },
      ],
    }],
    plugins: withPlugin ? [{
      name: 'prometheus',
      config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true, per_consumer: true },
    }] : [],
  };
}

before(async () => {
  up = await startRecordingUpstream();
  gw = await startGateway({ workers: 2, config: config(true) });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

/** Sums the values of the lines of a family whose labels contain every fragment. */
function sum(text: string, family: string, ...fragments: string[]): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`) && !line.startsWith(`${family} `)) continue;
    if (fragments.every((f) => line.includes(f))) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

async function metrics(base: string): Promise<{ status: number; type: string | null; text: string }> {
  const r = await fetch(`${base}/metrics`);
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

/** Polls /metrics until `done` holds (workers report once a second). */
async function waitFor(done: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 6000;
  for (;;) {
    const { text } = await metrics(gw.status);
    if (done(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('N requests over two workers sum to N; exits are counted with source kong', async () => {
  const N = 40;
  const pids = new Set<string>();
  // New connections each time so both workers get a share.
  await Promise.all(Array.from({ length: N }, async () => {
    const r = await fetch(`${gw.proxy}/open/x`, { headers: { connection: 'close' } });
    await r.text();
    assert.equal(r.status, 200);
  }));
  for (let i = 0; i < 5; i++) {
    const r = await fetch(`${gw.proxy}/locked`, { headers: { connection: 'close' } });
    await r.text();
    assert.equal(r.status, 401);
  }
  const r404 = await fetch(`${gw.proxy}/nowhere`);
  await r404.text();
  assert.equal(r404.status, 404);

  const text = await waitFor((t) => sum(t, 'kong_http_requests_total') >= N + 5);
  const ok = 'kong_http_requests_total{service="svc",route="open",code="200",source="service",workspace="default",consumer=""}';
  assert.ok(text.includes(`${ok} ${N}\n`), text);
  assert.ok(text.includes('kong_http_requests_total{service="svc",route="locked",code="401",source="kong",workspace="default",consumer=""} 5\n'));
  assert.equal(sum(text, 'kong_http_requests_total'), N + 5, 'the 404 without a route is not counted');
  assert.ok(text.includes('# TYPE kong_http_requests_total counter'));

  // Both workers served: each reports its heap.
  for (const line of text.split('\n')) {
    const m = /^kong_memory_workers_lua_vms_bytes\{node_id="[^"]+",pid="(\d+)"/.exec(line);
    if (m) pids.add(m[1]!);
  }
  assert.equal(pids.size, 2);

  // Latency histograms: every proxied request observed once per family.
  assert.equal(sum(text, 'kong_request_latency_ms_count', 'route="open"'), N);
  assert.equal(sum(text, 'kong_upstream_latency_ms_count', 'route="open"'), N);
  assert.equal(sum(text, 'kong_kong_latency_ms_count', 'route="open"'), N);
  assert.equal(sum(text, 'kong_request_latency_ms_bucket', 'route="open"', 'le="+Inf"'), N);
  assert.equal(sum(text, 'kong_upstream_latency_ms_count', 'route="locked"'), 0, 'an exit has no upstream latency');
  assert.ok(sum(text, 'kong_bandwidth_bytes', 'route="open"', 'direction="ingress"') > 0);
  assert.ok(sum(text, 'kong_bandwidth_bytes', 'route="open"', 'direction="egress"') > N * 100);

  // Node gauges.
  assert.match(text, /^kong_node_info\{node_id="[0-9a-f-]{36}",version="[^"]+"\} 1$/m);
  assert.match(text, /^kong_datastore_reachable 1$/m);
  assert.match(text, /^kong_nginx_connections_total\{node_id="[^"]+",subsystem="http",state="accepted"\} \d+$/m);
  assert.match(text, /^kong_upstream_target_health\{upstream="backend",target="127\.0\.0\.1:\d+",address="127\.0\.0\.1:\d+",state="healthchecks_off",subsystem="http"\} 1$/m);
});

test('the Admin API serves the same metrics; content type as Kong', async () => {
  const s = await metrics(gw.status);
  const a = await metrics(gw.admin);
  assert.equal(a.status, 200);
  assert.equal(s.type, 'text/plain; charset=UTF-8');
  assert.equal(sum(a.text, 'kong_http_requests_total'), sum(s.text, 'kong_http_requests_total'));
});

test('without a prometheus plugin only the node gauges remain', async () => {
  const r = await gw.postConfig(config(false));
  assert.equal(r.status, 201, await r.text());
  const res = await fetch(`${gw.proxy}/open/y`);
  await res.text();
  const { status, text } = await metrics(gw.status);
  assert.equal(status, 200);
  assert.ok(!text.includes('kong_http_requests_total'));
  assert.ok(!text.includes('kong_upstream_target_health'));
  assert.ok(!text.includes('latency_ms'));
  assert.match(text, /^kong_node_info\{/m);
  assert.match(text, /^kong_nginx_requests_total\{node_id="[^"]+",subsystem="http"\} \d+$/m);
});
