/**
 * file-log through a real gateway with two workers: one JSON line per request appended by both
 * workers to one file (proxied answers and a key-auth 401 alike), a rotated file picked up with
 * `reopen`, and a log "disk" that blocks (a FIFO nobody reads yet) not delaying any response.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../../../test/harness/upstreams.ts';

let gw: GatewayProcess;
let up: Upstream;
const dir = mkdtempSync(join(tmpdir(), 'turnpike-file-log-it-'));
const accessLog = join(dir, 'access.log');
const rotating = join(dir, 'rotating.log');
const fifo = join(dir, 'fifo.log');
let fifoReader: ReturnType<typeof createReadStream> | null = null;

before(async () => {
  execFileSync('mkfifo', [fifo]);
  up = await startRecordingUpstream();
  gw = await startGateway({
    workers: 2,
    config: {
      _format_version: '3.0',
      services: [{
        name: 'svc', url: up.url,
        routes: [
          { name: 'logged', paths: ['/logged'], plugins: [{ name: 'file-log', config: { path: accessLog } }] },
          { name: 'locked', paths: ['/locked'], plugins: [{ name: 'file-log', config: { path: accessLog } }, { name: 'key-auth' }] },
          { name: 'rotating', paths: ['/rotating'], plugins: [{ name: 'file-log', config: { path: rotating, reopen: true } }] },
          { name: 'stuck', paths: ['/stuck'], plugins: [{ name: 'file-log', config: { path: fifo } }] },
        ],
      }],
    },
  });
});

after(async () => {
  await gw?.stop();
  // Closed only once the gateway is gone: a FIFO writer without a reader would fail its writes.
  fifoReader?.destroy();
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}): Promise<number> {
  const r = await fetch(`${gw.proxy}${path}`, { headers: { connection: 'close', ...headers } });
  await r.text();
  return r.status;
}

async function lines(path: string, n: number): Promise<Record<string, any>[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const all = text.split('\n').filter(Boolean);
    if (all.length >= n || Date.now() > deadline) return all.map((l) => JSON.parse(l) as Record<string, any>);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('one JSON line per request from both workers, exits included', async () => {
  const N = 30;
  await Promise.all(Array.from({ length: N }, (_, i) => get(`/logged/${i}?n=${i}`, { authorization: 'Bearer secret' })));
  assert.equal(await get('/locked'), 401);
  const entries = await lines(accessLog, N + 1);
  assert.equal(entries.length, N + 1);
  const proxied = entries.filter((e) => e.route.name === 'logged');
  assert.deepEqual(proxied.map((e) => Number(e.request.querystring.n)).sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
  const e = proxied[0]!;
  assert.equal(e.request.method, 'GET');
  assert.match(e.request.url, /^http:\/\/127\.0\.0\.1:\d+\/logged\/\d+\?n=\d+$/);
  assert.equal(e.request.headers.authorization, 'REDACTED');
  assert.equal(e.response.status, 200);
  assert.equal(e.upstream_status, '200');
  assert.equal(e.source, 'upstream');
  assert.equal(e.service.name, 'svc');
  assert.equal(e.tries.length, 1);
  assert.ok(e.latencies.proxy >= 0);
  assert.equal(typeof e.started_at, 'number');
  const denied = entries.find((x) => x.route.name === 'locked')!;
  assert.equal(denied.response.status, 401);
  assert.equal(denied.source, 'kong');
  assert.equal(denied.upstream_status, '');
  assert.equal(denied.latencies.proxy, -1);
  assert.ok(readFileSync(accessLog, 'utf8').includes('"uri":"\\/logged\\/'), 'slashes escaped as Kong\'s cjson writes them');
});

test('reopen: after the file is moved away, the next request creates a new one', async () => {
  assert.equal(await get('/rotating/1'), 200);
  assert.equal((await lines(rotating, 1)).length, 1);
  renameSync(rotating, `${rotating}.1`);
  assert.equal(await get('/rotating/2'), 200);
  const fresh = await lines(rotating, 1);
  assert.equal(fresh.length, 1);
  assert.equal(fresh[0]!.request.uri, '/rotating/2');
  assert.equal(readFileSync(`${rotating}.1`, 'utf8').split('\n').filter(Boolean).length, 1);
});

test('a log destination that blocks does not delay responses; lines arrive once it drains', async () => {
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) assert.equal(await get(`/stuck/${i}`), 200);
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 1000, `5 requests took ${elapsed} ms with the log FIFO unread`);
  // Now read the FIFO: the queued lines come through.
  const got: string[] = [];
  const reader = fifoReader = createReadStream(fifo, { encoding: 'utf8' });
  await new Promise<void>((resolve) => {
    let buf = '';
    const timer = setTimeout(resolve, 5000);
    reader.on('data', (c) => {
      buf += c;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      got.push(...parts);
      if (got.length >= 5) { clearTimeout(timer); resolve(); }
    });
  });
  assert.equal(got.length, 5);
  assert.deepEqual(got.map((l) => (JSON.parse(l) as { request: { uri: string } }).request.uri).sort(), ['/stuck/0', '/stuck/1', '/stuck/2', '/stuck/3', '/stuck/4']);
});
