/**
 * Admin API over a real HTTP server on 127.0.0.1 with an in-memory backend: node information,
 * entity lists and items (by id and by name), nested paths, tags, pagination, Kong's 405/404
 * bodies, schemas, status, upstream health, plugin routes and the token guard.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createAdminHandler } from './admin-api.ts';
import { fakeBackend, IDS, serve, uuid, type FakeBackend, type TestServer } from './test-fixtures.ts';

interface Res { status: number; headers: Headers; text: string; json: any }

function client(server: () => TestServer) {
  return async (path: string, init: RequestInit = {}): Promise<Res> => {
    const r = await fetch(server().url + path, init);
    const text = await r.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: r.status, headers: r.headers, text, json };
  };
}

let backend: FakeBackend;
let server: TestServer;
const call = client(() => server);
const ids = (r: Res): string[] => (r.json.data as Array<{ id: string }>).map((e) => e.id);

before(async () => {
  backend = fakeBackend();
  backend.health.set(IDS.upstream, [
    { targetId: IDS.target1, target: '10.0.0.1:8080', weight: 100, health: 'HEALTHY', addresses: [{ ip: '10.0.0.1', port: 8080, health: 'HEALTHY', weight: 100 }] },
    { targetId: IDS.target2, target: '10.0.0.2:8080', weight: 50, health: 'UNHEALTHY', addresses: [{ ip: '10.0.0.2', port: 8080, health: 'UNHEALTHY', weight: 50 }] },
  ]);
  backend.metrics = async () => ({ contentType: 'text/plain; version=0.0.4', body: 'kong_nginx_requests_total 10\n' });
  backend.pluginAdminRoute = async (method, path, query) => {
    if (method === 'DELETE' && path === '/proxy-cache') return { status: 204 };
    if (method === 'GET' && path.startsWith('/proxy-cache/')) return { status: 200, body: { key: path.slice(13), q: query.get('q') } };
    return null;
  };
  server = await serve(createAdminHandler(backend));
});
after(() => server.close());

describe('node information', () => {
  test('GET / reports version, plugins, configuration and pids with Kong headers', async () => {
    const r = await call('/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(r.headers.get('server'), 'turnpike/0.1.0');
    assert.match(r.headers.get('x-kong-admin-latency') ?? '', /^\d+$/);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal(r.json.tagline, 'Welcome to turnpike');
    assert.equal(r.json.version, '0.1.0');
    assert.equal(r.json.edition, 'community');
    assert.equal(r.json.hostname, 'test-host');
    assert.equal(r.json.node_id, backend.nodeId);
    assert.deepEqual(r.json.timers, { running: 0, pending: 0 });
    assert.deepEqual(r.json.plugins.available_on_server, {
      'key-auth': { version: '3.10.0', priority: 1250 }, 'rate-limiting': { version: '3.10.0', priority: 910 },
    });
    assert.deepEqual(r.json.plugins.enabled_in_cluster, ['key-auth', 'correlation-id', 'rate-limiting']);
    assert.deepEqual(r.json.configuration, { database: 'off', admin_token: '******' });
    assert.deepEqual(r.json.pids, { master: 1, workers: [2, 3] });
    assert.ok(!r.text.includes('\n'), 'compact JSON');
  });

  test('HEAD has no body, OPTIONS lists methods, other methods are 405', async () => {
    const head = await call('/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const options = await call('/', { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal(options.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS');
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await call('/', { method, body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 405, method);
      assert.deepEqual(r.json, { message: 'Method not allowed' });
    }
  });

  test('the CORS origin echoes the request Origin', async () => {
    const r = await call('/status', { headers: { origin: 'https://manager.test' } });
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://manager.test');
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
  });

  test('GET /endpoints lists generated and custom paths in Kong form', async () => {
    const r = await call('/endpoints');
    const data = r.json.data as string[];
    for (const p of ['/', '/config', '/endpoints', '/status', '/tags/{tags}', '/plugins/enabled', '/schemas/plugins/{name}',
      '/basic-auths/{basicauth_credentials}', '/consumers/{consumers}/key-auth/{keyauth_credentials}',
      '/services/{services}/routes', '/routes/{routes}/service', '/upstreams/{upstreams}/health', '/upstreams/{upstreams}/targets/all']) {
      assert.ok(data.includes(p), p);
    }
    const order = [...data].sort((a, b) => (a.replace(/\//g, '\0') < b.replace(/\//g, '\0') ? -1 : 1));
    assert.deepEqual(data, order);
  });

  test('unknown paths are 404 Not found', async () => {
    const r = await call('/nope/nope');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { message: 'Not found' });
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  });

  test('plugin admin routes are tried before the 404', async () => {
    const del = await call('/proxy-cache', { method: 'DELETE' });
    assert.equal(del.status, 204);
    const get = await call('/proxy-cache/abc?q=1');
    assert.deepEqual(get.json, { key: 'abc', q: '1' });
  });

  test('GET /metrics passes the backend exposition through', async () => {
    const r = await call('/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4');
    assert.equal(r.text, 'kong_nginx_requests_total 10\n');
  });
});

describe('GET /status', () => {
  test('memory in MiB by default, server counters and the configuration hash', async () => {
    const r = await call('/status');
    assert.equal(r.status, 200);
    assert.equal('database' in r.json, false, 'DB-less Kong drops `database`');
    assert.deepEqual(r.json, {
      memory: {
        workers_lua_vms: [{ http_allocated_gc: '0.00 MiB', pid: 100 }, { http_allocated_gc: '3.00 MiB', pid: 200 }],
        lua_shared_dicts: { kong: { allocated_slabs: '1.00 MiB', capacity: '5.00 MiB' } },
      },
      server: {
        total_requests: 10, connections_active: 2, connections_accepted: 5, connections_handled: 5,
        connections_reading: 0, connections_writing: 1, connections_waiting: 1,
      },
      configuration_hash: 'a'.repeat(32),
    });
  });

  test('unit and scale format memory; bad values are 400', async () => {
    const k = await call('/status?unit=k&scale=3');
    assert.equal(k.json.memory.workers_lua_vms[0].http_allocated_gc, '1.500 KiB');
    const b = await call('/status?unit=B');
    assert.equal(b.json.memory.workers_lua_vms[0].http_allocated_gc, 1536);
    assert.equal(b.json.memory.lua_shared_dicts.kong.capacity, 5 * 1024 * 1024);
    const g = await call('/status?unit=G&scale=0');
    assert.equal(g.json.memory.lua_shared_dicts.kong.capacity, '0 GiB');
    const ignored = await call('/status?scale=abc');
    assert.equal(ignored.json.memory.workers_lua_vms[1].http_allocated_gc, '3.00 MiB');
    const badUnit = await call('/status?unit=V');
    assert.equal(badUnit.status, 400);
    assert.deepEqual(badUnit.json, { message: "invalid unit 'V' (expected 'k/K', 'm/M', or 'g/G')" });
    const badScale = await call('/status?scale=-1');
    assert.equal(badScale.status, 400);
    assert.deepEqual(badScale.json, { message: 'scale must be equal or greater than 0' });
  });
});

describe('entity lists and items', () => {
  const counts: Array<[string, number]> = [
    ['/services', 3], ['/routes', 3], ['/consumers', 2], ['/plugins', 3], ['/upstreams', 2], ['/certificates', 1],
    ['/snis', 2], ['/ca_certificates', 1], ['/key-auths', 1], ['/basic-auths', 1], ['/acls', 1], ['/jwts', 1],
    ['/hmac-auths', 1], ['/oauth2', 1],
  ];
  for (const [path, n] of counts) {
    test(`GET ${path} lists ${n}`, async () => {
      const r = await call(path);
      assert.equal(r.status, 200);
      assert.equal(r.json.data.length, n);
      assert.equal(r.json.next, null);
      assert.equal('offset' in r.json, false);
    });
  }

  test('lists are ordered by id, entities as in Config with foreign keys as {id}', async () => {
    const r = await call('/services');
    assert.deepEqual(ids(r), [IDS.echo, IDS.billing, IDS.anonService]);
    const routes = await call('/routes');
    assert.deepEqual(routes.json.data[0].service, { id: IDS.echo });
    assert.equal(routes.json.data[2].service, null);
  });

  test('certificates carry their SNI names; oauth2 hashed secrets never show in plain text', async () => {
    const c = await call('/certificates');
    assert.deepEqual(c.json.data[0].snis, ['a.example.test', 'b.example.test']);
    const o = await call('/oauth2');
    assert.match(o.json.data[0].client_secret, /^\$pbkdf2-sha512\$i=10000,l=32\$/);
    assert.ok(!o.text.includes('plain-secret'));
    const again = await call(`/oauth2/cid`);
    assert.equal(again.json.client_secret, o.json.data[0].client_secret, 'stable');
    const basic = await call('/basic-auths/alice');
    assert.equal(basic.json.password, 'b2a1c3', 'stored hash as is');
  });

  const items: Array<[string, string]> = [
    [`/services/${IDS.echo}`, IDS.echo], ['/services/echo', IDS.echo], ['/routes/echo-r', IDS.echoRoute],
    ['/consumers/alice', IDS.alice], [`/consumers/${IDS.bob}`, IDS.bob], ['/plugins/corr', IDS.globalPlugin],
    [`/plugins/${IDS.keyAuthPlugin}`, IDS.keyAuthPlugin], ['/upstreams/echo.internal', IDS.upstream],
    ['/snis/a.example.test', IDS.sniB], ['/key-auths/alice-secret', IDS.keyAuth], ['/basic-auths/alice', IDS.basicAuth],
    ['/jwts/bob-jwt', IDS.jwt], ['/hmac-auths/bob-hmac', IDS.hmac], ['/oauth2/cid', IDS.oauth2],
    [`/acls/${IDS.acl}`, IDS.acl], [`/ca_certificates/${IDS.caCert}`, IDS.caCert],
    [`/certificates/${IDS.cert}`, IDS.cert], ['/certificates/b.example.test', IDS.cert],
  ];
  for (const [path, id] of items) {
    test(`GET ${path}`, async () => {
      const r = await call(path);
      assert.equal(r.status, 200);
      assert.equal(r.json.id, id);
    });
  }

  test('missing items are 404; a non-UUID key without endpoint key is 400 code 1', async () => {
    for (const p of [`/services/${uuid(999)}`, '/services/nope', '/consumers/alice-1', '/routes/nope']) {
      const r = await call(p);
      assert.equal(r.status, 404, p);
      assert.deepEqual(r.json, { message: 'Not found' });
    }
    const sni = await call('/certificates/unknown.test');
    assert.equal(sni.status, 404);
    assert.deepEqual(sni.json, { message: 'SNI not found' });
    const ca = await call('/ca_certificates/foo');
    assert.equal(ca.status, 400);
    assert.deepEqual(ca.json, {
      code: 1, name: 'invalid primary key', message: `invalid primary key: '{id="foo"}'`, fields: { id: 'expected a valid UUID' },
    });
  });

  test('GET /consumers?custom_id= finds by custom id', async () => {
    assert.deepEqual(ids(await call('/consumers?custom_id=alice-1')), [IDS.alice]);
    const none = await call('/consumers?custom_id=nobody');
    assert.deepEqual(none.json, { data: [], next: null });
    const empty = await call('/consumers?custom_id=');
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.json, { message: 'custom_id must be an unempty string' });
  });
});

describe('nested paths', () => {
  const lists: Array<[string, string[]]> = [
    ['/services/echo/routes', [IDS.echoRoute]],
    ['/services/echo/plugins', [IDS.keyAuthPlugin]],
    [`/services/${IDS.billing}/routes`, [IDS.billingRoute]],
    ['/routes/echo-r/plugins', []],
    ['/consumers/alice/plugins', [IDS.consumerPlugin]],
    ['/consumers/alice/key-auth', [IDS.keyAuth]],
    ['/consumers/alice/basic-auth', [IDS.basicAuth]],
    ['/consumers/alice/acls', [IDS.acl]],
    ['/consumers/bob/jwt', [IDS.jwt]],
    ['/consumers/bob/hmac-auth', [IDS.hmac]],
    ['/consumers/alice/oauth2', [IDS.oauth2]],
    ['/consumers/bob/key-auth', []],
    ['/certificates/a.example.test/snis', [IDS.sniA, IDS.sniB]],
    ['/upstreams/echo.internal/targets', [IDS.target2, IDS.target1]],
    ['/upstreams/echo.internal/targets/all', [IDS.target1, IDS.target2]],
    ['/upstreams/empty.internal/targets', []],
  ];
  for (const [path, expected] of lists) {
    test(`GET ${path}`, async () => {
      const r = await call(path);
      assert.equal(r.status, 200);
      assert.deepEqual(ids(r), expected);
      assert.equal(r.json.next, null);
    });
  }

  const items: Array<[string, string]> = [
    ['/routes/echo-r/service', IDS.echo],
    [`/plugins/${IDS.keyAuthPlugin}/service`, IDS.echo],
    [`/key-auths/alice-secret/consumer`, IDS.alice],
    ['/services/echo/routes/echo-r', IDS.echoRoute],
    [`/services/echo/plugins/${IDS.keyAuthPlugin}`, IDS.keyAuthPlugin],
    ['/consumers/alice/key-auth/alice-secret', IDS.keyAuth],
    ['/consumers/alice/acls/gold', IDS.acl],
    [`/consumers/alice/acls/${IDS.acl}`, IDS.acl],
    ['/upstreams/echo.internal/targets/10.0.0.1:8080', IDS.target1],
    [`/upstreams/echo.internal/targets/${IDS.target2}`, IDS.target2],
    ['/certificates/a.example.test/snis/b.example.test', IDS.sniA],
  ];
  for (const [path, id] of items) {
    test(`GET ${path}`, async () => {
      const r = await call(path);
      assert.equal(r.status, 200);
      assert.equal(r.json.id, id);
    });
  }

  test('nested items that exist but belong elsewhere, and missing parents, are 404', async () => {
    for (const p of [
      '/services/echo/routes/billing-r', '/services/nope/routes', '/routes/orphan/service', `/plugins/${IDS.globalPlugin}/route`,
      '/consumers/bob/acls/gold', '/consumers/bob/key-auth/alice-secret', '/upstreams/empty.internal/targets/10.0.0.1:8080',
      '/upstreams/nope/targets', '/targets', `/targets/${IDS.target1}`, `/targets/${IDS.target1}/upstream`, '/snis/a.example.test/certificate',
    ]) {
      const r = await call(p);
      assert.equal(r.status, 404, p);
    }
  });
});

describe('tags', () => {
  test('?tags=a,b is AND, ?tags=a/b is OR', async () => {
    assert.deepEqual(ids(await call('/services?tags=team-a')), [IDS.echo, IDS.anonService]);
    assert.deepEqual(ids(await call('/services?tags=team-a,public')), [IDS.echo]);
    assert.deepEqual(ids(await call('/services?tags=team-b/public')), [IDS.echo, IDS.billing]);
    assert.deepEqual(ids(await call('/services?tags=nobody')), []);
    assert.deepEqual(ids(await call('/consumers?tags=vip')), [IDS.alice]);
  });

  test('bad tag filters are 400 code 11', async () => {
    const mixed = await call('/services?tags=a,b/c');
    assert.equal(mixed.status, 400);
    assert.deepEqual(mixed.json, {
      code: 11, name: 'invalid options', message: 'invalid option (tags: invalid filter syntax)', options: { tags: 'invalid filter syntax' },
    });
    const many = await call('/services?tags=a,b,c,d,e,f');
    assert.equal(many.json.message, 'invalid option (tags: cannot query more than 5 tags)');
  });

  test('GET /tags and /tags/{tag} list tagged entities', async () => {
    const all = await call('/tags');
    assert.equal(all.status, 200);
    assert.equal(all.json.data.length, 7);
    assert.deepEqual(all.json.data[0], { tag: 'team-a', entity_name: 'services', entity_id: IDS.echo });
    const one = await call('/tags/team-a');
    assert.deepEqual(one.json.data.map((d: { entity_name: string }) => d.entity_name), ['services', 'services', 'routes', 'keyauth_credentials']);
    const paged = await call('/tags/team-a?size=3');
    assert.equal(paged.json.data.length, 3);
    assert.match(paged.json.next, /^\/tags\/team-a\?offset=/);
    const rest = await call(paged.json.next);
    assert.deepEqual(rest.json.data, [{ tag: 'team-a', entity_name: 'keyauth_credentials', entity_id: IDS.keyAuth }]);
    assert.equal(rest.json.next, null);
    const bad = await call('/tags/a,b');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 10);
    assert.equal(bad.json.message, "invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences");
    const write = await call('/tags', { method: 'POST' });
    assert.equal(write.status, 400);
    assert.equal(write.json.message, 'schema violation (tags: does not support insert/upsert/update/delete operations)');
  });
});

describe('pagination', () => {
  test('size pages through a list with next links (offset token round-trip)', async () => {
    const seen: string[] = [];
    let path: string | null = '/services?size=1';
    let pages = 0;
    while (path) {
      const r = await call(path);
      assert.equal(r.status, 200);
      seen.push(...ids(r));
      pages++;
      if (r.json.next !== null) {
        assert.match(r.json.next, /^\/services\?offset=[A-Za-z0-9%]+&size=1$/);
        assert.equal(typeof r.json.offset, 'string');
        assert.equal(r.json.next, `/services?offset=${encodeURIComponent(r.json.offset)}&size=1`);
      }
      path = r.json.next;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [IDS.echo, IDS.billing, IDS.anonService]);
  });

  test('tags and size are carried into next; nested lists carry neither', async () => {
    const r = await call('/services?tags=team-a&size=1');
    assert.match(r.json.next, /&tags=team-a&size=1$/);
    const second = await call(r.json.next);
    assert.deepEqual(ids(second), [IDS.anonService]);
    assert.equal(second.json.next, null);
    const nested = await call('/certificates/a.example.test/snis?size=1');
    // The SNI name was resolved to the certificate id before paging, as Kong's prepare_params does.
    assert.match(nested.json.next, new RegExp(`^/certificates/${IDS.cert}/snis\\?offset=[^&]+$`));
    assert.deepEqual(ids(await call(nested.json.next)), [IDS.sniB]);
    const targets = await call('/upstreams/echo.internal/targets?size=1');
    assert.equal(targets.json.next, '/upstreams/echo.internal/targets?offset=1');
    assert.deepEqual(ids(await call(targets.json.next)), [IDS.target1]);
  });

  test('bad size is 400 code 9', async () => {
    const nan = await call('/services?size=abc');
    assert.equal(nan.status, 400);
    assert.deepEqual(nan.json, { code: 9, name: 'invalid size', message: 'size must be a number' });
    for (const s of ['0', '1001', '1.5', '-3']) {
      const r = await call(`/services?size=${s}`);
      assert.equal(r.status, 400, s);
      assert.deepEqual(r.json, { code: 9, name: 'invalid size', message: 'size must be an integer between 1 and 1000' });
    }
    assert.equal((await call('/services?size=1000')).status, 200);
  });

  test('bad offset is 400 code 7', async () => {
    const x = await call('/routes?offset=x');
    assert.equal(x.status, 400);
    assert.deepEqual(x.json, { code: 7, name: 'invalid offset', message: "'x' is not a valid offset: bad base64 encoding" });
    const potato = await call('/routes?offset=%7Cpotato%7C');
    assert.equal(potato.status, 400);
    assert.equal(potato.json.code, 7);
    assert.equal(potato.json.name, 'invalid offset');
  });

  test('an offset past the end gives an empty last page', async () => {
    const token = Buffer.from('ffffffff\0').toString('base64').replace(/=+$/, '');
    const r = await call(`/services?offset=${encodeURIComponent(token)}`);
    assert.deepEqual(r.json, { data: [], next: null });
  });
});

describe('writes in DB-less mode', () => {
  const json = (method: string, body: unknown = { paths: ['/'] }): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const unsupported = (message: string) => ({ code: 12, name: 'operation unsupported', message });

  test('POST on a collection is 405 code 12 (create)', async () => {
    const r = await call('/routes', json('POST'));
    assert.equal(r.status, 405);
    assert.deepEqual(r.json, unsupported("cannot create 'routes' entities when not using a database"));
    const cred = await call('/consumers/alice/key-auth', json('POST', { key: 'x' }));
    assert.deepEqual(cred.json, unsupported("cannot create 'keyauth_credentials' entities when not using a database"));
    const form = await call('/services', { method: 'POST', body: 'name=x&host=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.deepEqual(form.json, unsupported("cannot create 'services' entities when not using a database"));
    const missingParent = await call('/services/nope/routes', json('POST'));
    assert.equal(missingParent.status, 404);
  });

  test('PUT is create or update; by name says so', async () => {
    const byId = await call(`/routes/${uuid(999)}`, json('PUT'));
    assert.equal(byId.status, 405);
    assert.deepEqual(byId.json, unsupported("cannot create or update 'routes' entities when not using a database"));
    const byName = await call('/routes/echo-r', json('PUT'));
    assert.deepEqual(byName.json, unsupported("cannot create or update 'routes' entities by 'name' when not using a database"));
    const nested = await call('/services/echo/routes/new-route', json('PUT'));
    assert.deepEqual(nested.json, unsupported("cannot create or update 'routes' entities by 'name' when not using a database"));
    const bySni = await call('/certificates/new.example.test', json('PUT', { cert: 'x', key: 'y' }));
    assert.deepEqual(bySni.json, unsupported("cannot create or update 'certificates' entities when not using a database"));
  });

  test('PATCH is update when the entity exists, 404 code 6 otherwise', async () => {
    const existing = await call('/routes/echo-r', json('PATCH'));
    assert.equal(existing.status, 405);
    assert.deepEqual(existing.json, unsupported("cannot update 'routes' entities by 'name' when not using a database"));
    const byId = await call(`/services/${IDS.echo}`, json('PATCH', { retries: 1 }));
    assert.deepEqual(byId.json, unsupported("cannot update 'services' entities when not using a database"));
    const missing = await call(`/routes/${uuid(999)}`, json('PATCH'));
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, {
      code: 6, name: 'not found', message: `could not find the entity with primary key '{id="${uuid(999)}"}'`, fields: { id: uuid(999) },
    });
    const missingName = await call('/routes/nope', json('PATCH'));
    assert.equal(missingName.json.message, `could not find the entity with '{name="nope"}'`);
    const target = await call('/upstreams/echo.internal/targets/10.0.0.1:8080', json('PATCH', { weight: 1 }));
    assert.deepEqual(target.json, unsupported("cannot update 'targets' entities when not using a database"));
  });

  test('DELETE is remove when the entity exists, 204 otherwise', async () => {
    const existing = await call(`/routes/${IDS.echoRoute}`, { method: 'DELETE' });
    assert.equal(existing.status, 405);
    assert.deepEqual(existing.json, unsupported("cannot remove 'routes' entities when not using a database"));
    const byName = await call('/consumers/alice', { method: 'DELETE' });
    assert.deepEqual(byName.json, unsupported("cannot remove 'consumers' entities by 'username' when not using a database"));
    const missing = await call(`/routes/${uuid(999)}`, { method: 'DELETE' });
    assert.equal(missing.status, 204);
    assert.equal(missing.text, '');
    const foreign = await call('/routes/echo-r/service', { method: 'DELETE' });
    assert.equal(foreign.status, 405);
    assert.deepEqual(foreign.json, { message: 'Method not allowed' });
  });

  test('methods an endpoint does not define are 405 Method not allowed', async () => {
    for (const [method, path] of [['DELETE', '/routes'], ['PUT', '/routes'], ['PATCH', '/routes'], ['POST', `/routes/${IDS.echoRoute}`], ['POST', '/status']]) {
      const r = await call(path!, json(method!));
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.deepEqual(r.json, { message: 'Method not allowed' });
    }
  });

  test('a JSON body that does not parse is 400', async () => {
    const r = await call('/routes', { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { message: 'Cannot parse JSON body' });
  });
});

describe('schemas', () => {
  test('plugin schemas render the TypeBox schema as Kong fields', async () => {
    const r = await call('/schemas/plugins/key-auth');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.fields[0], { consumer: { type: 'foreign', reference: 'consumers', eq: null } });
    assert.equal(r.json.fields[1].protocols.type, 'set');
    const config = r.json.fields[2].config;
    assert.equal(config.type, 'record');
    assert.deepEqual(config.fields, [
      { key_names: { type: 'array', elements: { type: 'string', len_min: 1 }, default: ['apikey'] } },
      { hide_credentials: { type: 'boolean', default: false } },
      { anonymous: { type: 'string', required: false, default: null } },
      { realm: { type: 'string' } },
    ]);
    const legacy = await call('/plugins/schema/rate-limiting');
    assert.equal(legacy.json.type, 'record');
    assert.deepEqual(legacy.json.fields, [
      { minute: { type: 'number', gt: 0 } },
      { policy: { type: 'string', default: 'local', one_of: ['local', 'redis'] } },
      { limits: { type: 'map', required: true, keys: { type: 'string' }, values: { type: 'integer' } } },
      { redis: { type: 'record', required: true, fields: [{ port: { type: 'integer', default: 6379, between: [0, 65535] } }] } },
    ]);
    const missing = await call('/schemas/plugins/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { message: "No plugin named 'nope'" });
    assert.deepEqual((await call('/plugins/schema/nope')).json, { message: "No plugin named 'nope'" });
  });

  test('entity schemas list fields with foreign keys', async () => {
    const r = await call('/schemas/routes');
    assert.equal(r.status, 200);
    const names = (r.json.fields as object[]).map((f) => Object.keys(f)[0]);
    assert.ok(names.includes('paths') && names.includes('service') && names.includes('id'));
    assert.ok(!names.includes('plugins') && !names.includes('_comment'));
    const service = (r.json.fields as Array<Record<string, unknown>>).find((f) => 'service' in f)!;
    assert.deepEqual(service.service, { type: 'foreign', reference: 'services' });
    assert.equal((await call('/schemas/keyauth_credentials')).status, 200);
    assert.equal((await call('/schemas/tags')).status, 200);
    const missing = await call('/schemas/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { message: "No entity named 'nope'" });
  });

  test('GET /plugins/enabled lists the plugins this node can run', async () => {
    assert.deepEqual((await call('/plugins/enabled')).json, { enabled_plugins: ['key-auth', 'rate-limiting'] });
  });
});

describe('upstream health', () => {
  test('targets with balancer health, newest first, with node_id', async () => {
    const r = await call('/upstreams/echo.internal/health');
    assert.equal(r.status, 200);
    assert.equal(r.json.node_id, backend.nodeId);
    assert.equal(r.json.next, null);
    const [t2, t1] = r.json.data;
    assert.equal(t1.id, IDS.target1);
    assert.equal(t1.health, 'HEALTHY');
    assert.deepEqual(t1.data, {
      host: '10.0.0.1', port: 8080, nodeWeight: 100, weight: { total: 100, available: 100, unavailable: 0 },
      addresses: [{ ip: '10.0.0.1', port: 8080, weight: 100, health: 'HEALTHY' }],
    });
    assert.equal(t2.health, 'UNHEALTHY');
    assert.deepEqual(t2.data.weight, { total: 50, available: 0, unavailable: 50 });
  });

  test('?balancer_health=1 summarises the balancer', async () => {
    const r = await call(`/upstreams/${IDS.upstream}/health?balancer_health=1`);
    assert.equal(r.json.data.id, IDS.upstream);
    assert.equal(r.json.data.health, 'HEALTHY');
    assert.equal(r.json.data.balancer_health, 'HEALTHY');
    assert.deepEqual(r.json.data.details.weight, { total: 150, available: 100, unavailable: 50 });
    assert.equal(r.json.next, null);
  });

  test('an upstream without a balancer lists targets without health; unknown upstream 404', async () => {
    const r = await call('/upstreams/empty.internal/health');
    assert.deepEqual(r.json.data, []);
    assert.equal((await call('/upstreams/nope/health')).status, 404);
  });
});

describe('token guard', () => {
  let guarded: TestServer;
  const guardedCall = client(() => guarded);
  before(async () => { guarded = await serve(createAdminHandler(fakeBackend(), { token: 's3cret' })); });
  after(() => guarded.close());

  test('requests without the token are 401', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { 'kong-admin-token': 's3cre' }, { authorization: 'Basic czNjcmV0' }];
    for (const headers of attempts) {
      const r = await guardedCall('/services', { headers });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { message: 'Unauthorized' });
    }
  });

  test('a bearer token or Kong-Admin-Token header is accepted', async () => {
    assert.equal((await guardedCall('/services', { headers: { authorization: 'Bearer s3cret' } })).status, 200);
    assert.equal((await guardedCall('/', { headers: { 'kong-admin-token': 's3cret' } })).status, 200);
  });
});

describe('request size', () => {
  test('bodies over 10 MiB are 413', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(server.url);
      const req = request({
        host: url.hostname, port: url.port, path: '/config', method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024 + 1) },
      }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write('{"_format_version":"3.0"');
    });
    assert.equal(status, 413);
    assert.deepEqual(JSON.parse(body), { message: 'Payload too large' });
  });

  test('a chunked body that grows past the limit is 413', async () => {
    const { status } = await new Promise<{ status: number }>((resolve, reject) => {
      const url = new URL(server.url);
      const req = request({ host: url.hostname, port: url.port, path: '/config', method: 'POST', headers: { 'content-type': 'application/yaml' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 11; i++) req.write(chunk);
      req.end();
    });
    assert.equal(status, 413);
    assert.equal(backend.applyCalls.length, 0);
  });
});
