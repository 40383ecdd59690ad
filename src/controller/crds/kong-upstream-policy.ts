/**
 * @module controller/crds/kong-upstream-policy
 * KongUpstreamPolicy (`kup`), configuration.konghq.com/v1beta1: load-balancing algorithm, hashing,
 * health checks and sticky sessions for the Kong Upstreams built from the Services annotated with
 * `konghq.com/upstream-policy: <name>`. Status is Gateway API's PolicyStatus (`ancestors`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum, StringMap, celValidations, has, obj, typeMetaProperties, type CelRule, type CrdDefinition } from './common.ts';

export const UPSTREAM_ALGORITHMS = ['round-robin', 'consistent-hashing', 'least-connections', 'latency', 'sticky-sessions'] as const;
export const HASH_INPUTS = ['ip', 'consumer', 'path', 'none'] as const;
export const HEALTHCHECK_TYPES = ['http', 'https', 'tcp', 'grpc', 'grpcs'] as const;

interface PolicyShape { spec?: unknown }

const spec = (self: PolicyShape) => obj(self, 'spec') ?? {};
const count = (o: Record<string, unknown> | undefined, fields: string[]) => fields.filter((f) => has(o, f)).length;

/** The rules of Kong's CRD (kubernetes-configuration v1.5), with their exact messages. */
export const UPSTREAM_POLICY_CEL_RULES: readonly CelRule<PolicyShape>[] = [
  {
    rule: 'has(self.spec.hashOn) ? [has(self.spec.hashOn.input), has(self.spec.hashOn.cookie), has(self.spec.hashOn.header), has(self.spec.hashOn.uriCapture), has(self.spec.hashOn.queryArg)].filter(fieldSet, fieldSet == true).size() <= 1 : true',
    message: 'Only one of spec.hashOn.(input|cookie|header|uriCapture|queryArg) can be set.',
    check: (self) => count(obj(spec(self), 'hashOn'), ['input', 'cookie', 'header', 'uriCapture', 'queryArg']) <= 1,
  },
  {
    rule: 'has(self.spec.hashOn) && has(self.spec.hashOn.cookie) ? has(self.spec.hashOn.cookiePath) : true',
    message: 'When spec.hashOn.cookie is set, spec.hashOn.cookiePath is required.',
    check: (self) => { const h = obj(spec(self), 'hashOn'); return !has(h, 'cookie') || has(h, 'cookiePath'); },
  },
  {
    rule: 'has(self.spec.hashOn) && has(self.spec.hashOn.cookiePath) ? has(self.spec.hashOn.cookie) : true',
    message: 'When spec.hashOn.cookiePath is set, spec.hashOn.cookie is required.',
    check: (self) => { const h = obj(spec(self), 'hashOn'); return !has(h, 'cookiePath') || has(h, 'cookie'); },
  },
  {
    rule: 'has(self.spec.hashOn) ? has(self.spec.algorithm) && (self.spec.algorithm == "consistent-hashing" || self.spec.algorithm == "sticky-sessions") : true',
    message: "spec.algorithm must be set to either 'consistent-hashing' or 'sticky-sessions' when spec.hashOn is set.",
    check: (self) => { const s = spec(self); return !has(s, 'hashOn') || s.algorithm === 'consistent-hashing' || s.algorithm === 'sticky-sessions'; },
  },
  {
    rule: 'has(self.spec.hashOnFallback) ? [has(self.spec.hashOnFallback.input), has(self.spec.hashOnFallback.header), has(self.spec.hashOnFallback.uriCapture), has(self.spec.hashOnFallback.queryArg)].filter(fieldSet, fieldSet == true).size() <= 1 : true',
    message: 'Only one of spec.hashOnFallback.(input|header|uriCapture|queryArg) can be set.',
    check: (self) => count(obj(spec(self), 'hashOnFallback'), ['input', 'header', 'uriCapture', 'queryArg']) <= 1,
  },
  {
    rule: 'has(self.spec.hashOnFallback) ? has(self.spec.algorithm) && self.spec.algorithm == "consistent-hashing" : true',
    message: 'spec.algorithm must be set to "consistent-hashing" when spec.hashOnFallback is set.',
    check: (self) => { const s = spec(self); return !has(s, 'hashOnFallback') || s.algorithm === 'consistent-hashing'; },
  },
  {
    rule: 'has(self.spec.hashOn) && has(self.spec.hashOn.cookie) ? !has(self.spec.hashOnFallback) : true',
    message: 'spec.hashOnFallback must not be set when spec.hashOn.cookie is set.',
    check: (self) => { const s = spec(self); return !has(obj(s, 'hashOn'), 'cookie') || !has(s, 'hashOnFallback'); },
  },
  {
    rule: 'has(self.spec.healthchecks) && has(self.spec.healthchecks.passive) && has(self.spec.healthchecks.passive.healthy) ? !has(self.spec.healthchecks.passive.healthy.interval) : true',
    message: 'spec.healthchecks.passive.healthy.interval must not be set.',
    check: (self) => !has(obj(obj(obj(spec(self), 'healthchecks'), 'passive'), 'healthy'), 'interval'),
  },
  {
    rule: 'has(self.spec.healthchecks) && has(self.spec.healthchecks.passive) && has(self.spec.healthchecks.passive.unhealthy) ? !has(self.spec.healthchecks.passive.unhealthy.interval) : true',
    message: 'spec.healthchecks.passive.unhealthy.interval must not be set.',
    check: (self) => !has(obj(obj(obj(spec(self), 'healthchecks'), 'passive'), 'unhealthy'), 'interval'),
  },
  {
    rule: "has(self.spec.stickySessions) ? (has(self.spec.hashOn) && has(self.spec.hashOn.input) && self.spec.hashOn.input == 'none' && !has(self.spec.hashOn.cookie) && !has(self.spec.hashOn.cookiePath) && !has(self.spec.hashOn.header) && !has(self.spec.hashOn.uriCapture) && !has(self.spec.hashOn.queryArg)) : true",
    message: "When spec.stickySessions is set, spec.hashOn.input must be set to 'none' (no other hash_on fields allowed).",
    check: (self) => {
      const s = spec(self);
      if (!has(s, 'stickySessions')) return true;
      const h = obj(s, 'hashOn');
      return h !== undefined && h.input === 'none' && count(h, ['cookie', 'cookiePath', 'header', 'uriCapture', 'queryArg']) === 0;
    },
  },
  {
    rule: 'has(self.spec.stickySessions) ? has(self.spec.stickySessions.cookie) : true',
    message: 'spec.stickySessions.cookie is required when spec.stickySessions is set.',
    check: (self) => { const s = spec(self); return !has(s, 'stickySessions') || has(obj(s, 'stickySessions'), 'cookie'); },
  },
  {
    rule: 'has(self.spec.stickySessions) ? (has(self.spec.algorithm) && self.spec.algorithm == "sticky-sessions") : true',
    message: "spec.algorithm must be set to 'sticky-sessions' when spec.stickySessions is set.",
    check: (self) => { const s = spec(self); return !has(s, 'stickySessions') || s.algorithm === 'sticky-sessions'; },
  },
];

