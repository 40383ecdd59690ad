/**
 * @module controller/translator/upstream-policy
 * KongUpstreamPolicy (configuration.konghq.com/v1beta1) → Kong upstream fields. A Service opts in
 * with `konghq.com/upstream-policy: <name>` (same namespace); all Services behind one Kong upstream
 * must name the same policy. camelCase spec fields become Kong's snake_case upstream fields.
 */

import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import { ANN } from './annotations.ts';
import { compareStrings, rec, str } from './fields.ts';

type Json = Record<string, unknown>;

function hashOnType(h: Json | undefined): string | undefined {
  if (!h) return undefined;
  if (str(h['input'])) return str(h['input']);
  if (str(h['header'])) return 'header';
  if (str(h['cookie'])) return 'cookie';
  if (str(h['queryArg'])) return 'query_arg';
  if (str(h['uriCapture'])) return 'uri_capture';
  return undefined;
}

function pick(src: Json | undefined, mapping: Record<string, string>, out: Json, transform?: (k: string, v: unknown) => unknown): void {
  if (!src) return;
  for (const [from, to] of Object.entries(mapping)) {
    if (src[from] === undefined || src[from] === null) continue;
    out[to] = transform ? transform(from, src[from]) : src[from];
  }
}

function healthy(h: unknown): Json | undefined {
  const r = rec(h);
  if (!r) return undefined;
  const out: Json = {};
  pick(r, { httpStatuses: 'http_statuses', interval: 'interval', successes: 'successes' }, out);
  return out;
}

function unhealthy(h: unknown): Json | undefined {
  const r = rec(h);
  if (!r) return undefined;
  const out: Json = {};
  pick(r, { httpFailures: 'http_failures', httpStatuses: 'http_statuses', tcpFailures: 'tcp_failures', timeouts: 'timeouts', interval: 'interval' }, out);
  return out;
}

function healthchecks(hc: Json | undefined): Json | undefined {
  if (!hc) return undefined;
  const out: Json = {};
  const active = rec(hc['active']);
  if (active) {
    const a: Json = {};
    pick(active, { concurrency: 'concurrency', httpPath: 'http_path', httpsSni: 'https_sni', httpsVerifyCertificate: 'https_verify_certificate', type: 'type', timeout: 'timeout', headers: 'headers' }, a);
    const h = healthy(active['healthy']);
    if (h) a['healthy'] = h;
    const u = unhealthy(active['unhealthy']);
    if (u) a['unhealthy'] = u;
    out['active'] = a;
  }
  const passive = rec(hc['passive']);
  if (passive) {
    const p: Json = {};
    if (passive['type'] !== undefined) p['type'] = passive['type'];
    const h = healthy(passive['healthy']);
    if (h) p['healthy'] = h;
    const u = unhealthy(passive['unhealthy']);
    if (u) p['unhealthy'] = u;
    out['passive'] = p;
  }
  if (typeof hc['threshold'] === 'number') out['threshold'] = hc['threshold'];
  return out;
}

/** upstreamFieldsFromPolicy translates a KongUpstreamPolicy spec into Kong upstream fields. */
export function upstreamFieldsFromPolicy(spec: Json | undefined): Json {
  const out: Json = {};
  if (!spec) return out;
  if (str(spec['algorithm'])) out['algorithm'] = spec['algorithm'];
  if (typeof spec['slots'] === 'number') out['slots'] = spec['slots'];
  const hc = healthchecks(rec(spec['healthchecks']));
  if (hc) out['healthchecks'] = hc;
  const hashOn = rec(spec['hashOn']);
  const fallback = rec(spec['hashOnFallback']);
  const ho = hashOnType(hashOn);
  if (ho) out['hash_on'] = ho;
  if (str(hashOn?.['header'])) out['hash_on_header'] = hashOn!['header'];
  if (str(hashOn?.['uriCapture'])) out['hash_on_uri_capture'] = hashOn!['uriCapture'];
  if (str(hashOn?.['queryArg'])) out['hash_on_query_arg'] = hashOn!['queryArg'];
  const cookie = str(hashOn?.['cookie']) ?? str(fallback?.['cookie']);
  if (cookie) out['hash_on_cookie'] = cookie;
  const cookiePath = str(hashOn?.['cookiePath']) ?? str(fallback?.['cookiePath']);
  if (cookiePath) out['hash_on_cookie_path'] = cookiePath;
  const hf = hashOnType(fallback);
  if (hf) out['hash_fallback'] = hf;
  if (str(fallback?.['header'])) out['hash_fallback_header'] = fallback!['header'];
  if (str(fallback?.['uriCapture'])) out['hash_fallback_uri_capture'] = fallback!['uriCapture'];
  if (str(fallback?.['queryArg'])) out['hash_fallback_query_arg'] = fallback!['queryArg'];
  const sticky = rec(spec['stickySessions']);
  if (sticky) {
    out['sticky_sessions_cookie'] = str(sticky['cookie'], true) ?? '';
    if (str(sticky['cookiePath'])) out['sticky_sessions_cookie_path'] = sticky['cookiePath'];
  }
  return out;
}

/** policyForServices finds the KongUpstreamPolicy shared by a group of Services (or an error text). */
export function policyForServices(store: Store, services: readonly K8sObject[]): { policy?: K8sObject; error?: string } {
  if (services.length === 0) return {};
  const names = new Set(services.map((s) => s.metadata.annotations?.[ANN.upstreamPolicy] ?? '\u0000none'));
  if (names.size > 1) {
    const list = services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort(compareStrings).join(', ');
    return { error: `inconsistent KongUpstreamPolicy configuration for services ${list}` };
  }
  const name = services[0]!.metadata.annotations?.[ANN.upstreamPolicy];
  if (name === undefined) return {};
  const ns = services[0]!.metadata.namespace ?? 'default';
  const policy = store.get(GK.KongUpstreamPolicy, ns, name);
  if (!policy) return { error: `failed fetching KongUpstreamPolicy: KongUpstreamPolicy ${ns}/${name} not found` };
  return { policy };
}
