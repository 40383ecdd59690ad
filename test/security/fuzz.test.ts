/**
 * Bounded-time fuzzing with fast-check (each property runs for a few seconds at most): the config
 * validator, the router's path normalizer (and what is built from its output), and the
 * Kubernetes translator. No input may throw or hang; a config the validator accepts must also
 * compile into a snapshot (a worker never validates, so a compile failure there is a bug); the
 * translator's output must itself be a valid config.
 * FUZZ_MS (per property, default 3000) and FUZZ_SEED reproduce or extend a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateConfig } from '../../src/config/validate.ts';
import { normalizePath, buildUpstreamPath } from '../../src/gateway/router/index.ts';
import { compileSnapshot } from '../../src/gateway/snapshot.ts';
import { loadPluginRegistry } from '../../src/plugins/registry.ts';
import { createLogger, pluginLogger } from '../../src/observability/logger.ts';
import { translate } from '../../src/controller/translator/index.ts';
import { ObjectStore, type K8sObject } from '../../src/controller/store/index.ts';

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 3_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { numRuns: 1_000_000, interruptAfterTimeLimit: FUZZ_MS, seed: SEED };
/** A single call over this is a hang for our purposes. */
const SLOW_MS = 1_000;

function timed<T>(what: string, input: unknown, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  const ms = performance.now() - t0;
  assert.ok(ms < SLOW_MS, `${what} took ${Math.round(ms)} ms on ${JSON.stringify(input)?.slice(0, 300)}`);
  return out;
}

const registry = await loadPluginRegistry([]);
const log = pluginLogger(createLogger('silent'));

// ----------------------------------------------------------------- config validator

const PLUGIN_NAMES = ['key-auth', 'acl', 'rate-limiting', 'cors', 'jwt', 'basic-auth', 'request-transformer', 'response-transformer', 'proxy-cache', 'ip-restriction', 'request-termination', 'correlation-id', 'hmac-auth', 'request-size-limiting', 'nope'];
const str = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '/', '/a', '~/x$', 'http://h:1/p', 'h', '127.0.0.1:80', 'a.b.c', '*.x.y', 'GET', 'http', 'https', 'grpc', 'round-robin', 'none', 'header', 'local', 'redis'));
const scalar = fc.oneof(str, fc.integer({ min: -5, max: 70_000 }), fc.double(), fc.boolean(), fc.constant(null));
const value = fc.oneof({ maxDepth: 3 }, scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(str, scalar, { maxKeys: 3 }));
const FIELDS = ['name', 'url', 'host', 'port', 'path', 'protocol', 'retries', 'connect_timeout', 'read_timeout', 'paths', 'hosts', 'methods', 'headers', 'snis', 'sources', 'protocols', 'strip_path', 'preserve_host', 'regex_priority', 'service', 'route', 'consumer', 'upstream', 'target', 'weight', 'algorithm', 'hash_on', 'slots', 'healthchecks', 'config', 'enabled', 'username', 'custom_id', 'key', 'ttl', 'password', 'group', 'secret', 'algorithm', 'tags', 'id', 'cert', 'key', 'enabled', 'client_id', 'redirect_uris'];
const entity = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 });
const plugin = fc.record({ name: fc.constantFrom(...PLUGIN_NAMES), config: fc.dictionary(str, value, { maxKeys: 4 }) }, { requiredKeys: ['name'] });
const withChildren = (children: Record<string, fc.Arbitrary<unknown>>) => fc.tuple(entity, fc.record(children, { requiredKeys: [] })).map(([e, c]) => ({ ...e, ...c }));
const configArb = fc.record({
  _format_version: fc.constantFrom('3.0', '2.1', '1.1', '4', 3),
  _transform: fc.boolean(),
  services: fc.array(withChildren({ routes: fc.array(withChildren({ plugins: fc.array(plugin, { maxLength: 2 }) }), { maxLength: 3 }), plugins: fc.array(plugin, { maxLength: 2 }) }), { maxLength: 3 }),
  routes: fc.array(entity, { maxLength: 2 }),
  upstreams: fc.array(withChildren({ targets: fc.array(entity, { maxLength: 3 }) }), { maxLength: 2 }),
  targets: fc.array(entity, { maxLength: 2 }),
  consumers: fc.array(withChildren({ keyauth_credentials: fc.array(entity, { maxLength: 2 }), acls: fc.array(entity, { maxLength: 2 }), basicauth_credentials: fc.array(entity, { maxLength: 1 }), jwt_secrets: fc.array(entity, { maxLength: 1 }), plugins: fc.array(plugin, { maxLength: 1 }) }), { maxLength: 3 }),
  plugins: fc.array(plugin, { maxLength: 3 }),
  certificates: fc.array(entity, { maxLength: 1 }),
  surprise: value,
}, { requiredKeys: ['_format_version'] });

