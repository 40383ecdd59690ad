/**
 * request-size-limiting through a real gateway: Content-Length and chunked uploads, 413, 417
 * with Expect: 100-continue, 411 when a length is required; accepted bodies reach the upstream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;

before(async () => {
  up = await startRecordingUpstream();
  const route = (name: string, config: Record<string, unknown>) => ({ name, paths: [`/${name}`], plugins: [{ name: 'request-size-limiting', config }] });
  gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          route('bytes', { allowed_payload_size: 10, size_unit: 'bytes' }),
          route('kb', { allowed_payload_size: 1, size_unit: 'kilobytes' }),
          route('required', { require_content_length: true }),
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

/** A chunked upload (no Content-Length): Node sends chunks when the length is not given. */
function chunked(path: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.proxy}${path}`, { method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** Raw request text; resolves with the status line's code and the rest after the headers. */
function raw(text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(gw.proxyPort, '127.0.0.1', () => sock.write(text));
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (c: string) => {
      data += c;
      const end = data.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(data);
      if (end !== -1 && len && data.length >= end + 4 + Number(len[1])) sock.end();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const statuses = [...data.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => Number(m[1]));
      resolve({ status: statuses.find((s) => s >= 200) ?? 0, body: data.slice(data.lastIndexOf('\r\n\r\n') + 4) });
    });
  });
}

test('Content-Length within the limit is proxied with its body', async () => {
  const r = await fetch(`${gw.proxy}/bytes`, { method: 'POST', body: '0123456789' });
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { body: string }).body, '0123456789');
});

test('Content-Length over the limit: 413 "Request size limit exceeded"', async () => {
  const r = await fetch(`${gw.proxy}/bytes`, { method: 'POST', body: '0123456789A' });
  assert.equal(r.status, 413);
  assert.equal(await r.text(), '{\n  "message":"Request size limit exceeded"\n}');
  const kb = await fetch(`${gw.proxy}/kb`, { method: 'POST', body: 'x'.repeat(1025) });
  assert.equal(kb.status, 413);
  await kb.arrayBuffer();
  const kbOk = await fetch(`${gw.proxy}/kb`, { method: 'POST', body: 'x'.repeat(1024) });
  assert.equal(kbOk.status, 200);
  await kbOk.arrayBuffer();
});

test('Expect: 100-continue with a too-large Content-Length: 417, body never sent', async () => {
  const r = await raw('POST /bytes HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 417);
  assert.match(r.body, /Request size limit exceeded/);
});

test('chunked uploads are counted: small passes through whole, large gets 413', async () => {
  const small = await chunked('/bytes', ['01234', '56789']);
  assert.equal(small.status, 200);
  assert.equal((JSON.parse(small.body) as { body: string }).body, '0123456789');
  const large = await chunked('/bytes', ['01234', '56789', 'A']);
  assert.equal(large.status, 413);
  assert.equal(large.body, '{\n  "message":"Request size limit exceeded"\n}');
});

test('require_content_length: 411 without a length, chunked and sized bodies pass', async () => {
  const r = await raw('POST /required HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 411);
  assert.match(r.body, /A valid Content-Length header is required/);
  const c = await chunked('/required', ['abc']);
  assert.equal(c.status, 200);
  const sized = await fetch(`${gw.proxy}/required`, { method: 'POST', body: 'abc' });
  assert.equal(sized.status, 200);
  await sized.arrayBuffer();
});
