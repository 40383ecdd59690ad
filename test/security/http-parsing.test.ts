/**
 * Hostile HTTP on raw sockets: request smuggling (CL+TE, duplicate Content-Length, obs-fold, bare
 * LF/CR, bad chunk framing), oversized headers and URIs (Kong's 400 "Request header or cookie too
 * large" and 414), invalid methods, NUL bytes, and path traversal / percent-encoding tricks
 * against prefix routes with strip_path. Each probe asserts the status and that nothing it tried
 * to smuggle reached the upstream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../harness/upstreams.ts';
import { rawExchange, statuses } from '../harness/raw-client.ts';

let g: GatewayProcess;
/** One backend behind both routes: /echo is public, /admin needs a key. */
let backend: Upstream;

before(async () => {
  backend = await startRecordingUpstream();
  g = await startGateway({
    config: {
      _format_version: '3.0',
      services: [
        { name: 'public', url: `${backend.url}/`, routes: [{ name: 'echo', paths: ['/echo'], strip_path: true }] },
        {
          name: 'internal', url: `${backend.url}/admin`,
          routes: [{ name: 'admin', paths: ['/admin'], strip_path: true }],
          plugins: [{ name: 'key-auth', config: {} }],
        },
      ],
      consumers: [{ username: 'ops', keyauth_credentials: [{ key: 'ops-key' }] }],
    },
  });
});
after(async () => { await g?.stop(); await backend?.close(); });

/** Sends raw bytes; returns what came back and the upstream requests they caused. */
async function probe(bytes: string | Buffer | (string | Buffer)[], opts: { gapMs?: number; idleMs?: number } = {}) {
  const n = backend.requests.length;
  const res = await rawExchange(g.proxyPort, bytes, { idleMs: opts.idleMs ?? 300, gapMs: opts.gapMs });
  // Give a smuggled second request time to arrive if the gateway had forwarded it.
  await new Promise((r) => setTimeout(r, 50));
  return { ...res, status: statuses(res.data), reached: backend.requests.slice(n) };
}

const SMUGGLED = 'GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const noSmuggle = (reached: { url: string }[]) => assert.ok(!reached.some((r) => r.url.includes('smuggled')), `smuggled request reached the upstream: ${JSON.stringify(reached.map((r) => r.url))}`);

test('Content-Length and Transfer-Encoding together: 400, nothing reaches the upstream', async () => {
  for (const order of [
    'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n',
    'Transfer-Encoding: chunked\r\nContent-Length: 4\r\n',
  ]) {
    const r = await probe(`POST /echo HTTP/1.1\r\nHost: x\r\n${order}\r\n0\r\n\r\n${SMUGGLED}`);
    assert.deepEqual(r.status, [400], `${JSON.stringify(order)} → ${r.data.slice(0, 80)}`);
    assert.equal(r.reached.length, 0);
    assert.ok(r.closedByPeer, 'the connection is closed after a framing error');
  }
});

test('duplicated Content-Length (same or different values): 400', async () => {
  for (const cl of ['Content-Length: 5\r\nContent-Length: 45\r\n', 'Content-Length: 5\r\nContent-Length: 5\r\n', 'Content-Length: 5, 45\r\n', 'Content-Length: +5\r\n', 'Content-Length: 0x5\r\n']) {
    const r = await probe(`POST /echo HTTP/1.1\r\nHost: x\r\n${cl}\r\nhello${SMUGGLED}`);
    assert.deepEqual(r.status, [400], `${JSON.stringify(cl)} → ${r.data.slice(0, 80)}`);
    assert.equal(r.reached.length, 0);
  }
});

test('obfuscated Transfer-Encoding: 400 (or framed so that nothing is smuggled)', async () => {
  for (const te of [
    'Transfer-Encoding: xchunked\r\n',
    'Transfer-Encoding: chunked, identity\r\n',
    'Transfer-Encoding : chunked\r\n',
    'Transfer-Encoding:\r\n chunked\r\n', // obs-fold
    'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n',
  ]) {
    const r = await probe(`POST /echo HTTP/1.1\r\nHost: x\r\n${te}\r\n0\r\n\r\n${SMUGGLED}`);
    assert.deepEqual(r.status, [400], `${JSON.stringify(te)} → ${r.data.slice(0, 80)}`);
    noSmuggle(r.reached);
    assert.equal(r.reached.length, 0);
  }
});

test('obs-fold in an ordinary header: refused, never forwarded with a line break', async () => {
  const r = await probe('GET /echo/fold HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n two\r\n\r\n');
  assert.deepEqual(r.status, [400], r.data.slice(0, 80));
  assert.equal(r.reached.length, 0);
});

test('bare LF and bare CR line endings: 400, nothing smuggled', async () => {
  for (const req of [
    'GET /echo/lf HTTP/1.1\nHost: x\n\n',
    'GET /echo/lf HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n',
    'GET /echo/cr HTTP/1.1\r\nHost: x\r\nX-A: b\rX-B: c\r\n\r\n',
    `POST /echo/chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n${SMUGGLED}`,
    `POST /echo/chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\nabc\r\n0\r\n\r\n${SMUGGLED}`,
  ]) {
    const r = await probe(req);
    assert.deepEqual(r.status, [400], `${JSON.stringify(req.slice(0, 60))} → ${r.data.slice(0, 80)}`);
    assert.equal(r.reached.length, 0, JSON.stringify(req.slice(0, 60)));
  }
});

