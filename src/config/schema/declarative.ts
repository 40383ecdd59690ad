/**
 * @module config/schema/declarative
 * TypeBox schemas of the declarative (Kong `_format_version: "3.0"`) input format, one record per
 * entity type, plus the table that says how entities relate: which foreign keys each has, which
 * children may be nested under it, and which field is its unique endpoint key. The validator walks
 * the file with this table; ajv checks each record against its schema.
 */
import { Type, type TObject, type TProperties } from '@sinclair/typebox';
import type { EntityKey } from '../entities.ts';
import {
  Annotations, Certificate, Endpoint, ForeignRef, HeaderName, Host, HostWithOptionalPort, HttpMethod,
  NestedArray, OneOf, Path, Port, PrivateKey, ROUTE_PROTOCOLS, RouteHost, RouterPath, SERVICE_PROTOCOLS,
  Sni, Tags, Timeout, Timestamp, Utf8Name, Uuid,
} from './typedefs.ts';

const Common = {
  id: Type.Optional(Uuid),
  created_at: Type.Optional(Timestamp),
  updated_at: Type.Optional(Timestamp),
  tags: Type.Optional(Tags),
  ...Annotations,
};

/** Builds a record schema; `nullable` fields accept JSON null (Kong's ngx.null = unset). */
function record(props: TProperties, children: readonly string[] = []): TObject {
  const all: TProperties = { ...Common, ...props };
  for (const c of children) all[c] = Type.Optional(NestedArray);
  return Type.Object(all, { additionalProperties: false });
}

const opt = Type.Optional;
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => opt(Type.Union([t, Type.Null()]));

export const ServiceInput = record({
  name: nullable(Utf8Name),
  retries: opt(Type.Integer({ minimum: 0, maximum: 32767 })),
  protocol: opt(OneOf(SERVICE_PROTOCOLS)),
  host: Host,
  port: opt(Port),
  path: nullable(Path),
  url: opt(Type.String()),
  connect_timeout: opt(Timeout),
  write_timeout: opt(Timeout),
  read_timeout: opt(Timeout),
  client_certificate: opt(ForeignRef),
  tls_verify: nullable(Type.Boolean()),
  tls_verify_depth: nullable(Type.Integer({ minimum: 0, maximum: 64 })),
  ca_certificates: nullable(Type.Array(Uuid)),
  enabled: opt(Type.Boolean()),
}, ['routes', 'plugins']);

export const RouteInput = record({
  name: nullable(Utf8Name),
  protocols: opt(Type.Array(OneOf(ROUTE_PROTOCOLS), { minItems: 1 })),
  methods: nullable(Type.Array(HttpMethod)),
  hosts: nullable(Type.Array(RouteHost)),
  paths: nullable(Type.Array(RouterPath)),
  headers: nullable(Type.Record(Type.String(), Type.Array(Type.String()))),
  snis: nullable(Type.Array(Sni)),
  sources: nullable(Type.Array(Endpoint)),
  destinations: nullable(Type.Array(Endpoint)),
  strip_path: opt(Type.Boolean()),
  preserve_host: opt(Type.Boolean()),
  regex_priority: opt(Type.Integer()),
  path_handling: opt(OneOf(['v0', 'v1'])),
  https_redirect_status_code: opt(OneOf([426, 301, 302, 307, 308])),
  request_buffering: opt(Type.Boolean()),
  response_buffering: opt(Type.Boolean()),
  service: opt(ForeignRef),
}, ['plugins']);

const Statuses = Type.Array(Type.Integer({ minimum: 100, maximum: 999 }));
const Interval = Type.Integer({ minimum: 0, maximum: 65535 });
const Counter = Type.Integer({ minimum: 0, maximum: 255 });
const CheckType = OneOf(['tcp', 'http', 'https', 'grpc', 'grpcs']);
const strict = { additionalProperties: false } as const;

