/**
 * Upstream faults against a real gateway process: every way an upstream can misbehave gets
 * Kong's status (502 for refused/reset/garbage, 504 for timeouts), a response that already
 * started is cut rather than completed with made-up bytes, passive health checks take a failing
 * target out, and `retries` move a request that could not connect to a healthy target.
 * One gateway (two workers) with one route per fault.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startRecordingUpstream, startHangingUpstream, startRawUpstream, refusingPort, type Upstream } from '../harness/upstreams.ts';
import { startLoad, describeFailures, waitFor, sleep } from '../harness/load.ts';
import { rawExchange } from '../harness/raw-client.ts';

const BAD_GATEWAY = 'An invalid response was received from the upstream server';
const TIMING_OUT = 'The upstream server is timing out';

let g: GatewayProcess;
const ups: Record<string, Upstream> = {};
let deadPort = 0;
/** The target that dies under load: a plain http server we can kill. */
let dying: http.Server;
let dyingPort = 0;
let dyingHits = 0;

before(async () => {
  deadPort = await refusingPort();
  ups.hang = await startHangingUpstream();
  ups.resetMid = await startRawUpstream((s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly-part');
    setTimeout(() => s.destroy(), 50);
  });
  ups.resetMidChunked = await startRawUpstream((s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nonly-part\r\n');
    setTimeout(() => s.destroy(), 50);
  });
  ups.hangBody = await startRawUpstream((s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nfirst-bytes');
    // ...and nothing more, ever.
  });
  ups.garbage = await startRawUpstream((s) => { s.end('SSH-2.0-OpenSSH_9.6 this is not http\r\n\r\n'); });
  ups.drip = await startRecordingUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let i = 0;
    const t = setInterval(() => { res.write(`drip${i}\n`); if (++i === 8) { clearInterval(t); res.end(); } }, 100);
  });
  ups.tooSlowDrip = await startRecordingUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('a\n');
    setTimeout(() => { if (!res.destroyed) res.end('b\n'); }, 2_000);
  });
  ups.good = await startRecordingUpstream((_req, res) => res.end('good'));
  ups.good2 = await startRecordingUpstream((_req, res) => res.end('good2'));
  ups.bad500 = await startRecordingUpstream((_req, res) => { res.writeHead(500); res.end('bad'); });
  dying = http.createServer((_req, res) => { dyingHits++; setTimeout(() => res.end('dying'), 2); });
  await new Promise<void>((r) => dying.listen(0, '127.0.0.1', () => r()));
  dyingPort = (dying.address() as net.AddressInfo).port;

  const svc = (name: string, url: string, extra: object = {}) => ({
    name, url, retries: 0, connect_timeout: 1000, read_timeout: 700, write_timeout: 1000,
    routes: [{ name, paths: [`/${name}`], strip_path: true }], ...extra,
  });
  g = await startGateway({
    workers: 2,
    config: {
      _format_version: '3.0',
      upstreams: [
        {
          name: 'failover.internal',
          healthchecks: { passive: { unhealthy: { tcp_failures: 1, timeouts: 1, http_failures: 2, http_statuses: [500, 502, 503] } } },
          targets: [{ target: `127.0.0.1:${dyingPort}` }, { target: `127.0.0.1:${ups.good2.port}` }],
        },
        { name: 'retry.internal', targets: [{ target: `127.0.0.1:${deadPort}` }, { target: `127.0.0.1:${ups.good.port}` }] },
        { name: 'noretry.internal', targets: [{ target: `127.0.0.1:${deadPort}` }] },
        {
          name: 'passive500.internal',
          healthchecks: { passive: { unhealthy: { http_failures: 2, http_statuses: [500] } } },
          targets: [{ target: `127.0.0.1:${ups.bad500.port}` }, { target: `127.0.0.1:${ups.good.port}` }],
        },
      ],
      services: [
        svc('refused', `http://127.0.0.1:${deadPort}`),
        svc('hang', ups.hang.url),
        svc('resetmid', ups.resetMid.url),
        svc('resetmidchunked', ups.resetMidChunked.url),
        svc('hangbody', ups.hangBody.url),
        svc('garbage', ups.garbage.url),
        svc('drip', ups.drip.url),
        svc('slowdrip', ups.tooSlowDrip.url),
        svc('failover', 'http://failover.internal', { retries: 5 }),
        svc('retry', 'http://retry.internal', { retries: 3 }),
        svc('noretry', 'http://noretry.internal', { retries: 3 }),
        svc('passive500', 'http://passive500.internal'),
      ],
    },
  });
});

after(async () => {
  await g?.stop();
  for (const u of Object.values(ups)) await u.close();
  dying.closeAllConnections();
  await new Promise((r) => dying.close(r));
});

