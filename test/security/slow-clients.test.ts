/**
 * Slow and greedy clients against a gateway started with 1 s client timeouts
 * (`--client-header-timeout 1s --client-body-timeout 1s`; the defaults stay Kong's 60 s):
 * slowloris headers get 408 and lose the connection, a stalled or too-slow body loses the
 * connection (and the upstream request with it), a body that keeps moving is not cut, and a flood
 * of idle connections is closed while real requests keep being served.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../harness/upstreams.ts';
import { rawExchange } from '../harness/raw-client.ts';
import { waitFor, sleep } from '../harness/load.ts';

let g: GatewayProcess;
let up: Upstream;
/** Upstream requests that ended with a complete body vs. were aborted. */
let aborted = 0;

before(async () => {
  up = await startRecordingUpstream();
  up.requests.length = 0;
  g = await startGateway({
    workers: 2,
    args: ['--client-header-timeout', '1s', '--client-body-timeout', '1s'],
    config: { _format_version: '3.0', services: [{ name: 's', url: up.url, read_timeout: 10_000, routes: [{ paths: ['/'] }] }] },
  });
});
after(async () => { await g?.stop(); await up?.close(); });

/** Opens a socket and drips `chunks` every `everyMs` until the gateway closes it (or `maxMs`). */
function drip(first: string, next: () => string, everyMs: number, maxMs: number): Promise<{ closedAfter: number; data: string }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = '';
    const s = net.connect(g.proxyPort, '127.0.0.1', () => s.write(first));
    const timer = setInterval(() => { if (s.writable) s.write(next()); }, everyMs);
    const done = () => { clearInterval(timer); clearTimeout(hard); s.destroy(); resolve({ closedAfter: Date.now() - t0, data }); };
    const hard = setTimeout(done, maxMs);
    s.on('data', (d) => { data += d.toString('latin1'); });
    s.on('close', done);
    s.on('error', () => {});
  });
}

test('slowloris headers: 408 and the connection closed soon after the header timeout', async () => {
  let n = 0;
  const results = await Promise.all(Array.from({ length: 40 }, () =>
    drip('GET / HTTP/1.1\r\nHost: x\r\n', () => `X-Drip-${n++}: a\r\n`, 200, 8_000)));
  for (const r of results) {
    assert.ok(r.closedAfter >= 900 && r.closedAfter < 3_000, `closed after ${r.closedAfter} ms`);
    assert.match(r.data, /^HTTP\/1\.1 408 /);
  }
  assert.equal(up.requests.length, 0, 'no slowloris request reached the upstream');
});

test('a connection that sends nothing is closed after the header timeout', async () => {
  const r = await rawExchange(g.proxyPort, [], { idleMs: 8_000, maxMs: 8_000 });
  assert.ok(r.closedByPeer, 'the gateway closed it');
  assert.ok(r.ms < 3_000, `after ${r.ms} ms`);
});

test('a stalled body loses the connection after the body timeout; so does one too slow, but not one that keeps moving', async () => {
  const before = up.requests.length;
  // Declares 1 GB, sends 10 bytes, stalls: must not wait for a gigabyte, nor hold memory for it.
  const stalled = await drip('POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n0123456789', () => '', 60_000, 8_000);
  assert.ok(stalled.closedAfter >= 900 && stalled.closedAfter < 3_000, `stalled body cut after ${stalled.closedAfter} ms`);
  // One byte every 1.5 s: each pause is over the timeout.
  const tooSlow = await drip('POST /too-slow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', () => '1\r\na\r\n', 1_500, 8_000);
  assert.ok(tooSlow.closedAfter < 3_000, `too-slow body cut after ${tooSlow.closedAfter} ms`);
  // One byte every 200 ms for ~2.4 s in all: longer than the timeout, but never idle that long.
  const body = 'abcdefghijkl';
  const parts = ['POST /moving HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\n', ...body];
  const moving = await rawExchange(g.proxyPort, parts, { gapMs: 200, idleMs: 2_000, maxMs: 8_000 });
  assert.match(moving.data, /^HTTP\/1\.1 200 /, moving.data.slice(0, 100));
  const rec = up.requests.slice(before).find((r) => r.url === '/moving');
  assert.equal(rec?.body, body);
  assert.ok(!up.requests.slice(before).some((r) => r.url === '/stalled' || r.url === '/too-slow'), 'cut uploads never complete upstream');
  void aborted;
});

test('a flood of idle connections is closed by the header timeout while real requests are served', async () => {
  const sockets: net.Socket[] = [];
  let closed = 0;
  await Promise.all(Array.from({ length: 1500 }, () => new Promise<void>((resolve) => {
    const s = net.connect(g.proxyPort, '127.0.0.1', () => { s.write('GET / HTTP/1.1\r\n'); resolve(); });
    s.on('error', () => resolve());
    s.on('close', () => { closed++; });
    s.resume(); // read, so the gateway's FIN is seen
    sockets.push(s);
  })));
  const t0 = Date.now();
  // Real traffic still goes through while the flood is open.
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${g.proxy}/real`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  }
  await waitFor('every flood connection closed by the gateway', () => closed === sockets.length, 6_000, 50).catch((e) => { throw new Error(`${e.message}: ${closed} of ${sockets.length} after ${Date.now() - t0} ms`); });
  assert.ok(Date.now() - t0 < 5_000);
  // The workers' connection counts come back down (stats are reported every second).
  await sleep(1_200);
  const status = await (await fetch(`${g.admin}/status`)).json() as { server: { connections_active: number } };
  assert.ok(status.server.connections_active < 20, `connections_active ${status.server.connections_active}`);
});
