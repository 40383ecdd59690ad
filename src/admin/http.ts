/**
 * @module admin/http
 * The HTTP plumbing shared by the Admin and Status APIs: a `Reply` value that handlers return
 * instead of writing to the socket, the writer that renders it the way Kong's
 * `kong.response.exit` does (compact JSON, `application/json; charset=utf-8`), a bounded body
 * reader, and the request-parameter parsing Kong's Lapis app does (query string, JSON,
 * urlencoded and multipart bodies).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a handler answers. `body` undefined = no body; `text` sends a non-JSON body as is. */
export interface Reply {
  status: number;
  body?: unknown;
  /** A body made elsewhere, sent as is (bytes, or text as UTF-8). */
  text?: { contentType: string; body: string | Buffer };
  headers?: Record<string, string>;
}

export const reply = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers });
export const message = (status: number, text: string): Reply => ({ status, body: { message: text } });
export const notFound = (): Reply => message(404, 'Not found');
export const methodNotAllowed = (): Reply => message(405, 'Method not allowed');
export const unexpectedError = (): Reply => message(500, 'An unexpected error occurred');

/** Kong's `nginx_admin_client_max_body_size` default (10m). */
export const MAX_ADMIN_BODY_BYTES = 10 * 1024 * 1024;

/** Headers every response of one API carries (Server, latency, CORS), computed per request. */
export type CommonHeaders = Record<string, string>;

/** Renders `r` on `res`. HEAD requests get the headers of the GET without a body. */
export function writeReply(req: IncomingMessage, res: ServerResponse, r: Reply, common: CommonHeaders): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { ...common, ...(r.headers ?? {}) };
  let payload: string | Buffer | undefined;
  if (r.text) {
    headers['Content-Type'] = r.text.contentType;
    payload = r.text.body;
  } else if (r.body !== undefined && r.status !== 204 && r.status !== 304) {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    payload = JSON.stringify(r.body);
  }
  if (payload !== undefined) headers['Content-Length'] = String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length);
  else if (r.status !== 204 && r.status !== 304) headers['Content-Length'] = '0';
  res.writeHead(r.status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
}

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge: true } | { ok: false; tooLarge: false };

/**
 * Reads the whole request body, refusing more than `limit` bytes (checked against
 * Content-Length first so an oversized upload is refused before it is read).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, tooLarge: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve({ ok: false, tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => { if (!done) { done = true; resolve({ ok: true, body: Buffer.concat(chunks) }); } });
    req.on('error', () => { if (!done) { done = true; resolve({ ok: false, tooLarge: false }); } });
  });
}

/**
 * Query arguments as ngx's `get_uri_args` sees them: the first value wins here (Kong's endpoints
 * take the first of a repeated argument), and a bare `?flag` is `true` rather than ''.
 */
export function parseQuery(rawQuery: string): Map<string, string | true> {
  const out = new Map<string, string | true>();
  if (!rawQuery) return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const key = decodeFormComponent(rawKey);
    if (out.has(key)) continue;
    out.set(key, eq < 0 ? true : decodeFormComponent(part.slice(eq + 1)));
  }
  return out;
}

function decodeFormComponent(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** ngx.escape_uri: everything but unreserved characters is percent-encoded. */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export type BodyParams =
  | { kind: 'json'; value: unknown }
  | { kind: 'form'; fields: Map<string, string> }
  | { kind: 'raw' }
  | { kind: 'bad-json' };

/**
 * Parses a request body the way Kong's Admin API does: JSON for `application/json` (a parse
 * failure is Kong's 400 `Cannot parse JSON body`), fields for urlencoded and multipart forms,
 * otherwise the raw body is left to the endpoint.
 */
export function parseBodyParams(req: IncomingMessage, body: Buffer): BodyParams {
  const type = mediaType(req);
  if (type.includes('application/json')) {
    if (body.length === 0) return { kind: 'json', value: {} };
    try {
      return { kind: 'json', value: JSON.parse(body.toString('utf8')) as unknown };
    } catch {
      return { kind: 'bad-json' };
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const fields = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) if (!fields.has(k)) fields.set(k, v);
    return { kind: 'form', fields };
  }
  if (type === 'multipart/form-data') {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers['content-type'] ?? '');
    const b = boundary?.[1] ?? boundary?.[2]?.trim();
    return { kind: 'form', fields: b ? parseMultipart(body, b) : new Map() };
  }
  return { kind: 'raw' };
}

/** Field name -> content (first occurrence) of a multipart/form-data body; file parts included. */
export function parseMultipart(body: Buffer, boundary: string): Map<string, string> {
  const fields = new Map<string, string>();
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing `--boundary--`
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const head = part.subarray(0, headerEnd).toString('utf8');
      const name = /content-disposition:[^\r\n]*?\bname="([^"]*)"/i.exec(head)?.[1];
      if (name !== undefined && !fields.has(name)) fields.set(name, part.subarray(headerEnd + 4).toString('utf8'));
    }
    pos = next;
  }
  return fields;
}
