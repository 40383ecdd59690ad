/**
 * HTTPS on the proxy listener with certificates chosen by SNI from the config, SNI routing, the
 * HTTPS-only route redirect, WebSocket upgrades passing through, and request ids when enabled.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startGateway } from '../harness/gateway-process.ts';
import { freePort } from '../harness/ports.ts';
import { startRecordingUpstream } from '../harness/upstreams.ts';

function selfSigned(cn: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tp-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', `subjectAltName=DNS:${cn}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
}

function httpsGet(port: number, servername: string, path: string): Promise<{ status: number; body: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, servername, rejectUnauthorized: false, headers: { host: servername } }, (res) => {
      const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body, cn: String(cert.subject?.CN ?? '') }));
    });
    req.on('error', reject);
  });
}

test('TLS by SNI, SNI routes, https redirect, websocket pass-through, request ids', async () => {
  const a = selfSigned('a.test');
  const b = selfSigned('b.test');
  const up = await startRecordingUpstream();
  // A WebSocket-ish upstream: completes the handshake, then echoes bytes.
  const wsUp = http.createServer();
  wsUp.on('upgrade', (req, socket) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Upstream-Path: ${req.url}\r\n\r\n`);
    socket.on('data', (d) => socket.write(d));
  });
  await new Promise<void>((r) => wsUp.listen(0, '127.0.0.1', () => r()));
  const wsPort = (wsUp.address() as net.AddressInfo).port;
  const tlsPort = await freePort();
  const gw = await startGateway({
    args: ['--proxy-listen', `127.0.0.1:${await freePort()}, 127.0.0.1:${tlsPort} ssl`, '--headers', 'server_tokens, latency_tokens, X-Kong-Request-Id'],
    config: {
      _format_version: '3.0',
      certificates: [{ cert: a.cert, key: a.key, snis: [{ name: 'a.test' }] }, { cert: b.cert, key: b.key, snis: [{ name: 'b.test' }] }],
      services: [
        { name: 's', url: up.url, routes: [{ name: 'sni-b', snis: ['b.test'], paths: ['/b'] }, { name: 'secure', paths: ['/secure'], protocols: ['https'] },
          { name: 'secure301', paths: ['/moved'], protocols: ['https'], https_redirect_status_code: 301 }] },
        { name: 'ws', url: `http://127.0.0.1:${wsPort}`, routes: [{ name: 'ws', paths: ['/ws'] }] },
      ],
    },
  });
  after(async () => { await gw.stop(); await up.close(); wsUp.close(); });

  // the gateway's --proxy-listen here overrides the harness' one; find the plain port from its output
  const ra = await httpsGet(tlsPort, 'a.test', '/secure');
  assert.equal(ra.cn, 'a.test');
  assert.equal(ra.status, 200);
  const rb = await httpsGet(tlsPort, 'b.test', '/b/anything');
  assert.equal((await httpsGet(tlsPort, 'a.test', '/b/anything')).status, 404, 'sni-b does not match a.test over https');
  assert.equal(rb.cn, 'b.test');
  assert.equal(rb.status, 200, 'the sni-only route matches b.test');

  const plainPort = Number(/proxy http:\/\/127\.0\.0\.1:(\d+)/.exec(gw.output())?.[1]);
  const redirect = await fetch(`http://127.0.0.1:${plainPort}/secure`);
  assert.equal(redirect.status, 426);
  assert.equal(redirect.headers.get('upgrade'), 'TLS/1.2, HTTP/1.1');
  const body = await redirect.text();
  assert.match(body, /"message":"Please use HTTPS protocol"/);
  assert.match(body, /"request_id":"[0-9a-f]+"/);
  assert.match(redirect.headers.get('x-kong-request-id') ?? '', /^[0-9a-f]+$/);
  const moved = await fetch(`http://127.0.0.1:${plainPort}/moved?x=1`, { redirect: 'manual' });
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.get('location'), 'https://127.0.0.1/moved?x=1');

  const echoed = await new Promise<string>((resolve, reject) => {
    const s = net.connect(plainPort, '127.0.0.1', () => {
      s.write('GET /ws/chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n\r\n') && !buf.includes('ping!')) s.write('ping!');
      if (buf.endsWith('ping!')) { s.destroy(); resolve(buf); }
    });
    s.on('error', reject);
    setTimeout(() => reject(new Error(`no echo: ${buf}`)), 5000).unref();
  });
  assert.match(echoed, /^HTTP\/1\.1 101 /);
  assert.match(echoed, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  assert.match(echoed, /x-upstream-path: \/chat/i, 'strip_path applies to upgrades');
  assert.ok(echoed.endsWith('ping!'));
});
