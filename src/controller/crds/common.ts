/**
 * @module controller/crds/common
 * Building blocks shared by the `configuration.konghq.com` CRD schemas: the CRD descriptor type,
 * string enums that stay structural (a plain `enum`, never `anyOf`), metav1.Condition, secret
 * references, and the CEL rule type. A CEL rule is declared once, with its rule text, its exact
 * message and a TypeScript predicate doing the same check: the rule text goes into the CRD's
 * `x-kubernetes-validations` (the API server evaluates it), the predicate runs wherever objects do
 * not pass through an API server (manifest files, `turnpike translate`, tests).
 */
import { Type, type Static, type TSchema, type TUnsafe, type SchemaOptions } from '@sinclair/typebox';

export const GROUP = 'configuration.konghq.com';

/** A string enum as a plain JSON Schema `enum` (structural, and what controller-gen emits). */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A free JSON object kept as written (`x-kubernetes-preserve-unknown-fields`). */
export function FreeObject(options: SchemaOptions = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({ ...options, type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
}

/** A map from string keys to `value` (`additionalProperties`, structural; TypeBox's Record uses patternProperties). */
export function StringMap<T extends TSchema>(value: T, options: SchemaOptions = {}): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe<Record<string, Static<T>>>({ ...options, type: 'object', additionalProperties: value });
}

/** metav1.Condition, with the API machinery's own constraints. */
export const Condition = Type.Object({
  type: Type.String({
    description: 'Type of the condition, in CamelCase or foo.example.com/CamelCase.',
    maxLength: 316,
    pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
  }),
  status: StringEnum(['True', 'False', 'Unknown'] as const, { description: 'Status of the condition: True, False or Unknown.' }),
  observedGeneration: Type.Optional(Type.Integer({ description: 'The metadata.generation the condition was computed from.', format: 'int64', minimum: 0 })),
  lastTransitionTime: Type.String({ description: 'When the condition last changed status.', format: 'date-time' }),
  reason: Type.String({
    description: 'A CamelCase identifier of why the condition is in its state.',
    maxLength: 1024, minLength: 1, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
  }),
  message: Type.String({ description: 'A human readable explanation; may be empty.', maxLength: 32768 }),
}, { description: 'A condition of the object (metav1.Condition).' });

/** The condition a new object carries until a controller writes one (KIC's CRD default). */
export const PENDING_PROGRAMMED = Object.freeze([Object.freeze({
  lastTransitionTime: '1970-01-01T00:00:00Z',
  message: 'Waiting for controller',
  reason: 'Pending',
  status: 'Unknown',
  type: 'Programmed',
})]);

/** `conditions`: a list keyed by `type`, at most 8. `withDefault` puts the Pending default on the list itself. */
export function Conditions(description: string, withDefault: boolean) {
  return Type.Array(Condition, {
    description,
    maxItems: 8,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    ...(withDefault ? { default: structuredClone(PENDING_PROGRAMMED) as unknown[] } : {}),
  });
}

/** A key of a Secret in the referring object's namespace. */
export const SecretKeyRef = Type.Object({
  name: Type.String({ description: 'Name of the Secret.' }),
  key: Type.String({ description: 'Key in the Secret whose value is used.' }),
}, { description: 'A key of a Secret in the namespace of the referring object.' });

/** A key of a Secret in a named namespace (cluster-scoped referrers). */
export const NamespacedSecretKeyRef = Type.Object({
  namespace: Type.String({ description: 'Namespace of the Secret.' }),
  name: Type.String({ description: 'Name of the Secret.' }),
  key: Type.String({ description: 'Key in the Secret whose value is used.' }),
}, { description: 'A key of a Secret in a given namespace.' });

/** The fields every CRD schema starts with. */
export function typeMetaProperties() {
  return {
    apiVersion: Type.Optional(Type.String({ description: 'The versioned schema of this representation of an object.' })),
    kind: Type.Optional(Type.String({ description: 'The REST resource this object represents, in CamelCase.' })),
    metadata: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', description: 'Standard object metadata.' })),
  };
}

/** One violation of a CEL rule, reported as the API server would: the rule's exact message at a path. */
export interface CelViolation {
  /** JSON path of the node the rule sits on (`` for the root, `spec.controlPlaneRef`, …). */
  path: string;
  message: string;
  rule: string;
}

/**
 * A CEL rule of a CRD schema node. `check` is its TypeScript equivalent and returns true when the
 * value passes. Transition rules (those reading `oldSelf`) are only evaluated on updates, as the
 * API server does: `check` is not called without an old value.
 */
export interface CelRule<T = Record<string, unknown>> {
  rule: string;
  message: string;
  transition?: boolean;
  check(self: T, oldSelf: T | undefined): boolean;
}

/** The `x-kubernetes-validations` entries of a rule list. */
export function celValidations(rules: readonly CelRule<never>[]): { rule: string; message: string }[] {
  return rules.map((r) => ({ message: r.message, rule: r.rule }));
}

/** CEL's `has(x.f)` on decoded JSON: the field is present (the API server drops nulls). */
export function has(obj: unknown, field: string): boolean {
  return typeof obj === 'object' && obj !== null && !Array.isArray(obj) && (obj as Record<string, unknown>)[field] !== undefined
    && (obj as Record<string, unknown>)[field] !== null;
}

/** A nested object field, or undefined when absent or not an object. */
export function obj(o: unknown, field: string): Record<string, unknown> | undefined {
  if (!has(o, field)) return undefined;
  const v = (o as Record<string, unknown>)[field];
  return typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

/** A printer column of `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything needed to render one CustomResourceDefinition and to validate objects of its kind. */
export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
  scope: 'Namespaced' | 'Cluster';
  version: string;
  /** Extra labels on the CRD object (KongUpstreamPolicy: `gateway.networking.k8s.io/policy: direct`). */
  labels?: Record<string, string>;
  printerColumns: PrinterColumn[];
  schema: TSchema;
  /** Every CEL rule of the schema, by the path of the node it sits on (`` = root). */
  rules: { path: string; rules: readonly CelRule<never>[] }[];
}

export const PROGRAMMED_COLUMN: PrinterColumn = {
  name: 'Programmed', type: 'string', jsonPath: '.status.conditions[?(@.type=="Programmed")].status',
  description: 'Whether the object was configured on the gateways',
};
export const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age' };
