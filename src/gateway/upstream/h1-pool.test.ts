import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { H1Pool, type H1Request, type H1Controller } from './h1-pool.ts';

/** `raw`: the body from the parts as the pool handed them over and the handler kept them (as a cache entry would). */
interface Answer { status: number; headers: Record<string, string | string[]>; rawHeaders: readonly string[]; body: string; raw: Buffer }

/** The handler's flat [name, value, …] list as lower-case keys, repeats as arrays. */
function headerObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    const prev = out[k];
    out[k] = prev === undefined ? raw[i + 1]! : [...(typeof prev === 'string' ? [prev] : prev), raw[i + 1]!];
  }
  return out;
}

function poolFor(port: number, extra: Partial<ConstructorParameters<typeof H1Pool>[0]> = {}): H1Pool {
  return new H1Pool({ host: '127.0.0.1', port, connectTimeout: 2000, tls: null, maxConnections: 16, keepAliveTimeout: 60_000, maxHeaderSize: 65536, ...extra });
}

function send(pool: H1Pool, req: Partial<H1Request>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let rawHeaders: readonly string[] = [];
    const chunks: Buffer[] = [];
    pool.dispatch({ path: '/', method: 'GET', headers: { host: 'up' }, body: null, headersTimeout: 5000, bodyTimeout: 5000, ...req }, {
      onResponseStart(_c: H1Controller, s, h) { status = s; rawHeaders = h; },
      onResponseData(_c: H1Controller, chunk) { chunks.push(chunk); },
      onResponseEnd() { const raw = Buffer.concat(chunks); resolve({ status, headers: headerObject(rawHeaders), rawHeaders, body: raw.toString(), raw }); },
      onResponseError(_c: H1Controller, err) { reject(err); },
    });
  });
}

/** A raw TCP upstream: `onRequest(socket, n, conn)` answers the n-th request head of connection `conn`. */
async function rawUpstream(onRequest: (socket: net.Socket, n: number, conn: number, head: string) => void): Promise<{ port: number; connections: () => number; close: () => void }> {
  let conns = 0;
  const server = net.createServer((socket) => {
    const conn = ++conns;
    let n = 0;
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        onRequest(socket, ++n, conn, head);
      }
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, connections: () => conns, close: () => server.close() };
}

test('H1Pool: keep-alive reuses one connection; requests beyond maxConnections wait their turn', async () => {
  let connections = 0;
  const server = http.createServer((req, res) => res.end(`you asked ${req.url}`));
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const pool = poolFor((server.address() as net.AddressInfo).port, { maxConnections: 1 });
  try {
    assert.equal((await send(pool, { path: '/a' })).body, 'you asked /a');
    assert.equal((await send(pool, { path: '/b' })).body, 'you asked /b');
    const both = await Promise.all([send(pool, { path: '/c' }), send(pool, { path: '/d' })]);
    assert.deepEqual(both.map((a) => a.body), ['you asked /c', 'you asked /d']);
    assert.equal(connections, 1);
  } finally {
    pool.destroy();
    server.close();
  }
});

test('H1Pool: chunked, HEAD, 1xx, close-delimited and many-header responses', async () => {
  const up = await rawUpstream((s, _n, _c, head) => {
    const path = head.split(' ')[1];
    if (path === '/chunked') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    else if (path === '/head') s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
    else if (path === '/continue') s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
    else if (path === '/many') {
      let h = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n';
      for (let i = 0; i < 50; i++) h += `X-H${i}: v${i}\r\n`;
      s.write(h + '\r\n');
    } else s.end('HTTP/1.0 200 OK\r\n\r\nuntil close');
  });
  const pool = poolFor(up.port);
  try {
    assert.equal((await send(pool, { path: '/chunked' })).body, 'hello world');
    const head = await send(pool, { path: '/head', method: 'HEAD' });
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], '1000');
    const cont = await send(pool, { path: '/continue' });
    assert.equal(cont.status, 201);
    assert.equal(cont.body, 'ok');
    const many = await send(pool, { path: '/many' });
    assert.equal(many.headers['x-h49'], 'v49');
    assert.deepEqual(many.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal((await send(pool, { path: '/eof' })).body, 'until close');
    // The close-delimited answer could not leave its connection reusable.
    assert.equal(pool.connections, 0);
  } finally {
    pool.destroy();
    up.close();
  }
});