test('connection refused: 502 with Kong\'s body, negotiated by Accept', async () => {
  const plain = await fetch(`${g.proxy}/refused`, { headers: { accept: 'text/plain' } });
  assert.equal(plain.status, 502);
  assert.equal(plain.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(await plain.text(), `${BAD_GATEWAY}\n`);
  const json = await fetch(`${g.proxy}/refused`, { headers: { accept: 'application/json' } });
  assert.equal(json.status, 502);
  assert.equal(await json.text(), `{\n  "message":"${BAD_GATEWAY}"\n}`);
});

test('hang before headers: 504 after read_timeout, not a hung client', async () => {
  const t0 = Date.now();
  const r = await fetch(`${g.proxy}/hang`, { headers: { accept: 'text/plain' } });
  const ms = Date.now() - t0;
  assert.equal(r.status, 504);
  assert.equal(await r.text(), `${TIMING_OUT}\n`);
  assert.ok(ms >= 600 && ms < 3_000, `answered after ${ms} ms (read_timeout 700)`);
});

test('garbage instead of HTTP: 502', async () => {
  const r = await fetch(`${g.proxy}/garbage`, { headers: { accept: 'text/plain' } });
  assert.equal(r.status, 502);
  assert.equal(await r.text(), `${BAD_GATEWAY}\n`);
});

test('reset mid-response (Content-Length): the client sees the cut, never a short "complete" body', async () => {
  const r = await fetch(`${g.proxy}/resetmid`);
  assert.equal(r.status, 200, 'headers were already relayed');
  await assert.rejects(r.text(), 'reading the rest of the body fails');
});

test('reset mid-response (chunked): no terminating chunk is invented', async () => {
  const res = await rawExchange(g.proxyPort, 'GET /resetmidchunked HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 2_000 });
  assert.match(res.data, /^HTTP\/1\.1 200 /);
  assert.ok(res.data.includes('only-part'), 'the bytes that arrived are relayed');
  assert.ok(!/\r\n0\r\n\r\n$/.test(res.data), 'a complete chunked body would lie about the upstream');
  assert.ok(res.closedByPeer, 'the gateway closes the client connection');
});

test('hang mid-body: the client connection is cut after read_timeout', async () => {
  const t0 = Date.now();
  const r = await fetch(`${g.proxy}/hangbody`);
  assert.equal(r.status, 200);
  await assert.rejects(r.text());
  const ms = Date.now() - t0;
  assert.ok(ms < 3_000, `cut after ${ms} ms (read_timeout 700)`);
});

test('slow drip within read_timeout streams through intact; a pause longer than read_timeout is cut', async () => {
  const ok = await fetch(`${g.proxy}/drip`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), Array.from({ length: 8 }, (_, i) => `drip${i}\n`).join(''));
  const slow = await fetch(`${g.proxy}/slowdrip`);
  assert.equal(slow.status, 200);
  await assert.rejects(slow.text(), 'a pause of 2 s with read_timeout 700 ms ends the response');
});

test('retries: an idempotent request that failed to connect succeeds on another target', async () => {
  for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) {
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${g.proxy}/retry`, { method });
      assert.equal(r.status, 200, `${method} #${i}`);
      await r.arrayBuffer();
    }
  }
  // The connection failed before a byte was sent, so even a streamed body goes to the next target.
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`${g.proxy}/retry`, { method: 'POST', body: `payload-${i}` });
    assert.equal(r.status, 200, `POST #${i}`);
    await r.arrayBuffer();
  }
  assert.deepEqual(ups.good.requests.filter((q) => q.method === 'POST').map((q) => q.body), ['payload-0', 'payload-1', 'payload-2', 'payload-3']);
  // Without another target the retries run out: Kong's 502.
  const r = await fetch(`${g.proxy}/noretry`);
  assert.equal(r.status, 502);
  await r.arrayBuffer();
});

test('passive health: 500s take a target out, traffic moves to the healthy one', async () => {
  const before = ups.bad500.requests.length;
  const bodies: string[] = [];
  for (let i = 0; i < 16; i++) bodies.push(await (await fetch(`${g.proxy}/passive500`)).text());
  // Two workers share the view: at most the failure threshold per worker before the broadcast lands.
  assert.ok(ups.bad500.requests.length - before <= 4, `bad target got ${ups.bad500.requests.length - before} requests`);
  assert.deepEqual(bodies.slice(-8), Array(8).fill('good'));
});

test('a target that dies under load: passive checks mark it down, retries keep every request succeeding', async () => {
  const load = startLoad({ url: `${g.proxy}/failover`, concurrency: 8, maxMs: 20_000, maxRequests: 4_000 });
  await waitFor('load on both targets', () => dyingHits > 20 && ups.good2.requests.length > 20, 10_000);
  // The target dies: its listener goes away and its open connections are reset.
  dying.closeAllConnections();
  dying.close();
  const killedAt = Date.now();
  await sleep(1_000);
  const hitsAfterKill = dyingHits;
  const good2Before = ups.good2.requests.length;
  await sleep(500);
  const outcomes = await load.stop();
  assert.ok(ups.good2.requests.length > good2Before, 'the healthy target keeps serving');
  assert.equal(dyingHits, hitsAfterKill, 'nothing reaches the dead target');
  const after = outcomes.filter((o) => o.startedAt > killedAt);
  assert.ok(after.length > 50, `load kept running (${after.length} requests after the kill)`);
  assert.equal(outcomes.filter((o) => o.status !== 200).length, 0, describeFailures(outcomes, (o) => o.status === 200));
  const health = await (await fetch(`${g.admin}/upstreams/failover.internal/health`)).json() as { data: { target: string; health: string }[] };
  assert.equal(health.data.find((t) => t.target === `127.0.0.1:${dyingPort}`)?.health, 'UNHEALTHY');
  assert.equal(health.data.find((t) => t.target === `127.0.0.1:${ups.good2.port}`)?.health, 'HEALTHY');
});
