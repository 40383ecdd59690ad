/**
 * @module admin/admin-api
 * Kong's Admin API in DB-less mode as a `node:http` request handler: node information (`/`,
 * `/status`, `/endpoints`, schemas), read access to every loaded entity (see entity-routes.ts),
 * `GET /config` (YAML export) and `POST /config` (replace the whole configuration). Responses
 * follow Kong's `kong.response.exit`: compact JSON, `application/json; charset=utf-8`, with
 * `Server` and `X-Kong-Admin-Latency` headers and the permissive CORS headers Kong adds when no
 * `admin_gui_url` is set. An optional bearer token guards listeners bound beyond loopback.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { emptyConfig, ENTITY_KEYS, type Config, type EntityKey, type Oauth2Credential } from '../config/entities.ts';
import { exportConfigYaml } from '../config/export.ts';
import { presentOauth2Credential } from '../config/stored-secrets.ts';
import type { AdminBackend, ApplyResult } from './backend.ts';
import { entityRoutes, type EntityContext } from './entity-routes.ts';
import {
  MAX_ADMIN_BODY_BYTES, message, notFound, parseBodyParams, parseQuery, readBody, reply, unexpectedError,
  writeReply, type BodyParams, type Reply,
} from './http.ts';
import { dispatch, Router, type RouteDefinition } from './router.ts';
import { entitySchema, pluginConfigSchema, pluginSchema, TAGS_SCHEMA } from './schemas.ts';
import { metricsReply, statusReply } from './status.ts';

export interface AdminHandlerOptions {
  /** When set, every request must carry `Authorization: Bearer <token>` or `Kong-Admin-Token: <token>`. */
  token?: string;
}

/** Everything an Admin API route sees. */
export interface AdminContext extends EntityContext {
  readonly req: IncomingMessage;
  readonly body: Buffer;
  readonly bodyParams: BodyParams;
}

type AdminRoute = RouteDefinition<AdminContext>;

// ---- POST /config ------------------------------------------------------------------------

/** Kong's `truthy()` for `flatten_errors`. */
function truthy(v: unknown): boolean {
  if (typeof v === 'string') return ['true', '1', 'on', 'yes'].includes(v.toLowerCase());
  return v === true || v === 1;
}

/** A parameter from the query string or, failing that, the body (Lapis merges both into `params`). */
function param(ctx: AdminContext, name: string): unknown {
  if (ctx.query.has(name)) return ctx.query.get(name);
  if (ctx.bodyParams.kind === 'form') return ctx.bodyParams.fields.get(name);
  if (ctx.bodyParams.kind === 'json' && isRecord(ctx.bodyParams.value)) return ctx.bodyParams.value[name];
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What to load, in Kong's order: a JSON object that is itself a config (has `_format_version`),
 * else a `config` field (JSON or form), else the raw body; nothing at all is a 400.
 */
function configFromRequest(ctx: AdminContext): { config: string | object; hashOf?: Buffer } | { error: Reply } {
  const p = ctx.bodyParams;
  if (p.kind === 'json' && isRecord(p.value)) {
    if (p.value._format_version !== undefined) {
      const { check_hash: _c, flatten_errors: _f, ...config } = p.value;
      // Kong reads such a body as declarative text and hashes it as sent; it is also ~15x cheaper
      // than hashing the parsed object's canonical JSON (60 ms for 10,000 services, 190 cold).
      return { config, hashOf: ctx.body };
    }
    const field = p.value.config;
    if (typeof field === 'string' || isRecord(field)) return { config: field };
  }
  if (p.kind === 'form') {
    const field = p.fields.get('config');
    if (field !== undefined) return { config: field };
  }
  if (ctx.body.length > 0) return { config: ctx.body.toString('utf8') };
  return { error: message(400, 'expected a declarative configuration') };
}

/** The loaded entities keyed by collection and id, as Kong's 201 body lists them. */
function loadedEntities(config: Config): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of ENTITY_KEYS) {
    const items = config[key] as unknown as Array<{ id: string }>;
    if (items.length === 0) continue;
    out[key] = Object.fromEntries(items.map((e) => [e.id, key === 'oauth2_credentials' ? presentOauth2Credential(e as unknown as Oauth2Credential) : e]));
  }
  return out;
}

