/**
 * @module config/validate
 * The declarative config validator: checks a parsed file against the entity schemas (ajv), Kong's
 * entity checks and the enabled plugins' config schemas; then assigns ids, resolves references
 * and checks uniqueness; then normalizes. Every error is reported Kong's way (`code` 14, Lua-pretty
 * `message`, nested `fields`, `flattened_errors`), and an invalid file yields no config at all.
 */
import type { Config, EntityKey } from './entities.ts';
import { emptyConfig } from './entities.ts';
import type { FieldErrors, PluginDefinition } from '../plugins/api.ts';
import {
  DECLARATIVE_CONFIG_ERROR_CODE, DECLARATIVE_CONFIG_ERROR_NAME, addEntityError, declarativeMessage,
  flattenErrors, isEmptyTree, setFieldError, setKeyedError, treeToJson,
  type DeclarativeConfigError, type ErrorNode, type ErrorTree, type FlattenRelations, type PathSegment,
} from './errors.ts';
import { ENTITY_SHAPES, WALK_ORDER } from './schema/declarative.ts';
import { pluginConfigValidator, placeAjvErrors, recordValidator } from './schema/compiler.ts';
import { FIELD_CHECKS, isDigits } from './schema/checks.ts';
import { entityId } from './ids.ts';
import { canonicalJson } from './hash.ts';
import { NORMALIZERS, type NormalizeContext, type PendingEntity } from './normalize.ts';

export type { DeclarativeConfigError, FlattenedError } from './errors.ts';

export interface ValidateOptions {
  /** Load time in unix seconds, used for `created_at`/`updated_at` (default: now). */
  now?: number;
  /**
   * Checks of a plugin config that depend on how this gateway runs (e.g. refusing
   * `policy: cluster` without a database). Returns a Kong error tree for `config`, or null.
   */
  policyCheck?: (pluginName: string, config: Record<string, unknown>) => FieldErrors | null;
}

export type ValidationResult = { ok: true; config: Config } | { ok: false; error: DeclarativeConfigError };

const FORMAT_VERSIONS = ['1.1', '2.1', '3.0'];
const META_KEYS: Record<string, 'string' | 'boolean' | 'array'> = {
  _transform: 'boolean', _comment: 'string', _workspace: 'string', _ignore: 'array',
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0)
  || (isRecord(v) && Object.keys(v).length === 0);
const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/** The child's foreign-key field that points at `parentType`. */
function fkToParent(childType: EntityKey, parentType: EntityKey): string | null {
  return PARENT_FK[childType][parentType] ?? null;
}

/** Per collection: its foreign fields as entries, and fk field by parent collection (precomputed). */
const FOREIGN_ENTRIES = {} as Record<EntityKey, [string, EntityKey][]>;
const PARENT_FK = {} as Record<EntityKey, Partial<Record<EntityKey, string>>>;
for (const key of WALK_ORDER) {
  FOREIGN_ENTRIES[key] = Object.entries(ENTITY_SHAPES[key].foreign) as [string, EntityKey][];
  PARENT_FK[key] = {};
  for (const [field, target] of FOREIGN_ENTRIES[key]) PARENT_FK[key][target] ??= field;
}

const RELATIONS: FlattenRelations = {
  singular: (c) => ENTITY_SHAPES[c as EntityKey]?.singular ?? c.replace(/s$/, ''),
  foreign: (c) => ENTITY_SHAPES[c as EntityKey]?.foreign ?? {},
  children: (c) => {
    const shape = ENTITY_SHAPES[c as EntityKey];
    const out: Record<string, string> = {};
    if (shape) for (const child of shape.children) out[child] = fkToParent(child, c as EntityKey) ?? '';
    return out;
  },
};

function hasErrorAt(tree: ErrorTree, path: readonly PathSegment[]): boolean {
  let node: ErrorNode | undefined = tree;
  for (const seg of path) {
    if (node === undefined || typeof node === 'string') return node !== undefined;
    node = (node as Record<string | number, ErrorNode | undefined>)[seg];
  }
  return node !== undefined;
}

