/**
 * Config faults while traffic flows: 1,000 invalid configs (mutations of a valid one) posted to
 * `POST /config` under load are each refused with an error naming the entity and the field, the
 * running config keeps serving, and no request fails. Then a valid config every 100 ms under load:
 * no request fails, and every response comes from exactly one snapshot — each version sets both
 * the upstream path (service url) and a request header (request-transformer), and the two must
 * always agree.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../harness/upstreams.ts';
import { startLoad, describeFailures, sleep } from '../harness/load.ts';

let g: GatewayProcess;
let up: Upstream;

/** Version `v` of a valid config: the path and the header both carry `v`. */
function validConfig(v: number) {
  return {
    _format_version: '3.0',
    services: [{
      name: 'svc-a', protocol: 'http', host: '127.0.0.1', port: up.port, path: `/v${v}`,
      connect_timeout: 2000, read_timeout: 5000, write_timeout: 5000, retries: 2,
      routes: [
        { name: 'open', paths: ['/open'], strip_path: true },
        { name: 'locked', paths: ['/locked'], plugins: [{ name: 'key-auth', config: { key_names: ['apikey'] } }] },
      ],
      plugins: [{ name: 'request-transformer', config: { add: { headers: [`x-config-version:${v}`] } } }],
    }, {
      name: 'svc-b', url: `http://pool.internal/b`,
      routes: [{ name: 'pool', paths: ['/pool'], methods: ['GET', 'POST'], protocols: ['http', 'https'] }],
    }],
    upstreams: [{
      name: 'pool.internal', algorithm: 'round-robin',
      healthchecks: { passive: { unhealthy: { http_failures: 3 } } },
      targets: [{ target: `127.0.0.1:${up.port}`, weight: 100 }],
    }],
    consumers: [{ username: 'alice', custom_id: 'a-1', keyauth_credentials: [{ key: 'alice-key' }], acls: [{ group: 'gold' }] }],
    plugins: [{ name: 'rate-limiting', config: { minute: 1_000_000, policy: 'local' } }],
  };
}

type Cfg = ReturnType<typeof validConfig> & Record<string, unknown>;
interface Mutation {
  entity: string;
  /** entity_name Kong reports, when the entity has a name. */
  name?: string;
  /** The field the error must name (prefix match on dotted paths); null = an entity-level error. */
  field: string | null;
  apply(c: Cfg, value: unknown): void;
  values: unknown[];
}

