/**
 * @module admin/entity-routes
 * The entity part of Kong's Admin API in DB-less mode, generated from the collection table the
 * way Kong's `kong/api/endpoints.lua` generates it from DAO schemas — for every collection X and
 * every foreign key f of X pointing at F:
 *
 *   /X                 GET list, POST
 *   /X/:X              GET, PUT, PATCH, DELETE
 *   /X/:X/f            GET the referenced F (and its PUT/PATCH/DELETE)
 *   /F/:F/X            GET the Xs of one F, POST
 *   /F/:F/X/:X         GET, PUT, PATCH, DELETE, only if that X belongs to that F
 *
 * then customised as Kong customises them (targets only under upstreams, certificates addressable
 * by SNI name, consumers by `custom_id`, ACLs by group, upstream health, tags). Reads answer from
 * the loaded `Config`; writes answer what Kong's read-only `off` strategy answers: 405 with
 * code 12 when the entity exists (or would be created), after the same lookups Kong does first,
 * so a missing entity still gives 404 (PATCH), 204 (DELETE) or 400 (malformed key).
 */
import type { Config, EntityKey, Target, Upstream } from '../config/entities.ts';
import type { AdminBackend, TargetHealth } from './backend.ts';
import {
  ADMIN_COLLECTIONS, COLLECTION_BY_NAME, entitiesOf, foreignId, isUuid, notFoundError, operationUnsupported,
  present, schemaViolation, selectEntity, type AdminCollection, type Entity, type Selection,
} from './collections.ts';
import { escapeUri, message, methodNotAllowed, notFound, reply, type Reply } from './http.ts';
import { invalidOffset, listBody, matchesTags, parseListOptions, takePage, type ListOptions } from './paging.ts';
import type { Params, RouteDefinition, RouteHandler } from './router.ts';

/** What an entity route handler gets besides its path parameters. */
export interface EntityContext {
  readonly backend: AdminBackend;
  readonly config: Config;
  readonly method: string;
  readonly query: ReadonlyMap<string, string | true>;
}

type Handler = RouteHandler<EntityContext>;
type Methods = RouteDefinition<EntityContext>['methods'];

const byId = (e: Entity): string => e.id;

/** Lists ordered by id, as Kong's DB-less store keeps them; cached per loaded config. */
const sortedCache = new WeakMap<Config, Map<EntityKey, readonly Entity[]>>();
function sortedEntities(config: Config, name: EntityKey): readonly Entity[] {
  let perConfig = sortedCache.get(config);
  if (!perConfig) sortedCache.set(config, (perConfig = new Map()));
  let list = perConfig.get(name);
  if (!list) {
    list = [...entitiesOf(config, name)].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    perConfig.set(name, list);
  }
  return list;
}

function listReply(ctx: EntityContext, c: AdminCollection, items: readonly Entity[], options: ListOptions, path: string, carryArgs: boolean): Reply {
  const filtered = options.tags ? items.filter((e) => matchesTags(e.tags as string[] | null, options.tags)) : items;
  const page = takePage(filtered, byId, options);
  const data = page.data.map((e) => present(ctx.config, c.name, e));
  return reply(200, listBody({ data, offset: page.offset }, path, options, carryArgs));
}

/** A selection that must find something: its error, 404, or the entity. */
function found(sel: Selection): { entity: Entity } | { error: Reply } {
  if (!sel.ok) return { error: sel.error };
  if (!sel.entity) return { error: notFound() };
  return { entity: sel.entity };
}

// ---- generic handlers --------------------------------------------------------------------

function collectionHandlers(c: AdminCollection): Methods {
  return {
    GET: (ctx) => {
      const parsed = parseListOptions(ctx.query);
      if (!parsed.ok) return parsed.error;
      return listReply(ctx, c, sortedEntities(ctx.config, c.name), parsed.options, `/${c.path}`, true);
    },
    POST: () => operationUnsupported('create', c.name),
  };
}

/**
 * PUT, PATCH and DELETE on one entity of `c` addressed by `key`, after the parent checks passed:
 * PUT never looks (Kong's upsert fails in the strategy), PATCH needs the entity, DELETE of a
 * missing entity succeeds with 204.
 */