test('H1Pool: plain heads are read without llhttp, to the same result; anything else and every byte inside an llhttp message stay llhttp\'s', async () => {
  const HEAD = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  padded \t\r\nX-Latin: a\xa0b\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n';
  const FAKE = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad';
  const later = (f: () => void) => setTimeout(f, 40);
  const BIG = 'x'.repeat(6000);
  const up = await rawUpstream((s, _n, _c, head) => {
    const path = head.split(' ')[1];
    if (path === '/plain') s.write(`${HEAD}hello`, 'latin1');
    // The same head split inside a line: this read has no blank line, so llhttp parses it.
    else if (path === '/split') { s.write(HEAD.slice(0, 25), 'latin1'); later(() => s.write(`${HEAD.slice(25)}hello`, 'latin1')); }
    else if (path === '/chunked') { s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'); later(() => s.write('0\r\n\r\n')); }
    // llhttp reads this head (split) and stops after it; the large body is passed through.
    else if (path === '/split-big') { s.write('HTTP/1.1 200 OK\r\nContent-Le'); later(() => s.write(`ngth: ${BIG.length}\r\n\r\n${BIG}`)); }
    else if (path === '/two-lengths') s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!');
    // A body read until close whose second read looks like a whole plain answer: still body.
    else if (path === '/until-close') { s.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'); later(() => { s.write(FAKE); later(() => s.end()); }); }
  });
  const pool = poolFor(up.port, { maxConnections: 1 });
  try {
    const plain = await send(pool, { path: '/plain' });
    assert.equal(plain.status, 200);
    assert.equal(plain.body, 'hello');
    assert.equal(plain.headers['x-a'], 'padded');
    assert.equal(plain.headers['x-latin'], 'a\u00a0b');
    assert.deepEqual(plain.rawHeaders, ['Content-Length', '5', 'X-A', 'padded', 'X-Latin', 'a\u00a0b', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    const split = await send(pool, { path: '/split' });
    assert.deepEqual(plain.rawHeaders, split.rawHeaders);
    assert.equal(split.body, 'hello');
    // llhttp and the plain-head reader take turns on one keep-alive connection.
    assert.equal((await send(pool, { path: '/chunked' })).body, 'hello');
    assert.equal((await send(pool, { path: '/plain' })).body, 'hello');
    // After a body passed through behind a head llhttp read, llhttp parses the next answer afresh.
    assert.equal((await send(pool, { path: '/split-big' })).body, BIG);
    assert.equal((await send(pool, { path: '/chunked' })).body, 'hello');
    assert.equal(up.connections(), 1);
    await assert.rejects(send(pool, { path: '/two-lengths' }), { code: 'HPE_UNEXPECTED_CONTENT_LENGTH' });
    assert.equal((await send(pool, { path: '/until-close' })).body, FAKE);
  } finally {
    pool.destroy();
    up.close();
  }
});

test('H1Pool: a head the origin sent before is taken from the last parse only when every byte matches', async () => {
  // Same length each time: only the bytes tell these heads apart.
  const heads: Record<string, string> = {
    '/a': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Which: aaa\r\n\r\nok',
    '/b': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Which: bbb\r\n\r\nok',
    '/c': 'HTTP/1.1 201 OK\r\nContent-Length: 2\r\nX-Which: bbb\r\n\r\nok',
    // Not plain (no length): llhttp's, and the cache is left as it was.
    '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Which: ccc\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  };
  const up = await rawUpstream((s, _n, _c, head) => { s.write(heads[head.split(' ')[1]!]!, 'latin1'); });
  const pool = poolFor(up.port, { maxConnections: 1 });
  try {
    const seen: string[] = [];
    for (const path of ['/a', '/a', '/b', '/b', '/a', '/c', '/chunked', '/c', '/b']) {
      const a = await send(pool, { path });
      assert.equal(a.body, 'ok');
      seen.push(`${a.status} ${a.headers['x-which']}`);
    }
    assert.deepEqual(seen, ['200 aaa', '200 aaa', '200 bbb', '200 bbb', '200 aaa', '201 bbb', '200 ccc', '201 bbb', '200 bbb']);
  } finally {
    pool.destroy();
    up.close();
  }
});

test('H1Pool: a reused connection the upstream dropped is retried once on a fresh one', async () => {
  const up = await rawUpstream((s, n, conn) => {
    if (conn === 1 && n === 2) { s.destroy(); return; } // a keep-alive socket the upstream gave up on
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${conn}`);
  });
  const pool = poolFor(up.port);
  try {
    assert.equal((await send(pool, {})).body, '1');
    assert.equal((await send(pool, {})).body, '2');
    assert.equal(up.connections(), 2);
  } finally {
    pool.destroy();
    up.close();
  }
});

test('H1Pool: undici error codes for refused connections, silence and bad headers', async () => {
  const closed = net.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as net.AddressInfo).port;
  closed.close();
  await once(closed, 'close');
  const refused = poolFor(port);
  await assert.rejects(send(refused, {}), { code: 'ECONNREFUSED' });

  const silent = await rawUpstream(() => {});
  const pool = poolFor(silent.port);
  try {
    await assert.rejects(send(pool, { headersTimeout: 100 }), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    assert.throws(() => pool.dispatch({ path: '/', method: 'GET', headers: { 'x-evil': 'a\r\nInjected: 1' } }, {}), { code: 'UND_ERR_INVALID_ARG' });
    assert.throws(() => pool.dispatch({ path: '/', method: 'GET', headers: { 'bad name': 'a' } }, {}), { code: 'UND_ERR_INVALID_ARG' });
  } finally {
    pool.destroy();
    silent.close();
  }
});

test('H1Pool: a streamed body of unknown length goes out chunked; a known length as is', async () => {
  const seen: Array<{ te?: string; cl?: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      seen.push({ te: req.headers['transfer-encoding'], cl: req.headers['content-length'], body });
      res.end('done');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const pool = poolFor((server.address() as net.AddressInfo).port);
  try {
    const stream = new PassThrough();
    const answer = send(pool, { method: 'POST', body: stream });
    stream.write('part one, ');
    setTimeout(() => stream.end('part two'), 20);
    assert.equal((await answer).body, 'done');
    const sized = new PassThrough();
    const answer2 = send(pool, { method: 'PUT', headers: { host: 'up', 'content-length': '5' }, body: sized });
    sized.end('12345');
    await answer2;
    assert.equal((await send(pool, { method: 'POST', headers: { host: 'up', 'content-length': '3' }, body: Buffer.from('abc') })).body, 'done');
    assert.deepEqual(seen, [
      { te: 'chunked', cl: undefined, body: 'part one, part two' },
      { te: undefined, cl: '5', body: '12345' },
      { te: undefined, cl: '3', body: 'abc' },
    ]);
  } finally {
    pool.destroy();
    server.close();
  }
});

test('H1Pool: a sized body passes through across reads; bytes beyond it retire the connection', async () => {
  // Every byte differs from its neighbours: a part overwritten by a later read would show.
  const tail = `lo world${'.'.repeat(5000)}`; // over 4 KiB: passed through, not left to llhttp
  const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
  const up = await rawUpstream((s, n, conn, head) => {
    const path = head.split(' ')[1];
    if (path === '/split') {
      // The second read is longer than the first: it would overwrite 'hel' in a reused buffer.
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${3 + tail.length}\r\n\r\nhel`);
      setTimeout(() => s.write(tail), 20);
    } else if (path === '/small') {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhel');
      setTimeout(() => s.write('lo world'), 20);
    } else if (path === '/big') {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
      s.write(big);
    } else if (path === '/extra') {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE');
    } else {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nc${conn}n${n}`);
    }
  });
  const pool = poolFor(up.port);
  try {
    assert.equal((await send(pool, { path: '/split' })).body, `hel${tail}`);
    assert.equal((await send(pool, { path: '/small' })).body, 'hello world'); // left to llhttp, across reads
    assert.ok((await send(pool, { path: '/big' })).raw.equals(big));
    assert.equal((await send(pool, { path: '/next' })).body, 'c1n4'); // same connection, fourth request
    assert.equal((await send(pool, { path: '/extra' })).body, 'ok');
    assert.equal((await send(pool, { path: '/next' })).body, 'c2n1'); // the garbage retired connection 1
  } finally {
    pool.destroy();
    up.close();
  }
});

test('H1Pool: read_timeout counts silence, not the whole answer; an idle connection closes after keepalive_timeout', async () => {
  let closedAt = 0;
  const up = await rawUpstream((s, _n, _c, head) => {
    s.once('close', () => { closedAt = performance.now(); });
    if (head.startsWith('GET /drip')) {
      // 6 parts 60 ms apart: 300 ms in all, never 100 ms silent.
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n');
      let i = 0;
      const t = setInterval(() => { s.write('x'); if (++i === 6) clearInterval(t); }, 60);
    } else {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }
  });
  const pool = poolFor(up.port, { keepAliveTimeout: 200 });
  try {
    assert.equal((await send(pool, { path: '/drip', headersTimeout: 100, bodyTimeout: 100 })).body, 'xxxxxx');
    const released = performance.now();
    assert.equal(pool.connections, 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(pool.connections, 0, 'closed after 200 ms idle');
    const idle = closedAt - released;
    assert.ok(idle >= 190 && idle < 450, `closed after ${idle.toFixed(0)} ms idle (keepalive_timeout 200)`);
  } finally {
    pool.destroy();
    up.close();
  }
});
