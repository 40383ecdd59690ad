/**
 * The access log through real gateways: `--access-log FILE` gets one JSON line per request in the
 * shape of Kong's log serializer, with credentials redacted (Authorization, Cookie, apikey, and the
 * names a key-auth instance reads keys from, in headers, query args, `uri` and `url`);
 * `--access-log stdout` lines still buffered when the gateway stops are written before it exits.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type GatewayProcess } from '../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../test/harness/upstreams.ts';

let up: Upstream;
let gw: GatewayProcess;
const logFile = join(mkdtempSync(join(tmpdir(), 'turnpike-access-')), 'access.log');

function config() {
  return {
    _format_version: '3.0',
    services: [{
      name: 'svc', url: up.url,
      routes: [
        { name: 'open', paths: ['/open'] },
        { name: 'locked', paths: ['/locked'], plugins: [{ name: 'key-auth', config: { key_names: ['x-secret'] } }] },
      ],
    }],
    consumers: [{ username: 'alex', keyauth_credentials: [{ key: 'topsecret-key' }] }],
  };
}

before(async () => {
  up = await startRecordingUpstream();
  gw = await startGateway({ config: config(), args: ['--access-log', logFile] });
});

after(async () => {
  await gw?.stop();
  await up?.close();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<number> {
  const r = await fetch(`${gw.proxy}${path}`, { headers });
  await r.arrayBuffer();
  return r.status;
}

/** Waits for the buffered log to reach the file (a timer flushes it within a second). */
async function lines(file: string, n: number): Promise<Record<string, any>[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const all = text.split('\n').filter(Boolean);
    if (all.length >= n || Date.now() > deadline) return all.map((l) => JSON.parse(l) as Record<string, any>);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("one line per request in Kong's log entry shape, credentials redacted", async () => {
  assert.equal(await get('/open/a?apikey=abc-query-key&x=1', { authorization: 'Bearer bearer-token', cookie: 'session=cookie-secret', 'x-trace': 'kept' }), 200);
  assert.equal(await get('/locked/q?x-secret=topsecret-key&y=2'), 200);
  assert.equal(await get('/locked/h', { 'x-secret': 'topsecret-key' }), 200);
  assert.equal(await get('/locked/none'), 401);

  const entries = await lines(logFile, 4);
  assert.equal(entries.length, 4);
  const raw = readFileSync(logFile, 'utf8');
  for (const secret of ['abc-query-key', 'bearer-token', 'cookie-secret', 'topsecret-key']) {
    assert.ok(!raw.includes(secret), `${secret} must not reach the access log`);
  }

  const [open, query, header, denied] = entries as [Record<string, any>, Record<string, any>, Record<string, any>, Record<string, any>];
  // Kong's serializer fields.
  assert.match(open.request.id, /^[0-9a-f]{32}$/);
  assert.equal(open.request.method, 'GET');
  assert.equal(open.request.uri, '/open/a?apikey=REDACTED&x=1');
  assert.match(open.request.url, /^http:\/\/127\.0\.0\.1:\d+\/open\/a\?apikey=REDACTED&x=1$/);
  assert.deepEqual(open.request.querystring, { apikey: 'REDACTED', x: '1' });
  assert.equal(open.request.headers.authorization, 'REDACTED');
  assert.equal(open.request.headers.cookie, 'REDACTED');
  assert.equal(open.request.headers['x-trace'], 'kept');
  assert.ok(open.request.size > 0);
  assert.equal(open.response.status, 200);
  assert.ok(open.response.size > 0);
  assert.equal(open.upstream_uri, '/a?apikey=REDACTED&x=1', 'strip_path: what went upstream, redacted too');
  assert.equal(open.upstream_status, '200');
  assert.equal(open.route.name, 'open');
  assert.equal(open.service.name, 'svc');
  assert.equal(open.client_ip, '127.0.0.1');
  assert.equal(open.source, 'upstream');
  assert.equal(open.workspace_name, 'default');
  assert.equal(typeof open.started_at, 'number');
  assert.equal(typeof open.latencies.request, 'number');
  assert.equal(open.tries.length, 1);
  assert.equal(open.tries[0].port, up.port);

  // key-auth's own key name, in the query and in a header.
  assert.equal(query.request.querystring['x-secret'], 'REDACTED');
  assert.equal(query.request.querystring.y, '2');
  assert.equal(query.request.uri, '/locked/q?x-secret=REDACTED&y=2');
  assert.equal(query.consumer.username, 'alex');
  assert.equal(header.request.headers['x-secret'], 'REDACTED');
  assert.equal(denied.response.status, 401);
  assert.equal(denied.source, 'kong');
});

test('--access-log stdout: lines still buffered at shutdown are written before the gateway exits', async () => {
  const other = await startGateway({ config: config(), args: ['--access-log', 'stdout'] });
  try {
    const r = await fetch(`${other.proxy}/open/flushed-at-exit`);
    await r.arrayBuffer();
    assert.equal(r.status, 200);
  } finally {
    assert.equal(await other.stop(), 0);
  }
  const line = other.output().split('\n').find((l) => l.includes('/open/flushed-at-exit'));
  assert.ok(line, other.output());
  const entry = JSON.parse(line) as Record<string, any>;
  assert.equal(entry.request.uri, '/open/flushed-at-exit');
  assert.equal(entry.response.status, 200);
});
