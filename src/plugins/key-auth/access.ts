/**
 * @module plugins/key-auth/access
 * key-auth's access phase, following Kong 3.7+: look for the key under each of `key_names` in
 * order (header, then query, then body), refuse repeated keys, look the credential up and set the
 * consumer. With `anonymous` the plugin is one of several alternatives ("logical OR"); without it,
 * a failure ends the request even if another plugin authenticated ("logical AND").
 */
import type { PluginContext, PluginExit, PluginHandlers } from '../api.ts';
import type { KeyAuthConfig } from './schema.ts';
import { parseBody, type ParsedBody } from './body.ts';
import { challenge, headerValues, setAnonymousConsumer, setConsumer } from './consumer-headers.ts';

export const ERR_DUPLICATE_API_KEY = 'Duplicate API key found';
export const ERR_NO_API_KEY = 'No API key found in request';
export const ERR_INVALID_CREDENTIALS = 'Unauthorized';

/** Turnpike shows `realm="kong"` when no realm is configured (Kong 3.7+ sends a bare `Key`). */
export const DEFAULT_REALM = 'kong';

type Found = { key: string; name: string };
type Failure = { message: string };
/** The scan needs the request body before it can go on. */
const NEED_BODY = Symbol('need body');

interface Compiled {
  names: readonly string[];
  lowerNames: readonly string[];
  header: boolean;
  query: boolean;
  body: boolean;
  hide: boolean;
  anonymous: string | null;
  preflight: boolean;
  unauthorized: Record<string, PluginExit>;
}

function compile(config: KeyAuthConfig): Compiled {
  const wwwAuthenticate = challenge('Key', config.realm ?? DEFAULT_REALM);
  const exit = (message: string): PluginExit => ({ status: 401, message, headers: { 'WWW-Authenticate': wwwAuthenticate } });
  return {
    names: config.key_names,
    lowerNames: config.key_names.map((n) => n.toLowerCase()),
    header: config.key_in_header,
    query: config.key_in_query,
    body: config.key_in_body,
    hide: config.hide_credentials,
    anonymous: config.anonymous ?? null,
    preflight: config.run_on_preflight,
    unauthorized: {
      [ERR_DUPLICATE_API_KEY]: exit(ERR_DUPLICATE_API_KEY),
      [ERR_NO_API_KEY]: exit(ERR_NO_API_KEY),
      [ERR_INVALID_CREDENTIALS]: exit(ERR_INVALID_CREDENTIALS),
    },
  };
}

/**
 * Finds the key. `body` is undefined until read; the scan asks for it (NEED_BODY) only when a name
 * was not found in the header or query and `key_in_body` is on.
 */
function scan(c: Compiled, ctx: PluginContext, body: ParsedBody | undefined): Found | Failure | typeof NEED_BODY {
  let query: Readonly<Record<string, unknown>> | null = null;
  for (let i = 0; i < c.names.length; i++) {
    const name = c.names[i]!;
    let v: unknown;
    if (c.header) v = headerValues(ctx.request, c.lowerNames[i]!);
    if (v === undefined && c.query) v = (query ??= ctx.request.query())[name];
    if (v === undefined && c.body) {
      if (body === undefined) return NEED_BODY;
      v = body.get(name);
    }
    // `true` (a valueless query arg) and non-string JSON values are not keys: try the next name.
    if (typeof v === 'string') return { key: v, name };
    if (Array.isArray(v) || (typeof v === 'object' && v !== null)) return { message: ERR_DUPLICATE_API_KEY };
  }
  return { message: ERR_NO_API_KEY };
}

/** Removes the key from everything that goes upstream under `name`. */
function hideKey(c: Compiled, ctx: PluginContext, name: string, body: ParsedBody | undefined): void {
  const up = ctx.upstream;
  const lower = name.toLowerCase();
  up.removeHeader(lower);
  if (lower.includes('_')) up.removeHeader(lower.replace(/_/g, '-'));
  if (up.query !== '') up.query = withoutQueryArg(up.query, name);
  if (c.body && body) {
    const stripped = body.without(name);
    if (stripped) up.setBody(stripped);
  }
}

/**
 * The query string without any `name` argument. Kong (ada's WHATWG search params) re-serializes
 * the whole query when it clears an argument, writing spaces as `%20`; so does this.
 */
export function withoutQueryArg(query: string, name: string): string {
  const params = new URLSearchParams(query);
  params.delete(name);
  const out = params.toString();
  return out.includes('+') ? out.replace(/\+/g, '%20') : out;
}

/** Authenticates; returns the failure message, or null on success. */
function authenticate(c: Compiled, ctx: PluginContext, body: ParsedBody | undefined): string | null | typeof NEED_BODY {
  const found = scan(c, ctx, body);
  if (found === NEED_BODY) return NEED_BODY;
  if ('message' in found) return found.message;
  // Hiding a key found in the header still strips it from the body, so the body is needed.
  if (c.hide && c.body && body === undefined) return NEED_BODY;
  if (c.hide) hideKey(c, ctx, found.name, body);
  if (found.key === '') return ERR_NO_API_KEY;
  const credential = ctx.consumers.keyAuth(found.key, ctx.request.connection);
  if (!credential) return ERR_INVALID_CREDENTIALS;
  const consumer = ctx.consumers.consumer(credential.consumer.id) ?? null;
  setConsumer(ctx, consumer, credential, credential.id);
  return null;
}

function readParsedBody(ctx: PluginContext): Promise<ParsedBody> {
  const ct = ctx.request.headers['content-type'];
  return ctx.request.readBody().then(
    (buf) => parseBody(Array.isArray(ct) ? ct[0] : ct, buf),
    () => parseBody(undefined, Buffer.alloc(0)),
  );
}

function conclude(c: Compiled, ctx: PluginContext, failure: string | null): PluginExit | undefined {
  if (failure === null) return undefined;
  if (c.anonymous !== null) return setAnonymousConsumer(ctx, c.anonymous);
  return c.unauthorized[failure];
}

export function createKeyAuthHandlers(config: KeyAuthConfig): PluginHandlers {
  const c = compile(config);
  return {
    access(ctx) {
      if (!c.preflight && ctx.request.method === 'OPTIONS') return undefined;
      // Logical OR: another auth plugin already identified the caller.
      if (c.anonymous !== null && ctx.credential) return undefined;
      const result = authenticate(c, ctx, undefined);
      if (result !== NEED_BODY) return conclude(c, ctx, result);
      return readParsedBody(ctx).then((body) => {
        const r = authenticate(c, ctx, body);
        return conclude(c, ctx, r === NEED_BODY ? ERR_NO_API_KEY : r);
      });
    },
  };
}
