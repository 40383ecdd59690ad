/**
 * @module plugins/request-transformer/access
 * Rewrites the upstream request in Kong's order: uri, method, headers, body, query string; within
 * each, remove → rename → replace → add → append. `replace` acts only on what exists, `add` only
 * on what is missing, `append` adds another value. Values are templates rendered against the
 * request (see template.ts). Rendered header values are escaped so they can never start a new
 * header line.
 */
import type { PluginContext, PluginExit, PluginHandlers, PluginLogger } from '../api.ts';
import {
  appendArg, decodeArgs, encodeArgs, encodeArgsOrdered, type ArgValue, type Args,
} from './args.ts';
import { cjsonEncode } from './cjson.ts';
import { boundaryOf, MultipartBody } from './multipart.ts';
import { splitEntry, type RequestTransformerConfig } from './schema.ts';
import {
  capturesTable, compileTemplate, headersTable, recordTable, TemplateError,
  type LuaValue, type Template, type TemplateEnv,
} from './template.ts';

interface Entry { name: string; lower: string; template: Template | null }
interface Section { headers: Entry[]; querystring: Entry[]; body: Entry[] }
type BodyKind = 'json' | 'multipart' | 'form';

function compileEntries(list: readonly string[]): Entry[] {
  const out: Entry[] = [];
  for (const raw of list) {
    const e = splitEntry(raw);
    if (!e) continue;
    out.push({ name: e.name, lower: e.name.toLowerCase(), template: e.value === '' ? null : compileTemplate(e.value) });
  }
  return out;
}

function compileSection(s: { headers: string[]; querystring: string[]; body: string[] }): Section {
  return { headers: compileEntries(s.headers), querystring: compileEntries(s.querystring), body: compileEntries(s.body) };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Kong's content-type sniffing, in its order. */
function bodyKind(contentType: string | undefined): BodyKind | null {
  if (contentType === undefined) return null;
  const ct = contentType.toLowerCase();
  if (ct.includes('application/json')) return 'json';
  if (ct.includes('multipart/form-data')) return 'multipart';
  if (ct.includes('application/x-www-form-urlencoded')) return 'form';
  return null;
}

/**
 * Header values leave as latin1 bytes and must stay on one line: control characters (CR, LF,
 * NUL, …) are percent-escaped as OpenResty does, and non-latin1 text is sent as UTF-8 bytes.
 */
export function safeHeaderValue(value: string): string {
  let s = value;
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(s)) {
    s = s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  }
  if (/[^\x00-\xff]/.test(s)) s = Buffer.from(s, 'utf8').toString('latin1');
  return s;
}

