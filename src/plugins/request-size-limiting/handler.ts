/**
 * @module plugins/request-size-limiting/handler
 * Refuses bodies larger than the limit: by the Content-Length header when it is numeric,
 * otherwise by reading the body (chunked uploads). 417 instead of 413 when the client sent
 * `Expect: 100-continue`; 411 when a Content-Length is required and missing.
 */
import type { PluginContext, PluginExit, PluginHandlers } from '../api.ts';
import { UNIT_FACTOR, type RequestSizeLimitingConfig } from './schema.ts';

const EXCEEDED = 'Request size limit exceeded';

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Lua's tonumber on a header value: decimal (or hex) numbers with surrounding spaces. */
function numericLength(v: string | undefined): number | null {
  if (v === undefined) return null;
  const t = v.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return null;
  return Number(t);
}

export function createRequestSizeLimiting(config: RequestSizeLimitingConfig): PluginHandlers {
  // Kong would fail on a null size; treat it as "no limit" rather than refusing everything.
  const allowedBytes = config.allowed_payload_size === null
    ? Infinity
    : config.allowed_payload_size * UNIT_FACTOR[config.size_unit as keyof typeof UNIT_FACTOR];

  const check = (ctx: PluginContext, length: number): PluginExit | undefined => {
    if (length <= allowedBytes) return undefined;
    const expect = first(ctx.request.headers['expect']);
    return { status: expect !== undefined && expect.trim().toLowerCase() === '100-continue' ? 417 : 413, message: EXCEEDED };
  };

  return {
    access(ctx) {
      const length = numericLength(first(ctx.request.headers['content-length']));
      if (length !== null) return check(ctx, length);
      if (config.require_content_length && first(ctx.request.headers['transfer-encoding']) !== 'chunked') {
        return { status: 411, message: 'A valid Content-Length header is required' };
      }
      // HTTP/1.1 without Content-Length or Transfer-Encoding has no body: nothing to read.
      if (ctx.request.headers['transfer-encoding'] === undefined) return check(ctx, 0);
      // No usable length (chunked upload): count what arrives. The gateway keeps the body it
      // read and sends it upstream.
      return ctx.request.readBody().then((body) => check(ctx, body.length));
    },
  };
}
