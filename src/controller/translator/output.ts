/**
 * @module controller/translator/output
 * Turns the translator's working state into Kong's declarative config (`_format_version: "3.0"`),
 * in decK's shape: services with nested routes, upstreams with nested targets, consumers with
 * nested credentials, certificates with nested SNIs, and plugins at the top level referring to their
 * service/route/consumer by name. Arrays are sorted and object keys ordered alphabetically, so the
 * same input always gives the same bytes.
 */

import { compareStrings } from './fields.ts';
import type { ConsumerDraft } from './kong-consumer.ts';
import type { ServiceDraft, UpstreamDraft } from './model.ts';

/** DeclarativeConfig is the translator's output: a Kong 3.0 declarative config (input form). */
export interface DeclarativeConfig {
  _format_version: '3.0';
  services?: Record<string, unknown>[];
  upstreams?: Record<string, unknown>[];
  consumers?: Record<string, unknown>[];
  plugins?: Record<string, unknown>[];
  certificates?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** canonical returns a deep copy with object keys sorted (arrays keep their order). */
export function canonical<T>(value: T): T {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return value.slice() as T;
    return value.map((v) => canonical(v)) as T;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(value as Record<string, unknown>);
    if (keys.length > 1) keys.sort(compareStrings);
    for (const k of keys) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out as T;
  }
  return value;
}

function pluginSortKey(p: Record<string, unknown>): string {
  return [p['name'], p['instance_name'], p['service'], p['route'], p['consumer']].map((v) => (typeof v === 'string' ? v : '')).join('\u0000');
}

/** AssembleInput is everything the final config is built from. */
export interface AssembleInput {
  services: readonly ServiceDraft[];
  upstreams: readonly UpstreamDraft[];
  consumers: readonly ConsumerDraft[];
  plugins: readonly Record<string, unknown>[];
  certificates: readonly Record<string, unknown>[];
  appendStubWhenEmpty: boolean;
}

/** assembleConfig builds the sorted, canonical declarative config. */
export function assembleConfig(input: AssembleInput): DeclarativeConfig {
  const plugins: Record<string, unknown>[] = [...input.plugins];
  const services = [...input.services]
    .sort((a, b) => compareStrings(a.name, b.name))
    .map((s) => {
      for (const p of s.plugins) plugins.push({ name: p.name, config: p.config, service: s.name, ...(p.tags ? { tags: p.tags } : {}) });
      const routes = [...s.routes]
        .sort((a, b) => compareStrings(a.fields.name, b.fields.name))
        .map((r) => {
          for (const p of r.plugins) plugins.push({ name: p.name, config: p.config, route: r.fields.name, ...(p.tags ? { tags: p.tags } : {}) });
          return { ...r.fields };
        });
      const entity: Record<string, unknown> = { ...s.fields, tags: s.tags };
      if (routes.length > 0) entity['routes'] = routes;
      return entity;
    });
  const upstreams = [...input.upstreams]
    .sort((a, b) => compareStrings(a.fields.name, b.fields.name))
    .map((u) => {
      const entity: Record<string, unknown> = { ...u.fields };
      if (Array.isArray(entity['tags']) && entity['tags'].length === 0) delete entity['tags'];
      const targets = [...u.targets].sort((a, b) => compareStrings(a.target, b.target)).map((t) => ({ ...t }));
      if (targets.length > 0) entity['targets'] = targets;
      return entity;
    });
  const consumers = input.consumers
    .map((c) => {
      const entity: Record<string, unknown> = { ...c.entity };
      for (const [k, v] of Object.entries(entity)) {
        if (Array.isArray(v) && v.length > 1 && k !== 'tags') {
          entity[k] = [...v].sort((a, b) => compareStrings(JSON.stringify(canonical(a)), JSON.stringify(canonical(b))));
        }
      }
      return entity;
    })
    .sort((a, b) => compareStrings(String(a['username'] ?? ''), String(b['username'] ?? '')) || compareStrings(String(a['custom_id'] ?? ''), String(b['custom_id'] ?? '')));
  plugins.sort((a, b) => compareStrings(pluginSortKey(a), pluginSortKey(b)));
  const certificates = [...input.certificates]
    .map((c): Record<string, unknown> => {
      const out: Record<string, unknown> = { ...c };
      if (Array.isArray(c['snis'])) out['snis'] = [...(c['snis'] as { name: string }[])].sort((a, b) => compareStrings(a.name, b.name));
      return out;
    })
    .sort((a, b) => compareStrings(String(a['id'] ?? a['cert']), String(b['id'] ?? b['cert'])));

  const config: DeclarativeConfig = { _format_version: '3.0' };
  if (certificates.length > 0) config.certificates = certificates;
  if (consumers.length > 0) config.consumers = consumers;
  if (plugins.length > 0) config.plugins = plugins;
  if (services.length > 0) config.services = services;
  if (upstreams.length > 0) config.upstreams = upstreams;
  const empty = !config.certificates && !config.consumers && !config.plugins && !config.services && !config.upstreams;
  if (empty && input.appendStubWhenEmpty) config.upstreams = [{ name: 'kong' }];
  return canonical(config);
}