/** Merges a plugin's `check` result (a Kong error tree) under `base`. */
function mergeFieldErrors(tree: ErrorTree, base: PathSegment[], errs: FieldErrors | (string | FieldErrors)[]): void {
  const entries: [PathSegment, string | FieldErrors | (string | FieldErrors)[]][] = Array.isArray(errs)
    ? errs.map((v, i) => [i, v]) : Object.entries(errs);
  for (const [key, value] of entries) {
    if (key === '@entity') {
      for (const m of Array.isArray(value) ? value : [value]) if (typeof m === 'string') addEntityError(tree, base, m);
    } else if (typeof value === 'string') {
      setFieldError(tree, [...base, key], value);
    } else {
      mergeFieldErrors(tree, [...base, key], value);
    }
  }
}

/**
 * Kong's `url` shorthand: protocol/host/port/path from one URL, read as LuaSocket's `url.parse`
 * reads it (RFC 2396): a scheme is whatever precedes the first `:`, and only `//` opens a host. So
 * `notaurl` is a path with no host ("host: required field missing", "path: should start with: /"),
 * and `example.com:8080` has the scheme `example.com`; Kong refuses both, and so does this.
 */
function expandServiceUrl(input: Record<string, unknown>, url: string): void {
  if (url === '') return; // LuaSocket parses "" to nil: nothing set, so the host is missing
  // Scanned by index rather than by regular expressions: a config of 10,000 services spent ~0.7 KB
  // of match arrays and slices on each url (session 15).
  const colon = url.indexOf(':');
  const hasScheme = colon > 0 && isSchemeText(url, colon);
  const scheme = hasScheme ? url.slice(0, colon) : undefined;
  let at = hasScheme ? colon + 1 : 0;
  let authority: string | undefined;
  if (url.startsWith('//', at)) {
    const slash = url.indexOf('/', at + 2);
    authority = url.slice(at + 2, slash < 0 ? url.length : slash);
    at = slash < 0 ? url.length : slash;
  }
  // The fragment, the query and `;params` are not part of the path.
  let end = url.length;
  for (let i = at; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x23 || c === 0x3f || c === 0x3b) end = i; // # ? ;
  }
  let host: string | null = null;
  let portText: string | undefined;
  if (authority !== undefined) {
    const userinfo = authority.indexOf('@');
    if (userinfo >= 0) authority = authority.slice(userinfo + 1);
    const lastColon = authority.lastIndexOf(':');
    if (lastColon >= 0 && authority.indexOf(']', lastColon) < 0) {
      portText = authority.slice(lastColon + 1);
      authority = authority.slice(0, lastColon);
    }
    if (authority.length > 2 && authority.charCodeAt(0) === 0x5b && authority.charCodeAt(authority.length - 1) === 0x5d
      && !LINE_TERMINATOR.test(authority)) {
      host = authority.slice(1, -1); // [v6 address]
    } else if (authority !== '') {
      host = authority;
    }
  }
  // As Kong: a numeric port is a number; anything else (even "") is kept for the schema to refuse.
  const port: number | string | undefined = portText === undefined ? undefined
    : isDigits(portText) ? Number(portText) : portText;
  const protocol = scheme ?? (port === 443 ? 'https' : 'http');
  input.protocol = protocol;
  input.host = host;
  input.port = port ?? (protocol === 'https' ? 443 : 80);
  input.path = end > at ? url.slice(at, end) : null;
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** Whether `url` up to `colon` is a scheme: a letter or digit, then letters, digits, `+`, `.`, `-`. */
function isSchemeText(url: string, colon: number): boolean {
  for (let i = 0; i < colon; i++) {
    const c = url.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && (i === 0 || (c !== 0x2b && c !== 0x2e && c !== 0x2d))) return false;
  }
  return true;
}

