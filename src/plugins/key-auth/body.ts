/**
 * @module plugins/key-auth/body
 * The request body as Kong's `kong.request.get_body()` reads it for key-auth: url-encoded forms,
 * JSON objects and multipart forms, keyed by field name, a repeated field giving an array. Also
 * removes a field (hide_credentials) while leaving the rest of the body as the client sent it.
 */

/** One parsed body: field lookup and removal. */
export interface ParsedBody {
  /** The field's value: a string, an array (repeated field / JSON array or object), or other. */
  get(name: string): unknown;
  /** The body without the field, or null when the field was not there. */
  without(name: string): Buffer | null;
}

const EMPTY_BODY: ParsedBody = { get: () => undefined, without: () => null };

function decodeFormComponent(s: string): string {
  const spaced = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!spaced.includes('%')) return spaced;
  try { return decodeURIComponent(spaced); } catch { return spaced; }
}

function formBody(text: string): ParsedBody {
  const pairs = text === '' ? [] : text.split('&');
  const values = new Map<string, unknown>();
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq));
    // A field without `=` is a boolean `true` for nginx, never a key.
    const value: string | true = eq === -1 ? true : decodeFormComponent(pair.slice(eq + 1));
    const prev = values.get(key);
    if (prev === undefined) values.set(key, value);
    else if (Array.isArray(prev)) prev.push(value);
    else values.set(key, [prev, value]);
  }
  return {
    get: (name) => values.get(name),
    without(name) {
      if (!values.has(name)) return null;
      const kept = pairs.filter((pair) => {
        const eq = pair.indexOf('=');
        return decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq)) !== name;
      });
      return Buffer.from(kept.join('&'));
    },
  };
}

function jsonBody(text: string): ParsedBody {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { return EMPTY_BODY; }
  // Kong accepts any JSON table, but an array has no named fields and a scalar is refused.
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return EMPTY_BODY;
  const obj = doc as Record<string, unknown>;
  return {
    get: (name) => (Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined),
    without(name) {
      if (!Object.prototype.hasOwnProperty.call(obj, name)) return null;
      delete obj[name];
      return Buffer.from(JSON.stringify(obj));
    },
  };
}

interface MultipartPart { name: string | null; value: string; raw: string }

function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/** Splits a multipart body (handled as latin1 text so byte offsets are kept exactly). */
function multipartBody(buf: Buffer, contentType: string): ParsedBody {
  const boundary = boundaryOf(contentType);
  if (!boundary) return EMPTY_BODY;
  const text = buf.toString('latin1');
  const delimiter = `--${boundary}`;
  const first = text.indexOf(delimiter);
  if (first === -1) return EMPTY_BODY;
  const preamble = text.slice(0, first);
  const parts: MultipartPart[] = [];
  let pos = first + delimiter.length;
  let epilogue = '';
  for (;;) {
    if (text.startsWith('--', pos)) { epilogue = text.slice(pos); break; }
    const next = text.indexOf(`\r\n${delimiter}`, pos);
    if (next === -1) return EMPTY_BODY;
    const raw = text.slice(pos, next);
    const headerEnd = raw.indexOf('\r\n\r\n');
    const head = headerEnd === -1 ? raw : raw.slice(0, headerEnd);
    const content = headerEnd === -1 ? '' : raw.slice(headerEnd + 4);
    const disposition = /content-disposition:[^\r\n]*?\bname="([^"]*)"/i.exec(head)
      ?? /content-disposition:[^\r\n]*?\bname=([^;\s]+)/i.exec(head);
    const name = disposition ? Buffer.from(disposition[1]!, 'latin1').toString('utf8') : null;
    parts.push({ name, value: Buffer.from(content, 'latin1').toString('utf8'), raw });
    pos = next + 2 + delimiter.length;
  }
  const values = new Map<string, unknown>();
  for (const p of parts) {
    if (p.name === null) continue;
    const prev = values.get(p.name);
    if (prev === undefined) values.set(p.name, p.value);
    else if (Array.isArray(prev)) prev.push(p.value);
    else values.set(p.name, [prev, p.value]);
  }
  return {
    get: (name) => values.get(name),
    without(name) {
      if (!values.has(name)) return null;
      let out = preamble;
      for (const p of parts) if (p.name !== name) out += `${delimiter}${p.raw}\r\n`;
      out += delimiter + epilogue;
      return Buffer.from(out, 'latin1');
    },
  };
}

/**
 * Parses `body` by its Content-Type. An absent, unknown or broken body reads as empty, as Kong
 * logs "Cannot process request body" and carries on.
 */
export function parseBody(contentType: string | undefined, body: Buffer): ParsedBody {
  if (!contentType) return EMPTY_BODY;
  const semi = contentType.indexOf(';');
  const mime = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (mime.startsWith('application/x-www-form-urlencoded')) return formBody(body.toString('utf8'));
  if (mime.startsWith('application/json')) return jsonBody(body.toString('utf8'));
  if (mime.startsWith('multipart/form-data')) return multipartBody(body, contentType);
  return EMPTY_BODY;
}