const svcA = (c: Cfg) => c.services[0] as Record<string, unknown>;
const route = (c: Cfg, i: number) => (c.services[0].routes[i] as Record<string, unknown>);
const MUTATIONS: Mutation[] = [
  { entity: 'service', name: 'svc-a', field: 'port', values: [70000, -1, 'eighty', 1.5, true], apply: (c, v) => { svcA(c).port = v; } },
  { entity: 'service', name: 'svc-a', field: 'protocol', values: ['ftp', 7, ''], apply: (c, v) => { svcA(c).protocol = v; } },
  { entity: 'service', name: 'svc-a', field: 'host', values: [5, '', 'bad host!'], apply: (c, v) => { svcA(c).host = v; } },
  { entity: 'service', name: 'svc-a', field: 'path', values: ['no-slash', 5, ['/x']], apply: (c, v) => { svcA(c).path = v; } },
  { entity: 'service', name: 'svc-a', field: 'retries', values: [-1, 40000, 'x', 2.5], apply: (c, v) => { svcA(c).retries = v; } },
  { entity: 'service', name: 'svc-a', field: 'connect_timeout', values: [0, -5, 'x', 2 ** 31], apply: (c, v) => { svcA(c).connect_timeout = v; } },
  { entity: 'service', name: 'svc-a', field: 'read_timeout', values: [0, -5, 'slow', {}], apply: (c, v) => { svcA(c).read_timeout = v; } },
  { entity: 'service', name: 'svc-a', field: 'write_timeout', values: [0, -1, 'x'], apply: (c, v) => { svcA(c).write_timeout = v; } },
  { entity: 'service', name: 'svc-a', field: 'tags', values: ['not-an-array', [5], [{}]], apply: (c, v) => { svcA(c).tags = v; } },
  { entity: 'service', name: 'svc-a', field: 'surprise', values: [1, 'x', null], apply: (c, v) => { svcA(c).surprise = v ?? 0; } },
  { entity: 'route', name: 'open', field: 'paths', values: [['no-slash'], [5], 'string', [{}]], apply: (c, v) => { route(c, 0).paths = v; } },
  { entity: 'route', name: 'open', field: 'strip_path', values: ['yes', 3, []], apply: (c, v) => { route(c, 0).strip_path = v; } },
  { entity: 'route', name: 'open', field: 'preserve_host', values: ['no', 0], apply: (c, v) => { route(c, 0).preserve_host = v; } },
  { entity: 'route', name: 'open', field: 'protocols', values: [['ftp'], [5], 'http'], apply: (c, v) => { route(c, 0).protocols = v; } },
  { entity: 'route', name: 'open', field: 'regex_priority', values: ['high', 1.5], apply: (c, v) => { route(c, 0).regex_priority = v; } },
  { entity: 'route', name: 'open', field: 'https_redirect_status_code', values: [200, 999, 'x'], apply: (c, v) => { route(c, 0).https_redirect_status_code = v; } },
  { entity: 'route', name: 'open', field: 'methods', values: [[5], 'GET', [{}]], apply: (c, v) => { route(c, 0).methods = v; } },
  { entity: 'route', name: 'open', field: 'hosts', values: [[5], 'example.com', [{}]], apply: (c, v) => { route(c, 0).hosts = v; } },
  { entity: 'route', name: 'locked', field: 'bogus_field', values: [1, 'x'], apply: (c, v) => { route(c, 1).bogus_field = v; } },
  { entity: 'upstream', name: 'pool.internal', field: 'algorithm', values: ['random', 5, ''], apply: (c, v) => { (c.upstreams[0] as Record<string, unknown>).algorithm = v; } },
  { entity: 'upstream', name: 'pool.internal', field: 'slots', values: [1, 'many', 2 ** 20], apply: (c, v) => { (c.upstreams[0] as Record<string, unknown>).slots = v; } },
  { entity: 'upstream', name: 'pool.internal', field: 'hash_on', values: ['moon', 5], apply: (c, v) => { (c.upstreams[0] as Record<string, unknown>).hash_on = v; } },
  { entity: 'upstream', name: 'pool.internal', field: 'healthchecks.passive.unhealthy.http_failures', values: [-1, 'x', 1000], apply: (c, v) => { c.upstreams[0]!.healthchecks.passive.unhealthy.http_failures = v as number; } },
  { entity: 'upstream', name: 'pool.internal', field: 'healthchecks.active.concurrency', values: [0, -1, 'x'], apply: (c, v) => { (c.upstreams[0]!.healthchecks as Record<string, unknown>).active = { concurrency: v }; } },
  { entity: 'target', field: 'weight', values: [-1, 70000, 'heavy'], apply: (c, v) => { (c.upstreams[0]!.targets[0] as Record<string, unknown>).weight = v; } },
  { entity: 'target', field: 'target', values: ['a:b:c:d', 5, ''], apply: (c, v) => { (c.upstreams[0]!.targets[0] as Record<string, unknown>).target = v; } },
  { entity: 'consumer', field: 'custom_id', values: [5, {}, []], apply: (c, v) => { (c.consumers[0] as Record<string, unknown>).custom_id = v; } },
  { entity: 'consumer', field: 'username', values: [5, {}], apply: (c, v) => { (c.consumers[0] as Record<string, unknown>).username = v; } },
  { entity: 'keyauth_credential', field: 'key', values: [5, {}, []], apply: (c, v) => { (c.consumers[0]!.keyauth_credentials[0] as Record<string, unknown>).key = v; } },
  { entity: 'keyauth_credential', field: 'ttl', values: ['x', -1, 1.5], apply: (c, v) => { (c.consumers[0]!.keyauth_credentials[0] as Record<string, unknown>).ttl = v; } },
  { entity: 'acl', field: 'group', values: [5, {}], apply: (c, v) => { (c.consumers[0]!.acls[0] as Record<string, unknown>).group = v; } },
  { entity: 'plugin', name: 'key-auth', field: 'config.key_names', values: [5, [5], 'apikey'], apply: (c, v) => { (route(c, 1).plugins as { config: Record<string, unknown> }[])[0]!.config.key_names = v; } },
  { entity: 'plugin', name: 'key-auth', field: 'config.hide_credentials', values: ['yes', 2], apply: (c, v) => { (route(c, 1).plugins as { config: Record<string, unknown> }[])[0]!.config.hide_credentials = v; } },
  { entity: 'plugin', name: 'rate-limiting', field: 'config.minute', values: [-1, 'x', {}], apply: (c, v) => { (c.plugins[0]!.config as Record<string, unknown>).minute = v; } },
  { entity: 'plugin', name: 'rate-limiting', field: 'config.policy', values: ['bogus', 5], apply: (c, v) => { (c.plugins[0]!.config as Record<string, unknown>).policy = v; } },
  { entity: 'plugin', name: 'rate-limiting', field: 'config.nonsense', values: [1, 'x'], apply: (c, v) => { (c.plugins[0]!.config as Record<string, unknown>).nonsense = v; } },
  { entity: 'plugin', name: 'request-transformer', field: 'config.add.headers', values: ['x:1', [5]], apply: (c, v) => { (svcA(c).plugins as { config: { add: Record<string, unknown> } }[])[0]!.config.add.headers = v; } },
  { entity: 'plugin', name: 'request-transformer', field: 'protocols', values: [['ftp'], 'http'], apply: (c, v) => { (svcA(c).plugins as Record<string, unknown>[])[0]!.protocols = v; } },
  { entity: 'route', name: 'dangling', field: null, values: ['missing-svc', 'nope'], apply: (c, v) => { c.routes = [{ name: 'dangling', paths: ['/d'], service: { name: v } }]; } },
];

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Flat { entity_type: string; entity_name?: string; errors: { type: string; field?: string; message: string }[] }

