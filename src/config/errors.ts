/**
 * @module config/errors
 * Kong's declarative-config error shapes: the nested field-error tree (arrays by position, maps by
 * field, `@entity` for entity-level messages), its Lua-pretty rendering used in `message`
 * (Kong prints the tree with penlight's `pretty.write(t, "")`), its JSON form (cjson turns
 * position tables into arrays with `null` holes) and the flattened per-entity list that
 * `POST /config?flatten_errors=1` returns.
 */

/** Kong's `code` and `name` for an invalid declarative configuration. */
export const DECLARATIVE_CONFIG_ERROR_CODE = 14;
export const DECLARATIVE_CONFIG_ERROR_NAME = 'invalid declarative configuration';

/** A node of the error tree. Arrays are positions (sparse; holes = no error there). */
export type ErrorNode = string | ErrorNode[] | ErrorTree;
export interface ErrorTree { [key: string]: ErrorNode }

export interface FlattenedFieldError { type: 'field'; field: string; message: string }
export interface FlattenedEntityError { type: 'entity'; message: string }

export interface FlattenedError {
  entity_type: string;
  entity_name?: string;
  entity_id?: string;
  entity_tags?: string[];
  entity: Record<string, unknown>;
  errors: (FlattenedFieldError | FlattenedEntityError)[];
}

export interface DeclarativeConfigError {
  code: 14;
  name: 'invalid declarative configuration';
  message: string;
  /** The error tree as JSON (positions as arrays with null holes). */
  fields: Record<string, unknown>;
  flattened_errors: FlattenedError[];
}

/** Thrown by `parseConfigText` for text that is not a JSON/YAML object. */
export class ConfigParseError extends Error {
  readonly code = DECLARATIVE_CONFIG_ERROR_CODE;
  constructor(message: string) {
    super(`failed parsing declarative configuration: ${message}`);
    this.name = 'ConfigParseError';
  }
}

// ---------------------------------------------------------------------------------------------
// building the tree

export type PathSegment = string | number;

/** Returns the child node at `seg`, creating an array (numeric seg) or record as needed. */
function child(node: ErrorTree | ErrorNode[], seg: PathSegment, nextIsIndex: boolean): ErrorTree | ErrorNode[] {
  const existing = (node as Record<string | number, ErrorNode | undefined>)[seg];
  if (existing !== undefined && typeof existing !== 'string') return existing;
  const created: ErrorTree | ErrorNode[] = nextIsIndex ? [] : {};
  (node as Record<string | number, ErrorNode>)[seg] = created;
  return created;
}

/** Sets a field message at `path` unless one is already there (Kong reports one per field). */
export function setFieldError(tree: ErrorTree, path: readonly PathSegment[], message: string): void {
  let node: ErrorTree | ErrorNode[] = tree;
  for (let i = 0; i < path.length - 1; i++) node = child(node, path[i]!, typeof path[i + 1] === 'number');
  const last = path[path.length - 1]!;
  const slot = node as Record<string | number, ErrorNode | undefined>;
  if (slot[last] === undefined) slot[last] = message;
}

/** Appends an entity-level message (`@entity`) to the record at `path`. */
export function addEntityError(tree: ErrorTree, path: readonly PathSegment[], message: string): void {
  let node: ErrorTree | ErrorNode[] = tree;
  for (let i = 0; i < path.length; i++) node = child(node, path[i]!, typeof path[i + 1] === 'number');
  const rec = node as ErrorTree;
  const list = rec['@entity'];
  if (Array.isArray(list)) list.push(message);
  else rec['@entity'] = [message];
}

/**
 * Puts `value` under a string key of a collection node (Kong's reference and unique-field errors,
 * keyed by name or id). A positional array becomes a record with 1-based keys, as in Lua.
 */
export function setKeyedError(tree: ErrorTree, collection: string, key: string, value: ErrorNode, append: boolean): void {
  let node = tree[collection];
  if (node === undefined || typeof node === 'string') node = tree[collection] = {};
  if (Array.isArray(node)) {
    const rec: ErrorTree = {};
    node.forEach((v, i) => { if (v !== undefined) rec[String(i + 1)] = v; });
    node = tree[collection] = rec;
  }
  const rec = node as ErrorTree;
  const existing = rec[key];
  if (append && Array.isArray(existing)) existing.push(value);
  else if (existing === undefined) rec[key] = append ? [value] : value;
}