/** kong.tools.uri.escape: characters outside the URI set become %XX (UTF-8 bytes). */
export function escapePath(path: string): string {
  const allowed = /[!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]/;
  if (/^[!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]*$/.test(path)) return path;
  let out = '';
  for (const ch of path) {
    if (allowed.test(ch)) { out += ch; continue; }
    for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Lua truthiness of a decoded JSON member (cjson's null is a truthy value in Lua). */
const jsonPresent = (v: unknown): boolean => v !== undefined && v !== false;

/** Kong's append_value on a JSON member. */
function appendJson(current: unknown, value: string): unknown {
  if (typeof current === 'string') return [current, value];
  if (Array.isArray(current)) { current.push(value); return current; }
  if (current !== null && typeof current === 'object') {
    // table.insert on a Lua hash table fills integer keys from 1; cjson writes them as "1", "2"…
    const obj = current as Record<string, unknown>;
    let n = 1;
    while (obj[String(n)] !== undefined) n++;
    obj[String(n)] = value;
    return obj;
  }
  return [value];
}

function argsToRecord(args: Args): Record<string, ArgValue> {
  const out: Record<string, ArgValue> = Object.create(null);
  for (const [k, v] of args) out[k] = v;
  return out;
}

const INTERNAL_ERROR: PluginExit = { status: 500, message: 'An unexpected error occurred' };

export function createRequestTransformer(config: RequestTransformerConfig, log: PluginLogger): PluginHandlers {
  const remove = compileSection(config.remove);
  const rename = compileSection(config.rename);
  const replace = compileSection(config.replace);
  const add = compileSection(config.add);
  const append = compileSection(config.append);
  const uriTemplate = typeof config.replace.uri === 'string' ? compileTemplate(config.replace.uri) : null;
  const method = config.http_method ? config.http_method.toUpperCase() : null;
  const methodTakesFormIntoQuery = method === 'GET' || method === 'HEAD' || method === 'TRACE';
  const sections = [remove, rename, replace, add, append];
  const hasHeaders = sections.some((s) => s.headers.length > 0);
  const hasQuery = sections.some((s) => s.querystring.length > 0);
  const hasBody = sections.some((s) => s.body.length > 0);

  /** Template data for one request; each root is built on first use. */
  function environment(ctx: PluginContext): TemplateEnv {
    // Headers as the request stands when this plugin starts (client headers plus earlier
    // plugins' changes), not as this plugin changes them.
    const headerSnapshot: Record<string, unknown> = { ...ctx.request.headers, ...ctx.upstream.headers };
    let headers: LuaValue | undefined;
    let query: LuaValue | undefined;
    let captures: LuaValue | undefined;
    return {
      headers: () => (headers ??= headersTable(headerSnapshot)),
      query_params: () => (query ??= recordTable(argsToRecord(decodeArgs(ctx.upstream.query)), (k) => k)),
      uri_captures: () => (captures ??= capturesTable(ctx.uriCaptures)),
      shared: () => recordTable(ctx.shared, (k) => k),
    };
  }

  const render = (e: Entry, env: TemplateEnv): string | null => (e.template === null ? null : e.template.render(env));

  function transformHeaders(ctx: PluginContext, env: TemplateEnv): void {
    const up = ctx.upstream;
    const h = up.headers;
    for (const e of remove.headers) {
      if (e.lower !== 'host' && h[e.lower] !== undefined) up.removeHeader(e.lower);
    }
    for (const e of rename.headers) {
      const to = (render(e, env) ?? '').toLowerCase();
      if (to === '' || to === e.lower || e.lower === 'host') continue;
      const value = h[e.lower];
      if (value === undefined) continue;
      up.removeHeader(e.lower);
      up.setHeader(to, value);
    }
    for (const e of replace.headers) {
      const value = render(e, env);
      if (value === null) continue;
      if (h[e.lower] !== undefined || e.lower === 'host') up.setHeader(e.lower, safeHeaderValue(value));
    }
    for (const e of add.headers) {
      const value = render(e, env);
      if (value === null || e.lower === 'host') continue;
      if (h[e.lower] === undefined) up.setHeader(e.lower, safeHeaderValue(value));
    }
    for (const e of append.headers) {
      const value = render(e, env);
      if (value === null) continue;
      const safe = safeHeaderValue(value);
      const cur = h[e.lower];
      up.setHeader(e.lower, cur === undefined ? safe : Array.isArray(cur) ? [...cur, safe] : [cur, safe]);
    }
  }

  function transformJson(body: Buffer, env: TemplateEnv): Buffer | null {
    const length = body.length;
    let params: Record<string, unknown>;
    if (length === 0) {
      params = {};
    } else {
      let parsed: unknown;
      try { parsed = JSON.parse(body.toString('utf8')); } catch { return null; }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
      params = parsed as Record<string, unknown>;
    }
    let changed = false;
    if (length > 0) {
      for (const e of remove.body) { delete params[e.name]; changed = true; }
      for (const e of rename.body) {
        const to = render(e, env);
        if (to === null || to === e.name || !jsonPresent(params[e.name])) continue;
        params[to] = params[e.name];
        delete params[e.name];
        changed = true;
      }
      for (const e of replace.body) {
        const value = render(e, env);
        if (value !== null && jsonPresent(params[e.name])) { params[e.name] = value; changed = true; }
      }
    }
    for (const e of add.body) {
      const value = render(e, env);
      if (value !== null && !jsonPresent(params[e.name])) { params[e.name] = value; changed = true; }
    }
    for (const e of append.body) {
      const value = render(e, env);
      if (value === null) continue;
      params[e.name] = appendJson(params[e.name], value);
      changed = true;
    }
    return changed ? Buffer.from(cjsonEncode(params)) : null;
  }

  function transformForm(body: Buffer, env: TemplateEnv): Buffer | null {
    const length = body.length;
    const params = decodeArgs(body.toString('utf8'));
    let changed = false;
    if (length > 0) {
      for (const e of remove.body) { params.delete(e.name); changed = true; }
      for (const e of rename.body) {
        const to = render(e, env);
        const value = params.get(e.name);
        if (to === null || to === e.name || value === undefined) continue;
        params.delete(e.name);
        params.set(to, value);
        changed = true;
      }
      for (const e of replace.body) {
        const value = render(e, env);
        if (value !== null && params.has(e.name)) { params.set(e.name, value); changed = true; }
      }
    }
    for (const e of add.body) {
      const value = render(e, env);
      if (value !== null && !params.has(e.name)) { params.set(e.name, value); changed = true; }
    }
    for (const e of append.body) {
      const value = render(e, env);
      if (value === null) continue;
      params.set(e.name, appendArg(params.get(e.name), value));
      changed = true;
    }
    return changed ? Buffer.from(encodeArgs(params)) : null;
  }

  function transformMultipart(body: Buffer, contentType: string, env: TemplateEnv): Buffer | null {
    const boundary = boundaryOf(contentType);
    // Without a boundary the body cannot be rewritten consistently with its Content-Type.
    if (boundary === null) return null;
    const parts = new MultipartBody(body, boundary);
    const length = body.length;
    let changed = false;
    // Kong's multipart order: rename before remove; append is not supported for multipart.
    if (length > 0) {
      for (const e of rename.body) {
        const to = render(e, env);
        const value = parts.get(e.name);
        if (to === null || value === undefined || to === e.name) continue;
        parts.setSimple(to, value);
        parts.delete(e.name);
        changed = true;
      }
      for (const e of remove.body) { parts.delete(e.name); changed = true; }
      for (const e of replace.body) {
        const value = render(e, env);
        if (value !== null && parts.has(e.name)) { parts.delete(e.name); parts.setSimple(e.name, value); changed = true; }
      }
    }
    for (const e of add.body) {
      const value = render(e, env);
      if (value !== null && !parts.has(e.name)) { parts.setSimple(e.name, value); changed = true; }
    }
    return changed ? parts.toBuffer() : null;
  }

  function transformBody(ctx: PluginContext, kind: BodyKind, contentType: string, body: Buffer, env: TemplateEnv): void {
    const out = kind === 'json' ? transformJson(body, env)
      : kind === 'form' ? transformForm(body, env)
        : transformMultipart(body, contentType, env);
    if (out === null) return;
    ctx.upstream.setBody(out);
    ctx.upstream.setHeader('content-length', String(out.length));
  }

  /** GET/HEAD/TRACE: urlencoded body arguments join the query string. */
  function formIntoQuery(ctx: PluginContext, body: Buffer): void {
    const fromBody = decodeArgs(body.toString('utf8'));
    if (fromBody.size === 0) return;
    const query = decodeArgs(ctx.upstream.query);
    for (const [name, value] of fromBody) {
      const cur = query.get(name);
      const values = Array.isArray(value) ? value : [value];
      if (cur === undefined) query.set(name, value);
      else if (Array.isArray(cur)) cur.push(...values);
      else query.set(name, [cur, ...values]);
    }
    ctx.upstream.query = encodeArgsOrdered(query);
  }

  function transformQuery(ctx: PluginContext, env: TemplateEnv): void {
    const args = decodeArgs(ctx.upstream.query);
    for (const e of remove.querystring) args.delete(e.name);
    for (const e of rename.querystring) {
      const to = render(e, env);
      const value = args.get(e.name);
      if (to === null || to === e.name || value === undefined) continue;
      args.delete(e.name);
      args.set(to, value);
    }
    for (const e of replace.querystring) {
      const value = render(e, env);
      if (value !== null && args.has(e.name)) args.set(e.name, value);
    }
    for (const e of add.querystring) {
      const value = render(e, env);
      if (value !== null && !args.has(e.name)) args.set(e.name, value);
    }
    for (const e of append.querystring) {
      const value = render(e, env);
      if (value !== null) args.set(e.name, appendArg(args.get(e.name), value));
    }
    ctx.upstream.query = encodeArgsOrdered(args);
  }

  function failed(err: unknown): PluginExit {
    log.error(`[request-transformer] ${err instanceof Error ? err.message : String(err)}`);
    return INTERNAL_ERROR;
  }

  return {
    access(ctx) {
      let env: TemplateEnv;
      let contentTypeBefore: string | undefined;
      try {
        env = environment(ctx);
        if (uriTemplate !== null) {
          const path = uriTemplate.render(env);
          if (!path.startsWith('/')) throw new TemplateError(`rendered uri '${path}' must start with /`);
          ctx.upstream.path = escapePath(path);
        }
        if (method !== null) ctx.upstream.method = method;
        contentTypeBefore = first(ctx.upstream.headers['content-type']);
        if (hasHeaders) transformHeaders(ctx, env);
      } catch (err) {
        return failed(err);
      }
      const mergeForm = methodTakesFormIntoQuery && bodyKind(contentTypeBefore) === 'form';
      const contentType = first(ctx.upstream.headers['content-type']);
      const kind = hasBody ? bodyKind(contentType) : null;
      if (!mergeForm && kind === null) {
        try {
          if (hasQuery) transformQuery(ctx, env);
        } catch (err) {
          return failed(err);
        }
        return;
      }
      return ctx.request.readBody().then((body) => {
        try {
          if (mergeForm) formIntoQuery(ctx, body);
          if (kind !== null) transformBody(ctx, kind, contentType!, body, env);
          if (hasQuery) transformQuery(ctx, env);
        } catch (err) {
          return failed(err);
        }
        return undefined;
      });
    },
  };
}

