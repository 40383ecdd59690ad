/**
 * @module plugins/response-transformer/json-body
 * The JSON body transform, with Kong's quirks kept: values are strings unless `json_types` says
 * number/boolean; `replace` acts on members that exist and are not false, `add` on members that
 * are missing or false; `append` turns a string member into a list.
 */
import { cjsonEncode } from '../request-transformer/cjson.ts';
import { splitEntry, type ResponseTransformerConfig } from './schema.ts';

type JsonType = 'boolean' | 'number' | 'string';
interface Op { name: string; value: unknown }

/** Lua's tonumber on a config string (decimal, hex, exponent; surrounding spaces allowed). */
function luaToNumber(s: string): number | undefined {
  const t = s.trim();
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return undefined;
  return Number(t);
}

/**
 * Kong's json_value: the string goes through cjson and back with only `\"` and `\/` undone, so
 * other escapes (a backslash, a newline) stay escaped in the value; then the type cast.
 */
function jsonValue(value: string | null, type: JsonType | undefined): unknown {
  let v = cjsonEncode(value);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\"/g, '"');
  v = v.replace(/\\\//g, '/');
  if (type === 'number') return luaToNumber(v);
  if (type === 'boolean') return v === 'true';
  return v;
}

function ops(entries: readonly string[], types: readonly string[] | null): Op[] {
  const out: Op[] = [];
  entries.forEach((entry, i) => {
    const e = splitEntry(entry);
    if (!e) return;
    out.push({ name: e.name, value: types === null ? e.value : jsonValue(e.value, types[i] as JsonType | undefined) });
  });
  return out;
}

const present = (v: unknown): boolean => v !== undefined && v !== false;

function appendValue(current: unknown, value: unknown): unknown {
  if (typeof current === 'string') return [current, value];
  if (Array.isArray(current)) { current.push(value); return current; }
  return [value];
}

export type JsonTransform = (body: Buffer) => Buffer | null;

/** Compiles the JSON operations once; the result transforms a body or returns null (leave it). */
export function compileJsonTransform(config: ResponseTransformerConfig): JsonTransform | null {
  const remove = config.remove.json.map((e) => splitEntry(e)?.name).filter((n): n is string => n !== undefined);
  const rename = ops(config.rename.json, null);
  const replace = ops(config.replace.json, config.replace.json_types);
  const add = ops(config.add.json, config.add.json_types);
  const append = ops(config.append.json, config.append.json_types);
  if (remove.length + rename.length + replace.length + add.length + append.length === 0) return null;

  return (body) => {
    let doc: unknown;
    try { doc = JSON.parse(body.toString('utf8')); } catch { return null; }
    // Only an object has members to change; arrays and scalars are left as they came.
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
    const json = doc as Record<string, unknown>;
    for (const name of remove) delete json[name];
    for (const { name, value } of rename) {
      if (json[name] === undefined || value === null) continue;
      const moved = json[name];
      delete json[name];
      json[value as string] = moved;
    }
    for (const { name, value } of replace) {
      if (present(json[name]) && value !== undefined) json[name] = value;
    }
    for (const { name, value } of add) {
      if (!present(json[name]) && value !== undefined) json[name] = value;
    }
    for (const { name, value } of append) {
      if (value !== undefined) json[name] = appendValue(json[name], value);
    }
    return Buffer.from(cjsonEncode(json));
  };
}
