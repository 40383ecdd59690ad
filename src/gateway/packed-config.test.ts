import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../config/entities.ts';
import { parseConfigText } from '../config/load.ts';
import { validateConfig } from '../config/validate.ts';
import { loadPluginRegistry } from '../plugins/registry.ts';
import { packConfig, unpackConfig } from './packed-config.ts';

/** What a worker makes of a config: packed, through JSON, unpacked. */
const overTheWire = (config: Config): Config => unpackConfig(JSON.parse(JSON.stringify(packConfig(config))) as Record<string, unknown>);
/** What a worker made of it before packing: the config through JSON. */
const viaJson = (config: unknown): unknown => JSON.parse(JSON.stringify(config));

test('a validated config comes back field for field, with every collection packed', async () => {
  const registry = await loadPluginRegistry([]);
  const services = [];
  for (let i = 0; i < 40; i++) {
    services.push({
      name: `svc-${i}`,
      url: i % 3 === 0 ? `https://backend-${i}.internal:8443/api` : `http://127.0.0.1:${9000 + (i % 2)}`,
      ...(i % 5 === 0 ? { retries: 2, tags: ['a', `t${i}`] } : {}),
      routes: [
        { name: `route-${i}`, paths: [`/svc/${i}`], ...(i % 4 === 0 ? { hosts: ['example.com'], strip_path: false, methods: ['GET'] } : {}) },
        { name: `route-${i}-h`, headers: { 'x-version': [`v${i}`] }, preserve_host: i % 2 === 0 },
      ],
      plugins: i % 7 === 0 ? [{ name: 'rate-limiting', config: { minute: i + 1, policy: 'local' } }] : [],
    });
  }
  const text = JSON.stringify({
    _format_version: '3.0',
    services,
    consumers: [
      { username: 'alex', keyauth_credentials: [{ key: 'hello_world' }, { key: 'second' }], basicauth_credentials: [{ username: 'alex', password: 'pw' }] },
      { custom_id: 'c-2', acls: [{ group: 'admins' }, { group: 'ops', tags: ['x'] }] },
      { username: 'sam', keyauth_credentials: [{ key: 'k-sam', ttl: 60 }] },
    ],
    upstreams: [
      { name: 'up-a', targets: [{ target: '127.0.0.1:9000', weight: 50 }, { target: '127.0.0.1:9001' }] },
      { name: 'up-b', algorithm: 'consistent-hashing', hash_on: 'header', hash_on_header: 'x-user', healthchecks: { active: { healthy: { interval: 5 } } } },
    ],
    plugins: [{ name: 'key-auth', config: { key_names: ['apikey', 'x-key'] } }, { name: 'proxy-cache', config: { strategy: 'memory' } }],
  });
  const result = validateConfig(parseConfigText(text), registry);
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  const config = result.config;

  assert.deepEqual(overTheWire(config), viaJson(config));
  const packed = packConfig(config);
  for (const key of ['services', 'routes', 'plugins', 'consumers', 'keyauth_credentials', 'acls', 'upstreams', 'targets'] as const) {
    assert.ok(config[key].length > 1, key);
    assert.ok(Object.hasOwn(packed[key] as object, '\u0000packed'), `${key} is packed`);
  }
  // The point of packing: repeated defaults are sent once.
  assert.ok(JSON.stringify(packed).length < 0.6 * JSON.stringify(config).length);
});

test('fields that are absent, undefined or not JSON numbers come back as JSON would give them', () => {
  const config = {
    services: [
      { id: 'a', name: 'first', port: 80, path: null, tags: ['x'], extra: 1, weight: NaN },
      { id: 'b', name: 'second', port: 80, path: '/p', tags: null, late: true, weight: 3 },
      { id: 'c', port: 81, path: null, tags: ['y'], extra: undefined, weight: Infinity },
      { id: 'd', name: null, port: 80, tags: [], nested: { port: 80 } },
    ],
    routes: [{ id: 'only', paths: ['/'] }],
    consumers: [],
    names: ['one', 'two'],
  } as unknown as Config;
  assert.deepEqual(overTheWire(config), viaJson(config));
});

test('records unpacked share no array or object', () => {
  const config = {
    routes: [
      { id: 'a', protocols: ['http', 'https'], headers: { x: ['1'] } },
      { id: 'b', protocols: ['http', 'https'], headers: { x: ['1'] } },
    ],
  } as unknown as Config;
  const [a, b] = (overTheWire(config) as unknown as { routes: { protocols: string[]; headers: { x: string[] } }[] }).routes;
  a!.protocols.push('grpc');
  a!.headers.x.push('2');
  assert.deepEqual(b!.protocols, ['http', 'https']);
  assert.deepEqual(b!.headers.x, ['1']);
});

test('arrays equal to the first record\'s are sent once; nulls, other arrays and absent fields come back as they were', () => {
  const config = {
    routes: [
      { id: 'a', protocols: ['http', 'https'], tags: ['t'], paths: ['/a'] },
      { id: 'b', protocols: ['http', 'https'], tags: null, paths: ['/b'] },
      { id: 'c', protocols: ['https'], tags: ['t'], paths: ['/c'] },
      { id: 'd', protocols: ['http', 'https'], paths: ['/d'] },
      { id: 'e', protocols: ['https', 'http'], tags: [], paths: ['/a'] },
      { id: 'f', protocols: ['http', 'https', 'grpc'], tags: ['t', 't'], paths: ['/a'] },
    ],
  } as unknown as Config;
  assert.deepEqual(overTheWire(config), viaJson(config));
  const packed = JSON.parse(JSON.stringify(packConfig(config))) as { routes: { '\u0000packed': { rows: Record<string, unknown>[]; same: Record<string, unknown> } } };
  const { rows, same } = packed.routes['\u0000packed'];
  assert.deepEqual(same, { protocols: ['http', 'https'], tags: ['t'], paths: ['/a'] });
  // Equal arrays are left out of the rows; the others are written out.
  assert.deepEqual(rows.map((r) => Object.hasOwn(r, 'protocols')), [false, false, true, false, true, true]);
  assert.deepEqual(rows.map((r) => r.tags), [undefined, null, undefined, undefined, [], ['t', 't']]);
  // Each record gets an array of its own, not the template.
  const routes = (overTheWire(config) as unknown as { routes: { protocols: string[] }[] }).routes;
  routes[0]!.protocols.push('ws');
  assert.deepEqual(routes[1]!.protocols, ['http', 'https']);
  assert.deepEqual(routes[3]!.protocols, ['http', 'https']);
  assert.equal(Object.hasOwn(routes[3]!, 'tags'), false);
});