function writeEntity(ctx: EntityContext, c: AdminCollection, key: string, verb: 'PUT' | 'PATCH' | 'DELETE', sel?: Selection): Reply {
  const s = sel ?? selectEntity(ctx.config, c, key);
  if (!s.ok) return s.error;
  const byField = s.byField ?? undefined;
  if (verb === 'PUT') return operationUnsupported('create or update', c.name, byField);
  if (!s.entity) return verb === 'PATCH' ? notFoundError(s.byField ?? 'id', key) : reply(204);
  return operationUnsupported(verb === 'PATCH' ? 'update' : 'remove', c.name, byField);
}

function entityHandlers(c: AdminCollection, select: (ctx: EntityContext, key: string) => Selection = (ctx, key) => selectEntity(ctx.config, c, key)): Methods {
  return {
    GET: (ctx, p) => {
      const r = found(select(ctx, p[c.name]!));
      return 'error' in r ? r.error : reply(200, present(ctx.config, c.name, r.entity));
    },
    PUT: (ctx, p) => writeEntity(ctx, c, p[c.name]!, 'PUT', select(ctx, p[c.name]!)),
    PATCH: (ctx, p) => writeEntity(ctx, c, p[c.name]!, 'PATCH', select(ctx, p[c.name]!)),
    DELETE: (ctx, p) => writeEntity(ctx, c, p[c.name]!, 'DELETE', select(ctx, p[c.name]!)),
  };
}

/** `/X/:X/f`: the entity X's foreign key f points at. */
function foreignEntityHandlers(c: AdminCollection, field: string, target: AdminCollection): Methods {
  const owner = (ctx: EntityContext, p: Params): { entity: Entity; fk: string | null } | { error: Reply } => {
    const r = found(selectEntity(ctx.config, c, p[c.name]!));
    return 'error' in r ? r : { entity: r.entity, fk: foreignId(r.entity, field) };
  };
  const referenced = (ctx: EntityContext, fk: string): Entity | null => entitiesOf(ctx.config, target.name).find((e) => e.id === fk) ?? null;
  return {
    GET: (ctx, p) => {
      const o = owner(ctx, p);
      if ('error' in o) return o.error;
      const e = o.fk ? referenced(ctx, o.fk) : null;
      return e ? reply(200, present(ctx.config, target.name, e)) : notFound();
    },
    PUT: (ctx, p) => {
      const o = owner(ctx, p);
      return 'error' in o ? o.error : operationUnsupported('create or update', target.name);
    },
    PATCH: (ctx, p) => {
      const o = owner(ctx, p);
      if ('error' in o) return o.error;
      if (!o.fk) return notFound();
      return referenced(ctx, o.fk) ? operationUnsupported('update', target.name) : notFoundError('id', o.fk);
    },
    DELETE: (ctx, p) => {
      const o = owner(ctx, p);
      if ('error' in o) return o.error;
      return o.fk ? methodNotAllowed() : notFound();
    },
  };
}

/** `/F/:F/X`: the Xs whose foreign key `field` is this F. */
function nestedCollectionHandlers(c: AdminCollection, field: string, parent: AdminCollection): Methods {
  return {
    GET: (ctx, p) => {
      const key = p[parent.name]!;
      const r = found(selectEntity(ctx.config, parent, key));
      if ('error' in r) return r.error;
      const parsed = parseListOptions(ctx.query);
      if (!parsed.ok) return parsed.error;
      const items = sortedEntities(ctx.config, c.name).filter((e) => foreignId(e, field) === r.entity.id);
      return listReply(ctx, c, items, parsed.options, `/${parent.path}/${escapeUri(key)}/${c.nestedPath}`, false);
    },
    POST: (ctx, p) => {
      const r = found(selectEntity(ctx.config, parent, p[parent.name]!));
      return 'error' in r ? r.error : operationUnsupported('create', c.name);
    },
  };
}

