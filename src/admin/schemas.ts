/**
 * @module admin/schemas
 * Renders TypeBox (JSON Schema) definitions the way Kong's `/schemas/...` endpoints show Kong
 * schemas: `{"fields":[{"name":{"type":…,"required":…,"default":…}}, …]}`, with Kong's type
 * names (string, integer, number, boolean, array/set, record, map, foreign) and validators
 * (`one_of`, `between`, `len_min`, …). Tools such as Kong Manager and decK read these to build
 * forms and fill defaults; the exact Lua validators (custom checks, entity checks) are not
 * reproduced.
 */
import type { TSchema } from '@sinclair/typebox';
import type { EntityKey } from '../config/entities.ts';
import { ENTITY_SHAPES } from '../config/schema/declarative.ts';
import { HTTP_PROTOCOLS } from '../config/schema/typedefs.ts';
import type { PluginDefinition } from '../plugins/api.ts';

type KongField = Record<string, unknown>;
type JsonSchema = TSchema & Record<string, unknown>;

/** A `Type.Union([X, Type.Null()])` is X that may be null (Kong: not required). */
function unwrapNullable(s: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const anyOf = s.anyOf as JsonSchema[] | undefined;
  if (Array.isArray(anyOf)) {
    const rest = anyOf.filter((x) => x.type !== 'null');
    if (rest.length === 1 && rest.length < anyOf.length) {
      const inner = { ...rest[0]! } as JsonSchema;
      if (s.default !== undefined && inner.default === undefined) inner.default = s.default;
      if (s.description !== undefined && inner.description === undefined) inner.description = s.description;
      return { schema: inner, nullable: true };
    }
  }
  return { schema: s, nullable: false };
}

/** One field in Kong's form. */
export function toKongField(input: JsonSchema, required: boolean): KongField {
  const { schema: s, nullable } = unwrapNullable(input);
  const out: KongField = {};
  const enumValues = s.enum as unknown[] | undefined;
  switch (s.type) {
    case 'string': out.type = 'string'; break;
    case 'integer': out.type = 'integer'; break;
    case 'number': out.type = 'number'; break;
    case 'boolean': out.type = 'boolean'; break;
    case 'array':
      out.type = s.uniqueItems ? 'set' : 'array';
      if (s.items) out.elements = toKongField(s.items as JsonSchema, false);
      break;
    case 'object': {
      const props = s.properties as Record<string, JsonSchema> | undefined;
      const patterns = s.patternProperties as Record<string, JsonSchema> | undefined;
      if (props && Object.keys(props).length > 0) {
        out.type = 'record';
        out.fields = toKongFields(s);
      } else {
        out.type = 'map';
        out.keys = { type: 'string' };
        const values = patterns ? Object.values(patterns)[0] : (typeof s.additionalProperties === 'object' ? s.additionalProperties as JsonSchema : undefined);
        if (values) out.values = toKongField(values, false);
      }
      break;
    }
    default:
      if (enumValues) out.type = typeof enumValues[0] === 'number' ? 'integer' : 'string';
      else out.type = 'any';
  }
  if (required && !nullable && s.default === undefined) out.required = true;
  else if (nullable) out.required = false;
  if (s.default !== undefined) out.default = s.default;
  if (enumValues) out.one_of = enumValues;
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  if (min !== undefined && max !== undefined) out.between = [min, max];
  else if (min !== undefined) out.gt = min - (s.type === 'integer' ? 1 : 0);
  if (typeof s.minLength === 'number') out.len_min = s.minLength;
  if (typeof s.maxLength === 'number') out.len_max = s.maxLength;
  if (typeof s.description === 'string') out.description = s.description;
  return out;
}

/** The `fields` array of an object schema, in declaration order. */
export function toKongFields(object: JsonSchema): KongField[] {
  const props = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ [name]: toKongField(s, required.has(name)) }));
}

const foreign = (reference: string, restricted: boolean): KongField =>
  restricted ? { type: 'foreign', reference, eq: null } : { type: 'foreign', reference };

/** `/schemas/plugins/{name}`: the plugin's scoping restrictions, protocols and config record. */
export function pluginSchema(p: PluginDefinition): Record<string, unknown> {
  const fields: KongField[] = [];
  if (p.noConsumer) fields.push({ consumer: foreign('consumers', true) });
  if (p.noService) fields.push({ service: foreign('services', true) });
  if (p.noRoute) fields.push({ route: foreign('routes', true) });
  fields.push({
    protocols: {
      type: 'set', required: true, default: [...HTTP_PROTOCOLS],
      elements: { type: 'string', one_of: [...HTTP_PROTOCOLS] },
    },
  });
  fields.push({ config: pluginConfigSchema(p) });
  return { fields };
}

/** `/plugins/schema/{name}` (deprecated in Kong): the config record alone. */
export function pluginConfigSchema(p: PluginDefinition): Record<string, unknown> {
  return { type: 'record', required: true, fields: toKongFields(p.schema as unknown as JsonSchema) };
}

const AUTO_FIELDS: Record<string, KongField> = {
  id: { type: 'string', uuid: true, auto: true },
  created_at: { type: 'integer', timestamp: true, auto: true },
  updated_at: { type: 'integer', timestamp: true, auto: true },
  tags: { type: 'set', elements: { type: 'string', required: true } },
};

/** Fields only the declarative file has (nesting, shorthands, comments). */
function fileOnly(key: EntityKey, field: string): boolean {
  return field.startsWith('_') || (ENTITY_SHAPES[key].children as readonly string[]).includes(field) || (key === 'services' && field === 'url');
}

/** `/schemas/{entity}`: the entity's fields with foreign keys as Kong's `foreign` type. */
export function entitySchema(key: EntityKey): Record<string, unknown> {
  const shape = ENTITY_SHAPES[key];
  const object = shape.schema as unknown as JsonSchema;
  const props = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  const fields: KongField[] = [];
  for (const [name, s] of Object.entries(props)) {
    if (fileOnly(key, name)) continue;
    if (AUTO_FIELDS[name]) fields.push({ [name]: AUTO_FIELDS[name] });
    else if (shape.foreign[name]) fields.push({ [name]: { ...foreign(shape.foreign[name]!, false), ...(shape.requiredForeign.includes(name) ? { required: true } : {}) } });
    else fields.push({ [name]: toKongField(s, required.has(name)) });
  }
  const out: Record<string, unknown> = { fields };
  if (shape.endpointKey) out.endpoint_key = shape.endpointKey;
  return out;
}

/** `/schemas/tags`: Kong's tags pseudo-entity. */
export const TAGS_SCHEMA = {
  fields: [
    { tag: { type: 'string', required: true } },
    { entity_name: { type: 'string', required: true } },
    { entity_id: { type: 'string', uuid: true, required: true } },
  ],
};
