/**
 * @module controller/translator/kong-plugin
 * KongPlugin / KongClusterPlugin → Kong plugins. `konghq.com/plugins` on Services, route objects
 * (Ingress, HTTPRoute) and KongConsumers creates relations per plugin; relations combine as KIC's
 * `GetCombinations`: with consumers, consumer × (services ∪ routes) (or consumer alone); otherwise one
 * plugin per service and per route. A name resolves to the KongPlugin in the referrer's namespace,
 * else the KongClusterPlugin; `ns:name` needs a ReferenceGrant. `global: "true"` KongClusterPlugins
 * of our class become global plugins (two with the same plugin name: both dropped).
 */

import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Store } from '../store/store.ts';
import { GK, splitApiVersion, type K8sObject } from '../store/objects.ts';
import { pluginRefs, type PluginRef } from './annotations.ts';
import type { ConsumerDraft } from './kong-consumer.ts';
import type { FailureCollector } from './failures.ts';
import { arr, decodeBase64, rec, str } from './fields.ts';
import { objectMatchesClass, type IngressClassContext } from './ingress-class.ts';
import type { ServiceDraft } from './model.ts';
import { isReferenceGranted } from './reference-grants.ts';
import { tagsFor } from './tags.ts';

interface Relation {
  identifier: string;
  referrer: K8sObject;
}

interface Relations {
  consumers: Relation[];
  services: Relation[];
  routes: Relation[];
}

interface Combination {
  service?: Relation;
  route?: Relation;
  consumer?: Relation;
}

function combinations(r: Relations): Combination[] {
  const out: Combination[] = [];
  if (r.consumers.length > 0) {
    for (const consumer of r.consumers) {
      if (r.services.length + r.routes.length === 0) out.push({ consumer });
      for (const service of r.services) out.push({ service, consumer });
      for (const route of r.routes) out.push({ route, consumer });
    }
    return out;
  }
  for (const service of r.services) out.push({ service });
  for (const route of r.routes) out.push({ route });
  return out;
}

class PluginConfigError extends Error {}

function secretValue(store: Store, ns: string, name: string, key: string): string {
  const secret = store.get(GK.Secret, ns, name);
  if (!secret) throw new PluginConfigError(`Secret ${ns}/${name} not found`);
  const data = rec(secret['data']) ?? {};
  if (!Object.hasOwn(data, key)) throw new PluginConfigError(`no key '${key}' in secret '${ns}/${name}'`);
  return decodeBase64(data[key]) ?? '';
}

function decodePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PluginConfigError(`JSON pointer must start with '/': ${path}`);
  return path.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** jsonPatchAdd applies RFC 6902 `add` (`replace` at the root), creating missing parents. */
export function jsonPatchAdd(doc: unknown, path: string, value: unknown): unknown {
  const tokens = decodePointer(path);
  if (tokens.length === 0) return value;
  const root = structuredClone(doc) as unknown;
  let cur: unknown = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    if (Array.isArray(cur)) {
      const idx = Number(t);
      if (!Number.isInteger(idx) || idx < 0 || idx >= cur.length) throw new PluginConfigError(`add operation does not apply: doc is missing path: "${path}"`);
      cur = cur[idx];
    } else if (rec(cur)) {
      const obj = cur as Record<string, unknown>;
      if (obj[t] === undefined || obj[t] === null) obj[t] = {};
      cur = obj[t];
    } else {
      throw new PluginConfigError(`add operation does not apply: doc is missing path: "${path}"`);
    }
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(cur)) {
    const idx = last === '-' ? cur.length : Number(last);
    if (!Number.isInteger(idx) || idx < 0 || idx > cur.length) throw new PluginConfigError(`add operation does not apply: doc is missing path: "${path}"`);
    cur.splice(idx, 0, value);
  } else if (rec(cur)) {
    (cur as Record<string, unknown>)[last] = value;
  } else {
    throw new PluginConfigError(`add operation does not apply: doc is missing path: "${path}"`);
  }
  return root;
}

function parseConfigText(text: string, ns: string, name: string, key: string): Record<string, unknown> {
  const fail = () => new PluginConfigError(`key '${key}' in secret '${ns}/${name}' contains neither valid JSON nor valid YAML)`);
  try {
    const v: unknown = JSON.parse(text);
    if (rec(v)) return v as Record<string, unknown>;
    if (v === null) return {};
  } catch {
    // fall through to YAML
  }
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch {
    throw fail();
  }
  if (v === null || v === undefined) return {};
  if (!rec(v)) throw fail();
  return v as Record<string, unknown>;
}

