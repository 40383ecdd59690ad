/**
 * @module controller/translator/httproute
 * HTTPRoute (Gateway API) → Kong services and routes, as KIC's traditional-router translator does.
 * Rules of one HTTPRoute with identical backendRefs share the Kong service
 * `httproute.<ns>.<name>.<firstRule>`; matches with the same method/headers share a route named after
 * the first `httproute.<ns>.<name>.<rule>.<match>`. Filters become request-transformer,
 * response-transformer and redirect (or request-termination) plugins on the route.
 */

import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import { ANN } from './annotations.ts';
import type { FailureCollector } from './failures.ts';
import { arr, compareStrings, int, rec, str } from './fields.ts';
import type { AcceptedHTTPRoute } from './gateway.ts';
import { DEFAULT_RETRIES, DEFAULT_SERVICE_TIMEOUT } from './ingress.ts';
import type { Backend, PluginDraft, RouteDraft, ServiceDraft } from './model.ts';
import { isReferenceGranted } from './reference-grants.ts';
import { tagsFor } from './tags.ts';

/** HTTPRouteOptions are the feature switches that change HTTPRoute output. */
export interface HTTPRouteOptions {
  /** Kong ≥ 3.9 has the `redirect` plugin; otherwise request-termination + Location header. */
  supportRedirectPlugin: boolean;
}

class RouteError extends Error {}

