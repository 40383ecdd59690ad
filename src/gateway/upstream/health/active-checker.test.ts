/**
 * @module gateway/upstream/health/active-checker.test
 * Active health checks against real servers on 127.0.0.1: a 200, a 500, a refused port, a server
 * that hangs, one that answers garbage, a TCP-only check, a target going down and coming back,
 * the probe request itself (path, Host, headers), the health report, and that `stop()` leaves
 * nothing running (timers cleared, sockets in flight destroyed, the process can exit).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Balancer } from '../balancer/balancer.ts';
import { fakeRequest, makeTarget, makeUpstream } from '../balancer/test-fixtures.ts';
import { upstreamHealth, balancerHealth } from './health-report.ts';

const servers: net.Server[] = [];
after(() => { for (const s of servers) { s.close(); (s as http.Server).closeAllConnections?.(); } });

interface ProbeLog { path: string; host: string | undefined; headers: http.IncomingHttpHeaders }

async function httpServer(status: () => number): Promise<{ port: number; requests: ProbeLog[] }> {
  const requests: ProbeLog[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', host: req.headers.host, headers: req.headers });
    res.writeHead(status(), { 'content-type': 'text/plain' });
    res.end('ok');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, requests };
}

async function rawServer(onConnection: (s: net.Socket) => void): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const server = net.createServer((s) => { count++; s.on('error', () => {}); onConnection(s); });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, connections: () => count };
}

async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function activeUpstream(active: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return makeUpstream({ ...extra, healthchecks: { active } } as never);
}

test('active http checks mark a 500 and a refused port down, keep the 200 up', async () => {
  const good = await httpServer(() => 200);
  const bad = await httpServer(() => 500);
  const refused = await refusedPort();
  const u = activeUpstream({
    http_path: '/status', timeout: 1,
    healthy: { interval: 0.1, successes: 1 },
    unhealthy: { interval: 0.1, http_failures: 2, tcp_failures: 2 },
  });
  const b = new Balancer(u, [makeTarget(`127.0.0.1:${good.port}`), makeTarget(`127.0.0.1:${bad.port}`), makeTarget(`127.0.0.1:${refused}`)]);
  const changes: string[] = [];
  b.onChange((target, healthy, change) => changes.push(`${target}=${healthy}/${change.source}`));
  b.start();
  try {
    await waitFor('both failing targets down', () => !b.peer(`127.0.0.1:${bad.port}`)!.healthy && !b.peer(`127.0.0.1:${refused}`)!.healthy);
    assert.equal(b.peer(`127.0.0.1:${good.port}`)!.healthy, true);
    assert.ok(bad.requests.length >= 2, 'two 500s were needed');
    assert.equal(b.peer(`127.0.0.1:${refused}`)!.health.tcpFailures, 2);
    assert.deepEqual(changes.sort(), [`127.0.0.1:${bad.port}=false/active`, `127.0.0.1:${refused}=false/active`].sort());
    for (let i = 0; i < 5; i++) { const p = b.pick(fakeRequest())!; b.release(p); assert.equal(p.port, good.port); }

    // The probe itself: GET <http_path>, Host = target host without port, Connection: close.
    const probe = good.requests[0]!;
    assert.equal(probe.path, '/status');
    assert.equal(probe.host, '127.0.0.1');
    assert.equal(probe.headers.connection, 'close');

    // Kong's report shape.
    const report = await upstreamHealth(b, { nodeId: 'node-1' });
    assert.equal(report.node_id, 'node-1');
    assert.equal(report.next, null);
    const byTarget = new Map(report.data.map((d) => [d.target, d]));
    const goodRow = byTarget.get(`127.0.0.1:${good.port}`)!;
    assert.equal(goodRow.health, 'HEALTHY');
    assert.deepEqual(goodRow.upstream, { id: 'u-1' });
    assert.deepEqual(goodRow.data, {
      host: '127.0.0.1', port: good.port, dns: 'A', nodeWeight: 100,
      weight: { total: 100, unavailable: 0, available: 100 },
      addresses: [{ ip: '127.0.0.1', port: good.port, weight: 100, health: 'HEALTHY' }],
    });
    assert.equal(byTarget.get(`127.0.0.1:${bad.port}`)!.health, 'UNHEALTHY');
    assert.deepEqual(byTarget.get(`127.0.0.1:${bad.port}`)!.data.weight, { total: 100, unavailable: 100, available: 0 });
    const whole = await balancerHealth(b, { nodeId: 'node-1' });
    assert.equal(whole.data.health, 'HEALTHY');
    assert.deepEqual(whole.data.details!.weight, { total: 300, unavailable: 200, available: 100 });
  } finally {
    b.stop();
  }
});

test('a target going down and recovering is followed by the unhealthy-interval probes', async () => {
  let status = 200;
  const flappy = await httpServer(() => status);
  const other = await httpServer(() => 200);
  const u = activeUpstream({
    healthy: { interval: 0.1, successes: 2 },
    unhealthy: { interval: 0.1, http_failures: 1 },
  });
  const b = new Balancer(u, [makeTarget(`127.0.0.1:${flappy.port}`), makeTarget(`127.0.0.1:${other.port}`)]);
  const peer = b.peer(`127.0.0.1:${flappy.port}`)!;
  const seen: boolean[] = [];
  b.onChange((target, healthy) => { if (target === peer.name) seen.push(healthy); });
  b.start();
  try {
    await waitFor('first probe', () => flappy.requests.length > 0);
    assert.equal(peer.healthy, true);
    status = 503;
    await waitFor('down', () => !peer.healthy);
    const down = flappy.requests.length;
    await waitFor('probed while down', () => flappy.requests.length >= down + 2);
    assert.equal(peer.healthy, false);
    status = 200;
    await waitFor('recovered', () => peer.healthy);
    assert.deepEqual(seen, [false, true]);
  } finally {
    b.stop();
  }
});

test('intervals are per state: with only unhealthy.interval, healthy targets are not probed', async () => {
  const up = await httpServer(() => 200);
  const u = activeUpstream({ healthy: { interval: 0, successes: 1 }, unhealthy: { interval: 0.05, http_failures: 1 } });
  const b = new Balancer(u, [makeTarget(`127.0.0.1:${up.port}`)]);
  b.start();
  try {
    await sleep(250);
    assert.equal(up.requests.length, 0);
    // Forced down (e.g. by the Admin API): now the unhealthy loop probes it and brings it back.
    b.setHealth(`127.0.0.1:${up.port}`, false);
    await waitFor('revived by active probes', () => b.peer(`127.0.0.1:${up.port}`)!.healthy);
    assert.ok(up.requests.length >= 1);
  } finally {
    b.stop();
  }
});

test('timeouts, garbage status lines, custom headers and host_header', async () => {
  const hanging = await rawServer(() => { /* accept, never answer */ });
  const garbage = await rawServer((s) => s.once('data', () => s.end('NOT HTTP AT ALL\r\n\r\n')));
  const ok = await httpServer(() => 200);
  const u = activeUpstream({
    timeout: 0.15,
    headers: { 'x-probe': ['a', 'b'] },
    healthy: { interval: 0.05 },
    unhealthy: { interval: 0.05, timeouts: 1, http_failures: 1 },
  }, { host_header: 'api.example.com' });
  const b = new Balancer(u, [
    makeTarget(`127.0.0.1:${hanging.port}`), makeTarget(`127.0.0.1:${garbage.port}`), makeTarget(`127.0.0.1:${ok.port}`),
  ]);
  b.start();
  try {
    await waitFor('hanging and garbage down', () => !b.peer(`127.0.0.1:${hanging.port}`)!.healthy && !b.peer(`127.0.0.1:${garbage.port}`)!.healthy);
    assert.equal(b.peer(`127.0.0.1:${hanging.port}`)!.health.timeouts, 1);
    assert.equal(b.peer(`127.0.0.1:${garbage.port}`)!.health.httpFailures, 1);
    await waitFor('ok probed', () => ok.requests.length > 0);
    assert.equal(ok.requests[0]!.host, 'api.example.com');
    assert.equal(ok.requests[0]!.headers['x-probe'], 'a, b');
  } finally {
    b.stop();
  }
});