/** PluginTemplate is a KongPlugin/KongClusterPlugin turned into a plugin entity without scope. */
interface PluginTemplate {
  source: K8sObject;
  entity: Record<string, unknown>;
  instanceName?: string;
}

/** pluginTemplate builds the plugin entity of a KongPlugin or KongClusterPlugin, or throws PluginConfigError text. */
function pluginTemplate(store: Store, plugin: K8sObject): PluginTemplate | string {
  const cluster = plugin.kind === 'KongClusterPlugin';
  const ns = plugin.metadata.namespace ?? '';
  const id = cluster ? plugin.metadata.name : `${ns}/${plugin.metadata.name}`;
  let config: Record<string, unknown>;
  try {
    const raw = plugin['config'];
    let doc: unknown = rec(raw) ? structuredClone(raw) : {};
    for (const p of arr(plugin['configPatches'])) {
      const patch = rec(p) ?? {};
      const ref = rec(rec(patch['valueFrom'])?.['secretKeyRef']) ?? {};
      const secretNs = cluster ? str(ref['namespace']) ?? '' : ns;
      const text = secretValue(store, secretNs, str(ref['name']) ?? '', str(ref['key']) ?? '');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new PluginConfigError(`invalid JSON value in secret '${secretNs}/${str(ref['name']) ?? ''}' key '${str(ref['key']) ?? ''}'`);
      }
      doc = jsonPatchAdd(doc, str(patch['path'], true) ?? '', value);
    }
    if (!rec(doc)) throw new PluginConfigError('plugin configuration is not an object');
    config = doc as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof PluginConfigError)) throw err;
    return `could not parse KongPlugin ${cluster ? '' : ns}/${plugin.metadata.name} config: ${err.message}`;
  }
  const configFrom = rec(rec(plugin['configFrom'])?.['secretKeyRef']);
  if (configFrom && Object.keys(config).length > 0) {
    return cluster ? `KongClusterPlugin '/${plugin.metadata.name}' has both Config and ConfigFrom set` : `KongPlugin '${id}' has both Config and ConfigFrom set`;
  }
  if (configFrom) {
    const secretNs = cluster ? str(configFrom['namespace']) ?? '' : ns;
    const name = str(configFrom['name']) ?? '';
    const key = str(configFrom['key']) ?? '';
    try {
      let text: string;
      try {
        text = secretValue(store, secretNs, name, key);
      } catch (err) {
        if (err instanceof PluginConfigError && err.message.endsWith('not found')) {
          throw new PluginConfigError(`error fetching plugin configuration secret '${secretNs}/${name}': ${err.message}`);
        }
        throw err;
      }
      config = parseConfigText(text, secretNs, name, key);
    } catch (err) {
      if (!(err instanceof PluginConfigError)) throw err;
      return cluster
        ? `error parsing config for KongClusterPlugin ${plugin.metadata.name}: ${err.message}`
        : `error parsing config for KongPlugin '${plugin.metadata.name}/${ns}': ${err.message}`;
    }
  }
  const entity: Record<string, unknown> = { name: str(plugin['plugin']) ?? '', config };
  if (plugin['disabled'] === true) entity['enabled'] = false;
  const protocols = arr(plugin['protocols']).filter((p): p is string => typeof p === 'string');
  if (protocols.length > 0) entity['protocols'] = protocols;
  const ordering = rec(plugin['ordering']);
  if (ordering) entity['ordering'] = ordering;
  entity['tags'] = tagsFor(plugin);
  const t: PluginTemplate = { source: plugin, entity };
  const inst = str(plugin['instance_name']);
  if (inst) t.instanceName = inst;
  return t;
}

function lookupPlugin(store: Store, ns: string, name: string): K8sObject | undefined {
  const kp = store.get(GK.KongPlugin, ns, name);
  if (kp && kp.apiVersion === 'configuration.konghq.com/v1') return kp;
  const kcp = store.get(GK.KongClusterPlugin, undefined, name);
  if (kcp && kcp.apiVersion === 'configuration.konghq.com/v1') return kcp;
  return undefined;
}