/** `/F/:F/X/:X`: one X, only when it belongs to that F. */
function nestedEntityHandlers(
  c: AdminCollection, field: string, parent: AdminCollection,
  selectChild: (ctx: EntityContext, parentEntity: Entity, key: string) => Selection | Reply = (ctx, _parent, key) => selectEntity(ctx.config, c, key),
  selectParent: (ctx: EntityContext, key: string) => Selection = (ctx, key) => selectEntity(ctx.config, parent, key),
): Methods {
  /** Parent must exist; then the child must exist and point at it. */
  const resolve = (ctx: EntityContext, p: Params): { parent: Entity; child: Selection } | { error: Reply } => {
    const pr = found(selectParent(ctx, p[parent.name]!));
    if ('error' in pr) return pr;
    const child = selectChild(ctx, pr.entity, p[c.name]!);
    if (!('ok' in child)) return { error: child };
    return { parent: pr.entity, child };
  };
  const owned = (r: { parent: Entity; child: Selection }): { entity: Entity } | { error: Reply } => {
    const ch = found(r.child);
    if ('error' in ch) return ch;
    return foreignId(ch.entity, field) === r.parent.id ? ch : { error: notFound() };
  };
  return {
    GET: (ctx, p) => {
      const r = resolve(ctx, p);
      if ('error' in r) return r.error;
      const o = owned(r);
      return 'error' in o ? o.error : reply(200, present(ctx.config, c.name, o.entity));
    },
    PUT: (ctx, p) => {
      const r = resolve(ctx, p);
      if ('error' in r) return r.error;
      return writeEntity(ctx, c, p[c.name]!, 'PUT', r.child);
    },
    PATCH: (ctx, p) => {
      const r = resolve(ctx, p);
      if ('error' in r) return r.error;
      const o = owned(r);
      return 'error' in o ? o.error : writeEntity(ctx, c, p[c.name]!, 'PATCH', r.child);
    },
    DELETE: (ctx, p) => {
      const r = resolve(ctx, p);
      if ('error' in r) return r.error;
      const o = owned(r);
      return 'error' in o ? o.error : writeEntity(ctx, c, p[c.name]!, 'DELETE', r.child);
    },
  };
}

// ---- customisations ----------------------------------------------------------------------

const C = (name: EntityKey): AdminCollection => COLLECTION_BY_NAME.get(name)!;

/** Kong's `endpoints.disable`: the path exists but always answers 404. */
const disabled: Methods = { GET: notFound, POST: notFound, PUT: notFound, PATCH: notFound, DELETE: notFound };

/** A certificate addressed by id or by one of its SNI names (Kong's `prepare_params`). */
function selectCertificate(ctx: EntityContext, key: string): Selection | Reply {
  if (isUuid(key)) return selectEntity(ctx.config, C('certificates'), key);
  const sni = ctx.config.snis.find((s) => s.name === key);
  if (!sni) return ctx.method === 'PUT' ? { ok: true, entity: null, byField: null } : message(404, 'SNI not found');
  return selectEntity(ctx.config, C('certificates'), sni.certificate.id);
}

/** Wraps handlers whose `:certificates` parameter may be an SNI name. */
function withCertificateKey(methods: Methods, paramName = 'certificates'): Methods {
  const out: Methods = {};
  for (const [verb, handler] of Object.entries(methods) as [keyof Methods, Handler][]) {
    out[verb] = (ctx, p) => {
      const key = p[paramName]!;
      if (isUuid(key)) return handler(ctx, p);
      const sel = selectCertificate(ctx, key);
      if (!('ok' in sel)) return sel;
      if (sel.ok && sel.entity) return handler(ctx, { ...p, [paramName]: sel.entity.id });
      // PUT of an unknown SNI name: Kong upserts a new certificate, which the strategy refuses.
      return verb === 'PUT' ? operationUnsupported('create or update', 'certificates') : notFound();
    };
  }
  return out;
}

/** Targets of an upstream as Kong's `page_for_upstream` lists them: newest first, one per target. */
function activeTargets(config: Config, upstream: Entity): Target[] {
  const seen = new Set<string>();
  const out: Target[] = [];
  const own = config.targets.map((t, i) => ({ t, i })).filter(({ t }) => t.upstream.id === upstream.id);
  own.sort((a, b) => (b.t.created_at - a.t.created_at) || (b.i - a.i));
  for (const { t } of own) {
    if (seen.has(t.target)) continue;
    seen.add(t.target);
    out.push(t);
  }
  return out;
}

