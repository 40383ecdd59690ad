/**
 * @module plugins/response-transformer/schema
 * Kong's response-transformer config: `remove`, `rename`, `replace`, `add`, `append`, each with
 * `headers` and `json` lists (`json_types` aligns a type with each json entry by position).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';

const list = () => Type.Array(Type.String(), { default: [] });
const colonList = () => Type.Array(Type.String({ pattern: '^[^:]+:.*$' }), { default: [] });
const jsonTypes = () => Type.Array(Type.String({ enum: ['boolean', 'number', 'string'] }), { default: [] });
const record = <P extends Record<string, TSchema>>(props: P) => Type.Object(props, { default: {} });

export const ResponseTransformerSchema = Type.Object({
  remove: record({ json: list(), headers: list() }),
  rename: record({ json: colonList(), headers: colonList() }),
  replace: record({ json: colonList(), json_types: jsonTypes(), headers: colonList() }),
  add: record({ json: colonList(), json_types: jsonTypes(), headers: colonList() }),
  append: record({ json: colonList(), json_types: jsonTypes(), headers: colonList() }),
});

export type ResponseTransformerConfig = Static<typeof ResponseTransformerSchema>;

/** Kong's `^([^:]+):*(.-)$`; an empty value counts as none. */
export function splitEntry(entry: string): { name: string; value: string | null } | null {
  const m = /^([^:]+):*([\s\S]*)$/.exec(entry);
  return m ? { name: m[1]!, value: m[2] === '' ? null : m[2]! } : null;
}

const HEADER_NAME = /^[a-zA-Z0-9-_]+$/;

/** rename.headers: both names must be plain header names (`validate_colon_headers`). */
export function checkResponseTransformer(c: ResponseTransformerConfig): FieldErrors | null {
  let failed = false;
  // Positions without an error hold `{}` (an empty error tree) so the list stays dense.
  const errors = c.rename.headers.map((entry): string | FieldErrors => {
    const e = splitEntry(entry);
    if (!e || !HEADER_NAME.test(e.name)) { failed = true; return `'${e?.name ?? 'nil'}' is not a valid header`; }
    if (e.value === null || !HEADER_NAME.test(e.value)) { failed = true; return `'${e.value ?? 'nil'}' is not a valid header`; }
    return {};
  });
  return failed ? { rename: { headers: errors } } : null;
}