before(async () => {
  up = await startRecordingUpstream();
  g = await startGateway({ workers: 2, config: validConfig(0) });
});
after(async () => { await g?.stop(); await up?.close(); });

test('1,000 invalid configs under load: each refused naming entity and field, the old config serves, no request fails', async () => {
  const seed = Number(process.env.FAULT_SEED ?? 20240611);
  const rand = prng(seed);
  const load = startLoad({ url: `${g.proxy}/open/x`, concurrency: 6, maxMs: 60_000 });
  const problems: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const m = MUTATIONS[Math.floor(rand() * MUTATIONS.length)]!;
    const value = m.values[Math.floor(rand() * m.values.length)];
    const cfg = validConfig(0) as Cfg;
    m.apply(cfg, value);
    // Half as JSON objects, half as YAML-compatible JSON text with a content type of its own.
    const r = i % 2 === 0 ? await g.postConfig(cfg, '?flatten_errors=1') : await g.postConfig(JSON.stringify(cfg), '?flatten_errors=1');
    const body = await r.json() as { code?: number; flattened_errors?: Flat[] };
    const what = `#${i} (seed ${seed}) ${m.entity}${m.name ? ` '${m.name}'` : ''}.${m.field} = ${JSON.stringify(value)}`;
    if (r.status !== 400 || body.code !== 14) { problems.push(`${what}: status ${r.status} ${JSON.stringify(body).slice(0, 200)}`); continue; }
    const hit = (body.flattened_errors ?? []).some((e) => e.entity_type === m.entity
      && (m.name === undefined || e.entity_name === m.name)
      && e.errors.some((x) => m.field === null ? x.type === 'entity' : x.type === 'field' && (x.field === m.field || x.field!.startsWith(`${m.field}.`))));
    if (!hit) problems.push(`${what}: errors do not name it: ${JSON.stringify(body.flattened_errors).slice(0, 300)}`);
  }
  const outcomes = await load.stop();
  assert.deepEqual(problems, []);
  assert.ok(outcomes.length > 100, `load ran (${outcomes.length} requests)`);
  const ok = (o: { status: number; body: string }) => o.status === 200 && (JSON.parse(o.body) as { url: string }).url === '/v0/x';
  assert.equal(outcomes.filter((o) => !ok(o)).length, 0, describeFailures(outcomes, ok));
  // Still version 0, and the status says so.
  const st = await (await fetch(`${g.status}/status/ready`)).json();
  assert.deepEqual(st, { message: 'ready' });
});

test('a valid config every 100 ms under load: no request fails, every response is from exactly one version', async () => {
  const load = startLoad({ url: `${g.proxy}/open/item`, concurrency: 8, maxMs: 30_000 });
  const applied: number[] = [];
  const t0 = Date.now();
  for (let v = 1; v <= 30; v++) {
    const started = Date.now();
    const r = await g.postConfig(validConfig(v));
    assert.equal(r.status, 201, `version ${v}: ${await r.clone().text()}`);
    await r.arrayBuffer();
    applied.push(v);
    await sleep(Math.max(0, 100 - (Date.now() - started)));
  }
  await sleep(200);
  const outcomes = await load.stop();
  const mixed: string[] = [];
  const seen = new Set<number>();
  for (const o of outcomes) {
    if (o.status !== 200) continue;
    const rec = JSON.parse(o.body) as { url: string; headers: Record<string, string> };
    const pathV = Number(/^\/v(\d+)\/item$/.exec(rec.url)?.[1] ?? NaN);
    const headerV = Number(rec.headers['x-config-version'] ?? NaN);
    if (pathV !== headerV) mixed.push(`path v${pathV} with header v${headerV}`);
    else seen.add(pathV);
  }
  assert.equal(outcomes.filter((o) => o.status !== 200).length, 0, describeFailures(outcomes, (o) => o.status === 200));
  assert.deepEqual(mixed, [], 'a response mixed two versions');
  assert.ok(outcomes.length > 100, `load ran (${outcomes.length} requests in ${Date.now() - t0} ms)`);
  assert.ok(seen.size >= 10, `responses came from ${seen.size} versions`);
  // After the last swap every new request sees the last version.
  const last = await (await fetch(`${g.proxy}/open/item`)).json() as { url: string; headers: Record<string, string> };
  assert.equal(last.url, '/v30/item');
  assert.equal(last.headers['x-config-version'], '30');
});