function hash(what: string) {
  return Type.Object({
    input: Type.Optional(StringEnum(HASH_INPUTS, { description: 'A predefined input: ip, consumer, path or none.' })),
    header: Type.Optional(Type.String({ description: 'Name of the header whose value is hashed.' })),
    cookie: Type.Optional(Type.String({ description: 'Name of the cookie whose value is hashed (set by Kong when absent).' })),
    cookiePath: Type.Optional(Type.String({ description: 'Path of the cookie Kong sets.' })),
    queryArg: Type.Optional(Type.String({ description: 'Name of the query argument whose value is hashed.' })),
    uriCapture: Type.Optional(Type.String({ description: 'Name of the URI capture group whose value is hashed.' })),
  }, { description: `${what} Only one of the fields may be set.` });
}

const HttpStatus = Type.Integer({ description: 'An HTTP status code.', minimum: 100, maximum: 599 });
const Count = (description: string) => Type.Optional(Type.Integer({ description, minimum: 0 }));

const Healthy = Type.Object({
  httpStatuses: Type.Optional(Type.Array(HttpStatus, { description: 'Status codes counted as successes.' })),
  interval: Count('Seconds between active checks of a healthy target (active checks only).'),
  successes: Count('Successes after which a target is healthy.'),
}, { description: 'When a target counts as healthy.' });

