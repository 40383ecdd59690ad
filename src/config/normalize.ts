/**
 * @module config/normalize
 * From validated, id-assigned input records to the normalized `Config`: every field present with
 * Kong's default (null where Kong has null), foreign keys as `{ id }`, targets with their port,
 * generated credential secrets, basic-auth passwords hashed as Kong stores them.
 */
import { createHash } from 'node:crypto';
import type {
  Acl, BasicAuthCredential, CaCertificate, Certificate, Consumer, EntityKey, HashOn, Healthchecks,
  HmacAuthCredential, JwtSecret, KeyAuthCredential, Oauth2Credential, Plugin, Ref, Route, RouteProtocol,
  Service, ServiceProtocol, Sni, Target, Upstream,
} from './entities.ts';
import { parseHost } from './schema/checks.ts';

/** One entity read from the file, after validation and id assignment. */
export interface PendingEntity {
  type: EntityKey;
  /** The record as validated (service `url` expanded, nested children still present). */
  input: Record<string, unknown>;
  parent: PendingEntity | null;
  /** Where its errors go in the error tree. */
  path: (string | number)[];
  id: string;
  /** Resolved foreign keys (field -> id), the parent's included. */
  refs: Record<string, string>;
  /** Plugin config with the plugin schema's defaults applied. */
  pluginConfig?: Record<string, unknown>;
}

export interface NormalizeContext {
  now: number;
  /** `_transform` of the file: when false, basic-auth passwords are taken as already hashed. */
  transform: boolean;
}

const DEFAULT_HEALTHCHECKS: Healthchecks = {
  threshold: 0,
  active: {
    type: 'http', timeout: 1, concurrency: 10, http_path: '/', https_verify_certificate: true,
    https_sni: null, headers: null,
    healthy: { interval: 0, successes: 0, http_statuses: [200, 302] },
    unhealthy: { interval: 0, tcp_failures: 0, timeouts: 0, http_failures: 0, http_statuses: [429, 404, 500, 501, 502, 503, 504, 505] },
  },
  passive: {
    type: 'http',
    healthy: { successes: 0, http_statuses: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308] },
    unhealthy: { tcp_failures: 0, timeouts: 0, http_failures: 0, http_statuses: [429, 500, 503] },
  },
};

/** Kong's health-check defaults (every check off), as a fresh copy the caller may change. */
export function defaultHealthchecks(): Healthchecks {
  return structuredClone(DEFAULT_HEALTHCHECKS);
}

export const DEFAULT_PLUGIN_PROTOCOLS: RouteProtocol[] = ['grpc', 'grpcs', 'http', 'https'];

function or<T>(v: unknown, d: T): T {
  return v === undefined || v === null ? d : (v as T);
}
function orNull<T>(v: unknown): T | null {
  return v === undefined || v === null ? null : (v as T);
}
function ref(p: PendingEntity, field: string): Ref | null {
  const id = p.refs[field];
  return id === undefined ? null : { id };
}
function tags(p: PendingEntity): string[] | null {
  return orNull<string[]>(p.input.tags);
}

/** Deep-merge `given` over `defaults` (records only; arrays and scalars replace). */
function merge<T>(defaults: T, given: unknown): T {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return structuredClone(defaults);
  const out: Record<string, unknown> = { ...(structuredClone(defaults) as Record<string, unknown>) };
  for (const [k, v] of Object.entries(given)) {
    const d = (defaults as Record<string, unknown>)[k];
    out[k] = d !== null && typeof d === 'object' && !Array.isArray(d) ? merge(d, v) : v;
  }
  return out as T;
}

/** A stand-in for Kong's random credential values: derived from the entity id, so stable. */
export function generatedSecret(id: string, field: string): string {
  return createHash('sha256').update(`${id}:${field}`).digest('base64').replace(/[+/=]/g, '').slice(0, 32);
}

/** Kong's basic-auth storage: sha1 hex of password .. consumer id. */
export function hashBasicAuthPassword(password: string, consumerId: string): string {
  return createHash('sha1').update(password + consumerId).digest('hex');
}