interface WalkContext {
  tree: ErrorTree;
  pending: PendingEntity[];
  plugins: ReadonlyMap<string, PluginDefinition>;
  options: ValidateOptions;
}

const PATHLESS_PROTOCOLS = ['tcp', 'tls', 'udp', 'grpc', 'grpcs'];
const TLS_ONLY_FIELDS = ['client_certificate', 'tls_verify', 'tls_verify_depth', 'ca_certificates'];

function failProtocolCondition(tree: ErrorTree, path: PathSegment[], field: string): void {
  addEntityError(tree, path, "failed conditional validation given value of field 'protocol'");
  setFieldError(tree, [...path, field], 'value must be null');
}

function checkService(i: Record<string, unknown>, tree: ErrorTree, path: PathSegment[]): void {
  const protocol = (i.protocol as string | undefined) ?? 'http';
  if (PATHLESS_PROTOCOLS.includes(protocol) && i.path !== undefined && i.path !== null) failProtocolCondition(tree, path, 'path');
  if (protocol !== 'https' && protocol !== 'tls') {
    for (let k = 0; k < TLS_ONLY_FIELDS.length; k++) {
      const f = TLS_ONLY_FIELDS[k]!;
      if (i[f] !== undefined && i[f] !== null) failProtocolCondition(tree, path, f);
    }
  }
}

const PROTOCOL_SETS = [['http', 'https', 'ws', 'wss'], ['tcp', 'tls', 'udp'], ['tls_passthrough'], ['grpc', 'grpcs']];
const DEFAULT_ROUTE_PROTOCOLS = ['http', 'https'];

/** "at least one of" rules of a route by protocol; the messages are made once, not per route. */
function atLeastOneRule(fields: string[], when: string): { fields: string[]; message: string } {
  return { fields, message: `must set one of ${quoted(fields)} when 'protocols' is ${when}` };
}
const ROUTE_NEEDS = {
  https: atLeastOneRule(['methods', 'hosts', 'headers', 'paths', 'snis'], "'https'"),
  http: atLeastOneRule(['methods', 'hosts', 'headers', 'paths'], "'http'"),
  grpcs: atLeastOneRule(['hosts', 'headers', 'paths', 'snis'], "'grpcs'"),
  grpc: atLeastOneRule(['hosts', 'headers', 'paths'], "'grpc'"),
  stream: atLeastOneRule(['sources', 'destinations', 'snis'], "'tcp', 'tls' or 'udp'"),
  passthrough: { fields: ['snis'], message: "must set snis when 'protocols' is 'tls_passthrough'" },
};
/** Fields a route of each protocol family must leave empty. */
const ROUTE_FORBIDS = {
  http: { fields: ['sources', 'destinations'], when: "'http' or 'https'" },
  grpc: { fields: ['methods', 'sources', 'destinations'], when: "'grpc' or 'grpcs'" },
  stream: { fields: ['methods', 'hosts', 'paths', 'headers'], when: "'tcp', 'tls', 'tls_passthrough' or 'udp'" },
};

function usesAny(protocols: readonly string[], set: readonly string[]): boolean {
  for (let k = 0; k < protocols.length; k++) if (set.includes(protocols[k]!)) return true;
  return false;
}

function forbidRouteFields(i: Record<string, unknown>, tree: ErrorTree, path: PathSegment[], rule: { fields: string[]; when: string }): void {
  for (let k = 0; k < rule.fields.length; k++) {
    const f = rule.fields[k]!;
    if (!isEmpty(i[f])) setFieldError(tree, [...path, f], `cannot set '${f}' when 'protocols' is ${rule.when}`);
  }
}

function needOneRouteField(i: Record<string, unknown>, tree: ErrorTree, path: PathSegment[], rule: { fields: string[]; message: string }): void {
  for (let k = 0; k < rule.fields.length; k++) if (!isEmpty(i[rule.fields[k]!])) return;
  addEntityError(tree, path, rule.message);
}

