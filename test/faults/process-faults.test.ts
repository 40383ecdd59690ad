/**
 * Process faults: a worker killed with SIGKILL (its pid from the Admin API's `GET /`) is replaced,
 * gets the running config, and the other workers keep serving meanwhile; SIGTERM turns
 * /status/ready to 503 while in-flight requests finish, cuts what is still running after
 * `--drain-timeout`, and exits 0. Faults around the start: start-faults.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startHangingUpstream } from '../harness/upstreams.ts';
import { startLoad, describeFailures, waitFor, sleep } from '../harness/load.ts';
import { onCleanup, upstream } from '../harness/fault-fixtures.ts';

async function pids(g: GatewayProcess): Promise<{ master: number; workers: number[] }> {
  const root = await (await fetch(`${g.admin}/`)).json() as { pids: { master: number; workers: number[] } };
  return root.pids;
}

test('kill -9 of one worker: it is replaced with the running config, the others keep serving', async () => {
  const u = await upstream((_req, res) => setTimeout(() => res.end('ok'), 5));
  const g = await startGateway({
    workers: 3,
    config: { _format_version: '3.0', services: [{ name: 's', url: u.url, routes: [{ paths: ['/'] }] }] },
  });
  onCleanup(() => g.stop());
  const before = await pids(g);
  assert.equal(before.workers.length, 3);
  assert.equal(before.master, g.child.pid);
  const load = startLoad({ url: `${g.proxy}/x`, concurrency: 6, maxMs: 20_000 });
  await sleep(500);
  const victim = before.workers[1]!;
  process.kill(victim, 'SIGKILL');
  const killedAt = Date.now();
  // The primary notices the death (the victim leaves the pid list) before it forks a replacement.
  let goneAt = 0;
  await waitFor('the primary to notice', async () => !(await pids(g)).workers.includes(victim), 10_000, 20);
  goneAt = Date.now();
  // Replaced: three workers again, the victim gone, and every worker serving the config (ready).
  await waitFor('a replacement worker', async () => {
    const p = await pids(g);
    return p.workers.length === 3 && !p.workers.includes(victim);
  }, 10_000, 50);
  await waitFor('ready again', async () => (await fetch(`${g.status}/status/ready`)).status === 200, 10_000, 50);
  const replacedAt = Date.now();
  await sleep(700);
  const outcomes = await load.stop();
  const during = outcomes.filter((o) => o.startedAt >= killedAt && o.endedAt <= replacedAt);
  const afterwards = outcomes.filter((o) => o.startedAt > replacedAt);
  // Only requests on the killed worker's connections may fail (they died with it): the one each
  // of the 6 callers had in flight, and one sent on an idle pooled connection of the victim's
  // before fetch saw it close (fetch's pool can hold more sockets than there are callers).
  const failed = outcomes.filter((o) => o.status !== 200);
  assert.ok(failed.length <= 12, describeFailures(outcomes, (o) => o.status === 200));
  // A connection handed to the victim after the kill but before the primary saw it die can fail too.
  assert.ok(failed.every((o) => o.startedAt <= goneAt), `failures after the primary saw the death: ${describeFailures(outcomes.filter((o) => o.startedAt > goneAt), (o) => o.status === 200)}`);
  assert.ok(during.filter((o) => o.status === 200).length > 0, 'the other workers served while the replacement started');
  assert.ok(afterwards.length > 20 && afterwards.every((o) => o.status === 200), describeFailures(afterwards, (o) => o.status === 200));
  // The replacement itself serves: with 3 workers new connections reach it.
  const after = await pids(g);
  const fresh = after.workers.find((p) => !before.workers.includes(p));
  assert.ok(fresh, 'a new worker pid');
  const status = await (await fetch(`${g.admin}/status`)).json() as { configuration_hash: string };
  assert.match(status.configuration_hash, /^[0-9a-f]{32}$/);
});

test('a worker that keeps dying soon after its start is restarted with a growing delay, not every 100 ms', async () => {
  const u = await upstream();
  const g = await startGateway({ config: { _format_version: '3.0', services: [{ name: 's', url: u.url, routes: [{ paths: ['/'] }] }] } });
  onCleanup(() => g.stop());
  let victim = (await pids(g)).workers[0]!;
  for (let i = 0; i < 4; i++) {
    process.kill(victim, 'SIGKILL');
    await waitFor('a replacement worker', async () => {
      const w = (await pids(g)).workers;
      return w.length === 1 && w[0] !== victim;
    }, 15_000, 20);
    victim = (await pids(g)).workers[0]!;
  }
  const delays = g.output().split('\n').filter((l) => l.includes('starting a replacement'))
    .map((l) => (JSON.parse(l) as { restartInMs: number }).restartInMs);
  assert.deepEqual(delays, [100, 200, 400, 800]);
  assert.equal((await fetch(`${g.proxy}/`)).status, 200, 'the last replacement serves');
});

test('kill -9 of the only worker: connections opened before its replacement listens wait and are answered', async () => {
  const u = await upstream();
  const g = await startGateway({ workers: 1, config: { _format_version: '3.0', services: [{ name: 's', url: u.url, routes: [{ paths: ['/'] }] }] } });
  onCleanup(() => g.stop('SIGKILL'));
  const [victim] = (await pids(g)).workers;
  process.kill(victim!, 'SIGKILL');
  await waitFor('the primary to notice', async () => !(await pids(g)).workers.includes(victim!), 10_000, 20);
  // The primary holds the listening socket: with no worker alive the connection queues, it is not refused.
  const t0 = Date.now();
  const res = await fetch(`${g.proxy}/queued`);
  assert.equal(res.status, 200, await res.text());
  assert.ok((await pids(g)).workers.length === 1, 'a replacement worker');
  assert.ok(Date.now() - t0 < 15_000);
});

test('200 connections opened at once are all accepted and answered (several accepting descriptors per worker)', async () => {
  const u = await upstream();
  const g = await startGateway({ workers: 1, config: { _format_version: '3.0', services: [{ name: 's', url: u.url, routes: [{ paths: ['/'] }] }] } });
  onCleanup(() => g.stop('SIGKILL'));
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => new Promise<string>((resolve) => {
    let head = '';
    const s = net.connect(g.proxyPort, '127.0.0.1', () => s.write(`GET /burst/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    s.setEncoding('latin1');
    s.on('data', (d: string) => { head += d; });
    s.on('close', () => resolve(head.slice(0, 15)));
    s.on('error', (err) => resolve(String(err)));
  })));
  assert.deepEqual(answers.filter((a) => a !== 'HTTP/1.1 200 OK'), []);
});

test('SIGTERM: /status/ready turns 503 while in-flight requests finish; what outlives --drain-timeout is cut; exit 0', async () => {
  const slow = await upstream((_req, res) => setTimeout(() => res.end('late but whole'), 800));
  const hang = await startHangingUpstream();
  onCleanup(() => hang.close());
  const g = await startGateway({
    workers: 2,
    args: ['--drain-timeout', '1500ms'],
    config: {
      _format_version: '3.0',
      services: [
        { name: 'slow', url: slow.url, routes: [{ paths: ['/slow'] }] },
        { name: 'hang', url: hang.url, read_timeout: 60_000, routes: [{ paths: ['/hang'] }] },
      ],
    },
  });
  onCleanup(() => g.stop('SIGKILL'));
  assert.equal((await fetch(`${g.status}/status/ready`)).status, 200);
  let slowDone = false;
  const slowReq = fetch(`${g.proxy}/slow`).then(async (r) => { const t = await r.text(); slowDone = true; return { status: r.status, text: t }; });
  const hangReq = fetch(`${g.proxy}/hang`).then(async (r) => { await r.text(); return 'answered'; }, () => 'cut');
  await sleep(150);
  const t0 = Date.now();
  const exited = g.stop('SIGTERM');
  // Readiness goes first: 503 while the slow request is still in flight.
  await waitFor('/status/ready 503', async () => {
    const r = await fetch(`${g.status}/status/ready`).catch(() => null);
    if (!r) return false;
    const body = await r.json() as { message: string };
    return r.status === 503 && body.message === 'draining';
  }, 2_000, 10);
  assert.equal(slowDone, false, 'readiness turned 503 before in-flight work finished');
  // New connections are no longer accepted.
  await waitFor('proxy listener closed', () => new Promise<boolean>((resolve) => {
    const s = net.connect(g.proxyPort, '127.0.0.1', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  }), 2_000, 20);
  const done = await slowReq;
  assert.deepEqual(done, { status: 200, text: 'late but whole' }, 'the in-flight request completed');
  assert.equal(await hangReq, 'cut', 'a request still running at the drain timeout is cut');
  const code = await exited;
  const ms = Date.now() - t0;
  assert.equal(code, 0);
  assert.ok(ms >= 1_400 && ms < 6_000, `exited ${ms} ms after SIGTERM (drain timeout 1500 ms)`);
});