export const HealthchecksInput = Type.Object({
  threshold: opt(Type.Number({ minimum: 0, maximum: 100 })),
  active: opt(Type.Object({
    type: opt(CheckType),
    timeout: opt(Type.Number({ minimum: 0, maximum: 65535 })),
    concurrency: opt(Type.Integer({ minimum: 1, maximum: 2 ** 31 })),
    http_path: opt(Path),
    https_verify_certificate: opt(Type.Boolean()),
    https_sni: nullable(Host),
    headers: nullable(Type.Record(Type.String(), Type.Array(Type.String()))),
    healthy: opt(Type.Object({ interval: opt(Interval), successes: opt(Counter), http_statuses: opt(Statuses) }, strict)),
    unhealthy: opt(Type.Object({
      interval: opt(Interval), tcp_failures: opt(Counter), timeouts: opt(Counter),
      http_failures: opt(Counter), http_statuses: opt(Statuses),
    }, strict)),
  }, strict)),
  passive: opt(Type.Object({
    type: opt(CheckType),
    healthy: opt(Type.Object({ successes: opt(Counter), http_statuses: opt(Statuses) }, strict)),
    unhealthy: opt(Type.Object({
      tcp_failures: opt(Counter), timeouts: opt(Counter), http_failures: opt(Counter), http_statuses: opt(Statuses),
    }, strict)),
  }, strict)),
}, strict);

const HashOn = OneOf(['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture']);

export const UpstreamInput = record({
  name: Type.String({ kongCheck: 'upstream_name' }),
  algorithm: opt(OneOf(['consistent-hashing', 'least-connections', 'round-robin', 'latency'])),
  hash_on: opt(HashOn),
  hash_fallback: opt(HashOn),
  hash_on_header: nullable(HeaderName),
  hash_fallback_header: nullable(HeaderName),
  hash_on_cookie: nullable(Type.String()),
  hash_on_cookie_path: opt(Path),
  hash_on_query_arg: nullable(Type.String({ minLength: 1 })),
  hash_fallback_query_arg: nullable(Type.String({ minLength: 1 })),
  hash_on_uri_capture: nullable(Type.String({ minLength: 1 })),
  hash_fallback_uri_capture: nullable(Type.String({ minLength: 1 })),
  slots: opt(Type.Integer({ minimum: 10, maximum: 65536 })),
  host_header: nullable(HostWithOptionalPort),
  client_certificate: opt(ForeignRef),
  use_srv_name: opt(Type.Boolean()),
  healthchecks: opt(HealthchecksInput),
}, ['targets']);

export const TargetInput = record({
  upstream: opt(ForeignRef),
  target: Type.String({ kongCheck: 'target' }),
  weight: opt(Type.Integer({ minimum: 0, maximum: 65535 })),
});

const CREDENTIALS = [
  'keyauth_credentials', 'basicauth_credentials', 'acls', 'jwt_secrets', 'hmacauth_credentials', 'oauth2_credentials',
] as const;

export const ConsumerInput = record({
  username: nullable(Type.String()),
  custom_id: nullable(Type.String()),
}, ['plugins', ...CREDENTIALS]);

export const PluginInput = record({
  name: Type.String(),
  instance_name: nullable(Utf8Name),
  config: nullable(Type.Record(Type.String(), Type.Unknown())),
  protocols: opt(Type.Array(OneOf(ROUTE_PROTOCOLS))),
  enabled: opt(Type.Boolean()),
  route: opt(ForeignRef),
  service: opt(ForeignRef),
  consumer: opt(ForeignRef),
});

export const CertificateInput = record({
  cert: Certificate,
  key: PrivateKey,
  cert_alt: nullable(Certificate),
  key_alt: nullable(PrivateKey),
}, ['snis']);

export const SniInput = record({
  name: Sni,
  certificate: opt(ForeignRef),
});

export const CaCertificateInput = record({
  cert: Certificate,
  cert_digest: nullable(Type.String()),
});

const credential = (props: TProperties) => record({ consumer: opt(ForeignRef), ...props });

export const KeyAuthCredentialInput = credential({ key: opt(Type.String()), ttl: nullable(Type.Integer({ minimum: 0, maximum: 100000000 })) });
export const BasicAuthCredentialInput = credential({ username: Type.String(), password: Type.String() });
export const AclInput = credential({ group: Type.String() });
export const JwtSecretInput = credential({
  key: opt(Type.String()),
  secret: nullable(Type.String()),
  rsa_public_key: nullable(Type.String()),
  algorithm: opt(OneOf([
    'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA',
  ])),
});
export const HmacAuthCredentialInput = credential({ username: Type.String(), secret: opt(Type.String()) });
export const Oauth2CredentialInput = credential({
  name: Type.String(),
  client_id: opt(Type.String()),
  client_secret: opt(Type.String()),
  hash_secret: opt(Type.Boolean()),
  redirect_uris: nullable(Type.Array(Type.String())),
  client_type: opt(OneOf(['confidential', 'public'])),
});