function checkRoute(i: Record<string, unknown>, tree: ErrorTree, path: PathSegment[]): void {
  const protocols = (i.protocols as string[] | undefined) ?? DEFAULT_ROUTE_PROTOCOLS;
  let setsUsed = 0;
  for (let k = 0; k < PROTOCOL_SETS.length; k++) if (usesAny(protocols, PROTOCOL_SETS[k]!)) setsUsed++;
  if (setsUsed > 1) {
    const used = PROTOCOL_SETS.filter((set) => usesAny(protocols, set));
    const sets = used.map((s) => `(${quoted(s.filter((p) => p !== 'ws' && p !== 'wss'))})`).join(', ');
    setFieldError(tree, [...path, 'protocols'], `these sets are mutually exclusive: ${sets}`);
    return;
  }
  if (isRecord(i.headers)) {
    for (const name of Object.keys(i.headers)) {
      const msg = FIELD_CHECKS.route_header_name(name);
      if (msg) { setFieldError(tree, [...path, 'headers'], msg); return; }
    }
  }
  if (!isEmpty(i.snis) && !usesAny(protocols, ['grpcs', 'https', 'tls', 'tls_passthrough', 'wss'])) {
    addEntityError(tree, path, "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'");
  }
  const first = protocols[0];
  if (first === 'http' || first === 'https' || first === 'ws' || first === 'wss') {
    forbidRouteFields(i, tree, path, ROUTE_FORBIDS.http);
    needOneRouteField(i, tree, path, protocols.includes('https') || protocols.includes('wss') ? ROUTE_NEEDS.https : ROUTE_NEEDS.http);
  } else if (first === 'grpc' || first === 'grpcs') {
    if (i.strip_path === true) setFieldError(tree, [...path, 'strip_path'], "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'");
    forbidRouteFields(i, tree, path, ROUTE_FORBIDS.grpc);
    needOneRouteField(i, tree, path, protocols.includes('grpcs') ? ROUTE_NEEDS.grpcs : ROUTE_NEEDS.grpc);
  } else {
    forbidRouteFields(i, tree, path, ROUTE_FORBIDS.stream);
    if (protocols.some((p) => p === 'tcp' || p === 'tls' || p === 'udp')) needOneRouteField(i, tree, path, ROUTE_NEEDS.stream);
    if (protocols.includes('tls_passthrough')) needOneRouteField(i, tree, path, ROUTE_NEEDS.passthrough);
  }
}

function checkUpstream(i: Record<string, unknown>, tree: ErrorTree, path: PathSegment[]): void {
  const hashOn = (i.hash_on as string | undefined) ?? 'none';
  const fallback = (i.hash_fallback as string | undefined) ?? 'none';
  const conditional = (ifField: string, then: string, message: string) => {
    addEntityError(tree, path, `failed conditional validation given value of field '${ifField}'`);
    setFieldError(tree, [...path, then], message);
  };
  const need: [string, string, string][] = [
    ['hash_on', 'header', 'hash_on_header'], ['hash_fallback', 'header', 'hash_fallback_header'],
    ['hash_on', 'cookie', 'hash_on_cookie'], ['hash_fallback', 'cookie', 'hash_on_cookie'],
    ['hash_on', 'query_arg', 'hash_on_query_arg'], ['hash_fallback', 'query_arg', 'hash_fallback_query_arg'],
    ['hash_on', 'uri_capture', 'hash_on_uri_capture'], ['hash_fallback', 'uri_capture', 'hash_fallback_uri_capture'],
  ];
  for (const [ifField, value, then] of need) {
    const actual = ifField === 'hash_on' ? hashOn : fallback;
    if (actual === value && isEmpty(i[then])) conditional(ifField, then, 'required field missing');
  }
  if ((hashOn === 'none' || hashOn === 'cookie') && fallback !== 'none') conditional('hash_on', 'hash_fallback', 'expected one of: none');
  if (hashOn !== 'none' && hashOn === fallback && !['header', 'query_arg', 'uri_capture'].includes(hashOn)) {
    conditional('hash_on', 'hash_fallback', 'must not be one of: ' + hashOn);
  }
  for (const [a, b] of [['hash_on_header', 'hash_fallback_header'], ['hash_on_query_arg', 'hash_fallback_query_arg'], ['hash_on_uri_capture', 'hash_fallback_uri_capture']] as const) {
    if (!isEmpty(i[a]) && i[a] === i[b]) addEntityError(tree, path, `values of these fields must be distinct: ${quoted([a, b])}`);
  }
}