/** Valid configs with one random field replaced: the inputs closest to what people really send. */
const validBase = {
  _format_version: '3.0',
  services: [{ name: 's', url: 'http://127.0.0.1:9/p', routes: [{ name: 'r', paths: ['/a', '~/b/(?<n>\\d+)$'], plugins: [{ name: 'key-auth' }] }] }],
  upstreams: [{ name: 'u.internal', targets: [{ target: '127.0.0.1:9' }], healthchecks: { passive: { unhealthy: { http_failures: 1 } } } }],
  consumers: [{ username: 'c', keyauth_credentials: [{ key: 'k' }], acls: [{ group: 'g' }] }],
  plugins: [{ name: 'rate-limiting', config: { minute: 5, policy: 'local' } }, { name: 'cors' }],
};
const mutated = fc.tuple(fc.array(fc.oneof(fc.constantFrom(...FIELDS, 'services', 'routes', 'plugins', 'config', 'targets', 'consumers', 'keyauth_credentials', 'minute', 'policy'), fc.nat({ max: 2 })), { minLength: 1, maxLength: 5 }), value)
  .map(([path, v]) => {
    const c = structuredClone(validBase) as Record<string, unknown>;
    let node: unknown = c;
    for (let i = 0; i < path.length - 1; i++) {
      const next = (node as Record<string | number, unknown>)[path[i]!];
      if (typeof next !== 'object' || next === null) break;
      node = next;
    }
    (node as Record<string | number, unknown>)[path[path.length - 1]!] = v;
    return c;
  });

function checkConfig(input: unknown): void {
  const r = timed('validateConfig', input, () => validateConfig(input, registry));
  if (!r.ok) {
    assert.equal(r.error.code, 14);
    assert.equal(typeof r.error.message, 'string');
    return;
  }
  // Accepted: it must compile (workers compile without validating).
  const snap = timed('compileSnapshot', input, () => compileSnapshot(r.config, { plugins: registry, log, hash: 'x', activeHealthchecks: false }));
  snap.dispose();
}

test('config validator: arbitrary JSON never throws or hangs', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => { checkConfig(v); }), params);
});


test('config validator: config-shaped garbage is refused with code 14 or compiles', () => {
  fc.assert(fc.property(configArb, (c) => { checkConfig(c); }), params);
});

test('config validator: a valid config with one field mutated is refused or compiles', () => {
  fc.assert(fc.property(mutated, (c) => { checkConfig(c); }), params);
});

// ----------------------------------------------------------------- path normalizer

