import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CRD_DEFINITIONS, PENDING_PROGRAMMED, checkKongClusterPlugin, checkKongConsumer, checkKongPlugin, checkKongUpstreamPolicy,
  crdFor, validateCrdObject, type CrdDefinition,
} from './index.ts';

const KP = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongPlugin', metadata: { name: 'p', namespace: 'default' } };
const KCP = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongClusterPlugin', metadata: { name: 'p' } };
const KC = { apiVersion: 'configuration.konghq.com/v1', kind: 'KongConsumer', metadata: { name: 'c', namespace: 'default' } };
const KUP = { apiVersion: 'configuration.konghq.com/v1beta1', kind: 'KongUpstreamPolicy', metadata: { name: 'u', namespace: 'default' } };

/** The messages of kic.md §1.11, verbatim. */
const M = {
  configAndFrom: 'Using both config and configFrom fields is not allowed.',
  fromAndPatches: 'Using both configFrom and configPatches fields is not allowed.',
  immutable: 'The plugin field is immutable',
  usernameOrId: 'Need to provide either username or custom_id',
  cprRequired: 'controlPlaneRef is required once set',
  cprNamespace: 'spec.controlPlaneRef cannot specify namespace for namespaced resource',
  cprImmutable: 'spec.controlPlaneRef is immutable when an entity is already Programmed',
  konnectId: "'konnectID' type is not supported",
  hashOnOne: 'Only one of spec.hashOn.(input|cookie|header|uriCapture|queryArg) can be set.',
  cookieNeedsPath: 'When spec.hashOn.cookie is set, spec.hashOn.cookiePath is required.',
  pathNeedsCookie: 'When spec.hashOn.cookiePath is set, spec.hashOn.cookie is required.',
  hashOnAlgorithm: "spec.algorithm must be set to either 'consistent-hashing' or 'sticky-sessions' when spec.hashOn is set.",
  fallbackOne: 'Only one of spec.hashOnFallback.(input|header|uriCapture|queryArg) can be set.',
  fallbackAlgorithm: 'spec.algorithm must be set to "consistent-hashing" when spec.hashOnFallback is set.',
  cookieNoFallback: 'spec.hashOnFallback must not be set when spec.hashOn.cookie is set.',
  passiveHealthy: 'spec.healthchecks.passive.healthy.interval must not be set.',
  passiveUnhealthy: 'spec.healthchecks.passive.unhealthy.interval must not be set.',
  stickyNone: "When spec.stickySessions is set, spec.hashOn.input must be set to 'none' (no other hash_on fields allowed).",
  stickyCookie: 'spec.stickySessions.cookie is required when spec.stickySessions is set.',
  stickyAlgorithm: "spec.algorithm must be set to 'sticky-sessions' when spec.stickySessions is set.",
};

test('KongPlugin and KongClusterPlugin CEL rules', () => {
  for (const check of [checkKongPlugin, checkKongClusterPlugin]) {
    assert.deepEqual(check({ ...KP, plugin: 'key-auth', config: { key_names: ['apikey'] } }), []);
    assert.deepEqual(check({ ...KP, plugin: 'x', config: {}, configFrom: { secretKeyRef: { name: 's', key: 'k' } } }), [M.configAndFrom]);
    assert.deepEqual(check({ ...KP, plugin: 'x', configFrom: {}, configPatches: [] }), [M.fromAndPatches]);
    // config + configPatches is the documented combination.
    assert.deepEqual(check({ ...KP, plugin: 'x', config: {}, configPatches: [] }), []);
    // A null field is absent, as the API server sees it.
    assert.deepEqual(check({ ...KP, plugin: 'x', config: {}, configFrom: null }), []);
  }
});

test('the plugin field is immutable, checked on updates only', () => {
  assert.deepEqual(checkKongPlugin({ ...KP, plugin: 'cors' }), []);
  assert.deepEqual(checkKongPlugin({ ...KP, plugin: 'cors' }, { ...KP, plugin: 'cors' }), []);
  assert.deepEqual(checkKongPlugin({ ...KP, plugin: 'acl' }, { ...KP, plugin: 'cors' }), [M.immutable]);
  assert.deepEqual(checkKongClusterPlugin({ ...KCP, plugin: 'acl' }, { ...KCP, plugin: 'cors' }), [M.immutable]);
});

test('KongConsumer needs a username or a custom_id', () => {
  assert.deepEqual(checkKongConsumer({ ...KC }), [M.usernameOrId]);
  assert.deepEqual(checkKongConsumer({ ...KC, username: 'alex' }), []);
  assert.deepEqual(checkKongConsumer({ ...KC, custom_id: '42' }), []);
});