const Unhealthy = Type.Object({
  httpFailures: Count('HTTP failures after which a target is unhealthy.'),
  httpStatuses: Type.Optional(Type.Array(HttpStatus, { description: 'Status codes counted as failures.' })),
  tcpFailures: Count('TCP failures in a row after which a target is unhealthy.'),
  timeouts: Count('Timeouts in a row after which a target is unhealthy.'),
  interval: Count('Seconds between active checks of an unhealthy target (active checks only).'),
}, { description: 'When a target counts as unhealthy.' });

export const KongUpstreamPolicySpecSchema = Type.Object({
  algorithm: Type.Optional(StringEnum(UPSTREAM_ALGORITHMS, { description: 'Load-balancing algorithm (sticky-sessions needs Kong Enterprise).' })),
  slots: Type.Optional(Type.Integer({ description: 'Slots of the balancer; Kong\'s default when unset.', minimum: 10, maximum: 65536 })),
  hashOn: Type.Optional(hash('The hash input of consistent-hashing.')),
  hashOnFallback: Type.Optional(hash('The hash input used when the primary one gives no value.')),
  healthchecks: Type.Optional(Type.Object({
    active: Type.Optional(Type.Object({
      type: Type.Optional(StringEnum(HEALTHCHECK_TYPES, { description: 'Probe with HTTP(S)/gRPC(S) requests or a TCP connect.' })),
      concurrency: Type.Optional(Type.Integer({ description: 'Targets probed at once.', minimum: 1 })),
      healthy: Type.Optional(Healthy),
      unhealthy: Type.Optional(Unhealthy),
      httpPath: Type.Optional(Type.String({ description: 'Path of the probe request.', pattern: '^/.*$' })),
      httpsSni: Type.Optional(Type.String({ description: 'SNI of HTTPS probes.' })),
      httpsVerifyCertificate: Type.Optional(Type.Boolean({ description: 'Verify the target certificate of HTTPS probes.' })),
      timeout: Type.Optional(Type.Integer({ description: 'Probe timeout in seconds.', minimum: 0 })),
      headers: Type.Optional(StringMap(Type.Array(Type.String()), { description: 'Headers added to probe requests.' })),
    }, { description: 'Active health checks (probes).' })),
    passive: Type.Optional(Type.Object({
      type: Type.Optional(StringEnum(HEALTHCHECK_TYPES, { description: 'Judge proxied traffic by HTTP status or TCP success.' })),
      healthy: Type.Optional(Healthy),
      unhealthy: Type.Optional(Unhealthy),
    }, { description: 'Passive health checks (circuit breaker on proxied traffic).' })),
    threshold: Type.Optional(Type.Integer({ description: 'Minimum percentage of target weight that must be healthy for the upstream to be healthy.' })),
  }, { description: 'Health checks of the upstream targets.' })),
  stickySessions: Type.Optional(Type.Object({
    cookie: Type.String({ description: 'Name of the sticky-session cookie (set by Kong when absent).', minLength: 1 }),
    cookiePath: Type.Optional(Type.String({ description: 'Path of the sticky-session cookie.', default: '/' })),
  }, { description: 'Cookie-based sticky sessions (algorithm sticky-sessions, hashOn.input none).' })),
}, { description: 'The Kong Upstream settings applied to every Upstream built from the annotated Services.' });

