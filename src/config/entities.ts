/**
 * @module config/entities
 * The normalized declarative config: what `validate` + `normalize` produce from a Kong 3.0
 * declarative file and what the gateway compiles into a Snapshot. Every default is filled in,
 * every entity has an id, nested children are hoisted to the top-level arrays, and every foreign
 * key is written as `{ id }` (the shape Kong's Admin API returns). Both flows import this module;
 * neither owns it.
 */

export type Uuid = string;
export interface Ref { id: Uuid }

export type ServiceProtocol = 'grpc' | 'grpcs' | 'http' | 'https' | 'tcp' | 'tls' | 'tls_passthrough' | 'udp';
export type RouteProtocol = 'grpc' | 'grpcs' | 'http' | 'https' | 'tcp' | 'tls' | 'tls_passthrough' | 'udp' | 'ws' | 'wss';

interface Common {
  id: Uuid;
  created_at: number;
  updated_at: number;
  tags: string[] | null;
}

export interface Service extends Common {
  name: string | null;
  retries: number;
  protocol: ServiceProtocol;
  host: string;
  port: number;
  path: string | null;
  connect_timeout: number;
  write_timeout: number;
  read_timeout: number;
  client_certificate: Ref | null;
  tls_verify: boolean | null;
  tls_verify_depth: number | null;
  ca_certificates: Uuid[] | null;
  enabled: boolean;
}

export interface Route extends Common {
  name: string | null;
  protocols: RouteProtocol[];
  methods: string[] | null;
  hosts: string[] | null;
  paths: string[] | null;
  headers: Record<string, string[]> | null;
  snis: string[] | null;
  sources: { ip?: string; port?: number }[] | null;
  destinations: { ip?: string; port?: number }[] | null;
  strip_path: boolean;
  preserve_host: boolean;
  regex_priority: number;
  path_handling: 'v0' | 'v1';
  https_redirect_status_code: 426 | 301 | 302 | 307 | 308;
  request_buffering: boolean;
  response_buffering: boolean;
  service: Ref | null;
}

export interface HealthcheckStatuses {
  http_statuses: number[];
}
export interface ActiveHealthy extends HealthcheckStatuses { interval: number; successes: number }
export interface ActiveUnhealthy extends HealthcheckStatuses { interval: number; tcp_failures: number; timeouts: number; http_failures: number }
export interface PassiveHealthy extends HealthcheckStatuses { successes: number }
export interface PassiveUnhealthy extends HealthcheckStatuses { tcp_failures: number; timeouts: number; http_failures: number }

export interface Healthchecks {
  threshold: number;
  active: {
    type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';
    timeout: number;
    concurrency: number;
    http_path: string;
    https_verify_certificate: boolean;
    https_sni: string | null;
    headers: Record<string, string[]> | null;
    healthy: ActiveHealthy;
    unhealthy: ActiveUnhealthy;
  };
  passive: {
    type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';
    healthy: PassiveHealthy;
    unhealthy: PassiveUnhealthy;
  };
}

export type HashOn = 'none' | 'consumer' | 'ip' | 'header' | 'cookie' | 'path' | 'query_arg' | 'uri_capture';

export interface Upstream extends Common {
  name: string;
  algorithm: 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency';
  hash_on: HashOn;
  hash_fallback: HashOn;
  hash_on_header: string | null;
  hash_fallback_header: string | null;
  hash_on_cookie: string | null;
  hash_on_cookie_path: string;
  hash_on_query_arg: string | null;
  hash_fallback_query_arg: string | null;
  hash_on_uri_capture: string | null;
  hash_fallback_uri_capture: string | null;
  slots: number;
  host_header: string | null;
  client_certificate: Ref | null;
  use_srv_name: boolean;
  healthchecks: Healthchecks;
}

export interface Target extends Common {
  upstream: Ref;
  /** `host:port` (port filled in: 8000 when the file omitted it). */
  target: string;
  weight: number;
}

export interface Consumer extends Common {
  username: string | null;
  custom_id: string | null;
}

export interface Plugin extends Common {
  name: string;
  instance_name: string | null;
  config: Record<string, unknown>;
  protocols: RouteProtocol[];
  enabled: boolean;
  route: Ref | null;
  service: Ref | null;
  consumer: Ref | null;
}

export interface Certificate extends Common {
  cert: string;
  key: string;
  cert_alt: string | null;
  key_alt: string | null;
}

export interface Sni extends Common {
  name: string;
  certificate: Ref;
}

export interface CaCertificate extends Common {
  cert: string;
  cert_digest: string | null;
}

interface Credential { id: Uuid; consumer: Ref; created_at: number; tags: string[] | null }
export interface KeyAuthCredential extends Credential { key: string; ttl: number | null }
export interface BasicAuthCredential extends Credential { username: string; password: string }
export interface Acl extends Credential { group: string }
export interface JwtSecret extends Credential {
  key: string;
  secret: string | null;
  rsa_public_key: string | null;
  algorithm: string;
}
export interface HmacAuthCredential extends Credential { username: string; secret: string }
export interface Oauth2Credential extends Credential {
  name: string;
  client_id: string;
  client_secret: string;
  hash_secret: boolean;
  redirect_uris: string[] | null;
  client_type: string;
}

/** The whole normalized config. Arrays are in a stable order (the file's order). */
export interface Config {
  _format_version: '3.0';
  services: Service[];
  routes: Route[];
  upstreams: Upstream[];
  targets: Target[];
  consumers: Consumer[];
  plugins: Plugin[];
  certificates: Certificate[];
  snis: Sni[];
  ca_certificates: CaCertificate[];
  keyauth_credentials: KeyAuthCredential[];
  basicauth_credentials: BasicAuthCredential[];
  acls: Acl[];
  jwt_secrets: JwtSecret[];
  hmacauth_credentials: HmacAuthCredential[];
  oauth2_credentials: Oauth2Credential[];
}

/** Entity collections in the order Kong lists them; also the keys of `Config` holding arrays. */
export const ENTITY_KEYS = [
  'services', 'routes', 'upstreams', 'targets', 'consumers', 'plugins', 'certificates', 'snis',
  'ca_certificates', 'keyauth_credentials', 'basicauth_credentials', 'acls', 'jwt_secrets',
  'hmacauth_credentials', 'oauth2_credentials',
] as const;
export type EntityKey = (typeof ENTITY_KEYS)[number];

export function emptyConfig(): Config {
  return {
    _format_version: '3.0',
    services: [], routes: [], upstreams: [], targets: [], consumers: [], plugins: [],
    certificates: [], snis: [], ca_certificates: [], keyauth_credentials: [],
    basicauth_credentials: [], acls: [], jwt_secrets: [], hmacauth_credentials: [], oauth2_credentials: [],
  };
}