test('KongConsumer controlPlaneRef rules', () => {
  const ref = (r: Record<string, unknown>) => ({ ...KC, username: 'a', spec: { controlPlaneRef: r } });
  assert.deepEqual(checkKongConsumer(ref({ type: 'kic' })), []);
  assert.deepEqual(checkKongConsumer(ref({ type: 'konnectID', konnectID: 'x' })), [M.konnectId]);
  assert.deepEqual(checkKongConsumer(ref({ type: 'konnectNamespacedRef' })), ['when type is konnectNamespacedRef, konnectNamespacedRef must be set']);
  assert.deepEqual(checkKongConsumer(ref({ type: 'konnectNamespacedRef', konnectNamespacedRef: { name: 'cp', namespace: 'x' } })), [M.cprNamespace]);
  assert.deepEqual(checkKongConsumer(ref({ type: 'kic', konnectID: 'x' })), ['when type is kic, konnectID must not be set']);
  assert.deepEqual(checkKongConsumer(ref({ konnectNamespacedRef: { name: 'cp' } })), ['when type is unset, konnectNamespacedRef must not be set']);
  // Transition rules.
  const withRef = ref({ type: 'konnectNamespacedRef', konnectNamespacedRef: { name: 'cp' } });
  assert.deepEqual(checkKongConsumer({ ...KC, username: 'a' }, withRef), [M.cprRequired]);
  const programmed = { ...ref({ type: 'konnectNamespacedRef', konnectNamespacedRef: { name: 'other' } }), status: { conditions: [{ type: 'Programmed', status: 'True' }] } };
  assert.deepEqual(checkKongConsumer(programmed, withRef), [M.cprImmutable]);
  assert.deepEqual(checkKongConsumer({ ...programmed, status: { conditions: [{ type: 'Programmed', status: 'False' }] } }, withRef), []);
  assert.deepEqual(checkKongConsumer({ ...KC, username: 'a', spec: { tags: ['ok', 'x'.repeat(129)] } }), ['tags entries must not be longer than 128 characters']);
});

test('KongUpstreamPolicy hashOn rules', () => {
  const kup = (spec: Record<string, unknown>) => ({ ...KUP, spec });
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'round-robin' })), []);
  assert.deepEqual(checkKongUpstreamPolicy(kup({})), []);
  assert.deepEqual(checkKongUpstreamPolicy({ ...KUP }), []);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'consistent-hashing', hashOn: { header: 'x-user' } })), []);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'consistent-hashing', hashOn: { header: 'x', input: 'ip' } })), [M.hashOnOne]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'consistent-hashing', hashOn: { cookie: 'c' } })), [M.cookieNeedsPath]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'consistent-hashing', hashOn: { cookiePath: '/' } })), [M.pathNeedsCookie]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ hashOn: { input: 'ip' } })), [M.hashOnAlgorithm]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'least-connections', hashOn: { input: 'ip' } })), [M.hashOnAlgorithm]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'consistent-hashing', hashOn: { input: 'ip' }, hashOnFallback: { header: 'a', queryArg: 'b' } })), [M.fallbackOne]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'sticky-sessions', hashOn: { input: 'none' }, hashOnFallback: { header: 'a' } })), [M.fallbackAlgorithm]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'consistent-hashing', hashOn: { cookie: 'c', cookiePath: '/' }, hashOnFallback: { header: 'a' } })), [M.cookieNoFallback]);
});

test('KongUpstreamPolicy health-check and sticky-session rules', () => {
  const kup = (spec: Record<string, unknown>) => ({ ...KUP, spec });
  assert.deepEqual(checkKongUpstreamPolicy(kup({ healthchecks: { active: { healthy: { interval: 5 }, unhealthy: { interval: 5 } } } })), []);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ healthchecks: { passive: { healthy: { interval: 5 }, unhealthy: { interval: 1 } } } })), [M.passiveHealthy, M.passiveUnhealthy]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'sticky-sessions', hashOn: { input: 'none' }, stickySessions: { cookie: 's' } })), []);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'sticky-sessions', stickySessions: { cookie: 's' } })), [M.stickyNone]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'sticky-sessions', hashOn: { header: 'x' }, stickySessions: { cookie: 's' } })), [M.stickyNone]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'consistent-hashing', hashOn: { input: 'none' }, stickySessions: { cookie: 's' } })), [M.stickyAlgorithm]);
  assert.deepEqual(checkKongUpstreamPolicy(kup({ algorithm: 'sticky-sessions', hashOn: { input: 'none' }, stickySessions: {} })), [M.stickyCookie]);
});

