/**
 * @module controller/translator/credentials
 * Credential Secrets (`konghq.com/credential: <type>`) → Kong credential entities nested under their
 * consumer. Each Secret data key becomes a field of the credential (only the fields the credential
 * type has survive, as in KIC's struct decoding); `redirect_uris` is split on `,`, `hash_secret`
 * becomes a boolean and `ttl` an integer. Also the conflict index that drops consumers whose
 * credentials collide on a unique key.
 */

import type { K8sObject } from '../store/objects.ts';
import { atoi, decodeBase64, parseGoBool, rec } from './fields.ts';

/** CredentialKind describes one credential type. */
interface CredentialKind {
  /** decK/declarative key under the consumer. */
  key: string;
  /** Fields the Kong entity accepts (others in the Secret are ignored). */
  fields: readonly string[];
  /** Validate returns KIC's error text when a required field is missing. */
  validate(c: Record<string, unknown>): string | undefined;
  /** The field and index name used for conflict detection. */
  unique?: { field: string; index: string };
}

const KINDS: Record<string, CredentialKind> = {
  'key-auth': {
    key: 'keyauth_credentials',
    fields: ['id', 'key', 'ttl'],
    validate: (c) => (c['key'] === undefined ? 'key-auth is invalid: no key' : undefined),
    unique: { field: 'key', index: "key-auth on 'key'" },
  },
  'basic-auth': {
    key: 'basicauth_credentials',
    fields: ['id', 'username', 'password'],
    validate: (c) => (c['username'] === undefined ? 'basic-auth is invalid: no username' : undefined),
    unique: { field: 'username', index: "basic-auth on 'username'" },
  },
  'hmac-auth': {
    key: 'hmacauth_credentials',
    fields: ['id', 'username', 'secret'],
    validate: (c) => (c['username'] === undefined ? 'hmac-auth is invalid: no username' : undefined),
    unique: { field: 'username', index: "hmac-auth on 'username'" },
  },
  jwt: {
    key: 'jwt_secrets',
    fields: ['id', 'key', 'algorithm', 'rsa_public_key', 'secret'],
    validate: (c) => {
      if (c['algorithm'] === undefined || c['algorithm'] === '') c['algorithm'] = 'HS256';
      return c['key'] === undefined ? 'jwt-auth for is invalid: no key' : undefined;
    },
    unique: { field: 'key', index: "jwt-auth on 'key'" },
  },
  oauth2: {
    key: 'oauth2_credentials',
    fields: ['id', 'name', 'client_id', 'client_secret', 'redirect_uris', 'hash_secret', 'client_type'],
    validate: (c) => (c['client_id'] === undefined ? 'oauth2 is invalid: no client_id' : c['name'] === undefined ? 'oauth2 is invalid: no name' : undefined),
    unique: { field: 'client_id', index: "oauth2-credentials on 'client_id'" },
  },
  acl: {
    key: 'acls',
    fields: ['id', 'group'],
    validate: (c) => (c['group'] === undefined ? 'acl is invalid: no group' : undefined),
  },
  'mtls-auth': {
    key: 'mtls_auth_credentials',
    fields: ['id', 'subject_name'],
    validate: (c) => (c['subject_name'] === undefined ? 'mtls-auth is invalid: no subject_name' : undefined),
  },
};

const ALIASES: Record<string, string> = {
  keyauth_credential: 'key-auth',
  basicauth_credential: 'basic-auth',
  hmacauth_credential: 'hmac-auth',
  jwt_secret: 'jwt',
};

/** SUPPORTED_CREDENTIAL_TYPES are the label values KIC turns into credentials. */
export const SUPPORTED_CREDENTIAL_TYPES: ReadonlySet<string> = new Set(['basic-auth', 'hmac-auth', 'jwt', 'key-auth', 'oauth2', 'acl', 'mtls-auth']);

/** BuiltCredential is a credential ready to nest under a consumer. */
export interface BuiltCredential {
  /** Declarative key under the consumer (`keyauth_credentials`, `acls`, ...). */
  key: string;
  entity: Record<string, unknown>;
  unique?: { index: string; value: string };
}

/**
 * buildCredential turns a Secret's data into a credential. Returns the credential, plus warnings
 * (field conversion problems), or an error text (`failed to provision credential: ...` prefix is the
 * caller's).
 */
export function buildCredential(secret: K8sObject, credType: string, tags: string[]): { credential?: BuiltCredential; warnings: string[]; error?: string } {
  const warnings: string[] = [];
  const canonical = ALIASES[credType] ?? credType;
  const kind = KINDS[canonical];
  if (!kind) return { warnings, error: `invalid credential type: '${credType}'` };
  const data = rec(secret['data']) ?? {};
  const config: Record<string, unknown> = {};
  for (const k of Object.keys(data).sort()) {
    const v = decodeBase64(data[k]) ?? '';
    if (k === 'redirect_uris') {
      config[k] = v.split(',');
      continue;
    }
    if (k === 'hash_secret') {
      const b = parseGoBool(v);
      if (b === undefined) warnings.push(`Failed to parse hash_secret to bool: strconv.ParseBool: parsing "${v}": invalid syntax. defaulting to false`);
      config[k] = b ?? false;
      continue;
    }
    if (k === 'ttl') {
      const n = atoi(v);
      if (n === undefined) warnings.push(`Failed to parse ttl to int: strconv.Atoi: parsing "${v}": invalid syntax, skipfilling the field`);
      else config[k] = n;
      continue;
    }
    config[k] = v;
  }
  const entity: Record<string, unknown> = {};
  for (const f of kind.fields) if (config[f] !== undefined) entity[f] = config[f];
  const error = kind.validate(entity);
  if (error) return { warnings, error };
  entity['tags'] = tags;
  const credential: BuiltCredential = { key: kind.key, entity };
  if (kind.unique) credential.unique = { index: kind.unique.index, value: String(entity[kind.unique.field]) };
  return { credential, warnings };
}