test('bad chunk framing (oversized/negative size, missing CRLF after data): 400, nothing smuggled', async () => {
  for (const body of ['fffffffffffffffff\r\n', '-1\r\nabc\r\n0\r\n\r\n', '3\r\nabcXX0\r\n\r\n', '3 \r\nabc\r\n0\r\n\r\n']) {
    const r = await probe(`POST /echo/chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}${SMUGGLED}`);
    assert.ok(!r.status.includes(200), `${JSON.stringify(body)} → ${r.data.slice(0, 80)}`);
    noSmuggle(r.reached);
  }
});

test('a well-framed pipelined pair is two requests, each routed on its own', async () => {
  const r = await probe(`POST /echo/one HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`);
  assert.deepEqual(r.status, [200, 200]);
  assert.deepEqual(r.reached.map((q) => [q.url, q.body]), [['/one', 'hello'], ['/smuggled', '']]);
});

test('oversized headers: 400 "Request header or cookie too large", the upstream sees nothing', async () => {
  // One header line over 8 KiB (nginx large_client_header_buffers), and a header block over 32 KiB.
  for (const hdrs of [`X-Big: ${'a'.repeat(9_000)}\r\n`, Array.from({ length: 10 }, (_, i) => `X-H${i}: ${'b'.repeat(4_000)}\r\n`).join(''), `Cookie: ${'c'.repeat(40_000)}\r\n`]) {
    const r = await probe(`GET /echo/big HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n${hdrs}\r\n`);
    assert.deepEqual(r.status, [400], `${hdrs.length} bytes of headers → ${r.data.slice(0, 80)}`);
    assert.ok(r.data.includes('Request header or cookie too large'), r.data.slice(0, 300));
    assert.equal(r.reached.length, 0);
  }
});

test('oversized URIs: 414', async () => {
  for (const len of [9_000, 40_000]) {
    const r = await probe(`GET /echo/${'u'.repeat(len)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.deepEqual(r.status, [414], `${len}-byte URI → ${r.data.slice(0, 80)}`);
    assert.equal(r.reached.length, 0);
  }
});

test('invalid methods: 400 (TRACE 405; CONNECT refused); none reach the upstream', async () => {
  for (const [line, want] of [
    ['G@T /echo HTTP/1.1', 400], ['get /echo HTTP/1.1', 400], ['GET\t/echo HTTP/1.1', 400],
    ['TRACE /echo HTTP/1.1', 405], ['GET /echo HTTP/9.9', 400], ['/echo HTTP/1.1', 400],
  ] as const) {
    const r = await probe(`${line}\r\nHost: x\r\n\r\n`);
    assert.deepEqual(r.status, [want], `${line} → ${r.data.slice(0, 80)}`);
    assert.equal(r.reached.length, 0, line);
  }
  const c = await probe('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
  assert.ok(c.status.length === 0 || c.status.every((s) => s >= 400), `CONNECT → ${c.data.slice(0, 80)}`);
  assert.ok(!c.data.includes('SSH'), 'no tunnel');
  assert.equal(c.reached.length, 0);
});

test('NUL bytes in the request line or a header: 400; an encoded %00 stays encoded', async () => {
  for (const req of ['GET /echo/a\0b HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /echo HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', 'GET /echo HTTP/1.1\r\nHost: x\r\nX-\0: a\r\n\r\n']) {
    const r = await probe(req);
    assert.deepEqual(r.status, [400], JSON.stringify(req));
    assert.equal(r.reached.length, 0);
  }
  const enc = await probe('GET /echo/a%00b HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(enc.status, [200]);
  assert.equal(enc.reached[0]?.url, '/a%00b');
});

test('path traversal against a prefix route cannot reach the protected route\'s backend path', async () => {
  const tricks = [
    '/echo/../admin/secret', '/echo/%2e%2e/admin/secret', '/echo/%2E%2e/admin/secret', '/echo/.%2e/admin/secret',
    '/echo/./../admin/secret', '/echo//../admin/secret', '/echo/x/../../admin/secret', '/echo/%2e/%2e%2e/admin/secret',
    '/./admin/secret', '//admin/secret', '/echo/../../../../admin/secret', '/%61dmin/secret', '/ADMIN/../admin/secret',
  ];
  for (const path of tricks) {
    const r = await probe(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n`);
    assert.deepEqual(r.status, [401], `${path} → ${r.data.slice(0, 120)} (normalized onto the key-auth route)`);
    assert.equal(r.reached.length, 0, `${path} reached ${JSON.stringify(r.reached.map((q) => q.url))}`);
  }
  // With the key, the same trick lands where the normalized path says, under the service path.
  const ok = await probe('GET /echo/%2e%2e/admin/secret HTTP/1.1\r\nHost: x\r\napikey: ops-key\r\n\r\n');
  assert.deepEqual(ok.status, [200]);
  assert.equal(ok.reached[0]?.url, '/admin/secret');
});

test('encoded slashes are not separators: %2F never turns into a route match or a dot segment upstream', async () => {
  for (const path of ['/echo/..%2Fadmin/secret', '/echo/%2e%2e%2fadmin/secret', '/echo%2F..%2Fadmin/secret', '/echo/..%5Cadmin', '/echo/..\\admin']) {
    const r = await probe(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    if (r.status[0] === 400) continue; // refusing is fine too
    assert.deepEqual(r.status, [200], `${path} → ${r.data.slice(0, 120)}`);
    const url = r.reached[0]!.url;
    // What reaches the backend has no dot segment and never a decoded slash in place of %2F.
    const segments = url.split('?')[0]!.split('/');
    assert.ok(!segments.includes('..') && !segments.includes('.'), `${path} → upstream ${url}`);
    assert.ok(!url.startsWith('/admin'), `${path} → upstream ${url}`);
  }
});
