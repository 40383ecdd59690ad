/**
 * @module admin/test-fixtures
 * Test helpers for the Admin and Status API tests: a hand-written normalized `Config`, an
 * in-memory `AdminBackend` whose `applyConfig` outcome a test can script, and a real HTTP server
 * on 127.0.0.1 around a handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import type { Config, Healthchecks, Plugin, Route, Service, Target, Upstream } from '../config/entities.ts';
import type { PluginDefinition } from '../plugins/api.ts';
import type { AdminBackend, ApplyResult, LoadedConfig, Readiness, TargetHealth } from './backend.ts';

/** Readable fixed UUIDs: `uuid(1)` = 00000000-0000-4000-8000-000000000001. */
export const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const T = 1700000000;
const common = (id: number, tags: string[] | null = null) => ({ id: uuid(id), created_at: T + id, updated_at: T + id, tags });

function service(id: number, name: string | null, tags: string[] | null): Service {
  return {
    ...common(id, tags), name, retries: 5, protocol: 'http', host: `${name ?? 'anon'}.internal`, port: 80, path: null,
    connect_timeout: 60000, write_timeout: 60000, read_timeout: 60000, client_certificate: null, tls_verify: null,
    tls_verify_depth: null, ca_certificates: null, enabled: true,
  };
}

function route(id: number, name: string | null, serviceId: string | null, tags: string[] | null): Route {
  return {
    ...common(id, tags), name, protocols: ['http', 'https'], methods: null, hosts: null, paths: [`/${name ?? 'x'}`],
    headers: null, snis: null, sources: null, destinations: null, strip_path: true, preserve_host: false,
    regex_priority: 0, path_handling: 'v0', https_redirect_status_code: 426, request_buffering: true,
    response_buffering: true, service: serviceId ? { id: serviceId } : null,
  };
}

function plugin(id: number, name: string, scope: Partial<Pick<Plugin, 'route' | 'service' | 'consumer'>>, instanceName: string | null = null): Plugin {
  return {
    ...common(id), name, instance_name: instanceName, config: {}, protocols: ['grpc', 'grpcs', 'http', 'https'],
    enabled: true, route: null, service: null, consumer: null, ...scope,
  };
}

const healthchecks: Healthchecks = {
  threshold: 0,
  active: {
    type: 'http', timeout: 1, concurrency: 10, http_path: '/', https_verify_certificate: true, https_sni: null, headers: null,
    healthy: { interval: 0, successes: 0, http_statuses: [200, 302] },
    unhealthy: { interval: 0, tcp_failures: 0, timeouts: 0, http_failures: 0, http_statuses: [429, 500, 503] },
  },
  passive: {
    type: 'http',
    healthy: { successes: 0, http_statuses: [200] },
    unhealthy: { tcp_failures: 0, timeouts: 0, http_failures: 0, http_statuses: [500, 503] },
  },
};

function upstream(id: number, name: string): Upstream {
  return {
    ...common(id), name, algorithm: 'round-robin', hash_on: 'none', hash_fallback: 'none', hash_on_header: null,
    hash_fallback_header: null, hash_on_cookie: null, hash_on_cookie_path: '/', hash_on_query_arg: null,
    hash_fallback_query_arg: null, hash_on_uri_capture: null, hash_fallback_uri_capture: null, slots: 10000,
    host_header: null, client_certificate: null, use_srv_name: false, healthchecks,
  };
}

function target(id: number, upstreamId: string, address: string, weight = 100): Target {
  return { ...common(id), upstream: { id: upstreamId }, target: address, weight };
}

/** Ids used by the tests. */
export const IDS = {
  echo: uuid(11), billing: uuid(12), anonService: uuid(13),
  echoRoute: uuid(21), billingRoute: uuid(22), orphanRoute: uuid(23),
  upstream: uuid(31), target1: uuid(32), target2: uuid(33), emptyUpstream: uuid(34),
  alice: uuid(41), bob: uuid(42),
  keyAuthPlugin: uuid(51), globalPlugin: uuid(52), consumerPlugin: uuid(53),
  cert: uuid(61), sniA: uuid(62), sniB: uuid(63), caCert: uuid(64),
  keyAuth: uuid(71), basicAuth: uuid(72), acl: uuid(73), jwt: uuid(74), hmac: uuid(75), oauth2: uuid(76),
};