test('tcp checks only connect', async () => {
  const listening = await rawServer((s) => s.end());
  const refused = await refusedPort();
  const u = activeUpstream({ type: 'tcp', healthy: { interval: 0.05, successes: 1 }, unhealthy: { interval: 0.05, tcp_failures: 1 } });
  const b = new Balancer(u, [makeTarget(`127.0.0.1:${listening.port}`), makeTarget(`127.0.0.1:${refused}`)]);
  b.setHealth(`127.0.0.1:${listening.port}`, false);
  b.start();
  try {
    await waitFor('tcp results', () => b.peer(`127.0.0.1:${listening.port}`)!.healthy && !b.peer(`127.0.0.1:${refused}`)!.healthy);
    assert.ok(listening.connections() >= 1);
  } finally {
    b.stop();
  }
});

test('weight-0 and DNS-error targets are not probed; the report labels them', async () => {
  const srv = await httpServer(() => 200);
  const lookup = async () => { throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }); };
  const u = activeUpstream({ healthy: { interval: 0.05 }, unhealthy: { interval: 0.05, http_failures: 1 } });
  const b = new Balancer(u, [makeTarget(`127.0.0.1:${srv.port}`, 0, 2), makeTarget('nowhere.invalid:80', 100, 1)], { lookup });
  b.start();
  try {
    await sleep(200);
    assert.equal(srv.requests.length, 0);
    const report = await upstreamHealth(b, { nodeId: null });
    // Newest first: the weight-0 target was created later.
    assert.deepEqual(report.data.map((d) => [d.target, d.health]), [
      [`127.0.0.1:${srv.port}`, 'HEALTHCHECKS_OFF'],
      ['nowhere.invalid:80', 'DNS_ERROR'],
    ]);
    assert.deepEqual(report.data[1]!.data.addresses, []);
    assert.equal(report.data[1]!.data.dns, 'dns server error: 3 name error');
    assert.equal(b.pick(fakeRequest()), null);
  } finally {
    b.stop();
  }
});