function checkConsumer(i: Record<string, unknown>, tree: ErrorTree, path: PathSegment[]): void {
  if (isEmpty(i.username) && isEmpty(i.custom_id)) {
    addEntityError(tree, path, "at least one of these fields must be non-empty: 'custom_id', 'username'");
  }
}

const ENTITY_CHECKS: Partial<Record<EntityKey, (i: Record<string, unknown>, tree: ErrorTree, path: PathSegment[]) => void>> = {
  services: checkService, routes: checkRoute, upstreams: checkUpstream, consumers: checkConsumer,
};

function checkPlugin(ctx: WalkContext, i: Record<string, unknown>, parent: PendingEntity | null, path: PathSegment[]): Record<string, unknown> | undefined {
  const name = i.name;
  if (typeof name !== 'string') return undefined;
  const def = ctx.plugins.get(name);
  if (def === undefined) {
    setFieldError(ctx.tree, [...path, 'name'], `plugin '${name}' not enabled; add it to the 'plugins' configuration property`);
    return undefined;
  }
  const scoped = (field: string, parentType: EntityKey) => (i[field] !== undefined && i[field] !== null) || parent?.type === parentType;
  if (def.noConsumer && scoped('consumer', 'consumers')) setFieldError(ctx.tree, [...path, 'consumer'], 'value must be null');
  if (def.noRoute && scoped('route', 'routes')) setFieldError(ctx.tree, [...path, 'route'], 'value must be null');
  if (def.noService && scoped('service', 'services')) setFieldError(ctx.tree, [...path, 'service'], 'value must be null');
  const raw = i.config === undefined || i.config === null ? {} : i.config;
  if (!isRecord(raw)) return undefined;
  const config = structuredClone(raw);
  const validate = pluginConfigValidator(def.schema);
  if (!validate(config)) {
    placeAjvErrors(validate.errors ?? [], config, ctx.tree, [...path, 'config']);
    return undefined;
  }
  const checked = def.check?.(config as never) ?? null;
  if (checked) mergeFieldErrors(ctx.tree, [...path, 'config'], checked);
  const policy = ctx.options.policyCheck?.(name, config) ?? null;
  if (policy) mergeFieldErrors(ctx.tree, [...path, 'config'], policy);
  return config;
}