const pathChars = fc.constantFrom('/', '.', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', '0', 'a', '\\', ';', '?', '#', ' ', '\u0000', '~', 'é', '\uD800', '+');
const pathArb = fc.oneof(
  fc.string({ unit: pathChars, maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.array(fc.constantFrom('/', '..', '.', '%2e', '%2E%2e', '%2f', '%2F', '%00', '%', '%z', '%%', 'admin', 'echo', '//', '%5c', '\\'), { maxLength: 20 }).map((a) => a.join('')),
);

test('normalizePath: never throws or hangs; output is rooted, idempotent, free of dot segments and //', () => {
  fc.assert(fc.property(pathArb, (s) => {
    const once = timed('normalizePath', s, () => normalizePath(s));
    assert.ok(once.startsWith('/'));
    assert.equal(normalizePath(once), once, 'idempotent');
    assert.ok(!once.includes('//'), once);
    const segments = once.split('/');
    assert.ok(!segments.includes('..') && !segments.includes('.'), once);
  }), params);
});

test('upstream path from a normalized path: never throws, never introduces dot segments', () => {
  const servicePath = fc.oneof(fc.constant(null), fc.constantFrom('/', '/base', '/base/', '/a/b'), pathArb.map((p) => normalizePath(p)));
  fc.assert(fc.property(pathArb, servicePath, fc.boolean(), fc.nat({ max: 8 }), (raw, sp, strip, cut) => {
    const path = normalizePath(raw);
    const matched = path.slice(0, Math.min(cut, path.length)) || '/';
    const built = timed('buildUpstreamPath', raw, () => buildUpstreamPath(sp, { matched, stripPath: strip }, path));
    assert.ok(built.path.startsWith('/'), built.path);
    const segments = built.path.split('/');
    assert.ok(!segments.includes('..') && !segments.includes('.'), `${JSON.stringify([sp, matched, strip, path])} -> ${built.path}`);
  }), params);
});

// ----------------------------------------------------------------- translator

const KINDS: [string, string][] = [
  ['v1', 'Service'], ['v1', 'Secret'], ['discovery.k8s.io/v1', 'EndpointSlice'], ['networking.k8s.io/v1', 'Ingress'],
  ['networking.k8s.io/v1', 'IngressClass'], ['gateway.networking.k8s.io/v1', 'GatewayClass'], ['gateway.networking.k8s.io/v1', 'Gateway'],
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'], ['gateway.networking.k8s.io/v1beta1', 'ReferenceGrant'],
  ['configuration.konghq.com/v1', 'KongPlugin'], ['configuration.konghq.com/v1', 'KongClusterPlugin'],
  ['configuration.konghq.com/v1', 'KongConsumer'], ['configuration.konghq.com/v1beta1', 'KongUpstreamPolicy'],
];
const ANNOTATIONS = ['konghq.com/plugins', 'konghq.com/protocols', 'konghq.com/strip-path', 'konghq.com/path', 'konghq.com/methods', 'konghq.com/hosts', 'konghq.com/headers.x', 'konghq.com/upstream-policy', 'konghq.com/protocol', 'konghq.com/read-timeout', 'konghq.com/retries', 'konghq.com/regex-priority', 'konghq.com/https-redirect-status-code', 'kubernetes.io/ingress.class', 'konghq.com/credential', 'konghq.com/rewrite'];
const k8sValue = fc.oneof(fc.constantFrom('', 'a', 'kong', 'a,b', 'x:y', 'true', 'false', '-1', '99999', '/p', '~/r[', 'http,https', 'GET,FOO', '*.x', 'key-auth', 'default/a'), fc.string({ maxLength: 10 }));
/** `apiValid`: only what the Kubernetes API server itself would accept for the typed fields. */
const ingressSpec = (apiValid: boolean) => fc.record({
  ingressClassName: fc.constantFrom('kong', 'other'),
  rules: fc.array(fc.record({
    host: fc.oneof(fc.constant(undefined), apiValid ? fc.constantFrom('a.example', 'b.example', '*.w.example') : k8sValue),
    http: fc.record({ paths: fc.array(fc.record({
      // API-valid here also means normalized: Kong (and so Turnpike) refuses `/%2e%2e` or `/%41` with
      // "non-normalized path"; the controller then drops that object through its tags, as KIC does.
      path: apiValid ? fc.constantFrom('/', '/a', '/x', '/y/', '/z/w', '/~/x$', '/~/v(?<n>\\d+)$') : fc.oneof(k8sValue, fc.constantFrom('/', '/a', '/~/x$', '/a/../b', '/%2e%2e')),
      pathType: apiValid ? fc.constantFrom('Prefix', 'Exact', 'ImplementationSpecific') : fc.constantFrom('Prefix', 'Exact', 'ImplementationSpecific', 'Bogus', undefined),
      backend: fc.record({ service: fc.record({ name: fc.constantFrom('a', 'b', 'missing'), port: apiValid
        ? fc.oneof(fc.record({ number: fc.integer({ min: 1, max: 65_535 }) }), fc.record({ name: fc.constantFrom('http', 'web') }))
        : fc.oneof(fc.record({ number: fc.integer({ min: -1, max: 70_000 }) }), fc.record({ name: k8sValue })) }) }),
    }), { maxLength: 3 }) }),
  }), { maxLength: 3 }),
}, { requiredKeys: [] });
/** Kinds whose API validity the generator models (CRDs have schemas of their own: left to the no-throw property). */
const CORE_KINDS = KINDS.filter(([, k]) => ['Service', 'EndpointSlice', 'Ingress', 'IngressClass'].includes(k));
const objectArb = (apiValid: boolean) => fc.record({
  kind: fc.constantFrom(...(apiValid ? CORE_KINDS : KINDS)),
  name: fc.constantFrom('a', 'b', 'kong', 'echo'),
  namespace: fc.constantFrom('default', 'kong'),
  labels: apiValid ? fc.constant({}) : fc.dictionary(fc.constantFrom('konghq.com/credential', 'app'), k8sValue, { maxKeys: 2 }),
  // Annotation values are passed through as KIC passes them (e.g. read-timeout "-1"); the gateway
  // refuses those and the controller drops the object by its tags, so only the no-throw property uses them.
  annotations: apiValid ? fc.constant({}) : fc.dictionary(fc.constantFrom(...ANNOTATIONS), k8sValue, { maxKeys: 4 }),
  spec: apiValid ? ingressSpec(true) : fc.oneof(ingressSpec(false), fc.anything({ maxDepth: 3 })),
  extra: fc.dictionary(fc.constantFrom('config', 'plugin', 'credentials', 'username', 'data', 'stringData', 'endpoints', 'ports', 'configFrom'), fc.anything({ maxDepth: 3 }), { maxKeys: 3 }),
});
type Item = { kind: [string, string]; name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; spec: unknown; extra: Record<string, unknown> };
const toObjects = (items: Item[]): K8sObject[] => items.map((i) => ({
  apiVersion: i.kind[0], kind: i.kind[1],
  metadata: { name: i.name, namespace: i.namespace, labels: i.labels, annotations: i.annotations },
  spec: i.spec, ...i.extra,
}) as K8sObject);

test('translator: no set of Kubernetes objects throws or hangs', () => {
  fc.assert(fc.property(fc.array(objectArb(false), { maxLength: 10 }), (items) => {
    const objects = toObjects(items);
    const result = timed('translate', objects, () => translate(new ObjectStore(objects)));
    assert.equal(result.config._format_version, '3.0');
  }), params);
});

test('translator: objects the API server would accept translate to a config the gateway accepts', () => {
  fc.assert(fc.property(fc.array(objectArb(true), { maxLength: 8 }), (items) => {
    const objects = toObjects(items);
    const result = timed('translate', objects, () => translate(new ObjectStore(objects)));
    const v = timed('validateConfig', result.config, () => validateConfig(JSON.parse(JSON.stringify(result.config)), registry));
    assert.ok(v.ok, `translated config refused: ${v.ok ? '' : v.error.message.slice(0, 400)}\ninput: ${JSON.stringify(objects).slice(0, 1500)}`);
  }), params);
});
