/**
 * Tests of the declarative config contract: defaults, url shorthand, nesting, references, ids,
 * and Kong's exact error messages, `fields` trees and flattened entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { PluginDefinition } from '../plugins/api.ts';
import { validateConfig, type ValidationResult } from './validate.ts';
import { parseConfigText } from './load.ts';
import { entityId, uuidV5 } from './ids.ts';
import { configHash, EMPTY_CONFIG_HASH } from './hash.ts';
import { exportConfig, exportConfigYaml } from './export.ts';
import { declarativeErrorBody, renderLuaTable, ConfigParseError } from './errors.ts';
import { hashBasicAuthPassword } from './normalize.ts';

const rateLimiting: PluginDefinition = {
  name: 'rate-limiting', version: '1.0.0', priority: 910,
  schema: Type.Object({
    minute: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    policy: Type.String({ default: 'local', enum: ['local', 'cluster', 'redis'] }),
  }),
  check: (c) => ((c as { minute?: number }).minute === undefined
    ? { '@entity': ["at least one of these fields must be non-empty: 'config.second', 'config.minute'"] } : null),
  create: () => ({}),
};
const keyAuth: PluginDefinition = {
  name: 'key-auth', version: '1.0.0', priority: 1250, noConsumer: true,
  schema: Type.Object({ key_names: Type.Array(Type.String(), { default: ['apikey'] }), hide_credentials: Type.Boolean({ default: false }) }),
  create: () => ({}),
};
const proxyCache: PluginDefinition = {
  name: 'proxy-cache', version: '1.0.0', priority: 100,
  schema: Type.Object({ strategy: Type.String({ default: 'memory' }), cache_ttl: Type.Integer({ default: 300 }) }),
  create: () => ({}),
};
const PLUGINS = new Map<string, PluginDefinition>([[rateLimiting.name, rateLimiting], [keyAuth.name, keyAuth], [proxyCache.name, proxyCache]]);

function ok(text: string): ReturnType<typeof okConfig> { return okConfig(validateConfig(parseConfigText(text), PLUGINS, { now: 1700000000 })); }
function okConfig(r: ValidationResult) {
  if (!r.ok) assert.fail(r.error.message);
  return r.config;
}
function fail(input: unknown) {
  const r = validateConfig(typeof input === 'string' ? parseConfigText(input) : input, PLUGINS, { now: 1 });
  if (r.ok) assert.fail('expected the config to be refused');
  return r.error;
}

const WALKTHROUGH = `
_format_version: "3.0"
services:
- name: echo
  url: http://echo.internal:8080
  routes:
  - name: echo
    paths: [/echo]
    plugins:
    - name: rate-limiting
      config: { minute: 5, policy: local }
    - name: proxy-cache
    - name: key-auth
consumers:
- username: alex
  keyauth_credentials:
  - key: hello_world
`;

test('the walkthrough config validates with defaults, hoisting and resolved references', () => {
  const c = ok(WALKTHROUGH);
  assert.equal(c.services.length, 1);
  const svc = c.services[0]!;
  assert.deepEqual({ protocol: svc.protocol, host: svc.host, port: svc.port, path: svc.path }, { protocol: 'http', host: 'echo.internal', port: 8080, path: null });
  assert.equal(svc.id, entityId('services', 'echo'));
  const route = c.routes[0]!;
  assert.deepEqual(route.service, { id: svc.id });
  assert.equal(c.plugins.length, 3);
  const rl = c.plugins.find((p) => p.name === 'rate-limiting')!;
  assert.deepEqual(rl.config, { minute: 5, policy: 'local' });
  assert.deepEqual(rl.route, { id: route.id });
  assert.equal(rl.service, null);
  assert.deepEqual(rl.protocols, ['grpc', 'grpcs', 'http', 'https']);
  assert.equal(rl.enabled, true);
  assert.deepEqual(c.plugins.find((p) => p.name === 'proxy-cache')!.config, { strategy: 'memory', cache_ttl: 300 });
  assert.deepEqual(c.plugins.find((p) => p.name === 'key-auth')!.config, { key_names: ['apikey'], hide_credentials: false });
  assert.equal(c.consumers[0]!.username, 'alex');
  assert.deepEqual(c.keyauth_credentials.map((k) => [k.key, k.consumer.id, k.ttl]), [['hello_world', c.consumers[0]!.id, null]]);
});

test('ids are stable across runs and match Kong\'s namespace derivation', () => {
  const a = ok(WALKTHROUGH);
  const b = ok(WALKTHROUGH);
  assert.deepEqual(a, b);
  // RFC 4122 test vector for v5 (DNS namespace, "python.org").
  assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  // Against RFC 4122's steps done plainly, for names of every length and non-ASCII ones.
  const reference = (ns: string, name: string) => {
    const digest = createHash('sha1').update(Buffer.from(ns.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
    digest[6] = (digest[6]! & 0x0f) | 0x50;
    digest[8] = (digest[8]! & 0x3f) | 0x80;
    const h = digest.toString('hex', 0, 16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const ns = uuidV5('fd02801f-0957-4a15-a55a-c8d9606f30b5', 'routes');
  for (const name of ['', 'echo', 'é漢字🙂', 'x'.repeat(300), `${'y'.repeat(700)}🙂`, 'echo', ...Array.from({ length: 64 }, (_, i) => `r-${i * 7919}`)]) {
    assert.equal(entityId('routes', name), reference(ns, name), name);
  }
  const ids = new Set(Object.values(a).flatMap((v) => (Array.isArray(v) ? v.map((e: { id: string }) => e.id) : [])));
  assert.equal(ids.size, 1 + 1 + 3 + 1 + 1);
});

test('service defaults and url shorthand', () => {
  const c = ok(`
_format_version: "3.0"
services:
- host: example.com
- url: https://secure.example.com/api
- url: //example.org:443
- url: http://user:pw@[::1]:8080/a/b;p?q=1#f
`);
  const [plain, https, bare, full] = c.services;
  assert.deepEqual({ ...plain, id: undefined }, {
    id: undefined, created_at: 1700000000, updated_at: 1700000000, tags: null, name: null, retries: 5,
    protocol: 'http', host: 'example.com', port: 80, path: null, connect_timeout: 60000, write_timeout: 60000,
    read_timeout: 60000, client_certificate: null, tls_verify: null, tls_verify_depth: null, ca_certificates: null, enabled: true,
  });
  assert.deepEqual([https!.protocol, https!.host, https!.port, https!.path], ['https', 'secure.example.com', 443, '/api']);
  assert.deepEqual([bare!.protocol, bare!.host, bare!.port], ['https', 'example.org', 443]);
  assert.deepEqual([full!.protocol, full!.host, full!.port, full!.path], ['http', '::1', 8080, '/a/b']);
  // Read as LuaSocket reads it (Kong's admin API spec, "handles invalid url"): no `//`, no host.
  for (const url of ['invalid url', 'notaurl']) {
    assert.deepEqual(fail({ _format_version: '3.0', services: [{ name: 's', url }] }).fields,
      { services: [{ host: 'required field missing', path: 'should start with: /' }] }, url);
  }
  // What precedes the first colon is the scheme: not a protocol Kong knows.
  const schemeOnly = fail({ _format_version: '3.0', services: [{ name: 's', url: 'example.org:443' }] }).fields as { services: Record<string, string>[] };
  assert.deepEqual(Object.keys(schemeOnly.services[0]!).sort(), ['host', 'path', 'protocol']);
  assert.deepEqual(fail({ _format_version: '3.0', services: [{ name: 's', url: '' }] }).fields,
    { services: [{ host: 'required field missing' }] });
  assert.notEqual(plain!.id, https!.id);
  // A url that is not a string is the schema's to report; a null one is unset.
  assert.deepEqual(fail({ _format_version: '3.0', services: [{ name: 's', url: 123 }] }).fields,
    { services: [{ host: 'required field missing', url: 'expected a string' }] });
  assert.deepEqual(fail({ _format_version: '3.0', services: [{ name: 's', url: null }] }).fields,
    { services: [{ host: 'required field missing' }] });
});

test('route, upstream, target and credential defaults', () => {
  const c = ok(`
_format_version: "3.0"
routes:
- paths: [/x]
upstreams:
- name: up.internal
  hash_on: ip
  targets:
  - target: 10.0.0.1
  - target: "[::1]"
  - target: host.internal:9000
    weight: 5
consumers:
- custom_id: c1
  basicauth_credentials:
  - username: u
    password: p
  acls:
  - group: gold
  jwt_secrets:
  - key: k
`);
  const r = c.routes[0]!;
  assert.deepEqual([r.protocols, r.strip_path, r.preserve_host, r.regex_priority, r.path_handling, r.https_redirect_status_code, r.request_buffering, r.response_buffering, r.service, r.methods], [['http', 'https'], true, false, 0, 'v0', 426, true, true, null, null]);
  const up = c.upstreams[0]!;
  assert.equal(up.algorithm, 'consistent-hashing');
  assert.equal(up.slots, 10000);
  assert.deepEqual(up.healthchecks.active.healthy.http_statuses, [200, 302]);
  assert.deepEqual(up.healthchecks.passive.unhealthy.http_statuses, [429, 500, 503]);
  assert.deepEqual(c.targets.map((t) => [t.target, t.weight, t.upstream.id]), [['10.0.0.1:8000', 100, up.id], ['[::1]:8000', 100, up.id], ['host.internal:9000', 5, up.id]]);
  const consumer = c.consumers[0]!;
  assert.deepEqual([consumer.username, consumer.custom_id], [null, 'c1']);
  assert.equal(c.basicauth_credentials[0]!.password, hashBasicAuthPassword('p', consumer.id));
  assert.equal(c.acls[0]!.group, 'gold');
  const jwt = c.jwt_secrets[0]!;
  assert.equal(jwt.algorithm, 'HS256');
  assert.equal(typeof jwt.secret, 'string');
  assert.equal(jwt.secret!.length, 32);
});

test('top-level children reference parents by name, id, {id} and {name}', () => {
  const svcId = '0855b320-0dd2-547d-891d-601e9b38647f';
  const c = ok(`
_format_version: "3.0"
services:
- name: a
  host: a.internal
- id: ${svcId}
  host: b.internal
routes:
- { name: r1, paths: [/1], service: a }
- { name: r2, paths: [/2], service: ${svcId} }
- { name: r3, paths: [/3], service: { id: ${svcId} } }
- { name: r4, paths: [/4], service: { name: a } }
consumers:
- username: alex
plugins:
- name: rate-limiting
  consumer: alex
  route: r1
  config: { minute: 1 }
- name: proxy-cache
`);
  const a = c.services[0]!.id;
  assert.deepEqual(c.routes.map((r) => r.service?.id), [a, svcId, svcId, a]);
  const rl = c.plugins[0]!;
  assert.deepEqual([rl.consumer?.id, rl.route?.id, rl.service], [c.consumers[0]!.id, c.routes[0]!.id, null]);
  assert.deepEqual([c.plugins[1]!.route, c.plugins[1]!.service, c.plugins[1]!.consumer], [null, null, null]);
});

test('required field and range errors: Kong\'s message and fields tree', () => {
  const e = fail({ _format_version: '1.1', services: [{ port: -12 }] });
  assert.equal(e.code, 14);
  assert.equal(e.name, 'invalid declarative configuration');
  assert.deepEqual(e.fields, { services: [{ host: 'required field missing', port: 'value should be between 0 and 65535' }] });
  assert.equal(e.message, 'declarative config is invalid: {services={{host="required field missing",port="value should be between 0 and 65535"}}}');
  assert.deepEqual(e.flattened_errors, [{
    entity_type: 'service', entity: { port: -12 },
    errors: [
      { type: 'field', field: 'port', message: 'value should be between 0 and 65535' },
      { type: 'field', field: 'host', message: 'required field missing' },
    ],
  }]);
});

test('type errors, unknown fields, enums and UUIDs', () => {
  const e = fail({
    _format_version: '3.0',
    services: [{ name: 'ok', host: 'h', retries: 'x', connect_timeout: 1.5, enabled: 'yes', protocol: 'ftp', extra: 1, id: 'nope', tags: 'a' }],
  });
  assert.deepEqual(e.fields, {
    services: [{
      retries: 'expected an integer', connect_timeout: 'expected an integer', enabled: 'expected a boolean',
      protocol: 'expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp', extra: 'unknown field',
      id: 'expected a valid UUID', tags: 'expected an array',
    }],
  });
  const r = fail({ _format_version: '3.0', routes: [{ paths: '/x' }], consumers: [{ username: 5 }], upstreams: ['x'] });
  assert.deepEqual(r.fields, { routes: [{ paths: 'expected an array' }], consumers: [{ username: 'expected a string' }], upstreams: ['expected a record'] });
});

test('_format_version rules', () => {
  assert.deepEqual(fail({ services: [] }).fields, { _format_version: 'required field missing' });
  const e = fail({ _format_version: '4.0' });
  assert.deepEqual(e.fields, { _format_version: 'expected one of: 1.1, 2.1, 3.0' });
  assert.equal(e.message, 'declarative config is invalid: {_format_version="expected one of: 1.1, 2.1, 3.0"}');
  assert.deepEqual(fail({ _format_version: '3.0', widgets: [] }).fields, { widgets: 'unknown field' });
});

test('host must not have a port; upstream names and targets', () => {
  const e = fail(`
_format_version: "3.0"
services:
- host: example.com:8080
upstreams:
- name: 10.0.0.1
- name: good.internal
  targets:
  - target: "bad host"
`);
  assert.deepEqual(e.fields, {
    services: [{ host: 'must not have a port' }],
    upstreams: [{ name: "Invalid name ('10.0.0.1'); no ip addresses allowed" }, { targets: [{ target: "Invalid target ('bad host'); not a valid hostname or ip address" }] }],
  });
  const target = e.flattened_errors.find((f) => f.entity_type === 'target')!;
  assert.deepEqual(target.entity, { target: 'bad host' });
});

test('route rules: protocols need matchers, path and host checks', () => {
  const e = fail(`
_format_version: "3.0"
routes:
- name: empty
  protocols: [http]
- paths: ["foo", "/a//b", "/a/./b", "~/(unclosed"]
- hosts: ["*.a.*", "a.*.b", "ok.*"]
- protocols: [https]
- headers: { Host: [x] }
`);
  assert.deepEqual(e.fields.routes, [
    { '@entity': ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"] },
    { paths: [
      'should start with: / (fixed path) or ~/ (regex path)',
      'must not have empty segments',
      "non-normalized path, consider use '/a/b' instead",
      (e.fields.routes as { paths: string[] }[])[1]!.paths[3],
    ] },
    { hosts: ['invalid wildcard: must have at most one wildcard', 'invalid wildcard: must be placed at leftmost or rightmost label'] },
    { '@entity': ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"] },
    { headers: "cannot contain 'host' header, which must be specified in the 'hosts' attribute" },
  ]);
  // Kong's default protocols include https, so a bare route gets the https variant.
  const bare = fail({ _format_version: '3.0', routes: [{}] });
  assert.deepEqual(bare.fields, { routes: [{ '@entity': ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"] }] });
  assert.match((e.fields.routes as { paths: string[] }[])[1]!.paths[3]!, /^invalid regex: '\/\(unclosed' \(PCRE returned: .+\)$/);
  const first = e.flattened_errors.find((f) => f.entity_name === 'empty')!;
  assert.deepEqual(first.errors, [{ type: 'entity', message: "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'" }]);
  assert.equal(e.message.includes('[2]') , false);
});

test('route fields a protocol family forbids, and the fields it needs', () => {
  const e = fail({ _format_version: '3.0', routes: [
    { protocols: ['http'], paths: ['/a'], sources: [{ ip: '10.0.0.1' }] },
    { protocols: ['grpc'], paths: ['/b'], methods: ['GET'] },
    { protocols: ['tcp'], paths: ['/c'], destinations: [{ port: 80 }] },
    { protocols: ['tcp'] },
    { protocols: ['grpcs'] },
  ] });
  assert.deepEqual(e.fields.routes, [
    { sources: "cannot set 'sources' when 'protocols' is 'http' or 'https'" },
    { methods: "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'" },
    { paths: "cannot set 'paths' when 'protocols' is 'tcp', 'tls', 'tls_passthrough' or 'udp'" },
    { '@entity': ["must set one of 'sources', 'destinations', 'snis' when 'protocols' is 'tcp', 'tls' or 'udp'"] },
    { '@entity': ["must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs'"] },
  ]);
});

test('consumer needs username or custom_id', () => {
  const e = fail({ _format_version: '3.0', consumers: [{ username: 'ok' }, { tags: ['t1'] }] });
  assert.deepEqual(e.fields, { consumers: [null, { '@entity': ["at least one of these fields must be non-empty: 'custom_id', 'username'"] }] });
  assert.equal(e.message, `declarative config is invalid: {consumers={[2]={["@entity"]={"at least one of these fields must be non-empty: 'custom_id', 'username'"}}}}`);
  assert.deepEqual(e.flattened_errors, [{
    entity_type: 'consumer', entity_tags: ['t1'], entity: { tags: ['t1'] },
    errors: [{ type: 'entity', message: "at least one of these fields must be non-empty: 'custom_id', 'username'" }],
  }]);
});

test('invalid references are keyed by the referring entity\'s name', () => {
  const e = fail(`
_format_version: "3.0"
routes:
- name: r1
  paths: [/x]
  service: ghost
`);
  assert.deepEqual(e.fields, { routes: { r1: ["invalid reference 'service: ghost' (no such entry in 'services')"] } });
  assert.equal(e.message, `declarative config is invalid: {routes={r1={"invalid reference 'service: ghost' (no such entry in 'services')"}}}`);
  assert.deepEqual(e.flattened_errors, [{
    entity_type: 'route', entity_name: 'r1', entity: { name: 'r1', paths: ['/x'], service: 'ghost' },
    errors: [{ type: 'entity', message: "invalid reference 'service: ghost' (no such entry in 'services')" }],
  }]);
});

test('uniqueness violations: endpoint key, primary key, unique field, plugin scope', () => {
  const byName = fail({ _format_version: '3.0', services: [{ name: 'x', host: 'a' }, { name: 'x', host: 'b' }] });
  assert.deepEqual(byName.fields, { services: [null, "uniqueness violation: 'services' entity with name set to 'x' already declared"] });
  assert.equal(byName.message, `declarative config is invalid: {services={[2]="uniqueness violation: 'services' entity with name set to 'x' already declared"}}`);
  assert.deepEqual(byName.flattened_errors[0]!.errors, [{ type: 'entity', message: "uniqueness violation: 'services' entity with name set to 'x' already declared" }]);

  const id = '0855b320-0dd2-547d-891d-601e9b38647f';
  const byId = fail({ _format_version: '3.0', services: [{ id, name: 'a', host: 'a' }, { id, name: 'b', host: 'b' }] });
  assert.deepEqual(byId.fields, { services: [null, `uniqueness violation: 'services' entity with primary key set to '${id}' already declared`] });
  assert.equal(byId.flattened_errors[0]!.entity_id, id);

  const custom = fail({ _format_version: '3.0', consumers: [{ username: 'foo', custom_id: 'c' }, { username: 'bar', custom_id: 'c' }] });
  assert.deepEqual(custom.fields, { consumers: { bar: "uniqueness violation: 'consumers' entity with custom_id set to 'c' already declared" } });

  const plugin = fail(`
_format_version: "3.0"
services:
- name: s
  host: s.internal
  plugins:
  - name: proxy-cache
plugins:
- name: proxy-cache
  service: s
`);
  const msg = (plugin.fields.plugins as string[])[0]!;
  assert.match(msg, /^uniqueness violation: 'plugins' entity with primary key set to '[0-9a-f-]{36}' already declared$/);
});

test('plugin errors: unknown plugin, config schema, check(), no_consumer, hoisted flattened entries', () => {
  const e = fail(`
_format_version: "3.0"
services:
- name: s
  id: 11111111-1111-4111-8111-111111111111
  host: s.internal
  plugins:
  - name: rate-limiting
    tags: [t]
    config: { minute: -1, policy: nope, extra: 1 }
  - name: rate-limiting-advanced
consumers:
- username: alex
  plugins:
  - name: key-auth
plugins:
- name: rate-limiting
`);
  assert.deepEqual(e.fields, {
    services: [{ plugins: [
      { config: { minute: 'value must be greater than 0', policy: 'expected one of: local, cluster, redis', extra: 'unknown field' } },
      { name: "plugin 'rate-limiting-advanced' not enabled; add it to the 'plugins' configuration property" },
    ] }],
    consumers: [{ plugins: [{ consumer: 'value must be null' }] }],
    plugins: [{ config: { '@entity': ["at least one of these fields must be non-empty: 'config.second', 'config.minute'"] } }],
  });
  const rl = e.flattened_errors.find((f) => f.entity_tags?.[0] === 't')!;
  assert.deepEqual(rl, {
    entity_type: 'plugin', entity_name: 'rate-limiting', entity_tags: ['t'],
    entity: { name: 'rate-limiting', tags: ['t'], config: { minute: -1, policy: 'nope', extra: 1 }, service: { id: '11111111-1111-4111-8111-111111111111' } },
    errors: [
      { type: 'field', field: 'config.policy', message: 'expected one of: local, cluster, redis' },
      { type: 'field', field: 'config.minute', message: 'value must be greater than 0' },
      { type: 'field', field: 'config.extra', message: 'unknown field' },
    ],
  });
  assert.equal(e.flattened_errors.length, 4);
  // Kong drains collections in reverse key order: services, plugins, consumers.
  assert.deepEqual(e.flattened_errors.map((f) => f.entity_type), ['plugin', 'plugin', 'plugin', 'plugin']);
  assert.equal(e.flattened_errors[2]!.errors[0]!.type, 'entity');
});

test('policyCheck option adds gateway-specific config errors', () => {
  const r = validateConfig({ _format_version: '3.0', plugins: [{ name: 'rate-limiting', config: { minute: 1, policy: 'cluster' } }] }, PLUGINS, {
    policyCheck: (name, config) => (name === 'rate-limiting' && config.policy === 'cluster'
      ? { policy: "expected one of: local, redis" } : null),
  });
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual(r.error.fields, { plugins: [{ config: { policy: 'expected one of: local, redis' } }] });
});

test('parseConfigText: JSON, YAML fallback and Kong\'s parse errors', () => {
  assert.deepEqual(parseConfigText('{"_format_version":"3.0"}'), { _format_version: '3.0' });
  assert.deepEqual(parseConfigText('_format_version: "3.0"\nservices: []\n'), { _format_version: '3.0', services: [] });
  assert.throws(() => parseConfigText('bobby tables'), (err: unknown) => err instanceof ConfigParseError
    && err.message === 'failed parsing declarative configuration: expected an object');
  assert.throws(() => parseConfigText('a: [1,', 'kong.yml'), /^ConfigParseError: failed parsing declarative configuration: /);
  const body = validateConfig('x', PLUGINS);
  assert.equal(body.ok, false);
  if (!body.ok) assert.equal(body.error.message, 'declarative config is invalid: {error="failed parsing declarative configuration: expected an object"}');
});

test('configHash and EMPTY_CONFIG_HASH', () => {
  assert.equal(configHash('abc'), '900150983cd24fb0d6963f7d28e17f72');
  assert.equal(configHash({ b: 1, a: [1, { d: 2, c: 3 }] }), configHash({ a: [1, { c: 3, d: 2 }], b: 1 }));
  assert.equal(EMPTY_CONFIG_HASH.length, 32);
  assert.match(EMPTY_CONFIG_HASH, /^0+$/);
});

test('export round-trips through the validator to the same config', () => {
  const c = ok(WALKTHROUGH + 'upstreams:\n- name: echo.internal\n  targets:\n  - target: 10.0.0.1\n');
  const exported = exportConfig(c);
  assert.equal(exported._format_version, '3.0');
  assert.equal((exported.routes as { service: string }[])[0]!.service, c.services[0]!.id);
  const again = okConfig(validateConfig(parseConfigText(exportConfigYaml(c)), PLUGINS, { now: 5 }));
  assert.deepEqual(again, c);
});

test('declarativeErrorBody matches Kong\'s wire bodies with and without flatten_errors', () => {
  const e = fail({ _format_version: '3.0', services: [{}] });
  assert.deepEqual(declarativeErrorBody(e, false), { code: 14, name: 'invalid declarative configuration', message: e.message, fields: { services: [{ host: 'required field missing' }] } });
  const flat = declarativeErrorBody(e, true);
  assert.equal(flat.message, 'declarative config is invalid: {}');
  assert.deepEqual(flat.fields, {});
  assert.equal((flat.flattened_errors as unknown[]).length, 1);
  assert.equal(renderLuaTable({ a: ['x', 'y'], 'b-c': { end: 'z' } }), '{a={"x","y"},["b-c"]={["end"]="z"}}');
});

test('service protocol conditionals', () => {
  const e = fail({ _format_version: '3.0', services: [{ host: 'h', protocol: 'tcp', path: '/x' }, { host: 'h', tls_verify: true }] });
  assert.deepEqual(e.fields, { services: [
    { '@entity': ["failed conditional validation given value of field 'protocol'"], path: 'value must be null' },
    { '@entity': ["failed conditional validation given value of field 'protocol'"], tls_verify: 'value must be null' },
  ] });
});
