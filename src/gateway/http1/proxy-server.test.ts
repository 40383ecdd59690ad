/**
 * ProxyHttpServer on real sockets: what node:http's server did for the proxy listener must still
 * happen (framing, keep-alive, pipelining in order, Expect, Host, timeouts, half-close, upgrades,
 * request-body backpressure), and it must hold on a new Node major (it uses llhttp's binding).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { IncomingMessage } from 'node:http';
import { ProxyHttpServer, type ProxyServerOptions } from './proxy-server.ts';
import type { ProxyResponse } from './proxy-response.ts';
import { BodilessRequest, type ClientRequest } from './bodiless-request.ts';
import { rawExchange } from '../../../test/harness/raw-client.ts';
import { HTTPParser, METHOD_BY_NUMBER, kOnHeadersComplete } from '../../net/llhttp.ts';

type Handler = (req: ClientRequest, res: ProxyResponse) => void;

/** The request as a stream: every request with a body is node:http's. */
function streamOf(req: ClientRequest): IncomingMessage {
  assert.ok(!(req instanceof BodilessRequest), `${req.method} ${req.url} came without a stream`);
  return req;
}

/** A request's body: a plain bodiless head has none. */
function bodyOf(req: ClientRequest, done: (body: Buffer) => void): void {
  if (req instanceof BodilessRequest) { setImmediate(done, Buffer.alloc(0)); return; }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => done(Buffer.concat(chunks)));
}

const OPTIONS: ProxyServerOptions = { headersTimeoutMs: 60_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 60_000, checkEveryMs: 1000, maxHeaderSize: 32 * 1024 };

