/**
 * @module gateway/upstream/balancer/test-fixtures
 * Upstream, target and request builders shared by the balancer and health tests: Kong's schema
 * defaults, overridable field by field, so each test states only what it is about.
 */
import type { Healthchecks, Target, Upstream } from '../../../config/entities.ts';
import type { BalanceRequest } from './hash-value.ts';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export { defaultHealthchecks } from '../../../config/normalize.ts';
import { defaultHealthchecks } from '../../../config/normalize.ts';

function merge<T>(base: T, patch: DeepPartial<T> | undefined): T {
  if (!patch) return base;
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' ? merge(cur, v as never) : v;
  }
  return out as T;
}

export function makeUpstream(patch: DeepPartial<Upstream> = {}): Upstream {
  const base: Upstream = {
    id: 'u-1', name: 'backend', created_at: 1, updated_at: 1, tags: null,
    algorithm: 'round-robin', hash_on: 'none', hash_fallback: 'none',
    hash_on_header: null, hash_fallback_header: null, hash_on_cookie: null, hash_on_cookie_path: '/',
    hash_on_query_arg: null, hash_fallback_query_arg: null, hash_on_uri_capture: null, hash_fallback_uri_capture: null,
    slots: 10000, host_header: null, client_certificate: null, use_srv_name: false,
    healthchecks: defaultHealthchecks(),
  };
  return merge(base, patch);
}

let nextId = 0;
export function makeTarget(target: string, weight = 100, createdAt = 1): Target {
  nextId++;
  return {
    id: `t-${String(nextId).padStart(4, '0')}`, created_at: createdAt, updated_at: createdAt, tags: null,
    upstream: { id: 'u-1' }, target, weight,
  };
}

export interface FakeRequestInit {
  clientIp?: string;
  consumerId?: string | null;
  headers?: Record<string, string | string[]>;
  cookies?: Record<string, string>;
  path?: string;
  query?: Record<string, string | boolean | (string | boolean)[]>;
  captures?: Record<string, string>;
}

/** A BalanceRequest that remembers Set-Cookie values it was asked to send. */
export function fakeRequest(init: FakeRequestInit = {}): BalanceRequest & { setCookies: string[] } {
  const cookies = { ...(init.cookies ?? {}) };
  const setCookies: string[] = [];
  return {
    clientIp: init.clientIp ?? '10.0.0.1',
    consumerId: init.consumerId ?? null,
    header: (name) => init.headers?.[name],
    cookie: (name) => cookies[name],
    path: init.path ?? '/',
    query: (name) => init.query?.[name],
    uriCapture: (name) => init.captures?.[name],
    setCookie(header, name, value) { setCookies.push(header); cookies[name] = value; },
    setCookies,
  };
}