function applyResultReply(r: ApplyResult): Reply {
  switch (r.kind) {
    case 'applied':
      return r.rendered === undefined ? reply(201, loadedEntities(r.loaded.config))
        : { status: 201, text: { contentType: 'application/json; charset=utf-8', body: r.rendered } };
    case 'unchanged': return { status: 304 };
    case 'invalid': return reply(400, r.error);
    case 'busy': return reply(429, { message: 'Currently loading previous configuration' }, { 'Retry-After': String(r.retryAfter ?? 1) });
    case 'exiting': return message(503, 'Kong currently exiting');
    case 'failed': return r.timeout ? message(504, 'Timed out while loading configuration') : unexpectedError();
  }
}

async function postConfig(ctx: AdminContext): Promise<Reply> {
  const flattenErrors = truthy(param(ctx, 'flatten_errors'));
  const checkHash = String(param(ctx, 'check_hash')) === '1';
  const input = configFromRequest(ctx);
  if ('error' in input) return input.error;
  try {
    // The 201 body of a large config takes ~100 ms to make and as long again to encode (9 MB for
    // 10,000 services + routes): the primary does both while the workers compile, and the answer
    // then only writes bytes.
    const render = (config: Config) => Buffer.from(JSON.stringify(loadedEntities(config)));
    return applyResultReply(await ctx.backend.applyConfig(input.config, { checkHash, flattenErrors, hashOf: input.hashOf, render }));
  } catch {
    return unexpectedError();
  }
}

// ---- node information --------------------------------------------------------------------

function rootReply(ctx: AdminContext): Reply {
  const b = ctx.backend;
  const available: Record<string, { version: string; priority: number }> = {};
  for (const [name, p] of b.plugins) available[name] = { version: p.version, priority: p.priority };
  const enabled: string[] = [];
  for (const p of [...ctx.config.plugins].sort((x, y) => (x.id < y.id ? -1 : 1))) if (!enabled.includes(p.name)) enabled.push(p.name);
  return reply(200, {
    tagline: 'Welcome to turnpike',
    version: b.version,
    edition: 'community',
    hostname: b.hostname,
    node_id: b.nodeId,
    timers: b.timers?.() ?? { running: 0, pending: 0 },
    plugins: { available_on_server: available, enabled_in_cluster: enabled },
    configuration: b.configuration(),
    pids: b.pids(),
  });
}

const SCHEMA_ENTITIES = new Set<string>(ENTITY_KEYS);

function schemaReply(name: string): Reply {
  if (name === 'tags') return reply(200, TAGS_SCHEMA);
  if (!SCHEMA_ENTITIES.has(name)) return message(404, `No entity named '${name}'`);
  return reply(200, entitySchema(name as EntityKey));
}

function pluginSchemaReply(ctx: AdminContext, name: string, configOnly: boolean): Reply {
  const p = ctx.backend.plugins.get(name);
  if (!p) return message(404, `No plugin named '${name}'`);
  return reply(200, configOnly ? pluginConfigSchema(p) : pluginSchema(p));
}

// ---- the table ---------------------------------------------------------------------------

