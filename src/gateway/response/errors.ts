/**
 * @module gateway/response/errors
 * Kong's error bodies, byte for byte. Two generators exist in Kong and both are reproduced:
 * `gatewayError` (Kong's `kong.response.error`: negotiated on Accept, JSON by default) used by the
 * router, balancer and plugins; and `proxyError` (nginx's error_page: Accept, then the request's
 * Content-Type, then text/plain) used for upstream failures, oversized requests and the like.
 */

/** Kong's default message per status (kong/pdk/response.lua). */
const MESSAGES: Record<number, string> = {
  400: 'Bad request', 401: 'Unauthorized', 402: 'Payment required', 403: 'Forbidden',
  404: 'Not found', 405: 'Method not allowed', 406: 'Not acceptable',
  407: 'Proxy authentication required', 408: 'Request timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length required', 412: 'Precondition failed', 413: 'Payload too large',
  414: 'URI too long', 415: 'Unsupported media type', 416: 'Range not satisfiable',
  417: 'Expectation failed', 418: "I'm a teapot", 421: 'Misdirected request',
  422: 'Unprocessable entity', 423: 'Locked', 424: 'Failed dependency', 425: 'Too early',
  426: 'Upgrade required', 428: 'Precondition required', 429: 'Too many requests',
  431: 'Request header fields too large', 451: 'Unavailable for legal reasons',
  494: 'Request header or cookie too large', 500: 'An unexpected error occurred',
  501: 'Not implemented', 502: 'An invalid response was received from the upstream server',
  503: 'The upstream server is currently unavailable', 504: 'The upstream server is timing out',
  505: 'HTTP version not supported', 506: 'Variant also negotiates', 507: 'Insufficient storage',
  508: 'Loop detected', 510: 'Not extended', 511: 'Network authentication required',
};

export function defaultMessage(status: number): string {
  return MESSAGES[status] ?? `The upstream server responded with ${status}`;
}

export type BodyType = 'json' | 'html' | 'plain' | 'xml';

const CONTENT_TYPES: Record<BodyType, string> = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  plain: 'text/plain; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
};

/**
 * Kong's `get_response_type`: the Accept entry with the highest q wins (first on ties);
 * unknown types and wildcards fall back to JSON.
 */
export function negotiateBodyType(accept: string | undefined, fallback: BodyType = 'json'): BodyType {
  if (!accept) return fallback;
  let best: BodyType = 'json';
  let bestQ = -1;
  for (const part of accept.split(',')) {
    const semi = part.indexOf(';');
    const mime = (semi === -1 ? part : part.slice(0, semi)).trim().toLowerCase();
    let q = 1;
    if (semi !== -1) {
      const m = /(?:^|;)\s*q\s*=\s*([0-9.]+)/.exec(part.slice(semi));
      if (m) q = Number(m[1]);
    }
    if (!(q > bestQ)) continue;
    bestQ = q;
    best = mimeToType(mime);
  }
  return best;
}

function mimeToType(mime: string): BodyType {
  switch (mime) {
    case 'text/html': return 'html';
    case 'text/plain': case 'text/*': return 'plain';
    case 'application/xml': case 'text/xml': return 'xml';
    default: return 'json';
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders Kong's templates. `requestId` is null when the `X-Kong-Request-Id` header is turned
 * off: then the template carries no request id line, as Kong's did before 3.5 (and as the
 * getting-started walkthrough shows: a 45-byte 401).
 */
export function renderError(type: BodyType, message: string, requestId: string | null): { contentType: string; body: string } {
  let body: string;
  switch (type) {
    case 'json':
      body = requestId === null
        ? `{\n  "message":"${message}"\n}`
        : `{\n  "message":"${message}",\n  "request_id":"${requestId}"\n}`;
      break;
    case 'plain':
      body = requestId === null ? `${message}\n` : `${message}\nrequest_id: ${requestId}\n`;
      break;
    case 'xml':
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>${escapeHtml(message)}</message>\n`
        + (requestId === null ? '' : `  <requestid>${requestId}</requestid>\n`) + '</error>\n';
      break;
    case 'html':
      body = '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n'
        + `<body>\n<h1>Error</h1>\n<p>${escapeHtml(message)}.</p>\n`
        + (requestId === null ? '' : `<p>request_id: ${requestId}</p>\n`) + '</body>\n</html>\n';
      break;
  }
  return { contentType: CONTENT_TYPES[type], body };
}

/** Kong's `kong.response.error`: Accept decides, JSON when absent. */
export function gatewayErrorBody(accept: string | undefined, status: number, message: string | undefined, requestId: string | null) {
  return renderError(negotiateBodyType(accept), message ?? defaultMessage(status), requestId);
}

/** nginx's error_page path: Accept, then the request Content-Type, then text/plain. */
export function proxyErrorBody(accept: string | undefined, contentType: string | undefined, status: number, requestId: string | null) {
  const source = accept || contentType;
  const type = source ? negotiateBodyType(source) : 'plain';
  // nginx reports an oversized header block as 494 internally; clients see 400.
  const message = status === 400 ? defaultMessage(400) : defaultMessage(status);
  return renderError(type, message, requestId);
}

/** Error codes of errors Turnpike itself raises (logs, CLI, Admin API). */
export const ErrorCode = {
  CONFIG_INVALID: 'TP_CONFIG_INVALID',
  CONFIG_PARSE: 'TP_CONFIG_PARSE',
  UPSTREAM_CONNECT: 'TP_UPSTREAM_CONNECT',
  UPSTREAM_TIMEOUT: 'TP_UPSTREAM_TIMEOUT',
  UPSTREAM_INVALID: 'TP_UPSTREAM_INVALID',
  NO_PEER: 'TP_NO_PEER',
  PLUGIN_FAILED: 'TP_PLUGIN_FAILED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class TurnpikeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TurnpikeError';
  }
}