export function fixtureConfig(): Config {
  return {
    _format_version: '3.0',
    services: [
      // File order differs from id order on purpose: lists are ordered by id.
      service(12, 'billing', ['team-b']),
      service(11, 'echo', ['team-a', 'public']),
      service(13, null, ['team-a']),
    ],
    routes: [
      route(21, 'echo-r', IDS.echo, ['team-a']),
      route(22, 'billing-r', IDS.billing, null),
      route(23, 'orphan', null, null),
    ],
    upstreams: [upstream(31, 'echo.internal'), upstream(34, 'empty.internal')],
    targets: [target(32, IDS.upstream, '10.0.0.1:8080'), target(33, IDS.upstream, '10.0.0.2:8080', 50)],
    consumers: [
      { ...common(41, ['vip']), username: 'alice', custom_id: 'alice-1' },
      { ...common(42), username: 'bob', custom_id: null },
    ],
    plugins: [
      plugin(51, 'key-auth', { service: { id: IDS.echo } }),
      plugin(52, 'correlation-id', {}, 'corr'),
      plugin(53, 'rate-limiting', { consumer: { id: IDS.alice } }),
    ],
    certificates: [{ ...common(61), cert: 'CERT', key: 'KEY', cert_alt: null, key_alt: null }],
    snis: [
      { ...common(62), name: 'b.example.test', certificate: { id: IDS.cert } },
      { ...common(63), name: 'a.example.test', certificate: { id: IDS.cert } },
    ],
    ca_certificates: [{ ...common(64), cert: 'CA', cert_digest: 'abc' }],
    keyauth_credentials: [{ id: IDS.keyAuth, consumer: { id: IDS.alice }, created_at: T, tags: ['team-a'], key: 'alice-secret', ttl: null }],
    basicauth_credentials: [{ id: IDS.basicAuth, consumer: { id: IDS.alice }, created_at: T, tags: null, username: 'alice', password: 'b2a1c3' }],
    acls: [{ id: IDS.acl, consumer: { id: IDS.alice }, created_at: T, tags: null, group: 'gold' }],
    jwt_secrets: [{ id: IDS.jwt, consumer: { id: IDS.bob }, created_at: T, tags: null, key: 'bob-jwt', secret: 's', rsa_public_key: null, algorithm: 'HS256' }],
    hmacauth_credentials: [{ id: IDS.hmac, consumer: { id: IDS.bob }, created_at: T, tags: null, username: 'bob-hmac', secret: 'hs' }],
    oauth2_credentials: [{
      id: IDS.oauth2, consumer: { id: IDS.alice }, created_at: T, tags: null, name: 'app', client_id: 'cid',
      client_secret: 'plain-secret', hash_secret: true, redirect_uris: ['https://app.test/cb'], client_type: 'confidential',
    }],
  };
}

/** A small plugin definition with a schema that exercises the schema renderer. */
export const FAKE_KEY_AUTH: PluginDefinition = {
  name: 'key-auth', version: '3.10.0', priority: 1250, noConsumer: true,
  schema: Type.Object({
    key_names: Type.Array(Type.String({ minLength: 1 }), { default: ['apikey'] }),
    hide_credentials: Type.Boolean({ default: false }),
    anonymous: Type.Union([Type.String(), Type.Null()], { default: null }),
    realm: Type.Optional(Type.String()),
  }),
  create: () => ({}),
};

export const FAKE_RATE_LIMITING: PluginDefinition = {
  name: 'rate-limiting', version: '3.10.0', priority: 910,
  schema: Type.Object({
    minute: Type.Optional(Type.Number({ minimum: 0 })),
    policy: Type.String({ enum: ['local', 'redis'], default: 'local' }),
    limits: Type.Record(Type.String(), Type.Integer()),
    redis: Type.Object({ port: Type.Integer({ minimum: 0, maximum: 65535, default: 6379 }) }),
  }),
  create: () => ({}),
};

export interface FakeBackend extends AdminBackend {
  loaded: LoadedConfig | null;
  draining: boolean;
  /** Calls made to applyConfig, in order. */
  applyCalls: Array<{ body: string | object; options: { checkHash: boolean; flattenErrors: boolean } }>;
  /** The next applyConfig outcome; 'apply' loads the fixture under the md5 the test chooses. */
  nextApply: ((body: string | object) => ApplyResult) | null;
  health: Map<string, TargetHealth[]>;
}

export function fakeBackend(config: Config | null = fixtureConfig()): FakeBackend {
  const b: FakeBackend = {
    version: '0.1.0',
    nodeId: '11111111-2222-4333-8444-555555555555',
    hostname: 'test-host',
    loaded: config ? { config, hash: 'a'.repeat(32), loadedAt: 1, source: 'file:/kong.yml' } : null,
    draining: false,
    applyCalls: [],
    nextApply: null,
    health: new Map(),
    current() { return b.loaded; },
    async applyConfig(body, options) {
      b.applyCalls.push({ body, options: { checkHash: options.checkHash, flattenErrors: options.flattenErrors } });
      if (b.nextApply) return b.nextApply(body);
      const loaded: LoadedConfig = { config: fixtureConfig(), hash: 'b'.repeat(32), loadedAt: 2, source: 'admin' };
      b.loaded = loaded;
      // As the supervisor: the 201 body rendered by the Admin API's own function.
      return { kind: 'applied', loaded, rendered: options.render?.(loaded.config) };
    },
    plugins: new Map([[FAKE_KEY_AUTH.name, FAKE_KEY_AUTH], [FAKE_RATE_LIMITING.name, FAKE_RATE_LIMITING]]),
    upstreamHealth(id) { return b.health.get(id) ?? null; },
    serverStats: () => ({
      total_requests: 10, connections_active: 2, connections_accepted: 5, connections_handled: 5,
      connections_reading: 0, connections_writing: 1, connections_waiting: 1,
    }),
    memoryStats: () => ({
      workers: [{ pid: 200, http_allocated_gc: 3 * 1024 * 1024 }, { pid: 100, http_allocated_gc: 1536 }],
      shared: { kong: { allocated_slabs: 1024 * 1024, capacity: 5 * 1024 * 1024 } },
    }),
    readiness(): Readiness {
      if (b.draining) return { ready: false, message: 'draining' };
      if (!b.loaded) return { ready: false, message: 'no configuration available (configuration hash is not initialized)' };
      return { ready: true };
    },
    setDraining() { b.draining = true; },
    configuration: () => ({ database: 'off', admin_token: '******' }),
    pids: () => ({ master: 1, workers: [2, 3] }),
  };
  return b;
}

export interface TestServer { url: string; close(): Promise<void> }

export async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