function rulesOf(def: CrdDefinition): { rule: string; message: string }[] {
  const out: { rule: string; message: string }[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'x-kubernetes-validations') out.push(...(v as { rule: string; message: string }[]));
      else walk(v);
    }
  };
  walk(def.schema);
  return out;
}

test('every CEL rule in a schema has its TypeScript twin and the reverse', () => {
  for (const def of CRD_DEFINITIONS) {
    const inSchema = rulesOf(def).map((r) => `${r.rule} => ${r.message}`).sort();
    const inCode = def.rules.flatMap((g) => g.rules.map((r) => `${r.rule} => ${r.message}`)).sort();
    assert.deepEqual(inSchema, inCode, def.kind);
  }
  const all = new Set(CRD_DEFINITIONS.flatMap((d) => rulesOf(d).map((r) => r.message)));
  for (const m of Object.values(M)) assert.ok(all.has(m), `missing message: ${m}`);
});

test('schema validation: a valid object of each kind passes', () => {
  const valid = [
    { ...KP, plugin: 'rate-limiting', config: { minute: 5, policy: 'local' }, protocols: ['http', 'https'], run_on: 'first', disabled: false, ordering: { before: { access: ['key-auth'] } }, status: { conditions: structuredClone(PENDING_PROGRAMMED) } },
    { ...KCP, plugin: 'proxy-cache', configFrom: { secretKeyRef: { namespace: 'kong', name: 's', key: 'k' } } },
    { ...KC, username: 'alex', credentials: ['alex-key-auth'], consumerGroups: ['gold'] },
    { ...KUP, spec: { algorithm: 'consistent-hashing', slots: 100, hashOn: { header: 'x-user' }, hashOnFallback: { input: 'ip' },
      healthchecks: { active: { type: 'http', httpPath: '/status', healthy: { interval: 5, successes: 3, httpStatuses: [200] }, headers: { 'x-probe': ['1'] } }, passive: { unhealthy: { httpFailures: 3 } }, threshold: 50 } },
    status: { ancestors: [{ ancestorRef: { group: 'core', kind: 'Service', namespace: 'default', name: 'echo' }, controllerName: 'konghq.com/kic-gateway-controller',
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' }] }] } },
  ];
  for (const o of valid) assert.deepEqual(validateCrdObject(o), [], o.kind);
});

test('schema validation reports structure problems and CEL problems together', () => {
  const problems = validateCrdObject({ ...KP, config: {}, configFrom: { secretKeyRef: { name: 's' } }, protocols: ['ftp'], run_on: 'third', disabled: 'yes' })!;
  const byPath = new Map(problems.map((p) => [p.path, p]));
  assert.equal(byPath.get('plugin')?.detail, 'plugin: Required value');
  assert.equal(byPath.get('configFrom.secretKeyRef.key')?.message, 'Required value');
  assert.equal(byPath.get('protocols[0]')?.message, 'Unsupported value: "ftp": supported values: "http", "https", "grpc", "grpcs", "tcp", "tls", "udp"');
  assert.match(byPath.get('run_on')!.message, /^Unsupported value: "third"/);
  assert.match(byPath.get('disabled')!.message, /must be of type boolean/);
  assert.equal(byPath.get('')?.detail, `<root>: Invalid value: "object": ${M.configAndFrom}`);

  // KongClusterPlugin secret references need a namespace.
  const kcp = validateCrdObject({ ...KCP, plugin: 'x', configPatches: [{ path: '/a', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] })!;
  assert.deepEqual(kcp.map((p) => p.path), ['configPatches[0].valueFrom.secretKeyRef.namespace']);

  const kup = validateCrdObject({ ...KUP, spec: { algorithm: 'random', slots: 5, healthchecks: { active: { httpPath: 'status', healthy: { httpStatuses: [99] } } } } })!;
  assert.deepEqual(kup.map((p) => p.path).sort(), ['spec.algorithm', 'spec.healthchecks.active.healthy.httpStatuses[0]', 'spec.healthchecks.active.httpPath', 'spec.slots']);

  // A transition rule needs the old object.
  assert.deepEqual(validateCrdObject({ ...KP, plugin: 'b' }, { ...KP, plugin: 'a' })!.map((p) => p.message), [M.immutable]);
  // Not one of ours.
  assert.equal(validateCrdObject({ apiVersion: 'v1', kind: 'Service' }), undefined);
  assert.equal(crdFor('configuration.konghq.com/v1beta1', 'KongPlugin'), undefined);
});
