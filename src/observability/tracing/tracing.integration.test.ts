/**
 * OpenTelemetry tracing through a real gateway and a real local OTLP/HTTP collector: one SERVER
 * span per request (child of the client's traceparent, or the root of a new trace) with route and
 * service attributes and the status, one CLIENT span per upstream try (a refused connection and
 * its retry make two), and the upstream sees a traceparent naming the last try's span with the
 * same trace id and the client's tracestate. Without --otlp-endpoint the client's trace headers
 * pass through untouched and nothing is exported.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { refusingPort, startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } }[];
  status?: { code?: number; message?: string };
}
const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;

/** A minimal OTLP/HTTP JSON collector: records every span POSTed to /v1/traces. */
async function startCollector() {
  const spans: OtlpSpan[] = [];
  const posts: { path: string; contentType: string | undefined }[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', contentType: req.headers['content-type'] });
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    posts,
    /** Resolves with the spans of a trace once `done` holds for them. */
    async trace(traceId: string, done: (s: OtlpSpan[]) => boolean, ms = 8000): Promise<OtlpSpan[]> {
      const deadline = Date.now() + ms;
      for (;;) {
        const mine = spans.filter((s) => s.traceId === traceId);
        if (done(mine)) return mine;
        const left = deadline - Date.now();
        if (left <= 0) return mine;
        await new Promise<void>((r) => {
          const t = setTimeout(w, Math.min(left, 500));
          function w() { clearTimeout(t); waiters.delete(w); r(); }
          waiters.add(w);
        });
      }
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

type Collector = Awaited<ReturnType<typeof startCollector>>;

let collector: Collector;
let up: Upstream;
let gw: GatewayProcess;

before(async () => {
  collector = await startCollector();
  up = await startRecordingUpstream();
  const dead = await refusingPort();
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      upstreams: [{ name: 'pool', targets: [{ target: `127.0.0.1:${dead}` }, { target: `127.0.0.1:${up.port}` }] }],
      services: [
        { name: 'svc', url: up.url, routes: [{ name: 'open', paths: ['/open'] }] },
        { name: 'flaky', host: 'pool', port: up.port, protocol: 'http', retries: 3, routes: [{ name: 'retry', paths: ['/retry'] }] },
      ],
    },
    // The collector is given as a base URL: /v1/traces is appended.
    args: ['--otlp-endpoint', collector.url, '--access-log', 'stdout'],
    env: { OTEL_BSP_SCHEDULE_DELAY: '50' },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
  await collector?.close();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue);
};

async function get(path: string, headers: Record<string, string> = {}): Promise<number> {
  const r = await fetch(`${gw.proxy}${path}`, { headers });
  await r.arrayBuffer();
  return r.status;
}

/** The traceparent the upstream received for a request to `path`. */
function upstreamTraceparent(path: string): string {
  const rec = up.requests.find((r) => r.url === path);
  assert.ok(rec, `the upstream saw ${path}`);
  return String(rec.headers.traceparent);
}

test('a client traceparent: server span is its child, the upstream sees the client span as parent', async () => {
  const traceId = hex(16);
  const parentId = hex(8);
  assert.equal(await get('/open/one', { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'vendor=abc' }), 200);

  const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(upstreamTraceparent('/one'));
  assert.ok(sent, 'a valid traceparent upstream');
  assert.equal(sent[1], traceId, 'same trace');
  assert.notEqual(sent[2], parentId, 'a new parent: the gateway span');
  assert.equal(up.requests.find((r) => r.url === '/one')!.headers.tracestate, 'vendor=abc');

  const spans = await collector.trace(traceId, (s) => s.length >= 2);
  assert.equal(spans.length, 2, JSON.stringify(spans));
  const server = spans.find((s) => s.kind === SERVER)!;
  const client = spans.find((s) => s.kind === CLIENT)!;
  assert.ok(server && client);
  assert.equal(server.name, 'kong');
  assert.equal(server.parentSpanId, parentId);
  assert.equal(client.name, 'kong.balancer');
  assert.equal(client.parentSpanId, server.spanId);
  assert.equal(client.spanId, sent[2], 'the upstream was told the client span');
  assert.equal(attr(server, 'kong.route.name'), 'open');
  assert.equal(attr(server, 'kong.service.name'), 'svc');
  assert.equal(attr(server, 'http.response.status_code'), 200);
  assert.equal(attr(server, 'http.request.method'), 'GET');
  assert.equal(attr(client, 'net.peer.port'), up.port);
  assert.equal(attr(client, 'http.response.status_code'), 200);
  assert.ok(collector.posts.every((p) => p.path === '/v1/traces' && p.contentType?.startsWith('application/json')));

  // The access-log line of the request names its trace (flushed within a second).
  const deadline = Date.now() + 5000;
  let line: string | undefined;
  while (!(line = gw.output().split('\n').find((l) => l.includes('"uri":"/open/one"'))) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(line, gw.output());
  assert.deepEqual((JSON.parse(line) as { trace_id: unknown }).trace_id, { w3c: traceId });
});

test('no traceparent: a new trace; the upstream gets its id', async () => {
  assert.equal(await get('/open/two'), 200);
  const sent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(upstreamTraceparent('/two'));
  assert.ok(sent);
  const spans = await collector.trace(sent[1]!, (s) => s.length >= 2);
  const server = spans.find((s) => s.kind === SERVER);
  assert.ok(server, 'the server span was exported under the trace id the upstream saw');
  assert.ok(!server.parentSpanId, 'a root span');
  assert.equal(spans.find((s) => s.kind === CLIENT)?.spanId, sent[2]);
});

test('a refused connection and its retry are two client spans of one server span', async () => {
  // Round robin over [dead, live]: within two requests one starts on the dead target.
  let found: { spans: OtlpSpan[]; path: string } | null = null;
  for (let i = 0; i < 4 && !found; i++) {
    const traceId = hex(16);
    const path = `/retry/${i}`;
    assert.equal(await get(path, { traceparent: `00-${traceId}-${hex(8)}-01` }), 200);
    const spans = await collector.trace(traceId, (s) => s.some((x) => x.kind === SERVER));
    if (spans.filter((s) => s.kind === CLIENT).length === 2) found = { spans, path };
  }
  assert.ok(found, 'one request hit the refusing target first');
  const server = found.spans.find((s) => s.kind === SERVER)!;
  const tries = found.spans.filter((s) => s.kind === CLIENT).sort((a, b) => Number(attr(a, 'try_count')) - Number(attr(b, 'try_count')));
  assert.equal(tries.length, 2);
  for (const t of tries) assert.equal(t.parentSpanId, server.spanId);
  assert.equal(tries[0]!.status?.code, STATUS_ERROR, 'the refused try failed');
  assert.notEqual(attr(tries[0]!, 'net.peer.port'), up.port);
  assert.equal(attr(tries[1]!, 'net.peer.port'), up.port);
  assert.equal(attr(tries[1]!, 'http.response.status_code'), 200);
  assert.equal(attr(server, 'http.response.status_code'), 200);
  assert.equal(attr(server, 'kong.route.name'), 'retry');
  // The upstream was told the try that reached it.
  const sent = upstreamTraceparent(found.path.replace('/retry', ''));
  assert.equal(sent.split('-')[2], tries[1]!.spanId);
});

test('an unsampled client trace is propagated (flag 00) and not exported', async () => {
  const traceId = hex(16);
  assert.equal(await get('/open/unsampled', { traceparent: `00-${traceId}-${hex(8)}-00` }), 200);
  const sent = upstreamTraceparent('/unsampled');
  assert.match(sent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  // A later sampled request's spans arrive; the unsampled ones never do.
  const marker = hex(16);
  assert.equal(await get('/open/after', { traceparent: `00-${marker}-${hex(8)}-01` }), 200);
  await collector.trace(marker, (s) => s.length >= 2);
  assert.equal(collector.spans.filter((s) => s.traceId === traceId).length, 0);
});

test('without --otlp-endpoint the client trace headers pass through as they came and nothing is exported', async () => {
  const plain = await startGateway({
    config: { _format_version: '3.0', services: [{ name: 'svc', url: up.url, routes: [{ name: 'open', paths: ['/plain'] }] }] },
    env: { OTEL_BSP_SCHEDULE_DELAY: '50' },
  });
  try {
    const traceId = hex(16);
    const traceparent = `00-${traceId}-${hex(8)}-01`;
    const r = await fetch(`${plain.proxy}/plain/x`, { headers: { traceparent, tracestate: 'vendor=abc' } });
    await r.arrayBuffer();
    assert.equal(r.status, 200);
    const rec = up.requests.find((q) => q.url === '/x');
    assert.equal(rec?.headers.traceparent, traceparent);
    assert.equal(rec?.headers.tracestate, 'vendor=abc');
    assert.equal(collector.spans.filter((s) => s.traceId === traceId).length, 0);
  } finally {
    await plain.stop();
  }
  assert.ok(!plain.output().includes('"upstream_uri"'), 'the access log is off by default');
});