test('with health checks off the report says HEALTHCHECKS_OFF everywhere', async () => {
  const b = new Balancer(makeUpstream(), [makeTarget('10.3.0.1:80')]);
  const report = await upstreamHealth(b, { nodeId: 'n' });
  assert.equal(report.data[0]!.health, 'HEALTHCHECKS_OFF');
  assert.equal(report.data[0]!.data.addresses[0]!.health, 'HEALTHCHECKS_OFF');
  assert.deepEqual((await balancerHealth(b, { nodeId: 'n' })).data, { health: 'HEALTHCHECKS_OFF', id: 'u-1' });
  assert.deepEqual(b.healthReport(), [{
    targetId: b.peers[0]!.target.id, target: '10.3.0.1:80', weight: 100, health: 'HEALTHCHECKS_OFF',
    addresses: [{ ip: '10.3.0.1', port: 80, weight: 100, health: 'HEALTHCHECKS_OFF' }],
  }]);
});

test('stop() ends probing at once', async () => {
  const srv = await httpServer(() => 200);
  const u = activeUpstream({ healthy: { interval: 0.03 }, unhealthy: { interval: 0.03 } });
  const b = new Balancer(u, [makeTarget(`127.0.0.1:${srv.port}`)]);
  b.start();
  await waitFor('probing', () => srv.requests.length >= 2);
  b.stop();
  await sleep(30);
  const count = srv.requests.length;
  await sleep(200);
  assert.equal(srv.requests.length, count);
});

test('stop() leaves no handles: a process with a probe stuck in flight exits by itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-hc-'));
  const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
  const script = join(dir, 'child.ts');
  writeFileSync(script, `
    import net from 'node:net';
    import { Balancer } from ${JSON.stringify(here('../balancer/balancer.ts'))};
    import { makeTarget, makeUpstream } from ${JSON.stringify(here('../balancer/test-fixtures.ts'))};
    const server = net.createServer((s) => { s.on('error', () => {}); /* never answers */ });
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      const u = makeUpstream({ healthchecks: { active: { timeout: 60, healthy: { interval: 0.05 }, unhealthy: { interval: 0.05 } } } });
      const b = new Balancer(u, [makeTarget('127.0.0.1:' + port)]);
      b.start();
      server.once('connection', () => {
        // A probe is now waiting (up to 60 s) for a status line. stop() must end it.
        setTimeout(() => { b.stop(); server.close(); console.log('stopped'); }, 50);
      });
    });
  `);
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: here('../../../../'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((resolve, reject) => {
      const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child did not exit: ${out} ${err}`)); }, 8000);
      child.on('exit', (c) => { clearTimeout(killer); resolve(c); });
    });
    assert.equal(code, 0, err);
    assert.match(out, /stopped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