function walkEntity(ctx: WalkContext, type: EntityKey, raw: unknown, parent: PendingEntity | null, path: PathSegment[]): void {
  if (!isRecord(raw)) {
    setFieldError(ctx.tree, path, 'expected a record');
    return;
  }
  const shape = ENTITY_SHAPES[type];
  // A service's `url` is left out of the copy rather than deleted from it: a deleted field would
  // turn the record into a slow dictionary for the rest of its life.
  let input: Record<string, unknown>;
  let url: unknown;
  if (type === 'services') ({ url, ...input } = raw);
  else input = { ...raw };
  const parentFk = parent ? fkToParent(type, parent.type) : null;
  if (parentFk !== null && input[parentFk] !== undefined && input[parentFk] !== null) {
    setFieldError(ctx.tree, [...path, parentFk], 'value must be null');
  }
  if (typeof url === 'string') expandServiceUrl(input, url);
  else if (url !== undefined) input.url = url; // not a URL: the schema reports it
  // Kong reads an explicit null as "unset": a default applies, a required field is missing.
  for (const key in input) if (input[key] === null) delete input[key];
  const validate = recordValidator(shape.schema);
  if (!validate(input)) placeAjvErrors(validate.errors ?? [], input, ctx.tree, path);
  const foreign = FOREIGN_ENTRIES[type];
  for (let k = 0; k < foreign.length; k++) {
    const field = foreign[k]![0];
    if (field === parentFk) continue;
    const v = input[field];
    if (v === undefined || v === null) {
      if (shape.requiredForeign.includes(field)) setFieldError(ctx.tree, [...path, field], 'required field missing');
      continue;
    }
    const ok = typeof v === 'string' || (isRecord(v) && (typeof v.id === 'string' || typeof v.name === 'string'));
    if (!ok) setFieldError(ctx.tree, [...path, field], 'expected a string');
  }
  let pluginConfig: Record<string, unknown> | undefined;
  if (type === 'plugins') pluginConfig = checkPlugin(ctx, input, parent, path);
  if (!hasErrorAt(ctx.tree, path)) ENTITY_CHECKS[type]?.(input, ctx.tree, path);
  const pending: PendingEntity = { type, input, parent, path, id: '', refs: {} };
  if (pluginConfig !== undefined) pending.pluginConfig = pluginConfig;
  ctx.pending.push(pending);
  for (let c = 0; c < shape.children.length; c++) {
    const childType = shape.children[c]!;
    const items = input[childType];
    if (!Array.isArray(items)) continue;
    for (let j = 0; j < items.length; j++) walkEntity(ctx, childType, items[j], pending, childPath(path, childType, j));
  }
}

/** `[...path, childType, index]`, without the spread's iteration (this runs once per entity, cold). */
function childPath(path: PathSegment[], childType: string, index: number): PathSegment[] {
  const out = new Array<PathSegment>(path.length + 2);
  for (let i = 0; i < path.length; i++) out[i] = path[i]!;
  out[path.length] = childType;
  out[path.length + 1] = index;
  return out;
}

function checkTopLevel(ctx: WalkContext, input: Record<string, unknown>): void {
  const version = input._format_version;
  if (version === undefined || version === null) setFieldError(ctx.tree, ['_format_version'], 'required field missing');
  else if (typeof version !== 'string') setFieldError(ctx.tree, ['_format_version'], 'expected a string');
  else if (!FORMAT_VERSIONS.includes(version)) setFieldError(ctx.tree, ['_format_version'], `expected one of: ${FORMAT_VERSIONS.join(', ')}`);
  for (const [key, value] of Object.entries(input)) {
    if (key === '_format_version') continue;
    const meta = META_KEYS[key];
    if (meta !== undefined) {
      const ok = meta === 'array' ? Array.isArray(value) : typeof value === meta;
      if (!ok && value !== null) setFieldError(ctx.tree, [key], meta === 'array' ? 'expected an array' : `expected a ${meta}`);
      continue;
    }
    if (!(key in ENTITY_SHAPES)) {
      setFieldError(ctx.tree, [key], 'unknown field');
      continue;
    }
    if (value === null) continue;
    if (!Array.isArray(value)) {
      setFieldError(ctx.tree, [key], 'expected an array');
      continue;
    }
    for (let i = 0; i < value.length; i++) walkEntity(ctx, key as EntityKey, value[i], null, [key, i]);
  }
}

// ---------------------------------------------------------------------------------------------
// ids, references, uniqueness

interface Registry { byId: Map<string, PendingEntity>; byKey: Map<string, PendingEntity> }

function refText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isRecord(v)) return String(v.id ?? v.name ?? '');
  return '';
}

function lookup(reg: Registry, v: unknown): PendingEntity | undefined {
  if (typeof v === 'string') return reg.byKey.get(v) ?? reg.byId.get(v);
  if (isRecord(v)) {
    if (typeof v.id === 'string') return reg.byId.get(v.id);
    if (typeof v.name === 'string') return reg.byKey.get(v.name);
  }
  return undefined;
}