/** stableJSON serializes with sorted keys (Go's json.Marshal of structs is field-ordered; keys here are only compared). */
function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  const r = rec(v);
  if (r) return `{${Object.keys(r).sort().map((k) => `${JSON.stringify(k)}:${stableJSON(r[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

function sortedItemsKey(items: unknown[]): string {
  return items.map(stableJSON).sort().join(';');
}

/** goDurationMs parses a Gateway API duration (`1h2m3s4ms`) into milliseconds. */
export function goDurationMs(s: string): number | undefined {
  if (!/^(\d+(\.\d+)?(h|m|s|ms))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600000 : m[2] === 'm' ? n * 60000 : m[2] === 's' ? n * 1000 : n;
  }
  return Math.trunc(total);
}

/** pathsForMatch turns an HTTPRoute path match into Kong paths. */
export function pathsForMatch(path: Record<string, unknown> | undefined): string[] {
  if (!path) return [];
  const type = str(path['type']) ?? 'PathPrefix';
  const value = str(path['value']) ?? '/';
  switch (type) {
    case 'Exact':
      return [`~${value}$`];
    case 'RegularExpression':
      return [`~${value}`];
    default:
      return [`~${value}$`, value.endsWith('/') ? value : `${value}/`];
  }
}

interface TransformerConfig {
  type: 'request-transformer' | 'response-transformer';
  replace: { headers: string[]; uri: string };
  add: string[];
  append: string[];
  remove: string[];
}

function newTransformer(type: TransformerConfig['type']): TransformerConfig {
  return { type, replace: { headers: [], uri: '' }, add: [], append: [], remove: [] };
}

function header(name: string, value: string): string {
  return value !== '' ? `${name}:${value}` : name;
}

function headerModifier(type: TransformerConfig['type'], mod: Record<string, unknown> | undefined): TransformerConfig {
  const t = newTransformer(type);
  const pairs = (v: unknown) => arr(v).map((h) => header(str(rec(h)?.['name']) ?? '', str(rec(h)?.['value'], true) ?? ''));
  if (Array.isArray(mod?.['set'])) {
    t.replace.headers = pairs(mod['set']);
    t.add = pairs(mod['set']);
  }
  if (Array.isArray(mod?.['add'])) t.append = pairs(mod['add']);
  if (Array.isArray(mod?.['remove'])) t.remove = arr(mod['remove']).filter((h): h is string => typeof h === 'string');
  return t;
}

function transformerToPlugin(t: TransformerConfig): PluginDraft {
  const config: Record<string, unknown> = {};
  const replace: Record<string, unknown> = {};
  if (t.replace.headers.length > 0) replace['headers'] = t.replace.headers;
  if (t.replace.uri !== '') replace['uri'] = t.replace.uri;
  if (Object.keys(replace).length > 0) config['replace'] = replace;
  if (t.add.length > 0) config['add'] = { headers: t.add };
  if (t.append.length > 0) config['append'] = { headers: t.append };
  if (t.remove.length > 0) config['remove'] = { headers: t.remove };
  return { name: t.type, config };
}

function joinPath(hostPort: string, path: string): string {
  const joined = `${hostPort}/${path}`.replace(/\/{2,}/g, '/').replace(/\/$/, '');
  return joined;
}

interface FilterResult {
  plugins: PluginDraft[];
  extensionPlugins: string[];
  rewritePaths?: string[];
}

/** filtersToPlugins converts a rule's filters; `path` is the first match's path value. */
function filtersToPlugins(filters: unknown[], path: string, options: HTTPRouteOptions): FilterResult {
  const transformers: TransformerConfig[] = [];
  const plugins: PluginDraft[] = [];
  const extensionPlugins: string[] = [];
  let rewritePaths: string[] | undefined;
  for (const f of filters) {
    const filter = rec(f) ?? {};
    const type = str(filter['type']) ?? '';
    switch (type) {
      case 'RequestHeaderModifier':
        transformers.push(headerModifier('request-transformer', rec(filter['requestHeaderModifier'])));
        break;
      case 'ResponseHeaderModifier':
        transformers.push(headerModifier('response-transformer', rec(filter['responseHeaderModifier'])));
        break;
      case 'RequestRedirect': {
        const r = rec(filter['requestRedirect']) ?? {};
        const statusCode = int(r['statusCode']) ?? 302;
        const p = rec(r['path']);
        const fullPath = str(p?.['type']) === 'ReplaceFullPath' ? str(p?.['replaceFullPath'], true) : undefined;
        const hostname = str(r['hostname']);
        const hostPort = `${hostname ?? ''}${int(r['port']) !== undefined ? `:${int(r['port'])}` : ''}`;
        const scheme = str(r['scheme']) ?? 'http';
        if (options.supportRedirectPlugin) {
          const target = fullPath ?? '/';
          const location = hostname !== undefined ? `${scheme}://${joinPath(hostPort, target)}` : target;
          plugins.push({ name: 'redirect', config: { status_code: statusCode, location, keep_incoming_path: fullPath === undefined } });
        } else {
          const target = fullPath ?? path;
          const location = hostname !== undefined ? `${scheme}://${joinPath(hostPort, target)}` : target;
          plugins.push({ name: 'request-termination', config: { status_code: statusCode } });
          const t = newTransformer('response-transformer');
          t.add = [header('Location', location)];
          transformers.push(t);
        }
        break;
      }
      case 'URLRewrite': {
        const u = rec(filter['urlRewrite']);
        const p = rec(u?.['path']);
        const hostname = str(u?.['hostname']);
        if (!p && hostname === undefined) throw new RouteError('URLRewrite missing Path and Hostname');
        if (p) {
          const ptype = str(p['type']);
          const t = newTransformer('request-transformer');
          if (ptype === 'ReplaceFullPath') {
            const full = str(p['replaceFullPath'], true);
            if (full === undefined) throw new RouteError('failed to generate request-transformer plugin for Path: failed to generate request-transformer plugin for URLRewrite: URLRewrite missing ReplaceFullPath');
            t.replace.uri = full;
          } else if (ptype === 'ReplacePrefixMatch') {
            const norm = path === '/' || path === '' ? '/' : path.replace(/\/$/, '');
            const root = norm === '/';
            const raw = str(p['replacePrefixMatch'], true);
            if (raw === undefined) t.replace.uri = '/';
            else {
              const repl = raw.replace(/\/$/, '');
              if (repl === '') t.replace.uri = root ? '$(uri_captures[1] == nil and "/" or "/" .. uri_captures[1])' : '$(uri_captures[1] == nil and "/" or uri_captures[1])';
              else t.replace.uri = root ? `${repl}$(uri_captures[1] == nil and "" or "/" .. uri_captures[1])` : `${repl}$(uri_captures[1])`;
            }
            rewritePaths = [`~${norm}$`, root ? '~/(.*)' : `~${norm}(/.*)`];
          } else {
            throw new RouteError(`failed to generate request-transformer plugin for Path: unsupported path type ${ptype ?? ''} for URLRewrite`);
          }
          transformers.push(t);
        }
        if (hostname !== undefined) {
          const t = newTransformer('request-transformer');
          t.replace.headers = [header('host', hostname)];
          t.add = [header('host', hostname)];
          transformers.push(t);
        }
        break;
      }
      case 'ExtensionRef': {
        const e = rec(filter['extensionRef']) ?? {};
        if (str(e['group']) !== 'configuration.konghq.com' || str(e['kind']) !== 'KongPlugin') {
          throw new RouteError(`plugin ${str(e['group']) ?? ''}/${str(e['kind']) ?? ''} unsupported`);
        }
        extensionPlugins.push(str(e['name']) ?? '');
        break;
      }
      default:
        throw new RouteError(`httpFilter ${type} unsupported`);
    }
  }
  // Transformers of the same type merge (slices appended, the first URI wins), ordered by type.
  const merged = new Map<string, TransformerConfig>();
  for (const t of transformers) {
    const m = merged.get(t.type);
    if (!m) {
      merged.set(t.type, { ...t, replace: { ...t.replace, headers: [...t.replace.headers] }, add: [...t.add], append: [...t.append], remove: [...t.remove] });
      continue;
    }
    m.replace.headers.push(...t.replace.headers);
    if (m.replace.uri === '') m.replace.uri = t.replace.uri;
    m.add.push(...t.add);
    m.append.push(...t.append);
    m.remove.push(...t.remove);
  }
  for (const key of [...merged.keys()].sort()) plugins.push(transformerToPlugin(merged.get(key)!));
  const out: FilterResult = { plugins, extensionPlugins };
  if (rewritePaths) out.rewritePaths = rewritePaths;
  return out;
}

interface MatchMeta {
  match: Record<string, unknown>;
  ruleIndex: number;
  matchIndex: number;
  ruleName?: string;
}

function matchGroupKey(m: Record<string, unknown>): string {
  const seen = new Set<string>();
  const headers: { name: string; type: string; value: string }[] = [];
  for (const h of arr(m['headers'])) {
    const r = rec(h) ?? {};
    const name = (str(r['name']) ?? '').toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    headers.push({ name, type: str(r['type']) ?? 'Exact', value: str(r['value'], true) ?? '' });
  }
  headers.sort((a, b) => compareStrings(a.name, b.name));
  return JSON.stringify({ method: str(m['method']) ?? null, headers });
}

function matchHeaders(m: Record<string, unknown>): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  for (const h of arr(m['headers'])) {
    const r = rec(h) ?? {};
    const name = str(r['name']) ?? '';
    if (Object.hasOwn(out, name)) throw new RouteError(`multiple header matches for the same header are not allowed: ${name}`);
    const type = str(r['type']) ?? 'Exact';
    const value = str(r['value'], true) ?? '';
    if (type === 'RegularExpression') out[name] = [`~*${value}`];
    else if (type === 'Exact') out[name] = [value];
    else throw new RouteError(`unknown/unsupported header match type: ${type}`);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

interface RuleMeta {
  rule: Record<string, unknown>;
  index: number;
}

function buildRoutes(route: K8sObject, accepted: AcceptedHTTPRoute, rules: RuleMeta[], options: HTTPRouteOptions): RouteDraft[] {
  const ns = route.metadata.namespace ?? 'default';
  const base = `httproute.${ns}.${route.metadata.name}`;
  const anns = route.metadata.annotations ?? {};
  const routes: RouteDraft[] = [];
  const byFilters = new Map<string, RuleMeta[]>();
  for (const r of rules) {
    const key = sortedItemsKey(arr(r.rule['filters']));
    const list = byFilters.get(key) ?? [];
    list.push(r);
    byFilters.set(key, list);
  }
  for (const group of byFilters.values()) {
    const filters = arr(group[0]!.rule['filters']);
    const matchGroups = new Map<string, MatchMeta[]>();
    for (const r of group) {
      const matches = arr(r.rule['matches']);
      const ruleName = str(r.rule['name']);
      matches.forEach((m, matchIndex) => {
        const match = rec(m) ?? {};
        const key = matchGroupKey(match);
        const list = matchGroups.get(key) ?? [];
        const meta: MatchMeta = { match, ruleIndex: r.index, matchIndex };
        if (ruleName !== undefined) meta.ruleName = ruleName;
        list.push(meta);
        matchGroups.set(key, list);
      });
      if (matches.length === 0) {
        const fields: RouteDraft['fields'] = { name: `${base}.${r.index}.0`, preserve_host: true, tags: tagsFor(route) };
        if (accepted.protocols.length > 0) fields['protocols'] = accepted.protocols;
        if (accepted.hostnames.length > 0) fields['hosts'] = [...accepted.hostnames];
        routes.push({ fields, source: route, annotations: { ...anns }, plugins: [], gatewayAPI: true });
      }
    }
    for (const metas of matchGroups.values()) {
      const first = metas[0]!;
      const named = [...new Set(metas.flatMap((m) => (m.ruleName !== undefined ? [`k8s-named-route-rule:${m.ruleName}`] : [])))];
      const fields: RouteDraft['fields'] = { name: `${base}.${first.ruleIndex}.${first.matchIndex}`, preserve_host: true };
      if (accepted.protocols.length > 0) fields['protocols'] = accepted.protocols;
      if (accepted.hostnames.length > 0) fields['hosts'] = [...accepted.hostnames];
      fields['tags'] = tagsFor(route, named);
      const headers = matchHeaders(first.match);
      if (headers) fields['headers'] = headers;
      fields['strip_path'] = false;
      const paths: string[] = [];
      const methods: string[] = [];
      for (const m of metas) {
        paths.push(...pathsForMatch(rec(m.match['path'])));
        const method = str(m.match['method']);
        if (method !== undefined && !methods.includes(method)) methods.push(method);
      }
      if (paths.length > 0) fields['paths'] = paths;
      if (methods.length > 0) fields['methods'] = methods;
      const firstPath = str(rec(first.match['path'])?.['value']) ?? '';
      const fr = filtersToPlugins(filters, firstPath, options);
      if (fr.rewritePaths) fields['paths'] = fr.rewritePaths;
      const draft: RouteDraft = { fields, source: route, annotations: { ...anns }, plugins: fr.plugins.map((p) => ({ ...p, tags: fields['tags'] as string[] })), gatewayAPI: true };
      if (fr.extensionPlugins.length > 0) {
        const extra = fr.extensionPlugins.join(',');
        draft.annotations[ANN.plugins] = draft.annotations[ANN.plugins] !== undefined ? `${draft.annotations[ANN.plugins]},${extra}` : extra;
      }
      routes.push(draft);
    }
  }
  return routes.sort((a, b) => compareStrings(a.fields.name, b.fields.name));
}

/** translateHTTPRoutes builds Kong services for every accepted HTTPRoute. */
export function translateHTTPRoutes(
  store: Store,
  accepted: readonly AcceptedHTTPRoute[],
  failures: FailureCollector,
  options: HTTPRouteOptions,
): Map<string, ServiceDraft> {
  const services = new Map<string, ServiceDraft>();
  for (const a of accepted) {
    const route = a.route;
    const ns = route.metadata.namespace ?? 'default';
    const rules = arr(rec(route['spec'])?.['rules']).map((r, index) => ({ rule: rec(r) ?? {}, index }));
    if (rules.length === 0) {
      failures.push('HTTPRoute can\'t be routed: no rules provided', route);
      continue;
    }
    if (rules.some((r) => arr(r.rule['matches']).some((m) => arr(rec(m)?.['queryParams']).length > 0))) {
      failures.push('HTTPRoute can\'t be routed: query param matches are not yet supported', route);
      continue;
    }
    const byBackends = new Map<string, RuleMeta[]>();
    for (const r of rules) {
      const key = sortedItemsKey(arr(r.rule['backendRefs']));
      const list = byBackends.get(key) ?? [];
      list.push(r);
      byBackends.set(key, list);
    }
    const errors: string[] = [];
    for (const group of byBackends.values()) {
      const name = `httproute.${ns}.${route.metadata.name}.${group[0]!.index}`;
      const fields: Record<string, unknown> = {
        name,
        host: name,
        protocol: 'http',
        connect_timeout: DEFAULT_SERVICE_TIMEOUT,
        read_timeout: DEFAULT_SERVICE_TIMEOUT,
        write_timeout: DEFAULT_SERVICE_TIMEOUT,
        retries: DEFAULT_RETRIES,
      };
      const backendRefs = arr(group[0]!.rule['backendRefs']);
      const backends: Backend[] = [];
      for (const b of backendRefs) {
        const ref = rec(b) ?? {};
        const refName = str(ref['name']) ?? '';
        const refNs = str(ref['namespace']) ?? ns;
        const kind = str(ref['kind']) ?? 'Service';
        const grp = str(ref['group'], true) ?? '';
        if (kind !== 'Service' || grp !== '') continue;
        if (!store.get(GK.Service, refNs, refName)) continue;
        if (refNs !== ns && !isReferenceGranted(store, { group: 'gateway.networking.k8s.io', kind: route.kind, namespace: ns }, { group: '', kind: 'Service', namespace: refNs, name: refName })) continue;
        const backend: Backend = { namespace: refNs, name: refName, port: { mode: 'number', number: int(ref['port']) ?? -1 } };
        const weight = int(ref['weight']);
        if (weight !== undefined) backend.weight = weight;
        backends.push(backend);
      }
      const plugins: PluginDraft[] = [];
      if (backends.length === 0 && backendRefs.length > 0) {
        plugins.push({ name: 'request-termination', config: { status_code: 500, message: 'no existing backendRef provided' } });
      }
      for (const r of group) {
        const timeout = str(rec(r.rule['timeouts'])?.['backendRequest']);
        const ms = timeout !== undefined ? goDurationMs(timeout) : undefined;
        if (ms !== undefined && ms !== DEFAULT_SERVICE_TIMEOUT) {
          fields['connect_timeout'] = ms;
          fields['read_timeout'] = ms;
          fields['write_timeout'] = ms;
        }
      }
      let routes: RouteDraft[];
      try {
        routes = buildRoutes(route, a, group, options);
      } catch (err) {
        if (!(err instanceof RouteError)) throw err;
        errors.push(err.message);
        continue;
      }
      services.set(name, { name, namespace: ns, fields, routes, backends, parent: route, k8sServices: new Map(), tags: [], plugins });
    }
    if (errors.length > 0) failures.push(`HTTPRoute can't be routed: ${errors.join('\n')}`, route);
  }
  return services;
}
