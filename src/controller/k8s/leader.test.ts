/**
 * Tests for LeaderElector against the test API server: two electors on one Lease give exactly one
 * leader; stopping it releases the Lease and the other takes over at its next attempt; a Lease held
 * by a replica that stopped renewing is taken over once its duration has passed; a leader that
 * finds the Lease taken steps down.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, request, sleep, type TestCluster } from '../../../test/k8s-api/helpers.ts';
import { LeaderElector } from './index.ts';

const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kong/leases/5b374a9e.konghq.com';

async function until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('LeaderElector', () => {
  let c: TestCluster;
  before(async () => { c = await startTestCluster({ initialObjects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kong' } }] }); });
  after(async () => { await c.close(); });

  test('two electors: exactly one leads; after it stops the other takes over', async () => {
    const changes: string[] = [];
    const make = (identity: string) => new LeaderElector({
      kubeconfig: c.kubeconfig, namespace: 'kong', name: '5b374a9e.konghq.com', identity, retryPeriodMs: 200,
      onChange: (leading) => changes.push(`${identity}:${leading}`),
    });
    const a = make('a');
    const b = make('b');
    await a.start();
    await b.start();
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    // Several renew periods later it is still exactly one.
    await sleep(700);
    assert.equal(Number(a.isLeader) + Number(b.isLeader), 1);
    const lease = await request(c.server.url, 'GET', leasePath);
    assert.equal(lease.body.spec.holderIdentity, 'a');
    assert.equal(lease.body.spec.leaseDurationSeconds, 15);
    assert.match(lease.body.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const renewedAt = lease.body.spec.renewTime;
    await sleep(300);
    assert.notEqual((await request(c.server.url, 'GET', leasePath)).body.spec.renewTime, renewedAt, 'the leader renews');

    await a.stop();
    assert.equal(a.isLeader, false);
    await until('b to lead', () => b.isLeader, 2000);
    const after = await request(c.server.url, 'GET', leasePath);
    assert.equal(after.body.spec.holderIdentity, 'b');
    assert.equal(after.body.spec.leaseTransitions, 1);
    assert.deepEqual(changes, ['a:true', 'a:false', 'b:true']);
    await b.stop();
    assert.equal((await request(c.server.url, 'GET', leasePath)).body.spec.holderIdentity, '');
  });

  test('a Lease whose holder stopped renewing is taken over only after its duration', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kong/leases';
    await request(c.server.url, 'POST', path, {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'stale' },
      spec: { holderIdentity: 'crashed', leaseDurationSeconds: 1, renewTime: '2025-01-01T00:00:00.000000Z', acquireTime: '2025-01-01T00:00:00.000000Z', leaseTransitions: 3 },
    });
    const e = new LeaderElector({ kubeconfig: c.kubeconfig, namespace: 'kong', name: 'stale', identity: 'new', retryPeriodMs: 100 });
    const t0 = Date.now();
    await e.start();
    assert.equal(e.isLeader, false, 'the record is fresh to us: wait out the lease duration');
    await until('takeover', () => e.isLeader, 3000);
    assert.ok(Date.now() - t0 >= 900);
    const lease = await request(c.server.url, 'GET', `${path}/stale`);
    assert.equal(lease.body.spec.holderIdentity, 'new');
    assert.equal(lease.body.spec.leaseTransitions, 4);
    await e.stop();
  });

  test('a leader that finds the Lease taken steps down; the API being down past the deadline also demotes', async () => {
    const e = new LeaderElector({ kubeconfig: c.kubeconfig, namespace: 'kong', name: 'contested', identity: 'me', retryPeriodMs: 100, renewDeadlineMs: 300 });
    await e.start();
    assert.equal(e.isLeader, true);
    const current = await request(c.server.url, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kong/leases/contested');
    current.body.spec.holderIdentity = 'usurper';
    current.body.spec.renewTime = '2030-01-01T00:00:00.000000Z';
    assert.equal((await request(c.server.url, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kong/leases/contested', current.body)).status, 200);
    await until('step down', () => !e.isLeader, 2000);
    await e.stop();

    const f = new LeaderElector({ kubeconfig: c.kubeconfig, namespace: 'kong', name: 'outage', identity: 'me', retryPeriodMs: 100, renewDeadlineMs: 300 });
    await f.start();
    assert.equal(f.isLeader, true);
    c.server.failNext(100, 503, (r) => r.path.includes('/leases/outage'));
    await until('demoted by the renew deadline', () => !f.isLeader, 2000);
    c.server.clearFailures();
    await f.stop();
  });
});
