/**
 * @module plugins/request-termination/handler
 * Answers every request (or only those carrying the trigger header/query argument) without
 * proxying: a JSON message, a raw body, or an echo of the request for debugging.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { PluginContext, PluginExit, PluginHandlers } from '../api.ts';
import type { RequestTerminationConfig } from './schema.ts';

/** The only statuses Kong has a default message for; others get an empty body. */
const DEFAULT_MESSAGES: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
};

const JSON_TYPE = 'application/json; charset=utf-8';
/** Identifies this node in echoes; the plugin API has no node id, so one per process. */
const NODE_ID = randomUUID();
const HOSTNAME = hostname();

/** Kong encodes with cjson, which escapes `/`; in JSON text a `/` only occurs inside strings. */
export function cjsonStringify(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/');
}

export function createRequestTermination(config: RequestTerminationConfig): PluginHandlers {
  const status = config.status_code;
  const message = config.message ?? DEFAULT_MESSAGES[status] ?? null;
  const trigger = config.trigger ?? null;
  const triggerHeader = trigger?.toLowerCase() ?? null;

  // Everything that does not depend on the request is built once.
  let fixed: PluginExit;
  if (typeof config.body === 'string') {
    fixed = { status, body: config.body, headers: config.content_type ? { 'Content-Type': config.content_type } : undefined };
  } else if (message !== null) {
    fixed = { status, body: cjsonStringify({ message }), headers: { 'Content-Type': JSON_TYPE } };
  } else {
    // kong.response.exit(status) with no body: empty, never an error template.
    fixed = { status, body: '' };
  }

  const triggered = (ctx: PluginContext): boolean => {
    if (trigger === null) return true;
    return ctx.request.headers[triggerHeader!] !== undefined || ctx.request.query()[trigger] !== undefined;
  };

  return {
    access(ctx) {
      if (!triggered(ctx)) return;
      if (!config.echo) return fixed;
      return echoBody(ctx, message).then((echo) => ({ status, body: cjsonStringify(echo), headers: { 'Content-Type': JSON_TYPE } }));
    },
  };
}

async function echoBody(ctx: PluginContext, message: string | null): Promise<Record<string, unknown>> {
  const req = ctx.request;
  const raw = await req.readBody();
  const named: Record<string, string> = {};
  const unnamed: string[] = [];
  for (const [k, v] of Object.entries(ctx.uriCaptures)) {
    if (/^\d+$/.test(k)) { if (k !== '0') unnamed[Number(k) - 1] = v; } else named[k] = v;
  }
  const request: Record<string, unknown> = {
    scheme: req.scheme,
    host: req.host,
    port: req.port,
    headers: req.headers,
    query: req.query(),
    raw_body: raw.toString('utf8'),
    method: req.method,
    path: req.path,
    uri_captures: { named, unnamed },
  };
  const parsed = parseBody(headerValue(req.headers['content-type']), raw);
  if (parsed !== undefined) request.body = parsed;
  const out: Record<string, unknown> = {
    kong: { node_id: NODE_ID, worker_pid: process.pid, hostname: HOSTNAME },
    request,
    matched_route: ctx.route ?? undefined,
    matched_service: ctx.service ?? undefined,
  };
  if (message !== null) out.message = message;
  return out;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** kong.request.get_body(): JSON and urlencoded forms are decoded; other types are left out. */
function parseBody(contentType: string | undefined, raw: Buffer): unknown {
  const ct = contentType?.toLowerCase() ?? '';
  if (ct.includes('application/json')) {
    try { return JSON.parse(raw.toString('utf8')); } catch { return undefined; }
  }
  if (ct.includes('application/x-www-form-urlencoded')) {
    const out: Record<string, string | string[] | boolean> = {};
    for (const part of raw.toString('latin1').split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = decodeForm(eq === -1 ? part : part.slice(0, eq));
      const v: string | boolean = eq === -1 ? true : decodeForm(part.slice(eq + 1));
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else out[k] = [...(Array.isArray(prev) ? prev : [String(prev)]), String(v)];
    }
    return out;
  }
  return undefined;
}

function decodeForm(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try { return decodeURIComponent(plus); } catch { return plus; }
}
