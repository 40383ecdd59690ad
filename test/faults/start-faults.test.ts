/**
 * Faults around the start: a config being compiled answers nothing early, a SIGTERM right after
 * the start report exits 0, an Admin-only node starts without a proxy port, a taken port fails
 * the start at once. (Split from process-faults.test.ts: together they ran close to the 120 s a
 * test file gets.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { BIN, startGateway } from '../harness/gateway-process.ts';
import { freePort } from '../harness/ports.ts';
import { sleep } from '../harness/load.ts';
import { onCleanup, spawnGateway, upstream } from '../harness/fault-fixtures.ts';

test('start with --config: the proxy answers nothing before the config is in (no 404 from an empty config)', async () => {
  const u = await upstream();
  // Enough routes that compiling takes a moment.
  const services = Array.from({ length: 2000 }, (_, i) => ({ name: `s${i}`, url: u.url, routes: [{ name: `r${i}`, paths: [`/p${i}`] }] }));
  services.push({ name: 'root', url: u.url, routes: [{ name: 'root', paths: ['/'] }] });
  const port = await freePort();
  spawnGateway(`127.0.0.1:${port}`, { _format_version: '3.0', services }, ['--workers', '2'], { stdio: 'ignore' });
  const statuses: number[] = [];
  const deadline = Date.now() + 30_000;
  while (statuses.length < 20 && Date.now() < deadline) {
    const r = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
    if (r) { statuses.push(r.status); await r.arrayBuffer(); } else await sleep(5);
  }
  assert.equal(statuses.length, 20, 'the gateway came up');
  assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every answer came from the config');
});

test('SIGTERM the moment the gateway reports its start: exit 0, though socket copies are still on their way to the workers', async () => {
  const u = await upstream();
  const config = { _format_version: '3.0', services: [{ name: 's', url: u.url, routes: [{ name: 'r', paths: ['/'] }] }] };
  // The primary hands each worker 16 copies of each socket, one IPC round trip apiece, and
  // reports the start once every worker listens on copy 0: a SIGTERM then closes descriptors
  // still queued for sending, which must not take the primary down.
  for (let i = 0; i < 3; i++) {
    const listen = [await freePort(), await freePort(), await freePort()].map((p) => `127.0.0.1:${p}`).join(', ');
    const child = spawnGateway(listen, config, ['--workers', '2', '--log-level', 'error']);
    let out = '';
    child.stderr!.on('data', (d) => { out += d; });
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('worker(s)')) child.kill('SIGTERM');
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    if (code !== 0) assert.fail(`exit ${code} ${signal}:\n${out}`);
  }
});

test('--proxy-listen off (an Admin-only node, as Kong allows): the gateway starts and takes configs', async () => {
  const g = await startGateway({ workers: 1, args: ['--proxy-listen', 'off'] });
  onCleanup(() => g.stop('SIGKILL'));
  const res = await g.postConfig({ _format_version: '3.0', services: [{ name: 's', url: 'http://127.0.0.1:9', routes: [{ paths: ['/'] }] }] });
  assert.equal(res.status, 201, await res.text());
  assert.equal((await fetch(`${g.status}/status/ready`)).status, 200);
  const refused = await fetch(g.proxy).then(() => 'answered', () => 'refused');
  assert.equal(refused, 'refused');
});

test('a proxy port another process listens on: the start fails at once with listen EADDRINUSE', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => taken.close(resolve)));
  const port = (taken.address() as net.AddressInfo).port;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, 'gateway', '--proxy-listen', `127.0.0.1:${port}`, '--admin-listen', 'off',
    '--status-listen', 'off', '--gui-listen', 'off', '--workers', '1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, `Error: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`);
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
});
