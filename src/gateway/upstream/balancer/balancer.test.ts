/**
 * @module gateway/upstream/balancer/balancer.test
 * Balancing behaviour: weighted round-robin counts, disabled targets, consistent-hashing stability
 * and minimal movement, hash fallbacks and sticky cookies, least-connections, retries that avoid
 * tried peers, passive health (Kong's counter rules), the upstream threshold, forced health,
 * health inheritance across config swaps and DNS handling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer } from './balancer.ts';
import type { BalancerPeer } from './peer.ts';
import { parseTarget } from './peer.ts';
import { smoothOrder, wheelUnits } from './round-robin.ts';
import { mergeSetCookie } from './hash-value.ts';
import { fakeRequest, makeTarget, makeUpstream } from './test-fixtures.ts';

function countPicks(b: Balancer, n: number, req = fakeRequest()): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const p = b.pick(req);
    assert.ok(p, `pick ${i} returned null`);
    counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    b.release(p);
  }
  return counts;
}

test('parseTarget handles names, IPv4, bracketed IPv6 and a missing port', () => {
  assert.deepEqual(parseTarget('example.com:8080'), { host: 'example.com', port: 8080 });
  assert.deepEqual(parseTarget('10.0.0.1:80'), { host: '10.0.0.1', port: 80 });
  assert.deepEqual(parseTarget('[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(parseTarget('example.com'), { host: 'example.com', port: 8000 });
  assert.deepEqual(parseTarget('::1'), { host: '::1', port: 8000 });
});

test('round-robin gives each target exactly its weight share over whole turns', () => {
  const b = new Balancer(makeUpstream(), [
    makeTarget('10.0.0.1:80', 300), makeTarget('10.0.0.2:80', 200), makeTarget('10.0.0.3:80', 100),
  ]);
  // gcd 100 -> a wheel of 6 slots; 600 picks = 100 turns, from whatever random start.
  const counts = countPicks(b, 600);
  assert.deepEqual(Object.fromEntries(counts), { '10.0.0.1:80': 300, '10.0.0.2:80': 200, '10.0.0.3:80': 100 });
});

test('round-robin interleaves smoothly instead of sending runs', () => {
  const order = smoothOrder(wheelUnits([5, 1, 1]));
  assert.equal(order.length, 7);
  // Every target within one pick of its share in every prefix.
  const taken = [0, 0, 0];
  const units = [5, 1, 1];
  order.forEach((idx, n) => {
    taken[idx]!++;
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(taken[i]! - ((n + 1) * units[i]!) / 7) <= 1, `prefix ${n + 1}`);
  });
  // Equal weights alternate strictly.
  assert.deepEqual([...smoothOrder(wheelUnits([100, 100]))], [0, 1]);
});

test('huge co-prime weights are scaled to a bounded wheel that keeps proportions', () => {
  const units = wheelUnits([65535, 65534, 1]);
  const total = units.reduce((a, b) => a + b, 0);
  assert.ok(total <= (1 << 16) + 3);
  assert.ok(units[2]! >= 1);
  assert.ok(Math.abs(units[0]! / total - 65535 / 131070) < 0.001);
});

test('weight 0 disables a target', () => {
  const b = new Balancer(makeUpstream(), [makeTarget('10.0.0.1:80', 100), makeTarget('10.0.0.2:80', 0)]);
  const counts = countPicks(b, 50);
  assert.deepEqual(Object.fromEntries(counts), { '10.0.0.1:80': 50 });
  const only0 = new Balancer(makeUpstream(), [makeTarget('10.0.0.2:80', 0)]);
  assert.equal(only0.pick(fakeRequest()), null);
  assert.equal(only0.healthy, false);
  assert.deepEqual(only0.noPeerError(), { status: 503, message: 'failure to get a peer from the ring-balancer' });
});

test('an upstream without targets picks nothing', () => {
  const b = new Balancer(makeUpstream(), []);
  assert.equal(b.pick(fakeRequest()), null);
});

test('pick returns the same stable peer objects and exposes host, port and address', () => {
  const b = new Balancer(makeUpstream(), [makeTarget('10.0.0.7:8080')]);
  const a = b.pick(fakeRequest())!;
  const c = b.pick(fakeRequest())!;
  assert.equal(a, c);
  assert.equal(a.host, '10.0.0.7');
  assert.equal(a.port, 8080);
  assert.equal(a.address, '10.0.0.7');
  assert.equal(a.active, 2);
  b.release(a);
  b.release(c);
  assert.equal(a.active, 0);
});

// ------------------------------------------------------------ consistent hashing

const ipHash = () => makeUpstream({ algorithm: 'consistent-hashing', hash_on: 'ip' });
const four = () => ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80', '10.0.1.4:80'].map((t) => makeTarget(t));

function owners(b: Balancer, keys: string[]): string[] {
  return keys.map((ip) => {
    const p = b.pick(fakeRequest({ clientIp: ip }))!;
    b.release(p);
    return p.name;
  });
}

const keys = Array.from({ length: 1000 }, (_, i) => `192.168.${i >> 8}.${i & 255}`);

test('consistent hashing sends the same key to the same peer, and spreads keys', () => {
  const b = new Balancer(ipHash(), four());
  const first = owners(b, keys);
  assert.deepEqual(owners(b, keys), first);
  // Another balancer built from the same targets in another order agrees (every process does).
  const again = new Balancer(ipHash(), four().reverse());
  assert.deepEqual(owners(again, keys), first);
  const per = new Map<string, number>();
  for (const o of first) per.set(o, (per.get(o) ?? 0) + 1);
  assert.equal(per.size, 4);
  for (const n of per.values()) assert.ok(n > 150 && n < 350, `unbalanced: ${[...per.values()]}`);
});

test('removing one of four targets moves only the keys it owned (about a quarter)', () => {
  const targets = four();
  const before = owners(new Balancer(ipHash(), targets), keys);
  const after = owners(new Balancer(ipHash(), targets.slice(0, 3)), keys);
  let moved = 0;
  for (let i = 0; i < keys.length; i++) {
    if (before[i] !== after[i]) {
      moved++;
      assert.equal(before[i], '10.0.1.4:80', 'a key of a remaining target moved');
    }
  }
  assert.ok(moved > 150 && moved < 350, `moved ${moved}`);
});

test('an unhealthy target hands only its own keys to the others, and gets them back', () => {
  const b = new Balancer(ipHash(), four());
  const before = owners(b, keys);
  b.setHealth('10.0.1.2:80', false);
  const during = owners(b, keys);
  for (let i = 0; i < keys.length; i++) {
    if (before[i] !== '10.0.1.2:80') assert.equal(during[i], before[i]);
    else assert.notEqual(during[i], '10.0.1.2:80');
  }
  b.setHealth('10.0.1.2:80', true);
  assert.deepEqual(owners(b, keys), before);
});

test('hash_on header falls back to hash_fallback, then to round-robin', () => {
  const u = makeUpstream({
    algorithm: 'consistent-hashing', hash_on: 'header', hash_on_header: 'X-User',
    hash_fallback: 'query_arg', hash_fallback_query_arg: 'session',
  });
  const b = new Balancer(u, four());
  const pickWith = (init: Parameters<typeof fakeRequest>[0]) => { const p = b.pick(fakeRequest(init))!; b.release(p); return p.name; };

  // The header decides, whatever the query says; the lookup uses the lower-cased name.
  const byHeader = pickWith({ headers: { 'x-user': 'alice' } });
  for (let i = 0; i < 20; i++) assert.equal(pickWith({ headers: { 'x-user': 'alice' }, query: { session: String(i) } }), byHeader);

  // No header: the query argument decides. Repeated values are sorted, so order does not matter.
  const byQuery = pickWith({ query: { session: ['b', 'a'] } });
  for (let i = 0; i < 20; i++) assert.equal(pickWith({ query: { session: ['a', 'b'] } }), byQuery);

  // Neither: round-robin over all four.
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) seen.add(pickWith({}));
  assert.equal(seen.size, 4);
});

test('hash_on consumer, path and uri_capture use their request values', () => {
  const pickName = (b: Balancer, init: Parameters<typeof fakeRequest>[0]) => { const p = b.pick(fakeRequest(init))!; b.release(p); return p.name; };
  const consumer = new Balancer(makeUpstream({ algorithm: 'consistent-hashing', hash_on: 'consumer' }), four());
  const c1 = pickName(consumer, { consumerId: 'consumer-1', clientIp: '1.1.1.1' });
  for (let i = 0; i < 10; i++) assert.equal(pickName(consumer, { consumerId: 'consumer-1', clientIp: `2.2.2.${i}` }), c1);

  const path = new Balancer(makeUpstream({ algorithm: 'consistent-hashing', hash_on: 'path' }), four());
  const distinct = new Set(Array.from({ length: 40 }, (_, i) => pickName(path, { path: `/item/${i}` })));
  assert.ok(distinct.size > 1);
  assert.equal(pickName(path, { path: '/item/7' }), pickName(path, { path: '/item/7' }));

  const cap = new Balancer(makeUpstream({ algorithm: 'consistent-hashing', hash_on: 'uri_capture', hash_on_uri_capture: 'tenant' }), four());
  const t1 = pickName(cap, { captures: { tenant: 'acme' }, path: '/a' });
  assert.equal(pickName(cap, { captures: { tenant: 'acme' }, path: '/b' }), t1);
});

test('hash_on cookie: a request without the cookie gets a sticky cookie and keeps its peer', () => {
  const u = makeUpstream({ algorithm: 'consistent-hashing', hash_on: 'cookie', hash_on_cookie: 'lb', hash_on_cookie_path: '/app' });
  const b = new Balancer(u, four());
  const req = fakeRequest();
  const first = b.pick(req)!;
  assert.equal(req.setCookies.length, 1);
  const m = /^lb=([0-9a-f-]{36}); Path=\/app; Same-Site=Lax; HttpOnly$/.exec(req.setCookies[0]!);
  assert.ok(m, req.setCookies[0]);
  // The retry of the same request and the client's next request (sending the cookie) agree.
  const again = b.pick(req)!;
  assert.equal(again, first);
  assert.equal(req.setCookies.length, 1);
  const next = fakeRequest({ cookies: { lb: m[1]! } });
  assert.equal(b.pick(next), first);
  assert.equal(next.setCookies.length, 0);
});

test('mergeSetCookie replaces an upstream cookie of the same name', () => {
  assert.equal(mergeSetCookie(undefined, 'lb=1; Path=/', 'lb'), 'lb=1; Path=/');
  assert.deepEqual(mergeSetCookie('a=b', 'lb=1; Path=/', 'lb'), ['a=b', 'lb=1; Path=/']);
  assert.deepEqual(mergeSetCookie(['lb=old', 'a=b'], 'lb=1; Path=/', 'lb'), ['lb=1; Path=/', 'a=b']);
});

// ------------------------------------------------------------ least connections

test('least-connections prefers idle peers and honours weights', () => {
  const b = new Balancer(makeUpstream({ algorithm: 'least-connections' }), [
    makeTarget('10.0.2.1:80', 100), makeTarget('10.0.2.2:80', 100), makeTarget('10.0.2.3:80', 100),
  ]);
  const held = [b.pick(fakeRequest())!, b.pick(fakeRequest())!, b.pick(fakeRequest())!];
  assert.equal(new Set(held).size, 3, 'three picks in flight went to three different peers');
  // Free one: the next pick goes to the now idle one.
  b.release(held[1]!);
  assert.equal(b.pick(fakeRequest()), held[1]);

  // Weights: 2:1 -> with 3 in flight, the heavy peer holds 2 of them.
  const w = new Balancer(makeUpstream({ algorithm: 'least-connections' }), [makeTarget('10.0.3.1:80', 200), makeTarget('10.0.3.2:80', 100)]);
  const picks = [w.pick(fakeRequest())!, w.pick(fakeRequest())!, w.pick(fakeRequest())!];
  assert.equal(picks.filter((p) => p.name === '10.0.3.1:80').length, 2);
  assert.equal(picks[0]!.name, '10.0.3.1:80', 'an idle balancer starts with the heaviest peer');
});

test('least-connections skips unhealthy peers', () => {
  const b = new Balancer(makeUpstream({ algorithm: 'least-connections' }), [makeTarget('10.0.2.1:80'), makeTarget('10.0.2.2:80')]);
  b.setHealth('10.0.2.1:80', false);
  for (let i = 0; i < 5; i++) assert.equal(b.pick(fakeRequest())!.name, '10.0.2.2:80');
  b.setHealth('10.0.2.2:80', false);
  assert.equal(b.pick(fakeRequest()), null);
});

// ------------------------------------------------------------ retries

test('tried peers are avoided, and null comes back when every peer was tried', () => {
  for (const algorithm of ['round-robin', 'least-connections', 'consistent-hashing'] as const) {
    const b = new Balancer(makeUpstream({ algorithm, hash_on: algorithm === 'consistent-hashing' ? 'ip' : 'none' }), [
      makeTarget('10.0.4.1:80'), makeTarget('10.0.4.2:80'), makeTarget('10.0.4.3:80'),
    ]);
    const req = fakeRequest({ clientIp: '172.16.0.9' });
    const tried = new Set<BalancerPeer>();
    for (let i = 0; i < 3; i++) {
      const p = b.pick(req, tried);
      assert.ok(p, `${algorithm}: try ${i + 1}`);
      assert.ok(!tried.has(p), `${algorithm}: a tried peer came back`);
      tried.add(p);
      b.release(p);
    }
    assert.equal(b.pick(req, tried), null, algorithm);
  }
});

// ------------------------------------------------------------ passive health

function passiveUpstream(unhealthy: Partial<{ http_failures: number; tcp_failures: number; timeouts: number }>, successes = 0) {
  return makeUpstream({ healthchecks: { passive: { unhealthy, healthy: { successes } } } });
}

test('passive: http_failures 2 marks a target down after two 500s; a success brings it back', () => {
  const b = new Balancer(passiveUpstream({ http_failures: 2 }, 1), [makeTarget('10.0.5.1:80'), makeTarget('10.0.5.2:80')]);
  const changes: string[] = [];
  b.onChange((target, healthy, change) => changes.push(`${target}:${healthy}:${change.source}`));
  const down = b.peer('10.0.5.1:80')!;

  b.report(down, { kind: 'http', status: 500 });
  assert.equal(down.healthy, true, 'one failure is not enough');
  b.report(down, { kind: 'http', status: 500 });
  assert.equal(down.healthy, false);
  assert.deepEqual(changes, ['10.0.5.1:80:false:passive']);
  for (let i = 0; i < 10; i++) { const p = b.pick(fakeRequest())!; b.release(p); assert.equal(p.name, '10.0.5.2:80'); }

  b.report(down, { kind: 'http', status: 200 });
  assert.equal(down.healthy, true);
  assert.deepEqual(changes, ['10.0.5.1:80:false:passive', '10.0.5.1:80:true:passive']);
});

test('passive: a success between failures resets the failure count', () => {
  const b = new Balancer(passiveUpstream({ http_failures: 2 }, 1), [makeTarget('10.0.5.1:80')]);
  const p = b.peer('10.0.5.1:80')!;
  b.report(p, { kind: 'http', status: 500 });
  b.report(p, { kind: 'http', status: 200 });
  b.report(p, { kind: 'http', status: 500 });
  assert.equal(p.healthy, true);
  b.report(p, { kind: 'http', status: 503 });
  assert.equal(p.healthy, false);
});

test('passive: with successes 0 a success is ignored, so failures keep adding up and nothing revives', () => {
  const b = new Balancer(passiveUpstream({ http_failures: 2 }, 0), [makeTarget('10.0.5.1:80')]);
  const p = b.peer('10.0.5.1:80')!;
  b.report(p, { kind: 'http', status: 500 });
  b.report(p, { kind: 'http', status: 200 });
  b.report(p, { kind: 'http', status: 500 });
  assert.equal(p.healthy, false);
  for (let i = 0; i < 5; i++) b.report(p, { kind: 'http', status: 200 });
  assert.equal(p.healthy, false);
});

test('passive: statuses in neither list are ignored; 504 counts as a timeout', () => {
  const b = new Balancer(passiveUpstream({ http_failures: 1, timeouts: 2 }), [makeTarget('10.0.5.1:80')]);
  const p = b.peer('10.0.5.1:80')!;
  b.report(p, { kind: 'http', status: 404 });
  b.report(p, { kind: 'http', status: 502 });
  assert.equal(p.healthy, true);
  b.report(p, { kind: 'http', status: 504 });
  assert.equal(p.healthy, true, 'one timeout of two');
  assert.equal(p.health.timeouts, 1);
  assert.equal(p.health.httpFailures, 0);
  b.reportTimeout(p);
  assert.equal(p.healthy, false);
});

test('passive: tcp_failures counts connection errors separately from http failures', () => {
  const b = new Balancer(passiveUpstream({ tcp_failures: 3, http_failures: 3 }), [makeTarget('10.0.5.1:80')]);
  const p = b.peer('10.0.5.1:80')!;
  b.report(p, { kind: 'tcp_error' });
  b.report(p, { kind: 'http', status: 500 });
  b.report(p, { kind: 'tcp_error' });
  b.report(p, { kind: 'http', status: 500 });
  assert.equal(p.healthy, true, 'two of each is below both thresholds');
  b.reportTcpError(p);
  assert.equal(p.healthy, false);
});

test('passive: all thresholds 0 (the default) never marks anything down', () => {
  const b = new Balancer(makeUpstream(), [makeTarget('10.0.5.1:80')]);
  const p = b.peer('10.0.5.1:80')!;
  for (let i = 0; i < 50; i++) { b.report(p, { kind: 'http', status: 500 }); b.report(p, { kind: 'tcp_error' }); b.report(p, { kind: 'timeout' }); }
  assert.equal(p.healthy, true);
  assert.equal(b.healthchecksEnabled, false);
});

test('all targets down -> no peer (the 503 ring-balancer answer)', () => {
  const b = new Balancer(passiveUpstream({ tcp_failures: 1 }), [makeTarget('10.0.5.1:80'), makeTarget('10.0.5.2:80')]);
  const upstreamChanges: boolean[] = [];
  b.onUpstreamChange((healthy) => upstreamChanges.push(healthy));
  for (const p of b.peers) b.reportTcpError(p);
  assert.equal(b.pick(fakeRequest()), null);
  assert.deepEqual(b.noPeerError(), { status: 503, message: 'failure to get a peer from the ring-balancer' });
  assert.deepEqual(upstreamChanges, [false]);
});

test('threshold: the upstream is down when the healthy weight share is not above it', () => {
  const u = makeUpstream({ healthchecks: { threshold: 50, passive: { unhealthy: { tcp_failures: 1 } } } });
  const b = new Balancer(u, [makeTarget('10.0.6.1:80', 100), makeTarget('10.0.6.2:80', 100), makeTarget('10.0.6.3:80', 200)]);
  b.reportTcpError(b.peer('10.0.6.1:80')!);
  assert.deepEqual(b.weights, { total: 400, available: 300, unavailable: 100 });
  assert.equal(b.healthy, true);
  assert.ok(b.pick(fakeRequest()));
  b.reportTcpError(b.peer('10.0.6.2:80')!);
  // 200/400 = 50% is not above 50%: the whole upstream refuses, though a peer is healthy.
  assert.equal(b.healthy, false);
  assert.equal(b.pick(fakeRequest()), null);
  b.setHealth('10.0.6.2:80', true);
  assert.ok(b.pick(fakeRequest()));
});

test('setHealth forces a state, clears counters, reports its source, and ignores unknown targets', () => {
  const b = new Balancer(passiveUpstream({ http_failures: 2 }), [makeTarget('10.0.7.1:80')]);
  const events: unknown[] = [];
  const off = b.onChange((target, healthy, change) => events.push([target, healthy, change.source]));
  const p = b.peer('10.0.7.1:80')!;
  b.report(p, { kind: 'http', status: 500 });
  assert.equal(b.setHealth('10.0.7.1:80', false, 'remote'), true);
  assert.equal(b.setHealth('10.0.7.1:80', false), true, 'no change, no event');
  assert.equal(p.health.httpFailures, 0);
  assert.equal(b.setHealth('10.9.9.9:80', true), false);
  off();
  b.setHealth('10.0.7.1:80', true);
  assert.deepEqual(events, [['10.0.7.1:80', false, 'remote']]);
  assert.deepEqual(b.healthStates(), [{ target: '10.0.7.1:80', healthy: true }]);
});

test('inheritHealth carries states and counters to the next config\'s balancer', () => {
  const u = passiveUpstream({ http_failures: 2 });
  const old = new Balancer(u, [makeTarget('10.0.8.1:80'), makeTarget('10.0.8.2:80')]);
  old.setHealth('10.0.8.1:80', false);
  old.report(old.peer('10.0.8.2:80')!, { kind: 'http', status: 500 });
  const next = new Balancer(u, [makeTarget('10.0.8.1:80'), makeTarget('10.0.8.2:80'), makeTarget('10.0.8.3:80')]);
  next.inheritHealth(old);
  assert.equal(next.peer('10.0.8.1:80')!.healthy, false);
  next.report(next.peer('10.0.8.2:80')!, { kind: 'http', status: 500 });
  assert.equal(next.peer('10.0.8.2:80')!.healthy, false, 'the failure counted before the swap still counts');
  assert.equal(next.peer('10.0.8.3:80')!.healthy, true);
  const p = next.pick(fakeRequest())!;
  assert.equal(p.name, '10.0.8.3:80');
});

test('a report for a peer of another balancer is ignored', () => {
  const a = new Balancer(passiveUpstream({ tcp_failures: 1 }), [makeTarget('10.0.9.1:80')]);
  const b = new Balancer(passiveUpstream({ tcp_failures: 1 }), [makeTarget('10.0.9.1:80')]);
  b.reportTcpError(a.peer('10.0.9.1:80')!);
  assert.equal(a.peer('10.0.9.1:80')!.healthy, true);
  assert.equal(b.peer('10.0.9.1:80')!.healthy, true);
});

// ------------------------------------------------------------ DNS

test('hostnames are looked up lazily, once, and IP targets never', async () => {
  const asked: string[] = [];
  const lookup = async (host: string) => { asked.push(host); return { address: host === 'api.internal' ? '10.1.0.5' : '10.1.0.6', family: 4 }; };
  const b = new Balancer(makeUpstream(), [makeTarget('api.internal:8080'), makeTarget('10.1.0.9:80')], { lookup, wheelStart: 0 });
  assert.deepEqual(asked, [], 'nothing is looked up before use');
  const pending = b.prepare();
  assert.ok(pending);
  await pending;
  assert.deepEqual(asked, ['api.internal']);
  assert.equal(b.prepare(), null, 'resolved: the hot path has nothing to wait for');
  const peer = b.peer('api.internal:8080')!;
  assert.equal(peer.address, '10.1.0.5');
  assert.equal(peer.host, 'api.internal', 'the host stays the name, for the Host header');
  for (let i = 0; i < 10; i++) b.release(b.pick(fakeRequest())!);
  assert.deepEqual(asked, ['api.internal']);
});

test('an address is looked up again after its TTL; a failed refresh keeps the last address', async () => {
  let now = 1_000_000;
  let answer: string | Error = '10.1.0.5';
  let calls = 0;
  const lookup = async () => { calls++; if (answer instanceof Error) throw answer; return { address: answer, family: 4 }; };
  const b = new Balancer(makeUpstream(), [makeTarget('api.internal:80')], { lookup, now: () => now, dnsTtlSeconds: 10 });
  await b.prepare();
  const peer = b.peer('api.internal:80')!;
  answer = '10.1.0.6';
  now += 5_000;
  b.release(b.pick(fakeRequest())!);
  assert.equal(calls, 1, 'still fresh');
  now += 6_000;
  b.release(b.pick(fakeRequest())!);
  assert.equal(calls, 2);
  await peer.dnsInFlight;
  assert.equal(peer.address, '10.1.0.6');
  answer = Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
  now += 11_000;
  b.release(b.pick(fakeRequest())!);
  await peer.dnsInFlight;
  assert.equal(peer.address, '10.1.0.6');
  assert.ok(b.pick(fakeRequest()));
});

test('a name that does not resolve is a DNS error: left out of balancing and of the total weight', async () => {
  const lookup = async (host: string) => {
    if (host === 'missing.invalid') throw Object.assign(new Error('getaddrinfo ENOTFOUND missing.invalid'), { code: 'ENOTFOUND' });
    return { address: '10.2.0.1', family: 4 };
  };
  const b = new Balancer(makeUpstream(), [makeTarget('missing.invalid:80'), makeTarget('ok.internal:80')], { lookup });
  await b.prepare();
  const missing = b.peer('missing.invalid:80')!;
  assert.equal(missing.dns, 'error');
  assert.equal(missing.dnsError, 'dns server error: 3 name error');
  assert.deepEqual(b.weights, { total: 100, available: 100, unavailable: 0 });
  for (let i = 0; i < 6; i++) assert.equal(b.pick(fakeRequest())!.name, 'ok.internal:80');

  // A service host (not an upstream) answers like Kong's DNS path.
  const direct = new Balancer(makeUpstream(), [makeTarget('missing.invalid:80')], { lookup, serviceHost: true });
  await direct.prepare();
  assert.equal(direct.pick(fakeRequest()), null);
  assert.deepEqual(direct.noPeerError(), { status: 503, message: 'name resolution failed' });
});

test('the real resolver resolves localhost', async () => {
  const b = new Balancer(makeUpstream(), [makeTarget('localhost:80')]);
  await b.prepare();
  const p = b.peer('localhost:80')!;
  assert.equal(p.dns, 'resolved');
  assert.match(p.address, /^(127\.0\.0\.1|::1)$/);
});