/** Targets lists use a numeric offset (an index), as Kong's targets DAO does. */
function targetPage(ctx: EntityContext, items: readonly Target[]): { data: Target[]; offset: string | null } | { error: Reply } {
  const parsed = parseListOptions(new Map([...ctx.query].filter(([k]) => k !== 'offset' && k !== 'tags')), { tags: false });
  if (!parsed.ok) return { error: parsed.error };
  const raw = ctx.query.get('offset');
  let start = 0;
  if (raw !== undefined) {
    const text = raw === true ? '' : raw;
    if (!/^\d+$/.test(text)) return { error: invalidOffset(text, 'bad offset string') };
    start = Number(text);
  }
  const size = parsed.options.size;
  const data = items.slice(start, start + size);
  return { data, offset: start + size < items.length ? String(start + size) : null };
}

function pagedBody(page: { data: unknown[]; offset: string | null }, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (page.offset === null) return { data: page.data, next: null, ...extra };
  return { data: page.data, offset: page.offset, next: `${path}?offset=${escapeUri(page.offset)}`, ...extra };
}

/** `host:port` split at the last colon (IPv6 targets are bracketed). */
function splitTarget(target: string): { host: string; port: number } {
  const i = target.lastIndexOf(':');
  return i > 0 && !target.endsWith(']') ? { host: target.slice(0, i), port: Number(target.slice(i + 1)) } : { host: target, port: 8000 };
}

/** Kong's `getTargetStatus` shape for one target. */
function targetStatus(h: TargetHealth): Record<string, unknown> {
  const { host, port } = splitTarget(h.target);
  const total = h.addresses.reduce((n, a) => n + a.weight, 0);
  const unavailable = h.addresses.filter((a) => a.health === 'UNHEALTHY').reduce((n, a) => n + a.weight, 0);
  return {
    host, port, nodeWeight: h.weight,
    weight: { total, available: total - unavailable, unavailable },
    addresses: h.addresses.map((a) => ({ ip: a.ip, port: a.port, weight: a.weight, health: a.health })),
  };
}

/** `/upstreams/:upstreams/health` (Admin and Status API). */
export const upstreamHealthHandler: Handler = (ctx, p) => {
  const key = p.upstreams!;
  const r = found(selectEntity(ctx.config, C('upstreams'), key));
  if ('error' in r) return r.error;
  const upstream = r.entity as unknown as Upstream;
  const report = ctx.backend.upstreamHealth(upstream.id);
  const byTarget = new Map((report ?? []).map((h) => [h.target, h]));
  const nodeId = ctx.backend.nodeId;
  const balancerHealth = ctx.query.get('balancer_health');
  if (balancerHealth === '1') {
    const statuses = (report ?? []).map(targetStatus);
    const total = statuses.reduce((n, s) => n + (s.weight as { total: number }).total, 0);
    const available = statuses.reduce((n, s) => n + (s.weight as { available: number }).available, 0);
    const healthy = total > 0 && available > 0 && (available / total) * 100 >= upstream.healthchecks.threshold;
    const checksOff = (report ?? []).every((h) => h.health === 'HEALTHCHECKS_OFF');
    const balancer = healthy ? 'HEALTHY' : 'UNHEALTHY';
    return reply(200, {
      data: {
        health: checksOff ? 'HEALTHCHECKS_OFF' : balancer, balancer_health: balancer, id: upstream.id,
        details: { healthy, weight: { total, available, unavailable: total - available }, hosts: statuses },
      },
      next: null, node_id: nodeId,
    });
  }
  const page = targetPage(ctx, activeTargets(ctx.config, r.entity));
  if ('error' in page) return page.error;
  const data = page.data.map((t) => {
    if (!report) return t;
    const h = byTarget.get(t.target);
    if (!h || h.addresses.length === 0) return { ...t, health: 'DNS_ERROR' };
    return { ...t, health: h.health, data: targetStatus(h) };
  });
  return reply(200, pagedBody({ data, offset: page.offset }, `/upstreams/${escapeUri(key)}/health`, { node_id: nodeId }));
};

/** A target under an upstream, by id or by its `host:port` (Kong's `select_by_upstream_filter`). */
function selectTarget(ctx: EntityContext, upstream: Entity, key: string): Selection {
  const own = ctx.config.targets.filter((t) => t.upstream.id === upstream.id);
  const lower = key.toLowerCase();
  const t = isUuid(key) ? ctx.config.targets.find((x) => x.id.toLowerCase() === lower) : [...own].reverse().find((x) => x.target === key);
  return { ok: true, entity: (t as unknown as Entity | undefined) ?? null, byField: null };
}