function adminRoutes(): AdminRoute[] {
  const routes: AdminRoute[] = [
    { pattern: '/', methods: { GET: rootReply } },
    { pattern: '/status', methods: { GET: (ctx) => statusReply(ctx.backend, ctx.query) } },
    { pattern: '/metrics', methods: { GET: (ctx) => metricsReply(ctx.backend) } },
    {
      pattern: '/config',
      methods: {
        GET: (ctx) => reply(200, { config: exportConfigYaml(ctx.backend.current()?.config ?? emptyConfig()) }),
        POST: postConfig,
      },
    },
    { pattern: '/plugins/enabled', methods: { GET: (ctx) => reply(200, { enabled_plugins: [...ctx.backend.plugins.keys()] }) } },
    { pattern: '/plugins/schema/:name', methods: { GET: (ctx, p) => pluginSchemaReply(ctx, p.name!, true) } },
    { pattern: '/schemas/:name', methods: { GET: (_ctx, p) => schemaReply(p.name!) } },
    { pattern: '/schemas/plugins/:name', methods: { GET: (ctx, p) => pluginSchemaReply(ctx, p.name!, false) } },
  ];
  // Entity handlers only read the EntityContext part of the AdminContext.
  routes.push(...(entityRoutes() as unknown as AdminRoute[]));
  const router = new Router(routes);
  routes.push({ pattern: '/endpoints', methods: { GET: () => reply(200, { data: [...router.endpoints(), '/endpoints'].sort(endpointOrder) }) } });
  return routes;
}

/** Kong sorts `/endpoints` with `/` ranked below every other character. */
function endpointOrder(a: string, b: string): number {
  const x = a.replace(/\//g, '\x00');
  const y = b.replace(/\//g, '\x00');
  return x < y ? -1 : x > y ? 1 : 0;
}

function tokenMatches(expected: Buffer, req: IncomingMessage): boolean {
  const candidates: string[] = [];
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) candidates.push(auth.replace(/^bearer\s+/i, '').trim());
  const kongToken = req.headers['kong-admin-token'];
  if (typeof kongToken === 'string') candidates.push(kongToken.trim());
  return candidates.some((c) => {
    const given = Buffer.from(c);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Creates the Admin API request handler. */
export function createAdminHandler(backend: AdminBackend, options: AdminHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const router = new Router(adminRoutes());
  const token = options.token ? Buffer.from(options.token) : null;

  const handle = async (req: IncomingMessage, res: ServerResponse, started: number): Promise<void> => {
    const origin = req.headers.origin;
    const common = () => ({
      Server: `turnpike/${backend.version}`,
      'X-Kong-Admin-Latency': String(Math.round(performance.now() - started)),
      'Access-Control-Allow-Origin': typeof origin === 'string' ? origin : '*',
      'Access-Control-Allow-Credentials': 'true',
    });
    const send = (r: Reply) => writeReply(req, res, r, common());

    if (token && !tokenMatches(token, req)) {
      req.resume();
      return send(message(401, 'Unauthorized'));
    }
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = parseQuery(q < 0 ? '' : rawUrl.slice(q + 1));
    const method = (req.method ?? 'GET').toUpperCase();

    const body = await readBody(req, MAX_ADMIN_BODY_BYTES);
    if (!body.ok) {
      if (!body.tooLarge) return; // the client went away
      return send({ status: 413, body: { message: 'Payload too large' }, headers: { Connection: 'close' } });
    }

    const match = router.match(path);
    if (!match) {
      if (backend.pluginAdminRoute) {
        const r = await backend.pluginAdminRoute(method, path, new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)), body.body);
        if (r) return send(r.body === undefined || r.status === 204 ? { status: r.status } : reply(r.status, r.body));
      }
      return send(notFound());
    }
    const bodyParams = BODY_METHODS.has(method) ? parseBodyParams(req, body.body) : { kind: 'raw' as const };
    if (bodyParams.kind === 'bad-json') return send(message(400, 'Cannot parse JSON body'));
    const current = backend.current();
    const ctx: AdminContext = { backend, config: current?.config ?? emptyConfig(), method, query, req, body: body.body, bodyParams };
    const requested = req.headers['access-control-request-headers'];
    send(await dispatch(match, method, ctx, typeof requested === 'string' ? requested : undefined));
  };

  return (req, res) => {
    const started = performance.now();
    handle(req, res, started).catch(() => {
      writeReply(req, res, unexpectedError(), { Server: `turnpike/${backend.version}` });
    });
  };
}