/** translatePlugins builds every scoped and global plugin. */
export function translatePlugins(
  store: Store,
  services: readonly ServiceDraft[],
  consumers: readonly ConsumerDraft[],
  classCtx: IngressClassContext,
  failures: FailureCollector,
): Record<string, unknown>[] {
  const relations = new Map<string, Relations>();
  const add = (referrer: K8sObject, ref: PluginRef, identifier: string, type: keyof Relations) => {
    const referrerNs = referrer.metadata.namespace ?? '';
    let ns = referrerNs;
    if (ref.namespace !== undefined) {
      const from = { group: splitApiVersion(referrer.apiVersion).group, kind: referrer.kind, namespace: referrerNs };
      if (!isReferenceGranted(store, from, { group: 'configuration.konghq.com', kind: 'KongPlugin', namespace: ref.namespace, name: ref.name })) {
        failures.push(`no grant found to referenced "${ref.namespace}:${ref.name}" plugin in the requested remote KongPlugin bind`, referrer);
        return;
      }
      ns = ref.namespace;
    }
    const key = `${ns}:${ref.name}`;
    let r = relations.get(key);
    if (!r) {
      r = { consumers: [], services: [], routes: [] };
      relations.set(key, r);
    }
    r[type].push({ identifier, referrer });
  };

  for (const service of services) {
    for (const k of [...service.k8sServices.keys()].sort()) {
      const svc = service.k8sServices.get(k)!;
      for (const ref of pluginRefs(svc.metadata.annotations)) add(svc, ref, service.name, 'services');
    }
    for (const route of service.routes) {
      for (const ref of pluginRefs(route.annotations)) add(route.source, ref, route.fields.name, 'routes');
    }
  }
  for (const c of consumers) {
    for (const ref of pluginRefs(c.source.metadata.annotations)) add(c.source, ref, c.identifier, 'consumers');
  }

  const plugins: Record<string, unknown>[] = [];
  for (const [key, rel] of relations) {
    const colon = key.indexOf(':');
    const ns = key.slice(0, colon);
    const name = key.slice(colon + 1);
    const combos = combinations(rel);
    const k8sPlugin = lookupPlugin(store, ns, name);
    if (!k8sPlugin) {
      for (const c of combos) {
        for (const r of [c.consumer, c.route, c.service]) {
          if (r) failures.push(`referenced KongPlugin or KongClusterPlugin "${name}" does not exist`, r.referrer);
        }
      }
      continue;
    }
    const template = pluginTemplate(store, k8sPlugin);
    if (typeof template === 'string') {
      failures.push(template, k8sPlugin);
      continue;
    }
    const usedInstanceNames = new Set<string>();
    for (const c of combos) {
      const entity: Record<string, unknown> = structuredClone(template.entity);
      let toHash = '';
      if (c.service) {
        entity['service'] = c.service.identifier;
        toHash += `_service-${c.service.identifier}`;
      }
      if (c.route) {
        entity['route'] = c.route.identifier;
        toHash += `_route-${c.route.identifier}`;
      }
      if (c.consumer) {
        entity['consumer'] = c.consumer.identifier;
        toHash += `_consumer-${c.consumer.identifier}`;
      }
      if (template.instanceName) {
        const sum = createHash('sha256').update(toHash).digest('hex');
        let suffixed = `${template.instanceName}-${sum.slice(0, 9)}`;
        if (usedInstanceNames.has(suffixed)) suffixed = `${template.instanceName}-${sum}`;
        usedInstanceNames.add(suffixed);
        entity['instance_name'] = suffixed;
      }
      plugins.push(entity);
    }
  }

  // Global plugins: KongClusterPlugins labelled global: "true" with our ingress class.
  const globals = new Map<string, Record<string, unknown> | null>();
  for (const kcp of store.list(GK.KongClusterPlugin)) {
    if (kcp.apiVersion !== 'configuration.konghq.com/v1') continue;
    if (kcp.metadata.labels?.['global'] !== 'true' || !objectMatchesClass(kcp, classCtx)) continue;
    const pluginName = str(kcp['plugin']);
    if (!pluginName) continue;
    if (globals.has(pluginName)) {
      globals.set(pluginName, null);
      continue;
    }
    const template = pluginTemplate(store, kcp);
    if (typeof template === 'string') continue;
    if (template.instanceName) template.entity['instance_name'] = template.instanceName;
    globals.set(pluginName, template.entity);
  }
  for (const entity of globals.values()) if (entity) plugins.push(entity);
  return plugins;
}
