/**
 * @module controller/crds/kong-consumer
 * KongConsumer (`kc`), configuration.konghq.com/v1: a Kong consumer with credentials from Secrets
 * in its namespace. `username`, `custom_id`, `credentials` and `consumerGroups` sit at the top level;
 * `spec` only carries the Kong Operator's `controlPlaneRef` and `tags` (accepted, not used here).
 */
import { isDeepStrictEqual } from 'node:util';
import { Type, type Static } from '@sinclair/typebox';
import {
  AGE_COLUMN, Conditions, PENDING_PROGRAMMED, PROGRAMMED_COLUMN, StringEnum,
  celValidations, has, obj, typeMetaProperties, type CelRule, type CrdDefinition,
} from './common.ts';

interface ConsumerShape { username?: unknown; custom_id?: unknown; spec?: unknown; status?: unknown }
type Ref = Record<string, unknown>;

const refOf = (o: unknown) => obj(obj(o, 'spec'), 'controlPlaneRef');
const programmed = (o: unknown) => {
  const conditions = obj(o, 'status')?.conditions;
  return Array.isArray(conditions) && conditions.some((c: { type?: unknown; status?: unknown }) => c?.type === 'Programmed' && c?.status === 'True');
};

/** Root rules, exact messages from Kong's CRD. */
export const CONSUMER_CEL_RULES: readonly CelRule<ConsumerShape>[] = [
  {
    rule: 'has(self.username) || has(self.custom_id)',
    message: 'Need to provide either username or custom_id',
    check: (self) => has(self, 'username') || has(self, 'custom_id'),
  },
  {
    rule: '(!has(oldSelf.spec) || !has(oldSelf.spec.controlPlaneRef)) || has(self.spec.controlPlaneRef)',
    message: 'controlPlaneRef is required once set',
    transition: true,
    check: (self, oldSelf) => refOf(oldSelf) === undefined || refOf(self) !== undefined,
  },
  {
    rule: '(!has(self.spec) || !has(self.spec.controlPlaneRef) || !has(self.spec.controlPlaneRef.konnectNamespacedRef)) ? true : !has(self.spec.controlPlaneRef.konnectNamespacedRef.__namespace__)',
    message: 'spec.controlPlaneRef cannot specify namespace for namespaced resource',
    check: (self) => !has(obj(refOf(self), 'konnectNamespacedRef'), 'namespace'),
  },
  {
    rule: "(!has(self.spec) || !has(self.spec.controlPlaneRef)) ? true : (!has(self.status) || !self.status.conditions.exists(c, c.type == 'Programmed' && c.status == 'True')) ? true : oldSelf.spec.controlPlaneRef == self.spec.controlPlaneRef",
    message: 'spec.controlPlaneRef is immutable when an entity is already Programmed',
    transition: true,
    check: (self, oldSelf) => refOf(self) === undefined || !programmed(self) || isDeepStrictEqual(refOf(oldSelf), refOf(self)),
  },
];

const typeIs = (self: Ref, t: string) => has(self, 'type') && self.type === t;

/** Rules on `spec.controlPlaneRef`. */
export const CONTROL_PLANE_REF_CEL_RULES: readonly CelRule<Ref>[] = [
  { rule: "self.type != 'konnectID'", message: "'konnectID' type is not supported", check: (s) => s.type !== 'konnectID' },
  {
    rule: "(has(self.type) && self.type == 'konnectNamespacedRef') ? has(self.konnectNamespacedRef) : true",
    message: 'when type is konnectNamespacedRef, konnectNamespacedRef must be set',
    check: (s) => !typeIs(s, 'konnectNamespacedRef') || has(s, 'konnectNamespacedRef'),
  },
  {
    rule: "(has(self.type) && self.type == 'konnectNamespacedRef') ? !has(self.konnectID) : true",
    message: 'when type is konnectNamespacedRef, konnectID must not be set',
    check: (s) => !typeIs(s, 'konnectNamespacedRef') || !has(s, 'konnectID'),
  },
  {
    rule: "(has(self.type) && self.type == 'konnectID') ? has(self.konnectID) : true",
    message: 'when type is konnectID, konnectID must be set',
    check: (s) => !typeIs(s, 'konnectID') || has(s, 'konnectID'),
  },
  {
    rule: "(has(self.type) && self.type == 'konnectID') ? !has(self.konnectNamespacedRef) : true",
    message: 'when type is konnectID, konnectNamespacedRef must not be set',
    check: (s) => !typeIs(s, 'konnectID') || !has(s, 'konnectNamespacedRef'),
  },
  {
    rule: "(has(self.type) && self.type == 'kic') ? !has(self.konnectID) : true",
    message: 'when type is kic, konnectID must not be set',
    check: (s) => !typeIs(s, 'kic') || !has(s, 'konnectID'),
  },
  {
    rule: "(has(self.type) && self.type == 'kic') ? !has(self.konnectNamespacedRef) : true",
    message: 'when type is kic, konnectNamespacedRef must not be set',
    check: (s) => !typeIs(s, 'kic') || !has(s, 'konnectNamespacedRef'),
  },
  {
    rule: '!has(self.type) ? !has(self.konnectID) : true',
    message: 'when type is unset, konnectID must not be set',
    check: (s) => has(s, 'type') || !has(s, 'konnectID'),
  },
  {
    rule: '!has(self.type) ? !has(self.konnectNamespacedRef) : true',
    message: 'when type is unset, konnectNamespacedRef must not be set',
    check: (s) => has(s, 'type') || !has(s, 'konnectNamespacedRef'),
  },
];

