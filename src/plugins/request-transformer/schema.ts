/**
 * @module plugins/request-transformer/schema
 * Kong's request-transformer config: `remove`, `rename`, `replace`, `add`, `append`, each with
 * `headers`, `querystring` and `body` lists of `name` or `name:value` entries (`replace` also has
 * `uri`), and `http_method`. Entry checks and messages follow Kong's custom validators; templates
 * are compiled here so a config with one Turnpike cannot evaluate is refused up front.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FieldErrors } from '../api.ts';
import { compileTemplate } from './template.ts';

const list = () => Type.Array(Type.String(), { default: [] });
const colonList = () => Type.Array(Type.String({ pattern: '^[^:]+:.*$' }), { default: [] });
const record = <P extends Record<string, TSchema>>(props: P) => Type.Object(props, { default: {} });

export const RequestTransformerSchema = Type.Object({
  http_method: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Z]+$' }), Type.Null()])),
  remove: record({ body: list(), headers: list(), querystring: list() }),
  rename: record({ body: list(), headers: colonList(), querystring: list() }),
  replace: record({
    body: list(), headers: colonList(), querystring: list(),
    uri: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  add: record({ body: list(), headers: colonList(), querystring: list() }),
  append: record({ body: list(), headers: colonList(), querystring: list() }),
});

export type RequestTransformerConfig = Static<typeof RequestTransformerSchema>;

/** Kong's `^([^:]+):*(.-)$`: the name up to the first colon, then the value after the colons. */
export function splitEntry(entry: string): { name: string; value: string } | null {
  const m = /^([^:]+):*([\s\S]*)$/.exec(entry);
  return m ? { name: m[1]!, value: m[2]! } : null;
}

const HEADER_NAME = /^[a-zA-Z0-9-_]+$/;

/** `validate_headers`: the name (and for rename, the new name) must be a plain header name. */
function headerEntryError(entry: string, valueIsName: boolean): string | null {
  const e = splitEntry(entry);
  const name = e?.name;
  if (name === undefined || !HEADER_NAME.test(name)) return `'${name ?? 'nil'}' is not a valid header`;
  if (valueIsName && !HEADER_NAME.test(e!.value)) return `'${e!.value === '' ? 'nil' : e!.value}' is not a valid header`;
  return null;
}

function templateError(value: string): string | null {
  try {
    compileTemplate(value);
    return null;
  } catch (err) {
    return `value '${value}' is not in supported format, error:${(err as Error).message}`;
  }
}

/** `check_for_value`: a value is required and must be a template Turnpike can render. */
function valueEntryError(entry: string): string | null {
  const e = splitEntry(entry);
  if (!e || e.value === '') return `key '${e?.name ?? ''}' has no value`;
  return templateError(e.value);
}

/** Header values are not checked by Kong until rendered; Turnpike refuses bad templates early. */
function headerValueError(entry: string): string | null {
  const e = splitEntry(entry);
  return e && e.value !== '' ? templateError(e.value) : null;
}

function checkList(entries: readonly string[], rule: (entry: string) => string | null): (string | FieldErrors)[] | null {
  let failed = false;
  // Positions without an error hold `{}` (an empty error tree) so the list stays dense.
  const out = entries.map((entry) => {
    const err = rule(entry);
    if (err === null) return {};
    failed = true;
    return err;
  });
  return failed ? out : null;
}

export function checkRequestTransformer(c: RequestTransformerConfig): FieldErrors | null {
  const errors: FieldErrors = {};
  const put = (section: string, field: string, result: (string | FieldErrors)[] | string | null) => {
    if (result === null) return;
    ((errors[section] ??= {}) as FieldErrors)[field] = result;
  };
  put('remove', 'headers', checkList(c.remove.headers, (e) => headerEntryError(e, false)));
  put('rename', 'headers', checkList(c.rename.headers, (e) => headerEntryError(e, true)));
  for (const section of ['replace', 'add', 'append'] as const) {
    put(section, 'headers', checkList(c[section].headers, (e) => headerEntryError(e, false) ?? headerValueError(e)));
  }
  for (const section of ['rename', 'replace', 'add', 'append'] as const) {
    put(section, 'querystring', checkList(c[section].querystring, valueEntryError));
    put(section, 'body', checkList(c[section].body, valueEntryError));
  }
  if (typeof c.replace.uri === 'string') put('replace', 'uri', templateError(c.replace.uri));
  return Object.keys(errors).length > 0 ? errors : null;
}