const LOWER_DNS = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const PolicyCondition = Type.Object({
  type: Type.String({ maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$', description: 'Accepted or Programmed.' }),
  status: StringEnum(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown.' }),
  observedGeneration: Type.Optional(Type.Integer({ format: 'int64', minimum: 0, description: 'The generation the condition was computed from.' })),
  lastTransitionTime: Type.String({ format: 'date-time', description: 'When the condition last changed status.' }),
  reason: Type.String({ maxLength: 1024, minLength: 1, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$', description: 'CamelCase reason.' }),
  message: Type.String({ maxLength: 32768, description: 'Human readable details.' }),
}, { description: 'A condition (metav1.Condition).' });

export const KongUpstreamPolicyStatusSchema = Type.Object({
  ancestors: Type.Array(Type.Object({
    ancestorRef: Type.Object({
      group: Type.Optional(Type.String({ default: 'gateway.networking.k8s.io', maxLength: 253, pattern: `^$|${LOWER_DNS}`, description: 'API group of the ancestor.' })),
      kind: Type.Optional(Type.String({ default: 'Gateway', maxLength: 63, minLength: 1, pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$', description: 'Kind of the ancestor.' })),
      namespace: Type.Optional(Type.String({ maxLength: 63, minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'Namespace of the ancestor.' })),
      name: Type.String({ maxLength: 253, minLength: 1, description: 'Name of the ancestor.' }),
      sectionName: Type.Optional(Type.String({ maxLength: 253, minLength: 1, pattern: LOWER_DNS, description: 'Section (listener, port) of the ancestor.' })),
      port: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 65535, description: 'Port of the ancestor.' })),
    }, { description: 'The ancestor this entry is about (a Service for KongUpstreamPolicy).' }),
    controllerName: Type.String({
      maxLength: 253, minLength: 1,
      pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$",
      description: 'The controller that wrote this entry.',
    }),
    conditions: Type.Optional(Type.Array(PolicyCondition, {
      description: 'Accepted (True/Accepted, False/Conflicted) and Programmed (True/Programmed, False/Pending).',
      maxItems: 8, minItems: 1, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'],
    })),
  }, { description: 'The status of the policy for one ancestor.' }), { description: 'Per ancestor, whether the policy applies.', maxItems: 16 }),
}, { description: 'Gateway API PolicyStatus.' });

export const KongUpstreamPolicySchema = Type.Object({
  ...typeMetaProperties(),
  spec: Type.Optional(KongUpstreamPolicySpecSchema),
  status: Type.Optional(KongUpstreamPolicyStatusSchema),
}, {
  description: 'KongUpstreamPolicy configures load balancing and health checks of the Kong Upstreams of the Services annotated konghq.com/upstream-policy: <name>.',
  'x-kubernetes-validations': celValidations(UPSTREAM_POLICY_CEL_RULES),
});

export type KongUpstreamPolicy = Static<typeof KongUpstreamPolicySchema>;
export type KongUpstreamPolicySpec = Static<typeof KongUpstreamPolicySpecSchema>;

export const KongUpstreamPolicyCrd: CrdDefinition = {
  kind: 'KongUpstreamPolicy', plural: 'kongupstreampolicies', singular: 'kongupstreampolicy', listKind: 'KongUpstreamPolicyList',
  shortNames: ['kup'], categories: ['kong-ingress-controller', 'kong'], scope: 'Namespaced', version: 'v1beta1',
  labels: { 'gateway.networking.k8s.io/policy': 'direct' },
  printerColumns: [],
  schema: KongUpstreamPolicySchema,
  rules: [{ path: '', rules: UPSTREAM_POLICY_CEL_RULES }],
};