/** Kong's `cert_digest`: sha256 hex of the DER certificate. */
function certDigest(pem: string): string | null {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) return null;
  return createHash('sha256').update(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')).digest('hex');
}

/** `host[:port]` with the default port 8000 when missing. */
export function targetWithPort(target: string): string {
  const p = parseHost(target);
  if (p === 'invalid' || p === 'bad-port' || p.port !== null) return target;
  return p.kind === 'ipv6' ? `[${p.host}]:8000` : `${p.host}:8000`;
}

export function normalizeService(p: PendingEntity, c: NormalizeContext): Service {
  const i = p.input;
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    name: orNull(i.name), retries: or(i.retries, 5), protocol: or<ServiceProtocol>(i.protocol, 'http'),
    host: i.host as string, port: or(i.port, 80), path: orNull(i.path),
    connect_timeout: or(i.connect_timeout, 60000), write_timeout: or(i.write_timeout, 60000),
    read_timeout: or(i.read_timeout, 60000), client_certificate: ref(p, 'client_certificate'),
    tls_verify: orNull(i.tls_verify), tls_verify_depth: orNull(i.tls_verify_depth),
    ca_certificates: orNull(i.ca_certificates), enabled: or(i.enabled, true),
  };
}

export function normalizeRoute(p: PendingEntity, c: NormalizeContext): Route {
  const i = p.input;
  const protocols = or<RouteProtocol[]>(i.protocols, ['http', 'https']);
  const grpc = protocols[0] === 'grpc' || protocols[0] === 'grpcs';
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    name: orNull(i.name), protocols, methods: orNull(i.methods), hosts: orNull(i.hosts), paths: orNull(i.paths),
    headers: orNull(i.headers), snis: orNull(i.snis), sources: orNull(i.sources), destinations: orNull(i.destinations),
    strip_path: or(i.strip_path, !grpc), preserve_host: or(i.preserve_host, false),
    regex_priority: or(i.regex_priority, 0), path_handling: or(i.path_handling, 'v0'),
    https_redirect_status_code: or(i.https_redirect_status_code, 426),
    request_buffering: or(i.request_buffering, true), response_buffering: or(i.response_buffering, true),
    service: ref(p, 'service'),
  };
}

export function normalizeUpstream(p: PendingEntity, c: NormalizeContext): Upstream {
  const i = p.input;
  const hashOn = or<HashOn>(i.hash_on, 'none');
  // Kong's upstream DAO: hashing implies consistent-hashing unless an algorithm was chosen.
  const algorithm = or<Upstream['algorithm']>(i.algorithm, hashOn === 'none' ? 'round-robin' : 'consistent-hashing');
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    name: i.name as string, algorithm, hash_on: hashOn, hash_fallback: or(i.hash_fallback, 'none'),
    hash_on_header: orNull(i.hash_on_header), hash_fallback_header: orNull(i.hash_fallback_header),
    hash_on_cookie: orNull(i.hash_on_cookie), hash_on_cookie_path: or(i.hash_on_cookie_path, '/'),
    hash_on_query_arg: orNull(i.hash_on_query_arg), hash_fallback_query_arg: orNull(i.hash_fallback_query_arg),
    hash_on_uri_capture: orNull(i.hash_on_uri_capture), hash_fallback_uri_capture: orNull(i.hash_fallback_uri_capture),
    slots: or(i.slots, 10000), host_header: orNull(i.host_header), client_certificate: ref(p, 'client_certificate'),
    use_srv_name: or(i.use_srv_name, false), healthchecks: merge(DEFAULT_HEALTHCHECKS, i.healthchecks),
  };
}

export function normalizeTarget(p: PendingEntity, c: NormalizeContext): Target {
  const i = p.input;
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    upstream: ref(p, 'upstream')!, target: targetWithPort(i.target as string), weight: or(i.weight, 100),
  };
}

export function normalizeConsumer(p: PendingEntity, c: NormalizeContext): Consumer {
  const i = p.input;
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    username: orNull(i.username), custom_id: orNull(i.custom_id),
  };
}