function upstreamTargetHandlers(): Methods {
  const targets = C('targets');
  const upstreams = C('upstreams');
  const resolve = (ctx: EntityContext, p: Params): { entity: Entity } | { error: Reply } => {
    const u = found(selectEntity(ctx.config, upstreams, p.upstreams!));
    if ('error' in u) return u;
    const t = selectTarget(ctx, u.entity, p.targets!);
    if (!t.ok || !t.entity || foreignId(t.entity, 'upstream') !== u.entity.id) return { error: notFound() };
    return { entity: t.entity };
  };
  // Kong routes PUT and PATCH of a target through `update`, which the strategy refuses.
  const write = (verb: 'update' | 'remove'): Handler => (ctx, p) => {
    const r = resolve(ctx, p);
    return 'error' in r ? r.error : operationUnsupported(verb, targets.name);
  };
  return {
    GET: (ctx, p) => {
      const r = resolve(ctx, p);
      return 'error' in r ? r.error : reply(200, r.entity);
    },
    PUT: write('update'),
    PATCH: write('update'),
    DELETE: write('remove'),
  };
}

/** `/consumers/:consumers/acls/:acls`: an ACL may be addressed by its group. */
function selectAclOfConsumer(ctx: EntityContext, consumer: Entity, key: string): Selection | Reply {
  if (isUuid(key)) return selectEntity(ctx.config, C('acls'), key);
  const acl = ctx.config.acls.find((a) => a.consumer.id === consumer.id && a.group === key);
  if (acl) return { ok: true, entity: acl as unknown as Entity, byField: null };
  // Kong gives PUT a fresh id (an upsert the strategy refuses); other methods get 404.
  return ctx.method === 'PUT' ? { ok: true, entity: null, byField: null } : notFound();
}

/** Kong's tags pseudo-entity rows. */
interface TagRow { tag: string; entity_name: string; entity_id: string }

function tagRows(config: Config, only?: string): { rows: TagRow[]; keys: string[] } {
  const rows: TagRow[] = [];
  const keys: string[] = [];
  ADMIN_COLLECTIONS.forEach((c, ci) => {
    for (const e of sortedEntities(config, c.name)) {
      const tags = (e.tags as string[] | null) ?? [];
      tags.forEach((tag, ti) => {
        if (only !== undefined && tag !== only) return;
        rows.push({ tag, entity_name: c.name, entity_id: e.id });
        keys.push(`${String(ci).padStart(2, '0')}|${e.id}|${String(ti).padStart(5, '0')}`);
      });
    }
  });
  return { rows, keys };
}

function tagListReply(ctx: EntityContext, path: string, only?: string): Reply {
  const parsed = parseListOptions(ctx.query, { tags: false });
  if (!parsed.ok) return parsed.error;
  const { rows, keys } = tagRows(ctx.config, only);
  const indexed = rows.map((row, i) => ({ row, key: keys[i]! }));
  const page = takePage(indexed, (x) => x.key, parsed.options);
  return reply(200, listBody({ data: page.data.map((x) => x.row), offset: page.offset }, path, parsed.options, only === undefined));
}

const TAG_CHARS = /^[ \x21-\x2b\x2d\x2e\x30-\x7e\u0080-\u{10ffff}]+$/u;
const tagsReadOnly = (): Reply => schemaViolation('tags', 'does not support insert/upsert/update/delete operations');

// ---- the table -----------------------------------------------------------------------------

