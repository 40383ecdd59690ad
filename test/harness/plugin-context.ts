/**
 * @module test/harness/plugin-context
 * A real `RequestContext` (the one the gateway uses) over a synthetic client request, for
 * testing a plugin's handlers without sockets. Integration tests go through a real gateway
 * process instead (gateway-process.ts).
 */
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { emptyConfig, type Config, type Route, type Service } from '../../src/config/entities.ts';
import { IndexedConsumerDirectory } from '../../src/gateway/consumer-directory.ts';
import { ClientRequestView, RequestContext, UpstreamRequestState, type HeaderMap } from '../../src/gateway/pipeline/context.ts';
import { upstreamHeadersFrom } from '../../src/gateway/upstream/request-headers.ts';
import { LocalCounterStore, LocalSharedCache } from '../../src/gateway/shared-state/local.ts';
import type { CounterStore, PluginDefinition, PluginLogger, SharedCache } from '../../src/plugins/api.ts';
import { validateConfig } from '../../src/config/validate.ts';

export interface FakeRequest {
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  clientIp?: string;
  scheme?: 'http' | 'https';
  config?: Partial<Config>;
  route?: Route | null;
  service?: Service | null;
  counters?: CounterStore;
  cache?: SharedCache;
}

export const silentLog: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };

export function makeContext(r: FakeRequest = {}): RequestContext {
  const raw = new http.IncomingMessage(new net.Socket());
  raw.method = r.method ?? 'GET';
  raw.url = (r.path ?? '/') + (r.query ? `?${r.query}` : '');
  const headers: Record<string, string | string[]> = { host: 'example.test' };
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  if (r.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  raw.headers = headers;
  if (r.body !== undefined) {
    const src = Readable.from([Buffer.from(r.body)]);
    src.on('data', (c) => raw.push(c));
    src.on('end', () => raw.push(null));
  } else {
    raw.push(null);
  }
  const config: Config = { ...emptyConfig(), ...(r.config ?? {}) };
  const ip = r.clientIp ?? '127.0.0.1';
  const view = new ClientRequestView(raw, r.scheme ?? 'http', 8000, r.path ?? '/', r.query ?? '', 'example.test', ip, ip);
  const up = new UpstreamRequestState(upstreamHeadersFrom(headers as HeaderMap), raw.method, r.path ?? '/', r.query ?? '');
  const ctx = new RequestContext(view, up, {
    consumers: new IndexedConsumerDirectory(config),
    counters: r.counters ?? new LocalCounterStore(),
    cache: r.cache ?? new LocalSharedCache(),
    log: silentLog,
  }, performance.now(), () => 'test-request-id');
  ctx.route = r.route ?? null;
  ctx.service = r.service ?? null;
  return ctx;
}

export type PluginConfigCheck = { ok: true; config: Record<string, unknown> } | { ok: false; errors: unknown };

/** Validates one plugin's config as `POST /config` would: the config with defaults, or its error tree. */
export function validatePluginConfig(plugin: { name: string }, config: unknown): PluginConfigCheck {
  const plugins = new Map([[plugin.name, plugin as unknown as PluginDefinition]]);
  const r = validateConfig({ _format_version: '3.0', plugins: [{ name: plugin.name, config }] }, plugins);
  if (r.ok) return { ok: true, config: r.config.plugins[0]!.config as Record<string, unknown> };
  return { ok: false, errors: (r.error.fields.plugins as { config?: unknown }[])[0]!.config };
}

/** A plugin logger that keeps `level: message` lines for assertions. */
export function recordingLog(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (msg: string) => { lines.push(`${level}: ${msg}`); };
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}
