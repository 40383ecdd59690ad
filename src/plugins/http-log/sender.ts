/**
 * @module plugins/http-log/sender
 * Sends one batch to the log server the way Kong's http-log does: one JSON object as the body
 * when `max_batch_size` is 1, otherwise a JSON array of the entries; `Content-Type` from the
 * config, `Authorization: Basic` from the endpoint's userinfo, the configured headers (which never
 * replace those three or Content-Length), TLS certificates not verified (Kong's `ssl_verify =
 * false`). A status below 300 is success; anything else (or a network error) throws, and the
 * queue retries.
 */
import type { Agent } from 'undici';
import { loadUndici } from '../../net/undici.ts';
import { VERSION } from '../../version.ts';
import type { ParsedEndpoint } from './schema.ts';

export interface SendOptions {
  endpoint: ParsedEndpoint;
  method: string;
  contentType: string;
  /** ms, for connecting, and between bytes sent or received. */
  timeout: number;
  /** ms a connection may idle in the pool. */
  keepalive: number;
  headers: Readonly<Record<string, string>> | null | undefined;
  /** true: the body is a JSON array of the entries; false: exactly one entry. */
  array: boolean;
}

const agents = new Map<string, Agent>();

function agentFor(AgentClass: typeof Agent, timeout: number, keepalive: number): Agent {
  const key = `${timeout}:${keepalive}`;
  let a = agents.get(key);
  if (!a) {
    const idle = Math.max(1, keepalive);
    a = new AgentClass({
      keepAliveTimeout: idle,
      keepAliveMaxTimeout: Math.max(idle, 600_000),
      connect: { timeout: Math.max(1, timeout), rejectUnauthorized: false },
    });
    agents.set(key, a);
  }
  return a;
}

/** Closes pooled connections (tests; a worker simply exits). */
export async function closeSenders(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close().catch(() => {})));
}

/** The request body for a batch: one entry, or `[e1,e2,…]`. */
export function batchBody(entries: readonly string[], array: boolean): string {
  // A queue shared with an instance that batches may hand over several entries: send an array.
  if (!array && entries.length === 1) return entries[0]!;
  return `[${entries.join(',')}]`;
}

/** The request headers Kong's http-log sends. */
export function requestHeaders(o: SendOptions, contentLength: number): Record<string, string> {
  const out: Record<string, string> = { 'User-Agent': `turnpike/${VERSION}` };
  const fixed = new Set(['content-type', 'content-length', 'host']);
  if (o.endpoint.userinfo !== null) fixed.add('authorization');
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (fixed.has(k.toLowerCase())) continue;
    if (k.toLowerCase() === 'user-agent') delete out['User-Agent'];
    out[k] = v;
  }
  out['Content-Type'] = o.contentType;
  out['Content-Length'] = String(contentLength);
  if (o.endpoint.userinfo !== null) out['Authorization'] = `Basic ${Buffer.from(o.endpoint.userinfo).toString('base64')}`;
  return out;
}

/** Sends one batch; throws with Kong's message when it was not accepted. */
export async function sendBatch(o: SendOptions, entries: readonly string[]): Promise<void> {
  const body = Buffer.from(batchBody(entries, o.array));
  const { scheme, host, port, path } = o.endpoint;
  const origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const { Agent, request } = await loadUndici();
  let res;
  try {
    res = await request(origin + path, {
      dispatcher: agentFor(Agent, o.timeout, o.keepalive),
      method: o.method as 'POST',
      headers: requestHeaders(o, body.length),
      body,
      headersTimeout: Math.max(1, o.timeout),
      bodyTimeout: Math.max(1, o.timeout),
      reset: o.keepalive <= 0,
    });
  } catch (err) {
    throw new Error(`failed request to ${host}:${port}: ${(err as Error).message}`);
  }
  // Always read the body, also to free the connection for the next batch.
  const text = await res.body.text().catch(() => '');
  if (res.statusCode >= 300) {
    throw new Error(`request to ${host}:${port} returned status code ${res.statusCode} and body ${text}`);
  }
}