/** Rule on `spec.tags`. */
export const TAGS_CEL_RULES: readonly CelRule<unknown>[] = [
  {
    rule: 'self.all(tag, size(tag) >= 1 && size(tag) <= 128)',
    message: 'tags entries must not be longer than 128 characters',
    check: (s) => !Array.isArray(s) || s.every((t) => typeof t === 'string' && [...t].length >= 1 && [...t].length <= 128),
  },
];

export const KongConsumerSchema = Type.Object({
  ...typeMetaProperties(),
  username: Type.Optional(Type.String({ description: 'Username of the Kong consumer (unique).' })),
  custom_id: Type.Optional(Type.String({ description: 'Custom id of the Kong consumer (unique).' })),
  credentials: Type.Optional(Type.Array(Type.String(), {
    description: 'Names of Secrets in the same namespace, labelled konghq.com/credential, holding the consumer\'s credentials.',
    'x-kubernetes-list-type': 'set',
  })),
  consumerGroups: Type.Optional(Type.Array(Type.String(), {
    description: 'Names of KongConsumerGroups in the same namespace (Kong Enterprise; accepted, not used).',
    'x-kubernetes-list-type': 'set',
  })),
  spec: Type.Optional(Type.Object({
    controlPlaneRef: Type.Optional(Type.Object({
      type: Type.Optional(StringEnum(['konnectID', 'konnectNamespacedRef', 'kic'] as const, { description: 'Kind of control plane.', default: 'kic' })),
      konnectID: Type.Optional(Type.String({ description: 'Konnect control plane id.', pattern: '^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$' })),
      konnectNamespacedRef: Type.Optional(Type.Object({
        name: Type.String({ description: 'Name of the KonnectGatewayControlPlane.' }),
        namespace: Type.Optional(Type.String({ description: 'Namespace (not allowed for a namespaced referrer).' })),
      }, { description: 'A KonnectGatewayControlPlane reference.' })),
    }, {
      description: 'The control plane this consumer belongs to (Kong Operator; accepted, not used).',
      'x-kubernetes-validations': celValidations(CONTROL_PLANE_REF_CEL_RULES),
    })),
    tags: Type.Optional(Type.Array(Type.String(), {
      description: 'Tags of the consumer (Kong Operator; accepted, not used).',
      maxItems: 20,
      'x-kubernetes-validations': celValidations(TAGS_CEL_RULES),
    })),
  }, { description: 'Kong Operator fields.' })),
  status: Type.Optional(Type.Object({
    conditions: Type.Optional(Conditions('Conditions of the KongConsumer: Programmed is True once the consumer reached the gateways.', false)),
  }, { description: 'Status of the KongConsumer.', default: { conditions: structuredClone(PENDING_PROGRAMMED) } })),
}, {
  description: 'KongConsumer is a Kong consumer: an identity that credentials authenticate and that plugins can be scoped to.',
  'x-kubernetes-validations': celValidations(CONSUMER_CEL_RULES),
});

export type KongConsumer = Static<typeof KongConsumerSchema>;

export const KongConsumerCrd: CrdDefinition = {
  kind: 'KongConsumer', plural: 'kongconsumers', singular: 'kongconsumer', listKind: 'KongConsumerList',
  shortNames: ['kc'], categories: ['kong-ingress-controller', 'kong'], scope: 'Namespaced', version: 'v1',
  printerColumns: [
    { name: 'Username', type: 'string', jsonPath: '.username', description: 'Username of the consumer' },
    AGE_COLUMN,
    PROGRAMMED_COLUMN,
  ],
  schema: KongConsumerSchema,
  rules: [
    { path: '', rules: CONSUMER_CEL_RULES },
    { path: 'spec.controlPlaneRef', rules: CONTROL_PLANE_REF_CEL_RULES },
    { path: 'spec.tags', rules: TAGS_CEL_RULES },
  ],
};
