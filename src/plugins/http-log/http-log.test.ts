/**
 * http-log: schema defaults and Kong's checks (endpoint URL, forbidden headers, userinfo plus
 * Authorization), the deprecated queue parameters, the request the sender makes (method, content
 * type, Basic auth from userinfo, extra headers, one object vs an array) against a real local
 * receiver, and the log handler on synthetic contexts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeContext, silentLog, validatePluginConfig, recordingLog } from '../../../test/harness/plugin-context.ts';
import plugin, { queueName, queueParams } from './index.ts';
import { parseEndpoint, type HttpLogConfig, type ParsedEndpoint } from './schema.ts';
import { closeSenders, sendBatch } from './sender.ts';
import { getQueue } from './queue.ts';


const validate = (config: unknown) => validatePluginConfig(plugin, config);

interface Received { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }
let server: http.Server;
let base: string;
const received: Received[] = [];
let answer = 200;

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end(answer < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await closeSenders();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('schema defaults (Kong 3.x), queue record included', () => {
  const v = validate({ http_endpoint: 'http://example.test/logs' });
  assert.deepEqual(v, {
    ok: true,
    config: {
      http_endpoint: 'http://example.test/logs', method: 'POST', content_type: 'application/json', timeout: 10000, keepalive: 60000,
      queue: {
        max_batch_size: 1, max_coalescing_delay: 1, max_entries: 10000, max_retry_time: 60, initial_retry_delay: 0.01,
        max_retry_delay: 60, concurrency_limit: 1,
      },
    },
  });
});

test('schema errors with Kong messages', () => {
  assert.deepEqual(validate({}), { ok: false, errors: { http_endpoint: 'required field missing' } });
  assert.deepEqual(validate({ http_endpoint: 'example.test/logs' }), { ok: false, errors: { http_endpoint: 'missing host in url' } });
  assert.deepEqual(validate({ http_endpoint: '//example.test/logs' }), { ok: false, errors: { http_endpoint: 'missing scheme in url' } });
  assert.deepEqual(validate({ http_endpoint: 'http://x.test', method: 'GET' }), { ok: false, errors: { method: 'expected one of: POST, PUT, PATCH' } });
  assert.deepEqual(validate({ http_endpoint: 'http://x.test', content_type: 'text/plain' }),
    { ok: false, errors: { content_type: 'expected one of: application/json, application/json; charset=utf-8' } });
  for (const [h, msg] of [['Host', "cannot contain 'Host' header"], ['content-length', "cannot contain 'Content-Length' header"],
    ['Content-Type', "cannot contain 'Content-Type' header"], ['bad header', "bad header name 'bad header', allowed characters are A-Z, a-z, 0-9, '_', and '-'"]]) {
    assert.deepEqual(validate({ http_endpoint: 'http://x.test', headers: { [h!]: 'v' } }), { ok: false, errors: { headers: msg } });
  }
  assert.deepEqual(validate({ http_endpoint: 'http://u:p@x.test', headers: { Authorization: 'Bearer t' } }),
    { ok: false, errors: { '@entity': ["specifying both an 'Authorization' header and user info in 'http_endpoint' is not allowed"] } });
  assert.deepEqual(validate({ http_endpoint: 'http://x.test', queue: { max_batch_size: 0 } }),
    { ok: false, errors: { queue: { max_batch_size: 'value should be between 1 and 1000000' } } });
  assert.deepEqual(validate({ http_endpoint: 'http://x.test', queue: { concurrency_limit: 2 } }),
    { ok: false, errors: { queue: { concurrency_limit: 'expected one of: -1, 1' } } });
  assert.equal(validate({ http_endpoint: 'http://x.test', headers: { 'X-Token': 1 } }).ok, false);
  // Deprecated fields are still accepted.
  assert.equal(validate({ http_endpoint: 'http://x.test', retry_count: 3, queue_size: 5, flush_timeout: 0.5 }).ok, true);
});

test('endpoint parsing: default ports, path and query, userinfo as written', () => {
  assert.deepEqual(parseEndpoint('https://user:p%40ss@logs.test/in?x=1'),
    { scheme: 'https', host: 'logs.test', port: 443, path: '/in?x=1', userinfo: 'user:p%40ss' });
  assert.deepEqual(parseEndpoint('http://[::1]:9000'), { scheme: 'http', host: '::1', port: 9000, path: '/', userinfo: null });
});

test('deprecated parameters map onto the queue as Kong maps them, with warnings', () => {
  const v = validate({ http_endpoint: 'http://x.test', retry_count: 3, queue_size: 5, flush_timeout: 0.5 });
  assert.ok(v.ok);
  const log = recordingLog();
  const p = queueParams(v.config as unknown as HttpLogConfig, 'pid', log);
  assert.equal(p.maxBatchSize, 5);
  assert.equal(p.maxCoalescingDelay, 0.5);
  assert.equal(p.logTag, 'http-log plugin pid');
  assert.equal(log.lines.length, 3);
  assert.match(log.lines[0]!, /retry_count parameter no longer works/);
  // Old defaults change nothing and say nothing.
  const d = validate({ http_endpoint: 'http://x.test', retry_count: 10, queue_size: 1, flush_timeout: 2 });
  assert.ok(d.ok);
  const quiet = recordingLog();
  assert.equal(queueParams(d.config as unknown as HttpLogConfig, 'pid', quiet).maxBatchSize, 1);
  assert.deepEqual(quiet.lines, []);
  assert.equal(queueName(v.config as unknown as HttpLogConfig), 'http://x.test:POST:application/json:10000:60000:3');
});

function endpoint(path = '/logs', userinfo: string | null = null): ParsedEndpoint {
  const u = new URL(base);
  return { scheme: 'http', host: u.hostname, port: Number(u.port), path, userinfo };
}

test('sender: one entry is the body; several make a JSON array; headers as Kong sends them', async () => {
  received.length = 0;
  const common = { method: 'PUT', contentType: 'application/json; charset=utf-8', timeout: 2000, keepalive: 1000 };
  await sendBatch({ ...common, endpoint: endpoint('/one?k=v', 'bob:s3cret'), headers: { 'X-Env': 'test', 'Content-Type': 'text/evil' }, array: false }, ['{"a":1}']);
  await sendBatch({ ...common, endpoint: endpoint('/many'), headers: null, array: true }, ['{"a":1}', '{"b":2}']);
  assert.equal(received.length, 2);
  const [one, many] = received as [Received, Received];
  assert.equal(one.method, 'PUT');
  assert.equal(one.url, '/one?k=v');
  assert.equal(one.body, '{"a":1}');
  assert.equal(one.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(one.headers['content-length'], '7');
  assert.equal(one.headers['authorization'], `Basic ${Buffer.from('bob:s3cret').toString('base64')}`);
  assert.equal(one.headers['x-env'], 'test');
  assert.equal(many.body, '[{"a":1},{"b":2}]');
  assert.deepEqual(JSON.parse(many.body), [{ a: 1 }, { b: 2 }]);
  assert.equal(many.headers['authorization'], undefined);
});

test('sender: a status of 300 or more fails with Kong\'s message; a refused connection too', async () => {
  answer = 500;
  try {
    await assert.rejects(sendBatch({ endpoint: endpoint(), method: 'POST', contentType: 'application/json', timeout: 2000, keepalive: 1000, headers: null, array: false }, ['{}']),
      (e: Error) => e.message === `request to 127.0.0.1:${new URL(base).port} returned status code 500 and body nope`);
  } finally { answer = 200; }
  await assert.rejects(sendBatch({ endpoint: { scheme: 'http', host: '127.0.0.1', port: 1, path: '/', userinfo: null }, method: 'POST', contentType: 'application/json', timeout: 2000, keepalive: 1000, headers: null, array: false }, ['{}']),
    /^Error: failed request to 127\.0\.0\.1:1: /);
});

test('log handler: serializes the request, queues it and returns at once; the receiver gets it', async () => {
  received.length = 0;
  const v = validate({ http_endpoint: `${base}/handler`, custom_fields_by_lua: { extra: 'return "x"' } });
  assert.ok(v.ok);
  const h = plugin.create(v.config as never, { entity: { id: 'plugin-1' } as never, log: silentLog });
  const ctx = makeContext({ path: '/api', headers: { 'proxy-authorization': 'secret' } });
  ctx.response.status = 404;
  const t0 = performance.now();
  h.log!(ctx);
  assert.ok(performance.now() - t0 < 20);
  await getQueue(queueName(v.config as unknown as HttpLogConfig))?.drain();
  assert.equal(received.length, 1);
  const body = JSON.parse(received[0]!.body) as Record<string, any>;
  assert.equal(body.request.uri, '/api');
  assert.equal(body.request.headers['proxy-authorization'], 'REDACTED');
  assert.equal(body.response.status, 404);
  assert.equal(body.extra, 'x');
  assert.ok(received[0]!.body.includes('"uri":"\\/api"'));
});
