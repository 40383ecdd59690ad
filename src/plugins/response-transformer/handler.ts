/**
 * @module plugins/response-transformer/handler
 * Changes response headers (every response, including exits) and, when JSON changes are
 * configured, the body of JSON responses from the service. Only then does the plugin declare a
 * `response` handler, so other configurations keep streaming.
 */
import type { PluginContext, PluginHandlers } from '../api.ts';
import { compileJsonTransform } from './json-body.ts';
import { splitEntry, type ResponseTransformerConfig } from './schema.ts';

interface HeaderOp { name: string; lower: string; value: string | null }

function headerOps(entries: readonly string[]): HeaderOp[] {
  const out: HeaderOp[] = [];
  for (const entry of entries) {
    const e = splitEntry(entry);
    if (e) out.push({ name: e.name, lower: e.name.toLowerCase(), value: e.value });
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Kong's is_json_body: any listed media type that is application/json or `…+json`. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  for (const item of contentType.split(',')) {
    const m = /^\s*([^\s/;]+)\/([^\s;]+)/.exec(item);
    if (!m) continue;
    const type = m[1]!.toLowerCase();
    const subtype = m[2]!.toLowerCase();
    if (type === 'application' && (subtype === 'json' || subtype.endsWith('+json'))) return true;
  }
  return false;
}

/** Header values come from config; a CR or LF must never split them into two headers. */
function safe(value: string): string {
  return /[\r\n\0]/.test(value) ? value.replace(/[\r\n\0]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`) : value;
}

export function createResponseTransformer(config: ResponseTransformerConfig): PluginHandlers {
  const remove = headerOps(config.remove.headers);
  const rename = headerOps(config.rename.headers);
  const replace = headerOps(config.replace.headers);
  const add = headerOps(config.add.headers);
  const append = headerOps(config.append.headers);
  const transformJson = compileJsonTransform(config);

  const handlers: PluginHandlers = {
    header(ctx: PluginContext) {
      const res = ctx.response;
      // Kong tests presence against the headers as they were before this plugin ran.
      const before: Record<string, string | string[] | undefined> = { ...res.headers };
      for (const op of remove) res.removeHeader(op.name);
      for (const op of rename) {
        const value = before[op.lower];
        if (value === undefined || op.value === null) continue;
        res.setHeader(op.value, value);
        res.removeHeader(op.name);
      }
      for (const op of replace) {
        if (before[op.lower] !== undefined && op.value !== null) res.setHeader(op.name, safe(op.value));
      }
      for (const op of add) {
        if (before[op.lower] === undefined && op.value !== null) res.setHeader(op.name, safe(op.value));
      }
      for (const op of append) {
        if (op.value === null) continue;
        const cur = res.headers[op.lower];
        const v = safe(op.value);
        res.setHeader(op.name, cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v]);
      }
      // The body will be rewritten: its length is no longer known here (Kong sends it chunked).
      // Exits are sent as produced, so their length stays.
      if (transformJson !== null && res.source === 'service' && isJsonContentType(first(before['content-type']))) {
        res.removeHeader('Content-Length');
      }
    },
  };
  if (transformJson !== null) {
    handlers.response = (ctx, body) => {
      if (!isJsonContentType(first(ctx.response.headers['content-type']))) return;
      return transformJson(body) ?? undefined;
    };
  }
  return handlers;
}