export function normalizePlugin(p: PendingEntity, c: NormalizeContext): Plugin {
  const i = p.input;
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    name: i.name as string, instance_name: orNull(i.instance_name), config: p.pluginConfig ?? {},
    protocols: or(i.protocols, [...DEFAULT_PLUGIN_PROTOCOLS]), enabled: or(i.enabled, true),
    route: ref(p, 'route'), service: ref(p, 'service'), consumer: ref(p, 'consumer'),
  };
}

export function normalizeCertificate(p: PendingEntity, c: NormalizeContext): Certificate {
  const i = p.input;
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    cert: i.cert as string, key: i.key as string, cert_alt: orNull(i.cert_alt), key_alt: orNull(i.key_alt),
  };
}

export function normalizeSni(p: PendingEntity, c: NormalizeContext): Sni {
  const i = p.input;
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    name: i.name as string, certificate: ref(p, 'certificate')!,
  };
}

export function normalizeCaCertificate(p: PendingEntity, c: NormalizeContext): CaCertificate {
  const i = p.input;
  return {
    id: p.id, created_at: or(i.created_at, c.now), updated_at: or(i.updated_at, c.now), tags: tags(p),
    cert: i.cert as string, cert_digest: or(i.cert_digest, certDigest(i.cert as string)),
  };
}

function credential(p: PendingEntity, c: NormalizeContext) {
  return { id: p.id, consumer: ref(p, 'consumer')!, created_at: or<number>(p.input.created_at, c.now), tags: tags(p) };
}

export function normalizeKeyAuth(p: PendingEntity, c: NormalizeContext): KeyAuthCredential {
  return { ...credential(p, c), key: or(p.input.key, generatedSecret(p.id, 'key')), ttl: orNull(p.input.ttl) };
}

export function normalizeBasicAuth(p: PendingEntity, c: NormalizeContext): BasicAuthCredential {
  const base = credential(p, c);
  const password = p.input.password as string;
  return {
    ...base, username: p.input.username as string,
    password: c.transform ? hashBasicAuthPassword(password, base.consumer.id) : password,
  };
}

export function normalizeAcl(p: PendingEntity, c: NormalizeContext): Acl {
  return { ...credential(p, c), group: p.input.group as string };
}

export function normalizeJwtSecret(p: PendingEntity, c: NormalizeContext): JwtSecret {
  const i = p.input;
  return {
    ...credential(p, c), key: or(i.key, generatedSecret(p.id, 'key')),
    secret: or(i.secret, generatedSecret(p.id, 'secret')), rsa_public_key: orNull(i.rsa_public_key),
    algorithm: or(i.algorithm, 'HS256'),
  };
}

export function normalizeHmacAuth(p: PendingEntity, c: NormalizeContext): HmacAuthCredential {
  return { ...credential(p, c), username: p.input.username as string, secret: or(p.input.secret, generatedSecret(p.id, 'secret')) };
}

export function normalizeOauth2(p: PendingEntity, c: NormalizeContext): Oauth2Credential {
  const i = p.input;
  return {
    ...credential(p, c), name: i.name as string, client_id: or(i.client_id, generatedSecret(p.id, 'client_id')),
    client_secret: or(i.client_secret, generatedSecret(p.id, 'client_secret')), hash_secret: or(i.hash_secret, false),
    redirect_uris: orNull(i.redirect_uris), client_type: or(i.client_type, 'confidential'),
  };
}

type Normalizer = (p: PendingEntity, c: NormalizeContext) => unknown;

export const NORMALIZERS: Readonly<Record<EntityKey, Normalizer>> = {
  services: normalizeService, routes: normalizeRoute, upstreams: normalizeUpstream, targets: normalizeTarget,
  consumers: normalizeConsumer, plugins: normalizePlugin, certificates: normalizeCertificate, snis: normalizeSni,
  ca_certificates: normalizeCaCertificate, keyauth_credentials: normalizeKeyAuth,
  basicauth_credentials: normalizeBasicAuth, acls: normalizeAcl, jwt_secrets: normalizeJwtSecret,
  hmacauth_credentials: normalizeHmacAuth, oauth2_credentials: normalizeOauth2,
};
