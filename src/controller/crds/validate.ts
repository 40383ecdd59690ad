/**
 * @module controller/crds/validate
 * Validates a KongPlugin, KongClusterPlugin, KongConsumer or KongUpstreamPolicy the way the API
 * server would with Turnpike's CRDs installed: the OpenAPI schema (ajv; the `x-kubernetes-*`
 * keywords are known annotations, defaults are not applied) and then the CEL rules (see cel.ts).
 * Each problem carries a field path and a line in the API server's field-error wording.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { CrdDefinition } from './common.ts';
import { celViolations } from './cel.ts';
import { plainSchema } from './crd.ts';
import { crdFor } from './registry.ts';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** An ajv instance that knows the Kubernetes structural-schema vocabulary. */
export function createCrdAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true, useDefaults: false });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addVocabulary(['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys']);
  return ajv;
}

const ajv = createCrdAjv();
const compiled = new Map<CrdDefinition, ValidateFunction>();

/** The compiled schema validator of a kind (CEL not included). */
export function schemaValidator(def: CrdDefinition): ValidateFunction {
  let fn = compiled.get(def);
  if (!fn) { fn = ajv.compile(plainSchema(def.schema)); compiled.set(def, fn); }
  return fn;
}

export interface CrdProblem {
  /** Dotted field path (`configFrom.secretKeyRef.key`, `protocols[0]`); empty for the object itself. */
  path: string;
  /** The rule's message (CEL) or the schema complaint. */
  message: string;
  /** The API server's wording: `<path>: Invalid value: "object": <message>`. */
  detail: string;
}

function fieldPath(instancePath: string): string {
  return instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function schemaProblem(e: ErrorObject): CrdProblem {
  let path = fieldPath(e.instancePath);
  const shown = path || '<root>';
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    path = path ? `${path}.${missing}` : missing;
    return { path, message: 'Required value', detail: `${path}: Required value` };
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    const message = `Unsupported value: ${JSON.stringify(e.data)}: supported values: ${allowed}`;
    return { path, message, detail: `${shown}: ${message}` };
  }
  if (e.keyword === 'type') {
    const message = `Invalid value: "${typeName(e.data)}": ${shown} in body must be of type ${(e.params as { type: string }).type}: ${JSON.stringify(typeName(e.data))}`;
    return { path, message, detail: `${shown}: ${message}` };
  }
  const message = `Invalid value: ${JSON.stringify(e.data)}: ${shown} in body ${e.message ?? 'is invalid'}`;
  return { path, message, detail: `${shown}: ${message}` };
}

/** Problems of `object` against `def` (schema, then CEL); `oldObject` enables the update-only rules. */
export function validateWith(def: CrdDefinition, object: unknown, oldObject?: unknown): CrdProblem[] {
  const fn = schemaValidator(def);
  const problems: CrdProblem[] = [];
  if (!fn(object)) for (const e of fn.errors ?? []) problems.push(schemaProblem(e));
  if (typeof object === 'object' && object !== null) {
    for (const v of celViolations(def, object, oldObject)) {
      problems.push({ path: v.path, message: v.message, detail: `${v.path || '<root>'}: Invalid value: "object": ${v.message}` });
    }
  }
  return problems;
}

/**
 * Problems of a configuration.konghq.com object found by its apiVersion and kind; undefined when
 * the kind is not one of the CRDs Turnpike ships (nothing to check).
 */
export function validateCrdObject(object: { apiVersion?: unknown; kind?: unknown; [field: string]: unknown }, oldObject?: unknown): CrdProblem[] | undefined {
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') return undefined;
  const def = crdFor(object.apiVersion, object.kind);
  return def ? validateWith(def, object, oldObject) : undefined;
}