async function serve(handler: Handler, options: Partial<ProxyServerOptions> = {},
  onUpgrade: (req: IncomingMessage, socket: net.Socket, head: Buffer) => void = (_r, s) => s.destroy()) {
  const server = new ProxyHttpServer({ ...OPTIONS, ...options }, handler, onUpgrade);
  const errors: string[] = [];
  server.on('clientError', (err: Error & { code?: string }, socket: net.Socket) => {
    errors.push(err.code ?? err.message);
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, errors, close: () => new Promise<void>((r) => { server.closeIdleConnections(); server.close(() => r()); }) };
}

const statusesOf = (data: string) => [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

test('a sized answer: status line, the headers given, Date, keep-alive, the body once', async () => {
  const s = await serve((req, res) => {
    res.writeHead(201, ['Content-Type', 'text/plain', 'Content-Length', '5', 'X-Two', 'a', 'X-Two', 'b']);
    res.end(Buffer.from(req.method === 'HEAD' ? 'never' : 'hello'));
  });
  try {
    const r = await rawExchange(s.port, 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n');
    const [head, body] = r.data.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 201 Created\r\n/);
    assert.match(head!, /\r\nContent-Length: 5\r\n/);
    assert.match(head!, /\r\nX-Two: a\r\nX-Two: b\r\n/);
    assert.match(head!, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
    assert.match(head!, /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60$/);
    assert.equal(body, 'hello');
    assert.equal(r.closedByPeer, false);
    // HEAD: the same head, no body bytes.
    const h = await rawExchange(s.port, 'HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.ok(h.data.endsWith('\r\n\r\n'), JSON.stringify(h.data.slice(-20)));
  } finally { await s.close(); }
});

test('writeHeadFrom: a map by lower-case name with its spellings gives the head writeHead gives for the flat list', async () => {
  const s = await serve((req, res) => {
    const headers: Record<string, string | string[] | undefined> = {
      'content-type': 'text/plain', 'x-two': ['a', 'b'], 'x-gone': undefined, 'x-unspelled': 'u', 'content-length': '5', date: 'Tue, 01 Jan 2030 00:00:00 GMT',
    };
    const names = { 'content-type': 'Content-Type', 'x-two': 'X-Two', 'x-gone': 'X-Gone', 'content-length': 'Content-Length', date: 'Date' };
    if (req.url === '/map') res.writeHeadFrom(201, headers, names);
    else res.writeHead(201, ['Content-Type', 'text/plain', 'X-Two', 'a', 'X-Two', 'b', 'x-unspelled', 'u', 'Content-Length', '5', 'Date', 'Tue, 01 Jan 2030 00:00:00 GMT']);
    res.end(Buffer.from('hello'));
  });
  try {
    const map = await rawExchange(s.port, 'GET /map HTTP/1.1\r\nHost: h\r\n\r\n');
    const list = await rawExchange(s.port, 'GET /list HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.equal(map.data, list.data);
    // The map's Content-Length and Date count as the head's own: no chunking, no second Date.
    assert.match(map.data, /^HTTP\/1\.1 201 Created\r\nContent-Type: text\/plain\r\nX-Two: a\r\nX-Two: b\r\nx-unspelled: u\r\nContent-Length: 5\r\nDate: Tue, 01 Jan 2030 00:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\nhello$/);
  } finally { await s.close(); }
});

test('no length: chunked for HTTP/1.1, connection-delimited for HTTP/1.0', async () => {
  const s = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(Buffer.from('ab'));
    setTimeout(() => { res.write(Buffer.from('cde')); res.end(); }, 10);
  });
  try {
    const r = await rawExchange(s.port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.match(r.data, /\r\nTransfer-Encoding: chunked\r\n/);
    assert.ok(r.data.endsWith('\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n'), JSON.stringify(r.data));
    const old = await rawExchange(s.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.doesNotMatch(old.data, /Transfer-Encoding/);
    assert.match(old.data, /\r\nConnection: close\r\n\r\nabcde$/);
    assert.equal(old.closedByPeer, true);
  } finally { await s.close(); }
});

test('pipelined requests are answered in order, one at a time, even when the first is slower', async () => {
  let active = 0;
  let most = 0;
  const s = await serve((req, res) => {
    active++;
    most = Math.max(most, active);
    const delay = req.url === '/slow' ? 50 : 0;
    setTimeout(() => {
      active--;
      const body = Buffer.from(req.url!);
      res.writeHead(200, ['Content-Length', String(body.length)]);
      res.end(body);
    }, delay);
  });
  try {
    const r = await rawExchange(s.port, 'GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const bodies = r.data.split('HTTP/1.1 200 OK').slice(1).map((part) => part.split('\r\n\r\n')[1]);
    assert.deepEqual(bodies, ['/slow', '/a', '/b']);
    assert.equal(most, 1);
    assert.match(r.data, /Connection: close\r\n\r\n\/b$/);
    assert.equal(r.closedByPeer, true);
  } finally { await s.close(); }
});

test('an unread request body is dropped after the answer and the next request still parses', async () => {
  const seen: string[] = [];
  const s = await serve((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(401, ['Content-Length', '0']);
    res.end();
  });
  try {
    const body = 'x'.repeat(100_000);
    const r = await rawExchange(s.port, `POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /next HTTP/1.1\r\nHost: h\r\n\r\n`);
    assert.deepEqual(statusesOf(r.data), [401, 401]);
    assert.deepEqual(seen, ['POST /upload', 'GET /next']);
  } finally { await s.close(); }
});

test('a request body streams with backpressure: reading stops while nobody reads', async () => {
  let req!: IncomingMessage;
  let res!: ProxyResponse;
  let handled!: () => void;
  const got = new Promise<void>((resolve) => { handled = resolve; });
  const s = await serve((q, r) => { req = streamOf(q); res = r; handled(); });
  try {
    const size = 8 * 1024 * 1024;
    const client = net.connect(s.port, '127.0.0.1');
    client.write(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${size}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 97);
    let written = 0;
    const pump = () => { while (written < size) { written += chunk.length; if (!client.write(chunk)) { client.once('drain', pump); return; } } };
    pump();
    await got;
    await new Promise((r) => setTimeout(r, 300));
    // Nobody read: the server holds at most its buffers, the client is blocked well short of 8 MiB.
    assert.ok(written < size, `the client wrote everything (${written}) although nobody read`);
    let received = 0;
    req.on('data', (c: Buffer) => { received += c.length; });
    await new Promise<void>((r) => req.on('end', () => r()));
    assert.equal(received, size);
    res.writeHead(200, ['Content-Length', '0']);
    res.end();
    client.destroy();
  } finally { await s.close(); }
});

test('Expect: 100-continue gets an interim 100; another expectation a 417; HTTP/1.1 without Host a 400', async () => {
  const s = await serve((req, res) => {
    bodyOf(req, (body) => { const n = String(body.length); res.writeHead(200, ['Content-Length', String(n.length)]); res.end(n); });
  });
  try {
    const r = await rawExchange(s.port, ['POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n', 'abc'], { gapMs: 50 });
    assert.deepEqual(statusesOf(r.data), [100, 200]);
    assert.ok(r.data.endsWith('\r\n\r\n3'));
    const e = await rawExchange(s.port, 'GET / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n');
    assert.deepEqual(statusesOf(e.data), [417]);
    const nohost = await rawExchange(s.port, 'GET / HTTP/1.1\r\n\r\n');
    assert.deepEqual(statusesOf(nohost.data), [400]);
    assert.equal(nohost.closedByPeer, true);
  } finally { await s.close(); }
});

test('parse failures go to clientError, after the requests before them are answered', async () => {
  const s = await serve((req, res) => {
    setTimeout(() => { res.writeHead(200, ['Content-Length', '2']); res.end('ok'); }, 30);
    void req;
  });
  try {
    const r = await rawExchange(s.port, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n');
    assert.deepEqual(statusesOf(r.data), [200, 400]);
    assert.equal(r.closedByPeer, true);
    assert.equal(s.errors.length, 1);
  } finally { await s.close(); }
});

test('a head that does not arrive in time is a 408; an idle keep-alive connection is closed', async () => {
  const s = await serve((_req, res) => { res.writeHead(204); res.end(); }, { headersTimeoutMs: 300, keepAliveTimeoutMs: 300, checkEveryMs: 50 });
  try {
    const slow = await rawExchange(s.port, ['GET / HTTP/1.1\r\n', 'Host: h\r\n'], { gapMs: 100, idleMs: 2000 });
    assert.deepEqual(statusesOf(slow.data), [408]);
    assert.equal(slow.closedByPeer, true);
    assert.ok(slow.ms < 1000, `closed after ${slow.ms} ms`);
    const idle = await rawExchange(s.port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', { idleMs: 3000 });
    assert.deepEqual(statusesOf(idle.data), [204]);
    assert.equal(idle.closedByPeer, true);
    assert.ok(idle.ms < 1500, `idle connection closed after ${idle.ms} ms`);
  } finally { await s.close(); }
});

test('a client that half-closes after its request still gets the answer', async () => {
  const s = await serve((_req, res) => setTimeout(() => { res.writeHead(200, ['Content-Length', '4']); res.end('late'); }, 50));
  try {
    const data = await new Promise<string>((resolve) => {
      const c = net.connect(s.port, '127.0.0.1', () => c.end('GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
      let out = '';
      c.on('data', (d) => { out += d.toString('latin1'); });
      c.on('close', () => resolve(out));
    });
    assert.match(data, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nlate$/);
  } finally { await s.close(); }
});

test("an answer's events: 'finish' then 'close' once each after its bytes are written, 'drain' after a full socket empties", async () => {
  const seen: string[] = [];
  const s = await serve((req, res) => {
    if (req.url === '/events') {
      res.on('finish', () => seen.push(`finish ${res.writableFinished}`));
      res.on('close', () => seen.push('close'));
      res.whenClosed((tag: string) => seen.push(tag), 'hook');
      res.writeHead(200, ['Content-Length', '2']);
      res.end('ok');
      seen.push('ended');
      return;
    }
    // A body larger than the socket takes while the client reads nothing: write says wait, then 'drain'.
    res.writeHead(200, ['Content-Length', String(32 * 1024 * 1024)]);
    const full = !res.write(Buffer.alloc(32 * 1024 * 1024, 0x61));
    seen.push(`full ${full}`);
    res.once('drain', () => { seen.push('drain'); res.end(); });
  });
  try {
    const r = await rawExchange(s.port, 'GET /events HTTP/1.1\r\nHost: h\r\n\r\n', { idleMs: 100 });
    assert.match(r.data, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
    assert.deepEqual(seen, ['ended', 'finish true', 'hook', 'close']);
    seen.length = 0;
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      const c = net.connect(s.port, '127.0.0.1', () => c.write('GET /big HTTP/1.1\r\nHost: h\r\n\r\n'));
      c.pause();
      setTimeout(() => { assert.deepEqual(seen, ['full true']); c.resume(); }, 100);
      c.on('data', (d: Buffer) => { n += d.length; if (n > 32 * 1024 * 1024) { c.destroy(); resolve(n); } });
    });
    assert.ok(got > 32 * 1024 * 1024);
    assert.deepEqual(seen, ['full true', 'drain']);
  } finally { await s.close(); }
});

test('an upgrade hands over the socket with the bytes that followed the head', async () => {
  let head = '';
  const s = await serve((_req, res) => { res.writeHead(500); res.end(); }, {}, (req, socket, first) => {
    head = first.toString();
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\n`);
    socket.on('data', (d) => socket.write(d)); // echo
    socket.on('end', () => socket.end()); // half-open, as node:http's upgraded sockets
  });
  try {
    const r = await rawExchange(s.port, ['GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nearly', 'later'], { gapMs: 50 });
    assert.equal(head, 'early');
    assert.ok(r.data.endsWith('\r\n\r\nlater'), JSON.stringify(r.data));
  } finally { await s.close(); }
});

test('methods map by llhttp\'s numbers (QUERY is not at its list position); bad header values throw', async () => {
  const s = await serve((req, res) => {
    if (req.url === '/bad') {
      assert.throws(() => res.writeHead(200, ['X-Evil', 'a\r\nSet-Cookie: x=1']), { code: 'ERR_INVALID_CHAR' });
      res.writeHead(500, ['Content-Length', '0']);
      res.end();
      return;
    }
    res.writeHead(200, ['Content-Length', String(req.method!.length)]);
    res.end(req.method!);
  });
  try {
    for (const m of ['GET', 'DELETE', 'PURGE', 'QUERY', 'PROPFIND']) {
      const r = await rawExchange(s.port, `${m} / HTTP/1.1\r\nHost: h\r\n\r\n`);
      assert.ok(r.data.endsWith(`\r\n\r\n${m}`), `${m}: ${JSON.stringify(r.data.slice(-20))}`);
    }
    const bad = await rawExchange(s.port, 'GET /bad HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.deepEqual(statusesOf(bad.data), [500]);
    assert.doesNotMatch(bad.data, /Set-Cookie/);
  } finally { await s.close(); }
});

test('closeIdleConnections closes silent and between-requests connections, not one mid-request; answers after close() say close', async () => {
  let answer: (() => void) | null = null;
  const s = await serve((_req, res) => { answer = () => { res.writeHead(200, ['Content-Length', '2']); res.end('ok'); }; });
  try {
    const open = (first?: string) => new Promise<{ socket: net.Socket; data: () => string; closed: Promise<void> }>((resolve) => {
      const socket = net.connect(s.port, '127.0.0.1', () => { if (first) socket.write(first); resolve({ socket, data: () => out, closed }); });
      let out = '';
      socket.on('data', (d) => { out += d.toString('latin1'); });
      const closed = new Promise<void>((r) => socket.on('close', () => r()));
    });
    const silent = await open();
    const busy = await open('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    s.server.close();
    s.server.closeIdleConnections();
    await silent.closed;
    assert.equal(busy.socket.destroyed, false, 'a connection with a request in flight stays');
    answer!();
    await busy.closed;
    assert.match(busy.data(), /\r\nConnection: close\r\n\r\nok$/);
  } finally { await s.close().catch(() => {}); }
});

test('bodies next to their head: small and large, Buffer and string (UTF-8), keep their bytes', async () => {
  const big = Buffer.alloc(100_000, 0xe9);
  // Every byte value, in bodies small and large, up to the size still copied next to the head.
  const everyByte = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) % 256));
  const s = await serve((req, res) => {
    const body: Buffer | string = req.url === '/big' ? big : req.url === '/text' ? 'héllo ✓'
      : req.url?.startsWith('/bytes/') ? everyByte(Number(req.url.slice(7))) : Buffer.from([0, 1, 2, 255]);
    const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    res.writeHead(200, ['Content-Length', String(size), 'X-Latin1', 'caf\xe9']);
    res.end(body);
  });
  try {
    const fetchRaw = (path: string) => new Promise<Buffer>((resolve) => {
      const c = net.connect(s.port, '127.0.0.1', () => c.write(`GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`));
      const parts: Buffer[] = [];
      c.on('data', (d) => parts.push(d));
      c.on('close', () => resolve(Buffer.concat(parts)));
    });
    const bodyOf = (raw: Buffer) => raw.subarray(raw.indexOf('\r\n\r\n') + 4);
    const small = await fetchRaw('/small');
    assert.deepEqual([...bodyOf(small)], [0, 1, 2, 255]);
    assert.ok(small.includes(Buffer.from('X-Latin1: caf\xe9\r\n', 'latin1')), 'a latin1 header value keeps its byte');
    assert.equal(bodyOf(await fetchRaw('/text')).toString('utf8'), 'héllo ✓');
    assert.ok(bodyOf(await fetchRaw('/big')).equals(big));
    for (const n of [256, 16 * 1024, 16 * 1024 + 1]) assert.ok(bodyOf(await fetchRaw(`/bytes/${n}`)).equals(everyByte(n)), `${n} bytes`);
  } finally { await s.close(); }
});

interface SeenRequest { method: string; url: string; version: string; rawHeaders: string[] }

/** What llhttp alone makes of `bytes` (one request): the request it parsed, or null if it refuses them. */
function llhttpReads(bytes: Buffer): SeenRequest | null {
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {}, OPTIONS.maxHeaderSize, 0);
  let seen: SeenRequest | null = null;
  p[kOnHeadersComplete] = (major: number, minor: number, headers: string[], method: number, url: string) => {
    seen = { method: METHOD_BY_NUMBER[method]!, url, version: `${major}.${minor}`, rawHeaders: headers };
    return 0;
  };
  const ret = p.execute(bytes);
  p.close();
  return typeof ret === 'number' ? seen : null;
}

/** The first request llhttp parses from `bytes`, whatever follows it; null if it refuses the first. */
function llhttpFirst(bytes: Buffer): { request: SeenRequest; upgrade: boolean } | null {
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {}, OPTIONS.maxHeaderSize, 0);
  let first: { request: SeenRequest; upgrade: boolean } | null = null;
  p[kOnHeadersComplete] = (major: number, minor: number, headers: string[], method: number, url: string,
    _s: unknown, _m: unknown, upgrade: boolean) => {
    first ??= { request: { method: METHOD_BY_NUMBER[method]!, url, version: `${major}.${minor}`, rawHeaders: headers }, upgrade };
    return 0;
  };
  // A failure after the first head is the next message's (or its body's): the first was answered.
  p.execute(bytes);
  p.close();
  return first;
}

test('every head means what llhttp makes of it, whether JavaScript or llhttp reads it', async () => {
  const s = await serve((req, res) => {
    const seen = { method: req.method, url: req.url, version: req.httpVersion, rawHeaders: req.rawHeaders };
    res.writeHead(200, ['Content-Length', '0', 'X-Seen', Buffer.from(JSON.stringify(seen), 'latin1').toString('base64'), 'Connection', 'close']);
    res.end();
  });
  const heads = [
    // Read in JavaScript.
    'GET /a?b=c&d=%20 HTTP/1.1\r\nHost: h\r\nX-A:  b c  \r\nX-B:\tq\t\r\nX-Empty:\r\nX-High: \xe9\xff\r\n\r\n',
    'DELETE /x HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive\r\n\r\n',
    'OPTIONS /x HTTP/1.1\r\nhost: h\r\nhost: second\r\nX-Colon: a:b\r\n\r\n',
    'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n',
    // Read by llhttp.
    'GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n',
    'GET http://h/abs HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET /x HTTP/1.0\r\nHost: h\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: h\r\nConnection: close, x-a\r\n\r\n',
    'POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    // Refused by llhttp: a 400.
    'GET /caf\xe9 HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: h\r\nX-Sp : v\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\x01\r\n\r\n',
    'GET /x HTTP/1.1\r\nHost: h\r\nX-A: \x7f\r\n\r\n',
    'get /x HTTP/1.1\r\nHost: h\r\n\r\n',
    'GETX /x HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET /x HTTP/1.2\r\nHost: h\r\n\r\n',
    'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n',
  ];
  let refused = 0;
  try {
    for (const head of heads) {
      const bytes = Buffer.from(head, 'latin1');
      const expected = llhttpReads(bytes);
      const r = await rawExchange(s.port, bytes);
      if (expected === null) {
        refused++;
        assert.match(r.data, /^HTTP\/1\.1 400 /, JSON.stringify(head));
        continue;
      }
      const m = /\r\nX-Seen: ([A-Za-z0-9+/=]+)\r\n/.exec(r.data);
      assert.ok(m, `${JSON.stringify(head)} got ${JSON.stringify(r.data)}`);
      assert.deepEqual(JSON.parse(Buffer.from(m[1]!, 'base64').toString('latin1')), expected, JSON.stringify(head));
    }
    assert.equal(refused, 11);
    assert.equal(s.errors.length, refused);
  } finally { await s.close(); }
});

test('a plain head read in JavaScript gives the headers node:http would give, and a stream-less request only without a body', async () => {
  const s = await serve(async (req, res) => {
    const body = await new Promise<Buffer>((r) => bodyOf(req, r));
    const seen = { lean: req instanceof BodilessRequest, headers: req.headers, distinct: req.headersDistinct, rawHeaders: req.rawHeaders, body: body.length };
    res.writeHead(200, ['Content-Length', '0', 'X-Seen', Buffer.from(JSON.stringify(seen), 'latin1').toString('base64'), 'Connection', 'close']);
    res.end();
  });
  const cases: [head: string, lean: boolean][] = [
    ['GET / HTTP/1.1\r\nHost: H.example\r\nUser-Agent: wrk\r\nAccept: */*\r\napikey: k\r\nX-Mixed-Case: V\r\nCookie: a=1\r\n\r\n', true],
    ['HEAD /x HTTP/1.1\r\nHost: h\r\nCONTENT-TYPE: text/plain\r\nAuthorization: Basic eA==\r\n\r\n', true],
    ['DELETE /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', true],
    // Repeated names and Set-Cookie: node:http's joining rules apply, so node:http builds them.
    ['GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nAccept: a\r\nAccept: b\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\nUser-Agent: one\r\nUser-Agent: two\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nHost: h\r\nhost: again\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nHost: h\r\nSet-Cookie: s=1\r\n\r\n', false],
    // A body: node:http's stream.
    ['POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc', false],
  ];
  try {
    for (const [head, lean] of cases) {
      const r = await rawExchange(s.port, Buffer.from(head, 'latin1'));
      const m = /\r\nX-Seen: ([A-Za-z0-9+/=]+)\r\n/.exec(r.data);
      assert.ok(m, `${JSON.stringify(head)} got ${JSON.stringify(r.data)}`);
      const seen = JSON.parse(Buffer.from(m[1]!, 'base64').toString('latin1')) as { lean: boolean; headers: unknown; distinct: unknown; rawHeaders: string[]; body: number };
      // What node:http makes of the same header lines.
      const node = new IncomingMessage(new net.Socket());
      (node as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(seen.rawHeaders, seen.rawHeaders.length);
      assert.equal(seen.lean, lean, JSON.stringify(head));
      assert.deepEqual(seen.headers, JSON.parse(JSON.stringify(node.headers)), JSON.stringify(head));
      assert.deepEqual(seen.distinct, JSON.parse(JSON.stringify(node.headersDistinct)), JSON.stringify(head));
      assert.equal(seen.body, head.startsWith('POST') ? 3 : 0);
    }
  } finally { await s.close(); }
});

test('generated heads, some with a stray byte: the first request means what llhttp makes of it, or is a 400', async () => {
  const s = await serve((req, res) => {
    const seen = { method: req.method, url: req.url, version: req.httpVersion, rawHeaders: req.rawHeaders };
    res.writeHead(200, ['Content-Length', '0', 'X-Seen', Buffer.from(JSON.stringify(seen), 'latin1').toString('base64'), 'Connection', 'close']);
    res.end();
  });
  // A fixed sequence (LCG): a failure names its case, and the case comes back on the next run.
  let state = 20261129;
  const rand = (n: number) => { state = (state * 1103515245 + 12345) % 2147483648; return Math.floor(state / 65536) % n; };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const METHODS = ['GET', 'GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'get'];
  const TARGETS = ['/', '/a?b=c', '/x%20y', '/p/q;r', '*', 'http://h/x', '/caf\xe9'];
  const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'];
  const FIELDS = ['Host: h', 'X-A: v', 'X-B:  two words ', 'X-Empty:', 'X-Tab:\tt\t', 'X-High: \xe9\xff', 'Connection: keep-alive',
    'Connection: close', 'Connection: Upgrade', 'Content-Length: 0', 'Transfer-Encoding: chunked', 'Upgrade: websocket', 'Expect: 100-continue'];
  const STRAY = ['\r', '\n', '\x00', ' ', '\t', ':', '\x7f', '\xff', '\x01', '\r\n'];
  let mutated = 0;
  let fast = 0;
  try {
    for (let i = 0; i < 300; i++) {
      const lines = [`${pick(METHODS)} ${pick(TARGETS)} ${pick(VERSIONS)}`, 'Host: h'];
      for (let k = rand(4); k > 0; k--) lines.push(pick(FIELDS));
      let head = lines.join('\r\n');
      if (rand(2) === 0) {
        const at = rand(head.length + 1);
        head = head.slice(0, at) + pick(STRAY) + head.slice(at);
        mutated++;
      }
      const text = `${head}\r\n\r\n${/Transfer-Encoding/.test(head) ? '0\r\n\r\n' : ''}`;
      const bytes = Buffer.from(text, 'latin1');
      const parsed = llhttpFirst(bytes);
      const r = await rawExchange(s.port, bytes, { idleMs: 200 });
      const label = `case ${i}: ${JSON.stringify(text)}`;
      const field = (name: string) => parsed?.request.rawHeaders.find((_, j, h) => j % 2 === 1 && h[j - 1]!.toLowerCase() === name);
      if (parsed === null || (parsed.request.version === '1.1' && field('host') === undefined)) {
        // Refused by llhttp, or HTTP/1.1 without Host (the server's own 400, as node:http's).
        assert.match(r.data, /^HTTP\/1\.1 400 /, label);
        continue;
      }
      if (parsed.upgrade) {
        // Handed to the upgrade listener, which here closes the connection.
        assert.equal(r.data, '', label);
        continue;
      }
      const expect = field('expect');
      if (expect !== undefined && !/(?:^|\W)100-continue(?:$|\W)/i.test(expect)) {
        assert.match(r.data, /^HTTP\/1\.1 417 /, label);
        continue;
      }
      const expected = parsed.request;
      const m = /\r\nX-Seen: ([A-Za-z0-9+/=]+)\r\n/.exec(r.data);
      assert.ok(m, `${label} got ${JSON.stringify(r.data)}`);
      assert.deepEqual(JSON.parse(Buffer.from(m[1]!, 'base64').toString('latin1')), expected, label);
      if (/^(GET|HEAD|DELETE|OPTIONS) \//.test(text)) fast++;
    }
    // The sequence exercises both paths and both outcomes.
    assert.ok(mutated > 100 && fast > 50, `mutated ${mutated}, plain-looking ${fast}`);
  } finally { await s.close(); }
});

test('plain and other heads mixed on one connection: pipelined, split across reads, nothing read after a close', async () => {
  const seen: string[] = [];
  const s = await serve((req, res) => {
    bodyOf(req, (body) => {
      seen.push(`${req.method} ${req.url} ${body.toString()}`);
      res.writeHead(200, ['Content-Length', '0']);
      res.end();
    });
  });
  try {
    const inner = 'GET /smuggled HTTP/1.1\r\n\r\n';
    const r = await rawExchange(s.port, [
      'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHo',
      'st: h\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\n\r\n\r\n',
      `GET /5 HTTP/1.1\r\nHost: h\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
      'GET /6 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /7 HTTP/1.1\r\nHost: h\r\n\r\n',
    ], { gapMs: 30 });
    // A GET with a body is llhttp's: what looks like a request inside that body is body.
    assert.deepEqual(seen, ['GET /1 ', 'POST /2 abc', 'GET /3 ', 'GET /4 ', `GET /5 ${inner}`, 'GET /6 ']);
    assert.deepEqual(statusesOf(r.data), [200, 200, 200, 200, 200, 200]);
    assert.equal(r.closedByPeer, true);
  } finally { await s.close(); }
});
