/**
 * @module gateway/settings
 * Node-level settings (Kong's kong.conf properties that change wire behaviour), parsed once from
 * CLI flags / environment variables and shared by every worker.
 */
import { CidrSet } from '../net/cidr.ts';
import { otlpTracesUrl } from '../observability/tracing/endpoint.ts';
import { checkAccessLogTarget } from '../observability/access-log-target.ts';

export interface HeaderFlags {
  server: boolean;
  via: boolean;
  proxyLatency: boolean;
  upstreamLatency: boolean;
  responseLatency: boolean;
  requestId: boolean;
  upstreamStatus: boolean;
}

export interface GatewaySettings {
  version: string;
  headers: HeaderFlags;
  /** Send `X-Kong-Request-Id` to the upstream (Kong's `headers_upstream`). */
  upstreamRequestId: boolean;
  trustedIps: CidrSet;
  /** Lower-cased header holding the real client IP (Kong's `real_ip_header`). */
  realIpHeader: string;
  realIpRecursive: boolean;
  /** 0 = unlimited (Kong's `nginx_http_client_max_body_size`). */
  clientMaxBodySize: number;
  /** Time to receive a request's headers, ms (Kong's `nginx_http_client_header_timeout`, 60 s). */
  clientHeaderTimeoutMs: number;
  /** Longest pause between two reads of a request body, ms (Kong's `nginx_http_client_body_timeout`, 60 s). */
  clientBodyTimeoutMs: number;
  /** `off`, `stdout`, `stderr` or a file path (see observability/access-log.ts). */
  accessLog: string;
  /** OTLP/HTTP traces URL, or null: tracing off (no spans, no trace headers read). */
  otlpEndpoint: string | null;
}

/**
 * Parses Kong's `headers` property: a comma list of header names and the groups
 * `server_tokens` (Server, Via) and `latency_tokens` (the latency headers), or `off`.
 * Turnpike's default leaves out `X-Kong-Request-Id` so the getting-started bodies match byte for byte.
 */
export function parseHeaderFlags(value: string): HeaderFlags {
  const f: HeaderFlags = {
    server: false, via: false, proxyLatency: false, upstreamLatency: false, responseLatency: false,
    requestId: false, upstreamStatus: false,
  };
  for (const raw of value.split(',')) {
    const v = raw.trim().toLowerCase();
    switch (v) {
      case 'off': case '': break;
      case 'server_tokens': f.server = f.via = true; break;
      case 'latency_tokens': f.proxyLatency = f.upstreamLatency = f.responseLatency = true; break;
      case 'server': f.server = true; break;
      case 'via': f.via = true; break;
      case 'x-kong-proxy-latency': f.proxyLatency = true; break;
      case 'x-kong-upstream-latency': f.upstreamLatency = true; break;
      case 'x-kong-response-latency': f.responseLatency = true; break;
      case 'x-kong-admin-latency': break;
      case 'x-kong-request-id': f.requestId = true; break;
      case 'x-kong-upstream-status': f.upstreamStatus = true; break;
      default: throw new Error(`invalid value in 'headers': '${raw.trim()}'`);
    }
  }
  return f;
}

export const DEFAULT_HEADERS = 'server_tokens, latency_tokens';

export interface SettingsInput {
  version: string;
  headers?: string;
  headersUpstream?: string;
  trustedIps?: string;
  realIpHeader?: string;
  realIpRecursive?: boolean;
  clientMaxBodySize?: number;
  clientHeaderTimeoutMs?: number;
  clientBodyTimeoutMs?: number;
  accessLog?: string;
  otlpEndpoint?: string;
}

/** nginx time syntax as kong.conf takes it: `60s`, `500ms`, `1m`; a bare number is seconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new Error(`invalid duration '${v}': expected e.g. 60s, 500ms or 1m`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
}

function positiveMs(v: number | undefined, name: string): number {
  const ms = v ?? 60_000;
  if (!Number.isFinite(ms) || ms < 1) throw new Error(`${name} must be a positive duration`);
  return ms;
}

/** A flag or environment value the gateway cannot start with; the CLI prints its message alone. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export function buildSettings(input: SettingsInput): GatewaySettings {
  try {
    return settingsFrom(input);
  } catch (err) {
    throw new SettingsError((err as Error).message);
  }
}

function settingsFrom(input: SettingsInput): GatewaySettings {
  const trusted = (input.trustedIps ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    version: input.version,
    headers: parseHeaderFlags(input.headers ?? DEFAULT_HEADERS),
    upstreamRequestId: (input.headersUpstream ?? 'x-kong-request-id').toLowerCase().includes('x-kong-request-id'),
    trustedIps: new CidrSet(trusted),
    realIpHeader: (input.realIpHeader ?? 'X-Real-IP').toLowerCase(),
    realIpRecursive: input.realIpRecursive ?? false,
    clientMaxBodySize: input.clientMaxBodySize ?? 0,
    clientHeaderTimeoutMs: positiveMs(input.clientHeaderTimeoutMs, 'client header timeout'),
    clientBodyTimeoutMs: positiveMs(input.clientBodyTimeoutMs, 'client body timeout'),
    accessLog: accessLogSetting(input.accessLog),
    otlpEndpoint: otlpTracesUrl(input.otlpEndpoint),
  };
}

/** `off`, `stdout`, `stderr` or an absolute file path that can be appended to. */
function accessLogSetting(value: string | undefined): string {
  const target = checkAccessLogTarget(value);
  return typeof target === 'object' ? target.file : target;
}