/** Every entity route of the Admin API, Kong's generated ones with Kong's customisations applied. */
export function entityRoutes(): RouteDefinition<EntityContext>[] {
  const table = new Map<string, Methods>();
  const add = (pattern: string, methods: Methods) => table.set(pattern, { ...(table.get(pattern) ?? {}), ...methods });

  for (const c of ADMIN_COLLECTIONS) {
    add(`/${c.path}`, collectionHandlers(c));
    add(`/${c.path}/:${c.name}`, entityHandlers(c));
    for (const [field, targetName] of Object.entries(c.foreign)) {
      const parent = C(targetName);
      add(`/${c.path}/:${c.name}/${field}`, foreignEntityHandlers(c, field, parent));
      add(`/${parent.path}/:${parent.name}/${c.nestedPath}`, nestedCollectionHandlers(c, field, parent));
      add(`/${parent.path}/:${parent.name}/${c.nestedPath}/:${c.name}`, nestedEntityHandlers(c, field, parent));
    }
  }

  // Consumers may be searched by custom_id (`GET /consumers?custom_id=`).
  const consumersList = table.get('/consumers')!.GET!;
  add('/consumers', {
    GET: (ctx, p) => {
      const customId = ctx.query.get('custom_id');
      if (customId === undefined) return consumersList(ctx, p);
      if (customId === true || customId === '') return message(400, 'custom_id must be an unempty string');
      const consumer = ctx.config.consumers.find((x) => x.custom_id === customId);
      return reply(200, { data: consumer ? [consumer] : [], next: null });
    },
  });
  add('/consumers/:consumers/acls/:acls', nestedEntityHandlers(C('acls'), 'consumer', C('consumers'), selectAclOfConsumer));

  // Certificates may be addressed by an SNI name.
  add('/certificates/:certificates', withCertificateKey(entityHandlers(C('certificates'))));
  add('/certificates/:certificates/snis', withCertificateKey(nestedCollectionHandlers(C('snis'), 'certificate', C('certificates'))));
  add('/certificates/:certificates/snis/:snis', withCertificateKey(nestedEntityHandlers(C('snis'), 'certificate', C('certificates'))));
  add('/snis/:snis/certificate', disabled);

  // Targets live under their upstream only.
  add('/targets', disabled);
  add('/targets/:targets', disabled);
  add('/targets/:targets/upstream', disabled);
  add('/upstreams/:upstreams/targets', {
    GET: (ctx, p) => {
      const key = p.upstreams!;
      const u = found(selectEntity(ctx.config, C('upstreams'), key));
      if ('error' in u) return u.error;
      const page = targetPage(ctx, activeTargets(ctx.config, u.entity));
      return 'error' in page ? page.error : reply(200, pagedBody(page, `/upstreams/${escapeUri(key)}/targets`));
    },
  });
  add('/upstreams/:upstreams/targets/all', {
    GET: (ctx, p) => {
      const key = p.upstreams!;
      const u = found(selectEntity(ctx.config, C('upstreams'), key));
      if ('error' in u) return u.error;
      const parsed = parseListOptions(ctx.query, { tags: false });
      if (!parsed.ok) return parsed.error;
      const items = sortedEntities(ctx.config, 'targets').filter((t) => foreignId(t, 'upstream') === u.entity.id);
      const page = takePage(items, byId, parsed.options);
      return reply(200, listBody(page, `/upstreams/${escapeUri(key)}/targets/all`, parsed.options, false));
    },
  });
  table.set('/upstreams/:upstreams/targets/:targets', upstreamTargetHandlers());
  add('/upstreams/:upstreams/health', { GET: upstreamHealthHandler });

  // Tags: a read-only pseudo-entity listing (tag, entity_name, entity_id).
  add('/tags', { GET: (ctx) => tagListReply(ctx, '/tags'), POST: tagsReadOnly });
  add('/tags/:tags', {
    GET: (ctx, p) => {
      const tag = p.tags!;
      if (!TAG_CHARS.test(tag)) {
        return reply(400, {
          code: 10, name: 'invalid unique tag',
          message: `invalid tag '${tag}': expected printable ascii (except \`,\` and \`/\`) or valid utf-8 sequences`,
        });
      }
      return tagListReply(ctx, `/tags/${escapeUri(tag)}`, tag);
    },
    PUT: tagsReadOnly, PATCH: tagsReadOnly, DELETE: tagsReadOnly,
  });

  return [...table].map(([pattern, methods]) => ({ pattern, methods }));
}

/** The read-only upstream routes the Status API serves in DB-less mode (GET only). */
export function statusUpstreamRoutes(): RouteDefinition<EntityContext>[] {
  const wanted = new Set(['/upstreams/:upstreams/health', '/upstreams/:upstreams/targets', '/upstreams/:upstreams/targets/all', '/upstreams/:upstreams/targets/:targets']);
  return entityRoutes().filter((r) => wanted.has(r.pattern)).map((r) => ({ pattern: r.pattern, methods: { GET: r.methods.GET! } }));
}
