/**
 * @module plugins/key-auth/consumer-headers
 * What every Kong authentication plugin does once it knows who is calling: set the consumer and
 * credential on the request and tell the upstream through the X-Consumer-* headers. Shared by
 * key-auth, basic-auth, jwt and hmac-auth (it lives here because key-auth came first).
 *
 * Every header is either set from the authenticated consumer or removed, so a client-sent copy
 * never reaches the upstream once an auth plugin has run.
 */
import type { Consumer } from '../../config/entities.ts';
import type { Credential, PluginContext, PluginExit, RequestView } from '../api.ts';

export const HEADER_CONSUMER_ID = 'x-consumer-id';
export const HEADER_CONSUMER_CUSTOM_ID = 'x-consumer-custom-id';
export const HEADER_CONSUMER_USERNAME = 'x-consumer-username';
export const HEADER_CREDENTIAL_IDENTIFIER = 'x-credential-identifier';
export const HEADER_ANONYMOUS = 'x-anonymous-consumer';

/**
 * Authenticates the request and writes the consumer headers. `identifier` is what the plugin
 * reports as X-Credential-Identifier (key-auth: credential id; basic/hmac: username; jwt: key);
 * a null credential means the anonymous consumer was applied.
 */
export function setConsumer(ctx: PluginContext, consumer: Consumer | null, credential: Credential | null,
  identifier: string | null): void {
  ctx.authenticate(consumer, credential);
  const up = ctx.upstream;
  if (consumer?.id) up.setHeader(HEADER_CONSUMER_ID, consumer.id);
  else up.removeHeader(HEADER_CONSUMER_ID);
  if (consumer?.custom_id) up.setHeader(HEADER_CONSUMER_CUSTOM_ID, consumer.custom_id);
  else up.removeHeader(HEADER_CONSUMER_CUSTOM_ID);
  if (consumer?.username) up.setHeader(HEADER_CONSUMER_USERNAME, consumer.username);
  else up.removeHeader(HEADER_CONSUMER_USERNAME);
  if (credential && identifier) up.setHeader(HEADER_CREDENTIAL_IDENTIFIER, identifier);
  else up.removeHeader(HEADER_CREDENTIAL_IDENTIFIER);
  if (credential) up.removeHeader(HEADER_ANONYMOUS);
  else up.setHeader(HEADER_ANONYMOUS, 'true');
}

/**
 * Applies the configured anonymous consumer (looked up by id or username). A missing consumer is
 * a configuration error, answered as Kong does with a 500 naming it.
 */
export function setAnonymousConsumer(ctx: PluginContext, anonymous: string): PluginExit | undefined {
  const consumer = ctx.consumers.consumer(anonymous);
  if (!consumer) {
    ctx.log.error(`anonymous consumer ${anonymous} is configured but doesn't exist`);
    return { status: 500, message: `anonymous consumer ${anonymous} is configured but doesn't exist` };
  }
  setConsumer(ctx, consumer, null, null);
  return undefined;
}

/**
 * A request header the way Kong's `kong.request.get_header` finds it: case-insensitive, and a name
 * with underscores also matches the hyphenated spelling. Repeated headers give their first value.
 */
export function firstHeader(req: RequestView, lowerName: string): string | undefined {
  let v = req.headers[lowerName];
  if (v === undefined && lowerName.includes('_')) v = req.headers[lowerName.replace(/_/g, '-')];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * All values of a request header, as Kong's `kong.request.get_headers()[name]` sees them: a string
 * for one header line, an array when the client sent the header more than once. Node joins
 * repeated custom headers with ", ", so a joined value is checked against the raw header lines.
 */
export function headerValues(req: RequestView, lowerName: string): string | string[] | undefined {
  let name = lowerName;
  let v = req.headers[name];
  if (v === undefined && name.includes('_')) {
    name = name.replace(/_/g, '-');
    v = req.headers[name];
  }
  if (typeof v === 'string' && v.includes(',')) {
    // Node joins repeated header lines with ", "; the raw lines tell a repeat from a comma.
    const lines = req.headerValues(name);
    if (lines.length > 1) return [...lines];
  }
  return v;
}

/** The header Kong sends with every 401 of this plugin kind, with an optional realm. */
export function challenge(scheme: string, realm: string | null): string {
  return realm === null ? scheme : `${scheme} realm="${realm}"`;
}

const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;
const BASE64URL_CHARS = /^[A-Za-z0-9_-]*$/;

/**
 * nginx's base64 decoding (`ngx.decode_base64` / `decode_base64url`): input ends at the first `=`,
 * any character outside the alphabet or a dangling 6 bits (length % 4 == 1) makes it invalid
 * (null). Node's decoder would silently skip bad characters instead.
 */
export function decodeBase64Strict(input: string, url = false): Buffer | null {
  const eq = input.indexOf('=');
  const data = eq === -1 ? input : input.slice(0, eq);
  if (data.length % 4 === 1 || !(url ? BASE64URL_CHARS : BASE64_CHARS).test(data)) return null;
  return Buffer.from(data, url ? 'base64url' : 'base64');
}