/** How one entity type sits in the file. */
export interface EntityShape {
  /** Kong's singular type name (flattened errors' `entity_type`). */
  singular: string;
  schema: TObject;
  /** Foreign-key field -> referenced collection. */
  foreign: Readonly<Record<string, EntityKey>>;
  /** Foreign keys that must resolve to something (Kong `required = true`). */
  requiredForeign: readonly string[];
  /** Collections that may be nested under this entity (each nests via its fk to us). */
  children: readonly EntityKey[];
  /** Unique lookup key (Kong `endpoint_key` when unique). */
  endpointKey: string | null;
  /** Other fields unique across the collection. */
  uniqueFields: readonly string[];
}

export const ENTITY_SHAPES: Readonly<Record<EntityKey, EntityShape>> = {
  services: { singular: 'service', schema: ServiceInput, foreign: { client_certificate: 'certificates' }, requiredForeign: [], children: ['routes', 'plugins'], endpointKey: 'name', uniqueFields: [] },
  routes: { singular: 'route', schema: RouteInput, foreign: { service: 'services' }, requiredForeign: [], children: ['plugins'], endpointKey: 'name', uniqueFields: [] },
  upstreams: { singular: 'upstream', schema: UpstreamInput, foreign: { client_certificate: 'certificates' }, requiredForeign: [], children: ['targets'], endpointKey: 'name', uniqueFields: [] },
  targets: { singular: 'target', schema: TargetInput, foreign: { upstream: 'upstreams' }, requiredForeign: ['upstream'], children: [], endpointKey: null, uniqueFields: [] },
  consumers: { singular: 'consumer', schema: ConsumerInput, foreign: {}, requiredForeign: [], children: ['plugins', ...CREDENTIALS], endpointKey: 'username', uniqueFields: ['custom_id'] },
  plugins: { singular: 'plugin', schema: PluginInput, foreign: { route: 'routes', service: 'services', consumer: 'consumers' }, requiredForeign: [], children: [], endpointKey: 'instance_name', uniqueFields: [] },
  certificates: { singular: 'certificate', schema: CertificateInput, foreign: {}, requiredForeign: [], children: ['snis'], endpointKey: null, uniqueFields: [] },
  snis: { singular: 'sni', schema: SniInput, foreign: { certificate: 'certificates' }, requiredForeign: ['certificate'], children: [], endpointKey: 'name', uniqueFields: [] },
  ca_certificates: { singular: 'ca_certificate', schema: CaCertificateInput, foreign: {}, requiredForeign: [], children: [], endpointKey: null, uniqueFields: ['cert_digest'] },
  keyauth_credentials: { singular: 'keyauth_credential', schema: KeyAuthCredentialInput, foreign: { consumer: 'consumers' }, requiredForeign: ['consumer'], children: [], endpointKey: 'key', uniqueFields: [] },
  basicauth_credentials: { singular: 'basicauth_credential', schema: BasicAuthCredentialInput, foreign: { consumer: 'consumers' }, requiredForeign: ['consumer'], children: [], endpointKey: 'username', uniqueFields: [] },
  acls: { singular: 'acl', schema: AclInput, foreign: { consumer: 'consumers' }, requiredForeign: ['consumer'], children: [], endpointKey: null, uniqueFields: [] },
  jwt_secrets: { singular: 'jwt_secret', schema: JwtSecretInput, foreign: { consumer: 'consumers' }, requiredForeign: ['consumer'], children: [], endpointKey: 'key', uniqueFields: [] },
  hmacauth_credentials: { singular: 'hmacauth_credential', schema: HmacAuthCredentialInput, foreign: { consumer: 'consumers' }, requiredForeign: ['consumer'], children: [], endpointKey: 'username', uniqueFields: [] },
  oauth2_credentials: { singular: 'oauth2_credential', schema: Oauth2CredentialInput, foreign: { consumer: 'consumers' }, requiredForeign: ['consumer'], children: [], endpointKey: 'client_id', uniqueFields: [] },
};

/** Keys allowed at the top of the file besides the entity collections. */
export const DeclarativeMeta = Type.Object({
  _format_version: OneOf(['1.1', '2.1', '3.0']),
  _transform: opt(Type.Boolean()),
  _comment: opt(Type.String()),
  _workspace: opt(Type.String()),
  _ignore: opt(Type.Array(Type.Unknown())),
});

/** The order collections are read and written in (parents before children, then Kong's order). */
export const WALK_ORDER: readonly EntityKey[] = [
  'certificates', 'snis', 'ca_certificates', 'services', 'routes', 'upstreams', 'targets', 'consumers',
  'keyauth_credentials', 'basicauth_credentials', 'acls', 'jwt_secrets', 'hmacauth_credentials',
  'oauth2_credentials', 'plugins',
];
