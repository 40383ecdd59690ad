/**
 * @module plugins/file-log/log-entry
 * What the logging plugins (file-log, http-log) share: the log entry as JSON text the way Kong's
 * cjson writes it, and `custom_fields_by_lua`.
 *
 * Turnpike runs no Lua. A `custom_fields_by_lua` expression that is a plain literal
 * (`return "text"`, `return 42`, `return true`, `return nil`, or an empty chunk) is applied as
 * Kong would apply it — `return nil` removes a field, which is its most common use. Any other
 * expression is accepted (so Kong configs load) and ignored with a warning when the plugin is
 * created.
 */
import type { PluginLogger } from '../api.ts';

/**
 * Encodes an entry like `cjson.encode`: `/` escaped as `\/` (a `/` can only occur inside JSON
 * strings, so a global replace is exact), DEL escaped, `undefined` fields left out.
 */
export function encodeLogEntry(entry: unknown): string {
  const text = JSON.stringify(entry) ?? 'null';
  let out = text.indexOf('/') === -1 ? text : text.replace(/\//g, '\\/');
  if (out.indexOf('\u007f') !== -1) out = out.replace(/\u007f/g, '\\u007f');
  return out;
}

/** One compiled `custom_fields_by_lua` entry: a dotted key path and its constant value. */
export interface CustomField {
  path: string[];
  /** `undefined` removes the field (Lua's nil). */
  value: string | number | boolean | undefined;
}

const LUA_STRING_ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'", '\n': '\n',
};

/** Parses a Lua chunk that only returns a literal. `null` when it does something else. */
export function parseStaticLua(code: string): { value: string | number | boolean | undefined } | null {
  const body = code.trim().replace(/;\s*$/, '');
  if (body === '') return { value: undefined };
  const m = /^return(?:\s+([\s\S]*)|\s*\(([\s\S]*)\))?$/.exec(body);
  if (!m) return null;
  const expr = (m[1] ?? m[2] ?? '').trim();
  if (expr === '' || expr === 'nil') return { value: undefined };
  if (expr === 'true') return { value: true };
  if (expr === 'false') return { value: false };
  if (/^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(expr)) return { value: Number(expr) };
  if (/^-?0[xX][0-9a-fA-F]+$/.test(expr)) return { value: Number.parseInt(expr, 16) };
  const quote = expr[0];
  if ((quote === '"' || quote === "'") && expr.length >= 2 && expr[expr.length - 1] === quote) {
    let out = '';
    for (let i = 1; i < expr.length - 1; i++) {
      const c = expr[i]!;
      if (c === quote) return null; // an unescaped quote: concatenation or worse
      if (c !== '\\') { out += c; continue; }
      const n = expr[++i];
      if (n === undefined || i >= expr.length - 1) return null;
      const simple = LUA_STRING_ESCAPES[n];
      if (simple !== undefined) { out += simple; continue; }
      if (/\d/.test(n)) {
        const digits = /^\d{1,3}/.exec(expr.slice(i, expr.length - 1))![0];
        out += String.fromCharCode(Number(digits));
        i += digits.length - 1;
        continue;
      }
      return null;
    }
    return { value: out };
  }
  const long = /^\[(=*)\[\n?([\s\S]*)\]\1\]$/.exec(expr);
  if (long) return { value: long[2]! };
  return null;
}

/** Splits Kong's dotted serialize key (`a.b`, with `\.` for a literal dot). */
export function splitKeyPath(key: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c === '\\' && key[i + 1] === '.') { cur += '.'; i++; continue; }
    if (c === '.' && i > 0) { parts.push(cur); cur = ''; continue; }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

/**
 * Compiles a `custom_fields_by_lua` map; expressions Turnpike cannot evaluate are reported once
 * through `log` and left out.
 */
export function compileCustomFields(map: Readonly<Record<string, string>> | null | undefined, log: PluginLogger, plugin: string): CustomField[] {
  if (!map) return [];
  const out: CustomField[] = [];
  const skipped: string[] = [];
  for (const key of Object.keys(map)) {
    const parsed = parseStaticLua(map[key]!);
    if (parsed === null) skipped.push(key);
    else out.push({ path: splitKeyPath(key), value: parsed.value });
  }
  if (skipped.length > 0) {
    log.warn(`${plugin}: custom_fields_by_lua: only literal expressions (return "text" / number / boolean / nil) are supported; ignoring ${skipped.map((k) => `'${k}'`).join(', ')}`);
  }
  return out;
}

/**
 * Applies custom fields to an entry in Kong's `set` mode: missing intermediate tables are
 * created; a path through a non-table value is skipped (Kong raises an error for it).
 */
export function applyCustomFields(entry: Record<string, unknown>, fields: readonly CustomField[]): void {
  for (const f of fields) {
    let node: Record<string, unknown> = entry;
    let ok = true;
    for (let i = 0; i < f.path.length - 1; i++) {
      const k = f.path[i]!;
      let next = node[k];
      if (next === undefined || next === null) {
        if (f.value === undefined) { ok = false; break; }
        next = node[k] = {};
      } else if (typeof next !== 'object') { ok = false; break; } else {
        // Copy on write: the entry's sub-objects may be shared with the request (route, service).
        next = node[k] = Array.isArray(next) ? [...next] : { ...(next as Record<string, unknown>) };
      }
      node = next as Record<string, unknown>;
    }
    if (!ok) continue;
    const last = f.path[f.path.length - 1]!;
    if (f.value === undefined) delete node[last];
    else node[last] = f.value;
  }
}