/** The key Kong would hash into the id (cache key or endpoint key), or null when Kong has none. */
function naturalKey(p: PendingEntity, fk: (field: string) => string): string | null {
  const i = p.input;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  switch (p.type) {
    case 'services': case 'routes': case 'upstreams': case 'snis': return str(i.name);
    case 'consumers': return str(i.username);
    case 'targets': return `targets:*:${fk('upstream')}:${String(i.target)}`;
    case 'plugins': return `plugins:*:${String(i.name)}:${fk('route')}:${fk('service')}:${fk('consumer')}`;
    case 'basicauth_credentials': case 'hmacauth_credentials': return `${p.type}:*:${String(i.username)}`;
    case 'acls': return `acls:*:${fk('consumer')}:${String(i.group)}`;
    default: return null;
  }
}

function withoutChildren(p: PendingEntity): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const children = ENTITY_SHAPES[p.type].children as readonly string[];
  for (const [k, v] of Object.entries(p.input)) if (!children.includes(k)) out[k] = v;
  return out;
}

function linkEntities(ctx: WalkContext): void {
  const regs = {} as Record<EntityKey, Registry>;
  for (const t of WALK_ORDER) regs[t] = { byId: new Map(), byKey: new Map() };
  const fallbackSeen = new Map<string, number>();

  const resolveRefs = (p: PendingEntity) => {
    const parentFk = p.parent ? fkToParent(p.type, p.parent.type) : null;
    if (parentFk !== null && p.parent) p.refs[parentFk] = p.parent.id;
    const foreign = FOREIGN_ENTRIES[p.type];
    for (let k = 0; k < foreign.length; k++) {
      const field = foreign[k]![0], target = foreign[k]![1];
      if (field === parentFk) continue;
      const v = p.input[field];
      if (v === undefined || v === null) continue;
      const found = lookup(regs[target], v);
      if (found) { p.refs[field] = found.id; continue; }
      const shown = typeof v === 'string' ? v : JSON.stringify(v);
      const key = ENTITY_SHAPES[p.type].endpointKey;
      const at = key !== null && typeof p.input[key] === 'string' ? p.input[key] as string : p.id;
      setKeyedError(ctx.tree, p.type, at, `invalid reference '${field}: ${shown}' (no such entry in '${target}')`, true);
    }
  };

  const assignId = (p: PendingEntity) => {
    const fk = (field: string) => p.refs[field] ?? (p.parent && fkToParent(p.type, p.parent.type) === field ? p.parent.id : refText(p.input[field]));
    if (typeof p.input.id === 'string') {
      p.id = p.input.id;
    } else {
      const key = naturalKey(p, fk);
      if (key !== null) {
        p.id = entityId(p.type, key);
      } else {
        // No natural key (Kong would pick a random id): hash the content, counting repeats.
        const base = `${p.type}:${p.parent?.id ?? ''}:${canonicalJson(withoutChildren(p))}`;
        const n = fallbackSeen.get(base) ?? 0;
        fallbackSeen.set(base, n + 1);
        p.id = entityId(p.type, n === 0 ? base : `${base}#${n}`);
      }
    }
    const reg = regs[p.type];
    const shape = ENTITY_SHAPES[p.type];
    let failed = false;
    const keyValue = shape.endpointKey !== null && p.type !== 'targets' ? p.input[shape.endpointKey] : undefined;
    if (typeof keyValue === 'string') {
      if (reg.byKey.has(keyValue)) {
        setFieldError(ctx.tree, p.path, `uniqueness violation: '${p.type}' entity with ${shape.endpointKey} set to '${keyValue}' already declared`);
        failed = true;
      } else {
        reg.byKey.set(keyValue, p);
      }
    }
    if (!failed && reg.byId.has(p.id)) {
      setFieldError(ctx.tree, p.path, `uniqueness violation: '${p.type}' entity with primary key set to '${p.id}' already declared`);
    } else {
      reg.byId.set(p.id, p);
    }
  };

  // Plugins last: their ids derive from the ids of what they are scoped to.
  const pending = ctx.pending;
  for (let i = 0; i < pending.length; i++) if (pending[i]!.type !== 'plugins') assignId(pending[i]!);
  for (let i = 0; i < pending.length; i++) if (pending[i]!.type !== 'plugins') resolveRefs(pending[i]!);
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i]!;
    if (p.type === 'plugins') { resolveRefs(p); assignId(p); }
  }

  const uniqueSeen = new Set<string>();
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i]!;
    const uniqueFields = ENTITY_SHAPES[p.type].uniqueFields;
    for (let k = 0; k < uniqueFields.length; k++) {
      const field = uniqueFields[k]!;
      const v = p.input[field];
      if (typeof v !== 'string') continue;
      const seenKey = `${p.type}\0${field}\0${v}`;
      if (!uniqueSeen.has(seenKey)) { uniqueSeen.add(seenKey); continue; }
      const key = ENTITY_SHAPES[p.type].endpointKey;
      const at = key !== null && typeof p.input[key] === 'string' ? p.input[key] as string : p.id;
      setKeyedError(ctx.tree, p.type, at, `uniqueness violation: '${p.type}' entity with ${field} set to '${v}' already declared`, false);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function failure(input: unknown, tree: ErrorTree): ValidationResult {
  const keyOf = (collection: string, entity: Record<string, unknown>): string[] => {
    const key = ENTITY_SHAPES[collection as EntityKey]?.endpointKey;
    const out: string[] = [];
    if (key && typeof entity[key] === 'string') out.push(entity[key] as string);
    if (typeof entity.id === 'string') out.push(entity.id);
    return out;
  };
  return {
    ok: false,
    error: {
      code: DECLARATIVE_CONFIG_ERROR_CODE,
      name: DECLARATIVE_CONFIG_ERROR_NAME,
      message: declarativeMessage(tree),
      fields: treeToJson(tree) as Record<string, unknown>,
      flattened_errors: flattenErrors(input, tree, RELATIONS, keyOf),
    },
  };
}

/** An error result for text that failed to parse (Kong's `{error="…"}` tree). */
export function parseFailure(message: string): DeclarativeConfigError {
  const tree: ErrorTree = { error: message };
  return {
    code: DECLARATIVE_CONFIG_ERROR_CODE, name: DECLARATIVE_CONFIG_ERROR_NAME,
    message: declarativeMessage(tree), fields: { error: message }, flattened_errors: [],
  };
}

/**
 * Validates a parsed declarative config and returns the normalized `Config`, or Kong's error.
 * `plugins` are the enabled plugins by name; any other plugin name is refused.
 */
export function validateConfig(
  input: unknown, plugins: ReadonlyMap<string, PluginDefinition>, options: ValidateOptions = {},
): ValidationResult {
  if (!isRecord(input)) return failure(input, { error: 'failed parsing declarative configuration: expected an object' });
  const ctx: WalkContext = { tree: {}, pending: [], plugins, options };
  checkTopLevel(ctx, input);
  if (!isEmptyTree(ctx.tree)) return failure(input, ctx.tree);
  linkEntities(ctx);
  if (!isEmptyTree(ctx.tree)) return failure(input, ctx.tree);

  const norm: NormalizeContext = { now: options.now ?? Math.floor(Date.now() / 1000), transform: input._transform !== false };
  const config = emptyConfig();
  const buckets = config as unknown as Record<EntityKey, unknown[]>;
  // Top-level entries first, then hoisted children, each in file order.
  const pending = ctx.pending;
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i]!;
    if (p.parent === null) buckets[p.type].push(NORMALIZERS[p.type](p, norm));
  }
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i]!;
    if (p.parent !== null) buckets[p.type].push(NORMALIZERS[p.type](p, norm));
  }
  return { ok: true, config };
}
