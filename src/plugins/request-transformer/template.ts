/**
 * @module plugins/request-transformer/template
 * A small, safe evaluator for Kong's request-transformer templates. Kong renders values with
 * Penlight templates, where `$(expr)` is a Lua expression; Turnpike accepts the subset people
 * use and never evaluates code:
 *
 *   $(headers.x_api_key)   $(headers["x-api-key"])   $(query_params.q)   $(uri_captures[1])
 *   $(uri_captures.name)   $(shared.key)   $(a or 'default')   $(a and b)   $(a .. "-" .. b)
 *   $(headers["x"][1])     (first value of a repeated header)
 *
 * Lua semantics: nil and false are false; `or`/`and` return an operand; a nil result renders as
 * ''; indexing nil or concatenating nil fails the request with 500, as in Kong. Text outside
 * `$( … )` is literal, including `#` at the start (Kong disables Penlight's `#` line escape).
 */
import { formatNumber14g } from './cjson.ts';

/** A Lua table as the templates see it: headers, query args, captures, shared, multi-values. */
export interface LuaTable { readonly lua: 'table'; get(key: string | number): LuaValue; display(): string }
export type LuaValue = string | number | boolean | null | LuaTable;

export const ROOTS = ['headers', 'query_params', 'uri_captures', 'shared'] as const;
export type RootName = (typeof ROOTS)[number];
export type TemplateEnv = Record<RootName, () => LuaValue>;

type Node =
  | { k: 'lit'; v: LuaValue }
  | { k: 'root'; name: RootName }
  | { k: 'index'; obj: Node; key: Node }
  | { k: 'or' | 'and' | 'concat'; a: Node; b: Node };

type Piece = string | Node;

export class TemplateError extends Error {}

export interface Template {
  readonly source: string;
  /** True when the template has no `$( … )`: the rendered value is the source itself. */
  readonly literal: boolean;
  render(env: TemplateEnv): string;
}

// ------------------------------------------------------------------ parsing

/** Splits `text` into literal text and `$( … )` expressions (balanced parentheses, as Lua's %b()). */
function split(text: string): { literal: string; expr: string | null }[] {
  const out: { literal: string; expr: string | null }[] = [];
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$(', i);
    if (at === -1) break;
    let depth = 0;
    let end = -1;
    for (let j = at + 1; j < text.length; j++) {
      if (text[j] === '(') depth++;
      else if (text[j] === ')' && --depth === 0) { end = j; break; }
    }
    if (end === -1) break; // unbalanced: the rest is literal
    out.push({ literal: text.slice(from, at), expr: text.slice(at + 2, end) });
    from = i = end + 1;
  }
  out.push({ literal: text.slice(from), expr: null });
  return out;
}

type Token = { t: 'name' | 'str' | 'num' | 'op'; v: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ t: 'name', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(src.slice(i))!;
      tokens.push({ t: 'num', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === '\\') {
          const n = src[++j];
          const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
          if (n !== undefined && esc[n] !== undefined) s += esc[n];
          else if (n !== undefined && /[0-9]/.test(n)) {
            const d = /^[0-9]{1,3}/.exec(src.slice(j))![0];
            s += String.fromCharCode(Number(d));
            j += d.length - 1;
          } else throw new TemplateError('invalid escape sequence in string');
        } else if (src[j] === '\n') {
          throw new TemplateError('unfinished string');
        } else s += src[j];
      }
      if (j >= src.length) throw new TemplateError('unfinished string');
      tokens.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    if (src.startsWith('..', i)) { tokens.push({ t: 'op', v: '..' }); i += 2; continue; }
    if ('.[]()'.includes(c)) { tokens.push({ t: 'op', v: c }); i++; continue; }
    throw new TemplateError(`unsupported symbol '${c}'`);
  }
  return tokens;
}

class Parser {
  #pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (this.tokens.length === 0) throw new TemplateError('empty expression');
    const n = this.#or();
    if (this.#pos < this.tokens.length) throw new TemplateError(`unexpected '${this.tokens[this.#pos]!.v}'`);
    return n;
  }

  #peek(): Token | undefined { return this.tokens[this.#pos]; }
  #isOp(v: string): boolean { const t = this.#peek(); return t !== undefined && t.t === 'op' && t.v === v; }
  #isWord(v: string): boolean { const t = this.#peek(); return t !== undefined && t.t === 'name' && t.v === v; }
  #expectOp(v: string): void {
    if (!this.#isOp(v)) throw new TemplateError(`'${v}' expected`);
    this.#pos++;
  }

  #or(): Node {
    let a = this.#and();
    while (this.#isWord('or')) { this.#pos++; a = { k: 'or', a, b: this.#and() }; }
    return a;
  }

  #and(): Node {
    let a = this.#concat();
    while (this.#isWord('and')) { this.#pos++; a = { k: 'and', a, b: this.#concat() }; }
    return a;
  }

  #concat(): Node {
    const a = this.#suffixed();
    if (this.#isOp('..')) { this.#pos++; return { k: 'concat', a, b: this.#concat() }; }
    return a;
  }

