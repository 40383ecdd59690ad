/**
 * @module test/k8s-api/patch
 * The three PATCH flavours the API server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
 * and an approximation of strategic merge patch. The approximation is merge patch plus, for the list
 * fields kubectl actually patches on the kinds we serve, merge-by-key (`containers`/`env`/`volumes`
 * by `name`, container `ports` by `containerPort`, Service `ports` by `port`, `ownerReferences` by
 * `uid`, `conditions` by `type`), primitive-set merge for `finalizers`, and the directives kubectl
 * emits: `$patch: replace|delete`, `$setElementOrder/<list>` (honoured for ordering),
 * `$deleteFromPrimitiveList/<list>` and `$retainKeys`. Lists without a known key are replaced whole,
 * which is also what the real server does for atomic lists.
 */
import type { JsonObject } from './resources.ts';

export class PatchError extends Error {}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 7386. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map(unescapePointer);
}

function resolveParent(doc: unknown, tokens: string[], pointer: string): { parent: unknown; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`doc is missing path: "${pointer}": missing value`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function getAt(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`doc is missing path: "${pointer}": missing value`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, allowEnd: boolean, pointer: string): number {
  if (key === '-' && allowEnd) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new PatchError(`invalid array index in "${pointer}"`);
  const i = Number(key);
  if (i > arr.length || (!allowEnd && i === arr.length)) throw new PatchError(`unable to access invalid index: ${i}`);
  return i;
}

function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, pointer), 0, clone(value));
  else if (isObject(parent)) parent[key] = clone(value);
  else throw new PatchError(`doc is missing path: "${pointer}"`);
  return doc;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, key } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, pointer), 1);
  else if (isObject(parent) && key in parent) delete parent[key];
  else throw new PatchError(`Unable to remove nonexistent key: ${key}: missing value`);
  return doc;
}

/** RFC 6902: add, remove, replace, move, copy, test. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new PatchError('invalid json patch operation');
    const path = raw.path;
    switch (raw.op) {
      case 'add': doc = addAt(doc, path, raw.value); break;
      case 'remove': doc = removeAt(doc, path); break;
      case 'replace': getAt(doc, path); doc = removeAt(doc, path); doc = addAt(doc, path, raw.value); break;
      case 'move': {
        const v = getAt(doc, String(raw.from));
        doc = removeAt(doc, String(raw.from));
        doc = addAt(doc, path, v);
        break;
      }
      case 'copy': doc = addAt(doc, path, getAt(doc, String(raw.from))); break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(raw.value)) throw new PatchError(`testing value ${path} failed: test failed`);
        break;
      default: throw new PatchError(`Unexpected kind: ${raw.op}`);
    }
  }
  return doc;
}

/** The merge key of a list field, by its name and where it sits (path of field names from the root). */
function listMergeKey(path: string[], field: string): string | undefined {
  switch (field) {
    case 'containers': case 'initContainers': case 'ephemeralContainers':
    case 'env': case 'volumes': case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts': return 'mountPath';
    case 'ownerReferences': return 'uid';
    case 'conditions': return 'type';
    case 'ports': return path.some((p) => p === 'containers' || p === 'initContainers') ? 'containerPort' : 'port';
    default: return undefined;
  }
}

const primitiveMergeLists = new Set(['finalizers']);

function strategicList(current: unknown, patch: unknown[], path: string[], field: string, order: unknown[] | undefined): unknown[] {
  const key = listMergeKey(path, field);
  if (key && Array.isArray(current)) {
    const out = clone(current) as unknown[];
    for (const item of patch) {
      if (!isObject(item)) { out.push(clone(item)); continue; }
      const idx = out.findIndex((e) => isObject(e) && e[key] === item[key]);
      if (item.$patch === 'delete') { if (idx >= 0) out.splice(idx, 1); continue; }
      if (item.$patch === 'replace') {
        const { $patch: _directive, ...rest } = item;
        if (idx >= 0) out[idx] = rest; else out.push(rest);
        continue;
      }
      if (idx >= 0) out[idx] = strategicMerge(out[idx], item, [...path, field]);
      else out.push(strategicMerge(undefined, item, [...path, field]));
    }
    if (order) {
      // $setElementOrder lists every key in the wanted order; items not named keep their place after.
      const rank = (e: unknown) => { const i = order.findIndex((o) => isObject(o) && isObject(e) && o[key] === e[key]); return i < 0 ? order.length : i; };
      out.sort((a, b) => rank(a) - rank(b));
    }
    return out;
  }
  if (primitiveMergeLists.has(field) && Array.isArray(current)) {
    const out = [...current];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  return patch.filter((e) => !(isObject(e) && e.$patch === 'delete')).map((e) => strategicMerge(undefined, e, [...path, field]));
}

/** Strategic merge patch, approximated as described in the module comment. */
export function strategicMerge(target: unknown, patch: unknown, path: string[] = []): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  let retainKeys: string[] | undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (k === '$retainKeys') { retainKeys = Array.isArray(v) ? v.map(String) : undefined; continue; }
    if (k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as unknown[]).filter((e) => !v.includes(e));
      continue;
    }
    if (v === null) { delete out[k]; continue; }
    if (Array.isArray(v)) {
      const order = patch[`$setElementOrder/${k}`];
      out[k] = strategicList(out[k], v, path, k, Array.isArray(order) ? order : undefined);
      continue;
    }
    const merged = strategicMerge(out[k], v, [...path, k]);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  // A $setElementOrder for a list the patch does not touch still reorders it.
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/') || !Array.isArray(v)) continue;
    const field = k.slice('$setElementOrder/'.length);
    if (field in patch || !Array.isArray(out[field])) continue;
    out[field] = strategicList(out[field], [], path, field, v);
  }
  if (retainKeys) for (const k of Object.keys(out)) if (!retainKeys.includes(k)) delete out[k];
  return out;
}
