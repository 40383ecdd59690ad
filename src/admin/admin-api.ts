/**
 * @module admin/admin-api
 * Kong's Admin API in DB-less mode: read the loaded entities (lists with `?tags=` and
 * `size`/`offset` pagination, items by id or name, nested paths), replace the whole config with
 * `POST /config`, and refuse entity writes with Kong's 405 messages. JSON bodies are compact, as
 * Kong's `kong.response.exit` writes them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import type { Config } from '../config/entities.ts';
import { exportConfig } from '../config/export.ts';
import type { AdminBackend, ApplyResult } from './backend.ts';

type Json = Record<string, unknown>;
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

const MAX_BODY = 10 * 1024 * 1024;

/** Entity collections: path segment -> config key, and what an item may be addressed by. */
const COLLECTIONS: Record<string, { key: keyof Config; entity: string; names: string[] }> = {
  services: { key: 'services', entity: 'services', names: ['name'] },
  routes: { key: 'routes', entity: 'routes', names: ['name'] },
  consumers: { key: 'consumers', entity: 'consumers', names: ['username', 'custom_id'] },
  plugins: { key: 'plugins', entity: 'plugins', names: ['instance_name'] },
  upstreams: { key: 'upstreams', entity: 'upstreams', names: ['name'] },
  targets: { key: 'targets', entity: 'targets', names: ['target'] },
  certificates: { key: 'certificates', entity: 'certificates', names: [] },
  snis: { key: 'snis', entity: 'snis', names: ['name'] },
  ca_certificates: { key: 'ca_certificates', entity: 'ca_certificates', names: [] },
  'key-auths': { key: 'keyauth_credentials', entity: 'keyauth_credentials', names: ['key'] },
  'basic-auths': { key: 'basicauth_credentials', entity: 'basicauth_credentials', names: ['username'] },
  acls: { key: 'acls', entity: 'acls', names: [] },
  jwts: { key: 'jwt_secrets', entity: 'jwt_secrets', names: ['key'] },
  'hmac-auths': { key: 'hmacauth_credentials', entity: 'hmacauth_credentials', names: ['username'] },
  oauth2: { key: 'oauth2_credentials', entity: 'oauth2_credentials', names: ['client_id'] },
};

/** Nested lists: /<parent>/{id}/<child> -> child collection filtered by a foreign key. */
const NESTED: Record<string, Record<string, { collection: string; fk: string }>> = {
  services: { routes: { collection: 'routes', fk: 'service' }, plugins: { collection: 'plugins', fk: 'service' } },
  routes: { plugins: { collection: 'plugins', fk: 'route' } },
  consumers: {
    plugins: { collection: 'plugins', fk: 'consumer' }, 'key-auth': { collection: 'key-auths', fk: 'consumer' },
    'basic-auth': { collection: 'basic-auths', fk: 'consumer' }, acls: { collection: 'acls', fk: 'consumer' },
    jwt: { collection: 'jwts', fk: 'consumer' }, 'hmac-auth': { collection: 'hmac-auths', fk: 'consumer' },
    oauth2: { collection: 'oauth2', fk: 'consumer' },
  },
  upstreams: { targets: { collection: 'targets', fk: 'upstream' } },
  certificates: { snis: { collection: 'snis', fk: 'certificate' } },
};

const json = (status: number, body: unknown): Reply => ({ status, body });
const notFound = (): Reply => json(404, { message: 'Not found' });
const methodNotAllowed = (): Reply => json(405, { message: 'Method not allowed' });

function unsupported(method: string, entity: string, byField: string | null): Reply {
  const verb = method === 'POST' ? 'create' : method === 'PUT' ? 'create or update' : method === 'PATCH' ? 'update' : 'remove';
  const by = byField ? ` by '${byField}'` : '';
  return json(405, { code: 12, name: 'operation unsupported', message: `cannot ${verb} '${entity}' entities${by} when not using a database` });
}

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

/** Fields Kong never lists in plain text. */
function redact(collection: string, e: Json): Json {
  if (collection === 'certificates') return { ...e, key: undefined, key_alt: undefined };
  return e;
}

function matchesTags(e: Json, tags: string | null): boolean {
  if (!tags) return true;
  const have = (e.tags as string[] | null) ?? [];
  if (tags.includes('/')) return tags.split('/').some((t) => have.includes(t));
  return tags.split(',').every((t) => have.includes(t));
}

