/**
 * @module plugins/oauth2/params
 * OAuth 2.0 parameters as Kong's oauth2 plugin reads them: the query string, merged with the body
 * (form, JSON or multipart) for POST, PUT and PATCH, the body winning.
 */
import type { PluginContext } from '../api.ts';
import { parseBody, type ParsedBody } from '../key-auth/body.ts';

export interface Params {
  /** The raw value: a string, `true` (valueless query arg), an array, or any JSON value. */
  get(name: string): unknown;
  /** The value when it is a string, else undefined. */
  str(name: string): string | undefined;
  readonly body: ParsedBody | null;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export async function readParams(ctx: PluginContext): Promise<Params> {
  const query = ctx.request.query();
  let body: ParsedBody | null = null;
  if (BODY_METHODS.has(ctx.request.method)) {
    const ct = ctx.request.headers['content-type'];
    const buf = await ctx.request.readBody().catch(() => Buffer.alloc(0));
    body = parseBody(Array.isArray(ct) ? ct[0] : ct, buf);
  }
  const get = (name: string): unknown => {
    const fromBody = body?.get(name);
    return fromBody !== undefined ? fromBody : query[name];
  };
  return {
    get,
    str(name) {
      const v = get(name);
      return typeof v === 'string' ? v : undefined;
    },
    body,
  };
}