export function isEmptyTree(tree: ErrorTree): boolean {
  for (const _ in tree) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// rendering

const LUA_KEYWORDS = new Set([
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
]);

function luaString(s: string): string {
  if (s.includes('\n') && !s.includes('\r')) {
    let eq = '';
    while (s.includes(`]${eq}]`)) eq += '=';
    return `[${eq}[${s.startsWith('\n') ? '\n' : ''}${s}]${eq}]`;
  }
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r/g, '\\r').replace(/\0/g, '\\0')}"`;
}

function luaKey(key: string): string {
  if (/^[1-9]\d*$/.test(key)) return `[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !LUA_KEYWORDS.has(key)) return key;
  return `[${luaString(key)}]`;
}

/**
 * Renders a tree the way penlight's `pretty.write(t, "")` does: the array part (up to the first
 * hole) without keys, then the other keys. Lua's hash order is unspecified; we sort keys so the
 * message is stable.
 */
export function renderLuaTable(node: ErrorNode): string {
  if (typeof node === 'string') return luaString(node);
  const parts: string[] = [];
  if (Array.isArray(node)) {
    let i = 0;
    for (; i < node.length && node[i] !== undefined && node[i] !== null; i++) parts.push(renderLuaTable(node[i]!));
    for (; i < node.length; i++) {
      const v = node[i];
      if (v !== undefined && v !== null) parts.push(`[${i + 1}]=${renderLuaTable(v)}`);
    }
  } else {
    for (const key of Object.keys(node).sort()) parts.push(`${luaKey(key)}=${renderLuaTable(node[key]!)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The JSON form of the tree, as cjson encodes Lua tables: position tables become arrays with
 * `null` holes unless excessively sparse (index > 10 and more than half holes), which become
 * objects with 1-based string keys.
 */
export function treeToJson(node: ErrorNode): unknown {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) {
    let count = 0;
    for (const v of node) if (v !== undefined) count++;
    if (node.length > 10 && node.length > count * 2) {
      const rec: Record<string, unknown> = {};
      node.forEach((v, i) => { if (v !== undefined) rec[String(i + 1)] = treeToJson(v); });
      return rec;
    }
    const out: unknown[] = new Array(node.length);
    for (let i = 0; i < node.length; i++) out[i] = node[i] === undefined ? null : treeToJson(node[i]!);
    return out;
  }
  const rec: Record<string, unknown> = {};
  for (const key of Object.keys(node)) rec[key] = treeToJson(node[key]!);
  return rec;
}

export function declarativeMessage(tree: ErrorTree): string {
  return `declarative config is invalid: ${renderLuaTable(tree)}`;
}

// ---------------------------------------------------------------------------------------------
// flattening (Kong's errors.lua flatten_errors)

/** The relations the flattener needs: one-to-one foreign fields and nested child collections. */
export interface FlattenRelations {
  singular(collection: string): string;
  /** fk field -> referenced collection, for fields that may hold a nested record. */
  foreign(collection: string): Readonly<Record<string, string>>;
  /** child collection -> the child's fk field pointing at us. */
  children(collection: string): Readonly<Record<string, string>>;
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Kong drains tables in sorted key order popping from the end: keys come out in reverse order. */
function drainKeys(node: ErrorTree | ErrorNode[]): PathSegment[] {
  if (Array.isArray(node)) {
    const keys: number[] = [];
    node.forEach((v, i) => { if (v !== undefined && v !== null) keys.push(i); });
    return keys.reverse();
  }
  const keys = Object.keys(node);
  const numeric = keys.every((k) => /^\d+$/.test(k));
  keys.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  return keys.reverse();
}

function categorize(node: ErrorNode, ns: string | null, out: FlattenedError['errors']): void {
  if (typeof node === 'string') {
    out.push({ type: 'field', field: ns ?? '', message: node });
    return;
  }
  for (const key of drainKeys(node)) {
    const value = (node as Record<string | number, ErrorNode>)[key]!;
    if (key === '@entity') {
      const list = Array.isArray(value) ? value : [value];
      for (const m of list) if (typeof m === 'string') out.push({ type: 'entity', message: m });
      continue;
    }
    // Lua positions are 1-based in dotted paths (`tags.3`).
    const name = typeof key === 'number' ? String(key + 1) : key;
    categorize(value, ns === null ? name : `${ns}.${name}`, out);
  }
}

function addEntityErrors(
  rel: FlattenRelations, collection: string, original: Record<string, unknown>, err: ErrorNode, out: FlattenedError[],
): void {
  let errTree: ErrorTree | ErrorNode[];
  if (typeof err === 'string') errTree = { '@entity': [err] };
  else if (Array.isArray(err) && err.every((m) => typeof m === 'string')) errTree = { '@entity': err };
  else errTree = err;
  const errs: Record<string, ErrorNode> = { ...(errTree as unknown as Record<string, ErrorNode>) };
  const entity: Record<string, unknown> = { ...original };
  const pk = typeof entity.id === 'string' && UUID_RE.test(entity.id) ? { id: entity.id } : undefined;

  for (const [field, ref] of Object.entries(rel.foreign(collection))) {
    const value = entity[field];
    if (isRecord(value)) {
      const fieldErr = errs[field];
      delete errs[field];
      entity[field] = typeof value.id === 'string' && UUID_RE.test(value.id) ? { id: value.id } : undefined;
      if (entity[field] === undefined) delete entity[field];
      if (fieldErr !== undefined) addEntityErrors(rel, ref, value, fieldErr, out);
    }
  }
  for (const [childKey, fk] of Object.entries(rel.children(collection))) {
    const items = entity[childKey];
    if (!Array.isArray(items)) continue;
    delete entity[childKey];
    const childErrs = errs[childKey];
    delete errs[childKey];
    if (childErrs === undefined || typeof childErrs === 'string') continue;
    items.forEach((item, i) => {
      const itemErr = Array.isArray(childErrs) ? childErrs[i] : childErrs[String(i + 1)];
      if (itemErr === undefined || itemErr === null || !isRecord(item)) return;
      const withFk = { ...item };
      if (withFk[fk] === undefined && pk) withFk[fk] = { ...pk };
      addEntityErrors(rel, childKey, withFk, itemErr, out);
    });
  }
  if (Object.keys(errs).length === 0) return;
  const errors: FlattenedError['errors'] = [];
  categorize(errs as ErrorTree, null, errors);
  if (errors.length === 0) return;
  const entry = { entity_type: rel.singular(collection) } as FlattenedError;
  if (typeof original.name === 'string' && original.name.length > 0) entry.entity_name = original.name;
  if (typeof original.id === 'string' && UUID_RE.test(original.id)) entry.entity_id = original.id;
  if (Array.isArray(original.tags) && original.tags.every((t) => typeof t === 'string')) entry.entity_tags = original.tags as string[];
  entry.entity = entity;
  entry.errors = errors;
  out.push(entry);
}

/**
 * Kong's flattened error list for `input` (the file as submitted) and its error tree. Errors keyed
 * by name or id (references, unique fields) are matched to the entity with that name or id;
 * Kong itself drops those from the flattened list, we keep them so clients can map every error.
 */
export function flattenErrors(input: unknown, tree: ErrorTree, rel: FlattenRelations, keyOf: (collection: string, entity: Record<string, unknown>) => string[]): FlattenedError[] {
  const out: FlattenedError[] = [];
  if (!isRecord(input)) return out;
  for (const collection of drainKeys(tree) as string[]) {
    const section = tree[collection];
    const entities = input[collection];
    if (section === undefined || typeof section === 'string' || !Array.isArray(entities)) continue;
    if (Array.isArray(section)) {
      for (const i of drainKeys(section) as number[]) {
        const entity = entities[i];
        if (isRecord(entity)) addEntityErrors(rel, collection, entity, section[i]!, out);
      }
      continue;
    }
    for (const key of drainKeys(section) as string[]) {
      const value = section[key]!;
      let index = /^\d+$/.test(key) ? Number(key) - 1 : -1;
      if (index < 0) index = entities.findIndex((e) => isRecord(e) && keyOf(collection, e).includes(key));
      const entity = entities[index];
      if (isRecord(entity)) addEntityErrors(rel, collection, entity, value, out);
    }
  }
  return out;
}

/**
 * The body Kong's `POST /config` answers with for an invalid config. With `flatten`, Kong's
 * flattening consumes the tree first, so `fields` is `{}` and the message ends in `{}`.
 */
export function declarativeErrorBody(error: DeclarativeConfigError, flatten: boolean): Record<string, unknown> {
  if (flatten) {
    return {
      code: error.code, name: error.name, message: declarativeMessage({}), fields: {},
      flattened_errors: error.flattened_errors,
    };
  }
  return { code: error.code, name: error.name, message: error.message, fields: error.fields };
}