function paginate(path: string, items: Json[], query: URLSearchParams): Reply {
  const sizeRaw = query.get('size');
  let size = 100;
  if (sizeRaw !== null) {
    size = Number(sizeRaw);
    if (!Number.isInteger(size)) return json(400, { code: 2, name: 'schema violation', message: 'schema violation (size: expected an integer)', fields: { size: 'expected an integer' } });
    if (size < 1 || size > 1000) return json(400, { code: 2, name: 'schema violation', message: 'schema violation (size: value should be between 1 and 1000)', fields: { size: 'value should be between 1 and 1000' } });
  }
  let start = 0;
  const offset = query.get('offset');
  if (offset !== null) {
    const decoded = Buffer.from(offset, 'base64').toString();
    if (!/^\d+$/.test(decoded) || Buffer.from(decoded).toString('base64') !== offset) {
      return json(400, { code: 7, name: 'invalid offset', message: `'${offset}' is not a valid offset: bad base64 encoding` });
    }
    start = Number(decoded);
  }
  const data = items.slice(start, start + size);
  const nextStart = start + size;
  const extra = [...query.entries()].filter(([k]) => k !== 'offset').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  const next = nextStart < items.length
    ? `${path}?${[...extra, `offset=${encodeURIComponent(Buffer.from(String(nextStart)).toString('base64'))}`].join('&')}`
    : null;
  return json(200, { data, next, ...(nextStart < items.length ? { offset: Buffer.from(String(nextStart)).toString('base64') } : {}) });
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { resolve(null); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** POST /config body forms: form field `config`, JSON `{config: "..."}`, a JSON config, raw YAML/JSON. */
function configFromBody(body: Buffer, contentType: string): string | object | null {
  if (body.length === 0) return null;
  const ct = contentType.toLowerCase();
  if (ct.startsWith('application/x-www-form-urlencoded')) {
    const v = new URLSearchParams(body.toString()).get('config');
    return v === null || v === '' ? null : v;
  }
  if (ct.startsWith('multipart/form-data')) {
    const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
    if (!m) return null;
    const boundary = `--${m[1] ?? m[2]}`;
    for (const part of body.toString('latin1').split(boundary)) {
      const head = part.indexOf('\r\n\r\n');
      if (head === -1) continue;
      if (/name="config"/i.test(part.slice(0, head))) {
        return Buffer.from(part.slice(head + 4).replace(/\r\n$/, ''), 'latin1').toString('utf8');
      }
    }
    return null;
  }
  const text = body.toString('utf8');
  if (ct.startsWith('application/json')) {
    try {
      const parsed = JSON.parse(text) as Json;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        if (typeof parsed.config === 'string' && parsed._format_version === undefined) return parsed.config;
        if (parsed.config && typeof parsed.config === 'object' && parsed._format_version === undefined) return parsed.config as object;
      }
    } catch { /* the validator reports it */ }
  }
  return text;
}

function applyReply(r: ApplyResult): Reply {
  switch (r.kind) {
    case 'applied': {
      const out: Json = {};
      const exported = exportConfig(r.loaded.config) as Json;
      for (const [k, v] of Object.entries(exported)) if (Array.isArray(v)) out[k] = Object.fromEntries((v as Json[]).map((e) => [e.id as string, e]));
      return json(201, out);
    }
    case 'unchanged': return { status: 304 };
    case 'invalid': return json(400, r.error);
    case 'busy': return { status: 429, body: { message: 'Currently loading previous configuration' }, headers: { 'Retry-After': '1' } };
    case 'exiting': return json(503, { message: 'Kong currently exiting' });
    case 'failed': return json(500, { message: r.message });
  }
}

const TRUTHY = new Set(['true', '1', 'on', 'yes']);

export function statusBody(backend: AdminBackend, query: URLSearchParams): Reply {
  const unit = query.get('unit') ?? 'm';
  const scaleRaw = query.get('scale') ?? '2';
  const units: Record<string, [number, string]> = { b: [1, ''], k: [1024, ' KiB'], m: [1024 ** 2, ' MiB'], g: [1024 ** 3, ' GiB'] };
  if (!units[unit]) return json(400, { message: `invalid unit '${unit}' (expected 'k/K', 'm/M', or 'g/G')` });
  const scale = Number(scaleRaw);
  if (!Number.isInteger(scale) || scale < 0) return json(400, { message: `invalid scale '${scaleRaw}'` });
  const [div, suffix] = units[unit]!;
  const fmt = (n: number) => (unit === 'b' ? n : `${(n / div).toFixed(scale)}${suffix}`);
  const mem = backend.memoryStats();
  return json(200, {
    memory: {
      workers_lua_vms: mem.workers.map((w) => ({ pid: w.pid, http_allocated_gc: fmt(w.http_allocated_gc) })),
      lua_shared_dicts: Object.fromEntries(Object.entries(mem.shared).map(([k, v]) => [k, { allocated_slabs: fmt(v.allocated_slabs), capacity: fmt(v.capacity) }])),
    },
    server: backend.serverStats(),
    configuration_hash: backend.current()?.hash ?? '00000000000000000000000000000000',
  });
}

export function healthBody(backend: AdminBackend, upstream: string): Reply {
  const cur = backend.current();
  const u = cur?.config.upstreams.find((x) => x.id === upstream || x.name === upstream);
  if (!cur || !u) return notFound();
  const rows = backend.upstreamHealth(u.id) ?? [];
  const targets = new Map(cur.config.targets.map((t) => [t.id, t]));
  return json(200, {
    data: rows.map((r) => {
      const t = targets.get(r.targetId);
      return {
        id: r.targetId, target: r.target, weight: r.weight, health: r.health, upstream: { id: u.id },
        created_at: t?.created_at ?? null, updated_at: t?.updated_at ?? null, tags: t?.tags ?? null,
        data: { addresses: r.addresses },
      };
    }),
    next: null,
    node_id: backend.nodeId,
  });
}

function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export function createAdminHandler(backend: AdminBackend, options: { token?: string } = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const route = async (req: IncomingMessage): Promise<Reply> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;

    if (options.token) {
      const auth = req.headers.authorization;
      const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (req.headers['kong-admin-token'] as string | undefined);
      if (!tokenMatches(options.token, given)) return json(401, { message: 'Unauthorized' });
    }

    if (segs.length === 0) {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed();
      const available: Json = {};
      for (const p of backend.plugins.values()) available[p.name] = { version: p.version, priority: p.priority };
      const enabled = [...new Set(backend.current()?.config.plugins.map((p) => p.name) ?? [])].sort();
      return json(200, {
        tagline: 'Welcome to turnpike', version: backend.version, edition: 'community', hostname: backend.hostname,
        node_id: backend.nodeId, lua_version: `Node.js ${process.version}`, timers: { running: 0, pending: 0 },
        plugins: { available_on_server: available, enabled_in_cluster: enabled },
        configuration: backend.configuration(), pids: backend.pids(),
      });
    }

    const head = segs[0]!;
    if (head === 'status' && segs.length === 1) return method === 'GET' ? statusBody(backend, q) : methodNotAllowed();
    if (head === 'metrics' && segs.length === 1 && backend.metrics) {
      const m = await backend.metrics();
      return { status: 200, body: m.body, headers: { 'Content-Type': m.contentType } };
    }
    if (head === 'endpoints' && segs.length === 1) {
      return json(200, { data: ['/', '/status', '/config', '/endpoints', '/tags', '/tags/{tags}', '/plugins/enabled', '/plugins/schema/{name}', '/schemas/plugins/{name}',
        ...Object.keys(COLLECTIONS).flatMap((c) => [`/${c}`, `/${c}/{${c}}`]),
        ...Object.entries(NESTED).flatMap(([p, kids]) => Object.keys(kids).map((k) => `/${p}/{${p}}/${k}`)),
        '/upstreams/{upstreams}/health'], next: null });
    }
    if (head === 'config' && segs.length === 1) {
      if (method === 'GET') {
        const cur = backend.current();
        return json(200, { config: cur ? toYaml(exportConfig(cur.config)) : toYaml({ _format_version: '3.0' }) });
      }
      if (method !== 'POST') return methodNotAllowed();
      const body = await readBody(req);
      if (body === null) return json(413, { message: 'Request body too large' });
      const config = configFromBody(body, req.headers['content-type'] ?? '');
      if (config === null) return json(400, { message: 'expected a declarative configuration' });
      const r = await backend.applyConfig(config, {
        checkHash: q.get('check_hash') === '1',
        flattenErrors: TRUTHY.has((q.get('flatten_errors') ?? '').toLowerCase()),
      });
      return applyReply(r);
    }
    if (head === 'plugins' && segs[1] === 'enabled' && segs.length === 2) {
      return json(200, { enabled_plugins: [...backend.plugins.keys()].sort() });
    }
    if ((head === 'plugins' && segs[1] === 'schema' && segs.length === 3) || (head === 'schemas' && segs[1] === 'plugins' && segs.length === 3)) {
      const p = backend.plugins.get(segs[2]!);
      if (!p) return json(404, { message: `No plugin named '${segs[2]}'` });
      return json(200, { fields: [{ config: p.schema }], name: p.name, priority: p.priority, version: p.version });
    }
    if (head === 'tags') {
      const cur = backend.current();
      const rows: Json[] = [];
      for (const [seg, col] of Object.entries(COLLECTIONS)) {
        void seg;
        for (const e of (cur?.config[col.key] as unknown as Json[] | undefined) ?? []) {
          for (const t of (e.tags as string[] | null) ?? []) {
            if (segs.length === 1 || segs[1] === t) rows.push({ entity_name: col.entity, entity_id: e.id, tag: t });
          }
        }
      }
      if (segs.length > 2) return notFound();
      return paginate(path, rows, q);
    }
    if (head === 'upstreams' && segs.length === 3 && segs[2] === 'health') {
      return method === 'GET' ? healthBody(backend, segs[1]!) : methodNotAllowed();
    }
    if (backend.pluginAdminRoute) {
      const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : (await readBody(req)) ?? Buffer.alloc(0);
      const r = await backend.pluginAdminRoute(method, path, q, body);
      if (r) return r;
    }

    const col = COLLECTIONS[head];
    if (!col) return notFound();
    const cur = backend.current();
    const all = ((cur?.config[col.key] as unknown as Json[] | undefined) ?? []);
    const find = (c: typeof col, list: Json[], idOrName: string) =>
      isUuid(idOrName) ? list.find((e) => e.id === idOrName) : list.find((e) => c.names.some((n) => e[n] === idOrName));

    if (segs.length === 1) {
      if (method === 'POST') return unsupported('POST', col.entity, null);
      if (method !== 'GET') return methodNotAllowed();
      return paginate(path, all.filter((e) => matchesTags(e, q.get('tags'))).map((e) => redact(head, e)), q);
    }
    if (segs.length === 2) {
      const byField = isUuid(segs[1]!) ? null : col.names[0] ?? null;
      if (method === 'PUT' || method === 'PATCH' || method === 'DELETE') return unsupported(method, col.entity, byField);
      if (method !== 'GET') return methodNotAllowed();
      const e = find(col, all, segs[1]!);
      return e ? json(200, redact(head, e)) : notFound();
    }
    if (segs.length === 3) {
      const parent = find(col, all, segs[1]!);
      const nested = NESTED[head]?.[segs[2]!];
      if (head === 'routes' && segs[2] === 'service') {
        if (!parent) return notFound();
        const sid = (parent.service as { id: string } | null)?.id;
        const s = cur?.config.services.find((x) => x.id === sid);
        return s ? json(200, s) : notFound();
      }
      if (!nested) return notFound();
      const child = COLLECTIONS[nested.collection]!;
      if (method === 'POST') return unsupported('POST', child.entity, null);
      if (method !== 'GET') return methodNotAllowed();
      if (!parent) return notFound();
      const kids = ((cur?.config[child.key] as unknown as Json[] | undefined) ?? [])
        .filter((e) => (e[nested.fk] as { id: string } | null)?.id === parent.id && matchesTags(e, q.get('tags')));
      return paginate(path, kids.map((e) => redact(nested.collection, e)), q);
    }
    if (segs.length === 4) {
      const nested = NESTED[head]?.[segs[2]!];
      if (!nested) return notFound();
      const child = COLLECTIONS[nested.collection]!;
      if (method === 'PUT' || method === 'PATCH' || method === 'DELETE') return unsupported(method, child.entity, null);
      if (method !== 'GET') return methodNotAllowed();
      const parent = find(col, all, segs[1]!);
      if (!parent) return notFound();
      const kids = ((cur?.config[child.key] as unknown as Json[] | undefined) ?? []).filter((e) => (e[nested.fk] as { id: string } | null)?.id === parent.id);
      const e = find(child, kids, segs[3]!);
      return e ? json(200, redact(nested.collection, e)) : notFound();
    }
    return notFound();
  };

  return (req, res) => {
    const t0 = performance.now();
    route(req).then((r) => send(res, r, t0, backend.version), (err: Error) => {
      send(res, json(500, { message: 'An unexpected error occurred' }), t0, backend.version);
      void err;
    });
  };
}

export function send(res: ServerResponse, r: Reply, t0: number, version: string): void {
  const headers: Record<string, string | number> = {
    'Server': `turnpike/${version}`,
    'X-Kong-Admin-Latency': Math.round(performance.now() - t0),
    'Access-Control-Allow-Origin': '*',
    ...(r.headers ?? {}),
  };
  if (r.body === undefined) { res.writeHead(r.status, headers); res.end(); return; }
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  if (!('Content-Type' in headers)) headers['Content-Type'] = 'application/json; charset=utf-8';
  headers['Content-Length'] = Buffer.byteLength(text);
  res.writeHead(r.status, headers);
  res.end(text);
}
