/**
 * @module config/schema/compiler
 * ajv instances for the declarative format and for plugin configs, compiled once per schema and
 * cached, and the mapping from ajv's errors to Kong's field messages (`expected a string`,
 * `value should be between 0 and 65535`, `unknown field`, …) placed in a Kong error tree.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { FIELD_CHECKS, type FieldCheckName } from './checks.ts';
import { setFieldError, type ErrorTree, type PathSegment } from '../errors.ts';

// ajv-formats ships CJS with a default export property.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as
  (ajv: Ajv) => Ajv;

const UUID_FORMAT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

interface KongCheckValidate {
  (schema: FieldCheckName, data: string): boolean;
  errors?: Partial<ErrorObject>[];
}

function makeAjv(useDefaults: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, useDefaults, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addFormat('uuid', UUID_FORMAT);
  const validate: KongCheckValidate = function kongCheck(name, data) {
    const message = FIELD_CHECKS[name]?.(data) ?? null;
    if (message === null) return true;
    validate.errors = [{ keyword: 'kongCheck', message, params: {} }];
    return false;
  };
  ajv.addKeyword({ keyword: 'kongCheck', type: 'string', schemaType: 'string', errors: true, validate });
  return ajv;
}

const recordAjv = makeAjv(false);
const pluginAjv = makeAjv(true);
const recordCache = new WeakMap<TSchema, ValidateFunction>();
const pluginCache = new WeakMap<TSchema, ValidateFunction>();

/** Compiled validator for a declarative record schema (no defaults applied). */
export function recordValidator(schema: TSchema): ValidateFunction {
  let fn = recordCache.get(schema);
  if (fn === undefined) {
    fn = recordAjv.compile(schema);
    recordCache.set(schema, fn);
  }
  return fn;
}

/**
 * A plugin schema as Kong reads it: objects refuse unknown fields unless they say otherwise.
 * TypeBox's `Type.Object` leaves `additionalProperties` open, so we close it on a copy.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = closeObjects(v);
  if (out.type === 'object' && out.properties !== undefined && out.additionalProperties === undefined
    && out.patternProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** Compiled validator for a plugin config schema; it fills defaults into the data it checks. */
export function pluginConfigValidator(schema: TSchema): ValidateFunction {
  let fn = pluginCache.get(schema);
  if (fn === undefined) {
    fn = pluginAjv.compile(closeObjects(schema) as object);
    pluginCache.set(schema, fn);
  }
  return fn;
}

const TYPE_MESSAGES: Record<string, string> = {
  string: 'expected a string', number: 'expected a number', integer: 'expected an integer',
  boolean: 'expected a boolean', array: 'expected an array', object: 'expected a record', null: 'value must be null',
};

function num(v: unknown): string {
  return typeof v === 'number' ? String(v) : String(v);
}

/** Kong's message for one ajv error, or null for errors that only wrap others. */
function messageFor(e: ErrorObject): string | null {
  const ps = (e.parentSchema ?? {}) as Record<string, unknown>;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': return 'required field missing';
    case 'additionalProperties': return 'unknown field';
    case 'type': {
      const first = String(params.type).split(',')[0]!;
      if (first === 'object' && ps.patternProperties !== undefined) return 'expected a map';
      if (first === 'array' && ps.uniqueItems === true) return 'expected a set';
      return TYPE_MESSAGES[first] ?? `expected a ${first}`;
    }
    case 'enum': return `expected one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const': return `value must be ${num(params.allowedValue)}`;
    case 'minimum':
    case 'maximum':
      if (typeof ps.minimum === 'number' && typeof ps.maximum === 'number') {
        return `value should be between ${ps.minimum} and ${ps.maximum}`;
      }
      return e.keyword === 'minimum' ? `value must be greater than or equal to ${num(ps.minimum)}` : `value must be less than or equal to ${num(ps.maximum)}`;
    case 'exclusiveMinimum': return `value must be greater than ${num(ps.exclusiveMinimum)}`;
    case 'exclusiveMaximum': return `value must be less than ${num(ps.exclusiveMaximum)}`;
    case 'minLength':
    case 'minItems':
    case 'minProperties': return `length must be at least ${num(params.limit)}`;
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties': return `length must be at most ${num(params.limit)}`;
    case 'pattern': return `invalid value: ${String(e.data)}`;
    case 'format': return params.format === 'uuid' ? 'expected a valid UUID' : `invalid value: ${String(e.data)}`;
    case 'kongCheck': return e.message ?? 'invalid value';
    case 'multipleOf': return `value must be a multiple of ${num(params.multipleOf)}`;
    case 'uniqueItems': return null;
    case 'anyOf':
    case 'oneOf':
    case 'allOf':
    case 'if':
    case 'then':
    case 'else': return null;
    case 'not': return 'invalid value';
    default: return e.message ?? 'invalid value';
  }
}

function decodePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Converts ajv's `instancePath` (plus the missing/extra property) into tree segments: a segment
 * is a position (number) when the data at that level is an array.
 */
function treePath(data: unknown, e: ErrorObject): PathSegment[] {
  const segs = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map(decodePointer);
  const out: PathSegment[] = [];
  let cur: unknown = data;
  for (const seg of segs) {
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') out.push(String(params.missingProperty));
  if (e.keyword === 'additionalProperties') out.push(String(params.additionalProperty));
  return out;
}

const RANK: Record<string, number> = { type: 0, required: 0, additionalProperties: 0 };

/**
 * Places ajv's errors for `data` into `tree` under `base`. One message per field: a type error
 * wins over constraint errors, and union branches that merely allow `null` are ignored.
 */
export function placeAjvErrors(errors: readonly ErrorObject[], data: unknown, tree: ErrorTree, base: readonly PathSegment[]): void {
  const ranked = errors
    .map((e, i) => ({ e, i, r: RANK[e.keyword] ?? 1 }))
    .filter(({ e }) => !(e.keyword === 'type' && (e.params as { type?: unknown }).type === 'null' && e.schemaPath.includes('Of/')))
    .sort((a, b) => a.r - b.r || a.i - b.i);
  for (const { e } of ranked) {
    const message = messageFor(e);
    if (message === null) continue;
    const path = treePath(data, e);
    if (path.length === 0 && base.length === 0) continue;
    setFieldError(tree, [...base, ...path], message);
  }
}