  #suffixed(): Node {
    let n = this.#primary();
    for (;;) {
      if (this.#isOp('.')) {
        this.#pos++;
        const t = this.#peek();
        if (!t || t.t !== 'name') throw new TemplateError('name expected after \'.\'');
        this.#pos++;
        n = { k: 'index', obj: n, key: { k: 'lit', v: t.v } };
      } else if (this.#isOp('[')) {
        this.#pos++;
        const key = this.#or();
        this.#expectOp(']');
        n = { k: 'index', obj: n, key };
      } else if (this.#isOp('(')) {
        throw new TemplateError('function calls are not supported');
      } else {
        return n;
      }
    }
  }

  #primary(): Node {
    const t = this.#peek();
    if (!t) throw new TemplateError('unexpected end of expression');
    this.#pos++;
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'num') return { k: 'lit', v: Number(t.v) };
    if (t.t === 'op' && t.v === '(') {
      const n = this.#or();
      this.#expectOp(')');
      return n;
    }
    if (t.t === 'name') {
      if (t.v === 'nil') return { k: 'lit', v: null };
      if (t.v === 'true') return { k: 'lit', v: true };
      if (t.v === 'false') return { k: 'lit', v: false };
      if ((ROOTS as readonly string[]).includes(t.v)) return { k: 'root', name: t.v as RootName };
      throw new TemplateError(`unknown variable '${t.v}' (available: ${ROOTS.join(', ')})`);
    }
    throw new TemplateError(`unexpected '${t.v}'`);
  }
}

// ------------------------------------------------------------------ evaluation

const truthy = (v: LuaValue): boolean => v !== null && v !== false;

function typeName(v: LuaValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'object') return 'table';
  return typeof v;
}

/** Lua's tostring for the values templates produce. */
export function luaToString(v: LuaValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber14g(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v.display();
}

function evaluate(n: Node, env: TemplateEnv): LuaValue {
  switch (n.k) {
    case 'lit': return n.v;
    case 'root': return env[n.name]();
    case 'or': { const a = evaluate(n.a, env); return truthy(a) ? a : evaluate(n.b, env); }
    case 'and': { const a = evaluate(n.a, env); return truthy(a) ? evaluate(n.b, env) : a; }
    case 'concat': {
      const a = evaluate(n.a, env);
      const b = evaluate(n.b, env);
      for (const v of [a, b]) {
        if (typeof v !== 'string' && typeof v !== 'number') throw new TemplateError(`attempt to concatenate a ${typeName(v)} value`);
      }
      return luaToString(a) + luaToString(b);
    }
    case 'index': {
      const obj = evaluate(n.obj, env);
      const key = evaluate(n.key, env);
      if (obj !== null && typeof obj === 'object') return typeof key === 'string' || typeof key === 'number' ? obj.get(key) : null;
      // Indexing a string yields a string-library function in Lua; nothing useful here.
      if (typeof obj === 'string') return null;
      throw new TemplateError(`attempt to index a ${typeName(obj)} value`);
    }
  }
}

/** Compiles a template once; throws `TemplateError` for syntax Turnpike does not evaluate. */
export function compileTemplate(source: string): Template {
  const parts = split(source);
  const pieces: Piece[] = [];
  for (const p of parts) {
    if (p.literal !== '') pieces.push(p.literal);
    if (p.expr !== null) pieces.push(new Parser(tokenize(p.expr)).parse());
  }
  if (pieces.every((p) => typeof p === 'string')) {
    return { source, literal: true, render: () => source };
  }
  return {
    source,
    literal: false,
    render(env) {
      let out = '';
      for (const p of pieces) {
        if (typeof p === 'string') { out += p; continue; }
        const v = evaluate(p, env);
        out += truthy(v) ? luaToString(v) : '';
      }
      return out;
    },
  };
}

// ------------------------------------------------------------------ tables over request data

/** A header/query value: one string, or a list (Lua array, 1-based). */
export function valueToLua(v: unknown): LuaValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return arrayTable(v);
  if (typeof v === 'object') return recordTable(v as Record<string, unknown>, (k) => k);
  return null;
}

function arrayTable(items: readonly unknown[]): LuaTable {
  return {
    lua: 'table',
    get: (key) => (typeof key === 'number' && Number.isInteger(key) && key >= 1 ? valueToLua(items[key - 1]) : null),
    // Lua would print `table: 0x…`; the values joined are more useful and carry no address.
    display: () => items.map((i) => luaToString(valueToLua(i))).join(', '),
  };
}

/** A record table; `normalize` maps a string key to the stored key (or null = not found). */
export function recordTable(rec: Readonly<Record<string, unknown>>, normalize: (key: string) => string | null,
  numeric?: (n: number) => string | null): LuaTable {
  return {
    lua: 'table',
    get(key) {
      const k = typeof key === 'number' ? (numeric ? numeric(key) : null) : normalize(key);
      return k === null || !Object.prototype.hasOwnProperty.call(rec, k) ? null : valueToLua(rec[k]);
    },
    display: () => '',
  };
}

/**
 * Header lookups as in ngx.req.get_headers(): case-insensitive, and `x_api_key` finds
 * `x-api-key`.
 */
export function headersTable(headers: Readonly<Record<string, unknown>>): LuaTable {
  return recordTable(headers, (key) => {
    const lower = key.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(headers, lower)) return lower;
    return lower.replace(/_/g, '-');
  });
}

/** Route captures: numbers index the positional groups, names the named ones. */
export function capturesTable(captures: Readonly<Record<string, string>>): LuaTable {
  return recordTable(captures, (key) => (/^\d+$/.test(key) ? null : key), (n) => (Number.isInteger(n) && n >= 0 ? String(n) : null));
}
