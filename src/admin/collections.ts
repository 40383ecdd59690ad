/**
 * @module admin/collections
 * How each entity collection appears on Kong's Admin API: its DAO name (used in Kong's error
 * messages), its path (`/key-auths`) and nested path (`/consumers/{c}/key-auth`), the field an
 * item may be addressed by besides its id (Kong's `endpoint_key`) and its foreign keys. Also the
 * lookups Kong's generic endpoints do (by id when the key is a UUID, else by endpoint key) and the
 * error bodies they produce.
 */
import type { Certificate, Config, EntityKey, Oauth2Credential } from '../config/entities.ts';
import { presentOauth2Credential } from '../config/stored-secrets.ts';
import { reply, type Reply } from './http.ts';

export interface AdminCollection {
  /** Kong's DAO/schema name, also the `Config` key. */
  name: EntityKey;
  /** Kong's `admin_api_name` (or the name). */
  path: string;
  /** Kong's `admin_api_nested_name`: the segment under a parent (`/consumers/{c}/key-auth`). */
  nestedPath: string;
  /** Kong's `endpoint_key`: the unique field an item may be addressed by instead of its id. */
  endpointKey: string | null;
  /** Foreign-key field -> referenced collection. */
  foreign: Readonly<Record<string, EntityKey>>;
}

function collection(name: EntityKey, endpointKey: string | null, foreign: Record<string, EntityKey> = {}, path: string = name, nestedPath: string = path): AdminCollection {
  return { name, path, nestedPath, endpointKey, foreign };
}

/** In the order Kong's `/endpoints` and `/tags` walk them. */
export const ADMIN_COLLECTIONS: readonly AdminCollection[] = [
  collection('services', 'name', { client_certificate: 'certificates' }),
  collection('routes', 'name', { service: 'services' }),
  collection('consumers', 'username'),
  collection('plugins', 'instance_name', { route: 'routes', service: 'services', consumer: 'consumers' }),
  collection('upstreams', 'name', { client_certificate: 'certificates' }),
  collection('targets', 'target', { upstream: 'upstreams' }),
  collection('certificates', null),
  collection('snis', 'name', { certificate: 'certificates' }),
  collection('ca_certificates', null),
  collection('keyauth_credentials', 'key', { consumer: 'consumers' }, 'key-auths', 'key-auth'),
  collection('basicauth_credentials', 'username', { consumer: 'consumers' }, 'basic-auths', 'basic-auth'),
  collection('acls', null, { consumer: 'consumers' }),
  collection('jwt_secrets', 'key', { consumer: 'consumers' }, 'jwts', 'jwt'),
  collection('hmacauth_credentials', 'username', { consumer: 'consumers' }, 'hmac-auths', 'hmac-auth'),
  collection('oauth2_credentials', 'client_id', { consumer: 'consumers' }, 'oauth2'),
];

export const COLLECTION_BY_NAME: ReadonlyMap<EntityKey, AdminCollection> = new Map(ADMIN_COLLECTIONS.map((c) => [c.name, c]));

export type Entity = Record<string, unknown> & { id: string };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);

export function entitiesOf(config: Config, name: EntityKey): readonly Entity[] {
  return config[name] as unknown as readonly Entity[];
}

/** penlight's `pretty.write(t, "")` of a one-field table, as Kong puts it in messages. */
export function luaPretty(field: string, value: string): string {
  return `{${field}=${JSON.stringify(value)}}`;
}

// ---- Kong's DAO error bodies ---------------------------------------------------------------

/** Code 12, answered with 405 (`cannot create 'routes' entities when not using a database`). */
export function operationUnsupported(verb: 'create' | 'create or update' | 'update' | 'remove', schema: string, byField?: string): Reply {
  const by = byField ? ` by '${byField}'` : '';
  return reply(405, { code: 12, name: 'operation unsupported', message: `cannot ${verb} '${schema}' entities${by} when not using a database` });
}

/** Code 1: a key that is not a UUID on a collection without an endpoint key. */
export function invalidPrimaryKey(id: string): Reply {
  return reply(400, {
    code: 1, name: 'invalid primary key',
    message: `invalid primary key: '${luaPretty('id', id)}'`,
    fields: { id: 'expected a valid UUID' },
  });
}

/** Code 6, as a PATCH of a missing entity answers. */
export function notFoundError(field: string, value: string): Reply {
  const message = field === 'id'
    ? `could not find the entity with primary key '${luaPretty('id', value)}'`
    : `could not find the entity with '${luaPretty(field, value)}'`;
  return reply(404, { code: 6, name: 'not found', message, fields: { [field]: value } });
}

/** Code 2: Kong's schema violation with one field error. */
export function schemaViolation(field: string, error: string): Reply {
  return reply(400, { code: 2, name: 'schema violation', message: `schema violation (${field}: ${error})`, fields: { [field]: error } });
}

// ---- lookups -------------------------------------------------------------------------------

/** How a path key was resolved: which field it was matched on, and what it found. */
export type Selection =
  | { ok: true; entity: Entity | null; byField: string | null }
  | { ok: false; error: Reply };

/**
 * Kong's `select_entity`: a UUID is looked up by id; anything else by the endpoint key (no
 * fallback to id); a collection without endpoint key refuses a non-UUID key (code 1).
 */
export function selectEntity(config: Config, c: AdminCollection, key: string): Selection {
  const items = entitiesOf(config, c.name);
  if (isUuid(key)) {
    const lower = key.toLowerCase();
    return { ok: true, entity: items.find((e) => e.id.toLowerCase() === lower) ?? null, byField: null };
  }
  if (!c.endpointKey) return { ok: false, error: invalidPrimaryKey(key) };
  const field = c.endpointKey;
  return { ok: true, entity: items.find((e) => e[field] === key) ?? null, byField: field };
}

/** The id a foreign-key field points at, or null. */
export function foreignId(entity: Entity, field: string): string | null {
  const ref = entity[field] as { id?: unknown } | null | undefined;
  return ref && typeof ref.id === 'string' ? ref.id : null;
}

// ---- presentation --------------------------------------------------------------------------

/**
 * An entity as the Admin API shows it. Certificates carry the names of their SNIs (Kong's
 * `snis` pseudo-field, sorted); oauth2 credentials with `hash_secret` show a hash, never the
 * secret (Kong only ever stores the hash). Basic-auth passwords are already hashed in `Config`.
 */
export function present(config: Config, name: EntityKey, entity: Entity): Entity {
  if (name === 'certificates') {
    const cert = entity as unknown as Certificate;
    const snis = config.snis.filter((s) => s.certificate.id === cert.id).map((s) => s.name).sort();
    return { ...entity, snis };
  }
  if (name === 'oauth2_credentials') {
    return presentOauth2Credential(entity as unknown as Oauth2Credential) as unknown as Entity;
  }
  return entity;
}
