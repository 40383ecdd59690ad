/**
 * @module plugins/key-auth/test-fixtures
 * Normalized consumers and credentials for the auth plugins' unit tests, and a helper that runs a
 * plugin's config through the real validator (defaults, errors) the way a declarative file does.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type {
  Acl, BasicAuthCredential, Consumer, HmacAuthCredential, JwtSecret, KeyAuthCredential,
} from '../../config/entities.ts';
import { pluginConfigValidator, placeAjvErrors } from '../../config/schema/compiler.ts';
import type { ErrorTree } from '../../config/errors.ts';
import type { PluginDefinition } from '../api.ts';

const T = 1700000000;

export function consumer(id: string, username: string | null, customId: string | null = null): Consumer {
  return { id, username, custom_id: customId, created_at: T, updated_at: T, tags: null };
}

export function keyAuthCredential(id: string, consumerId: string, key: string, ttl: number | null = null, createdAt = T): KeyAuthCredential {
  return { id, consumer: { id: consumerId }, key, ttl, created_at: createdAt, tags: null };
}

export function basicAuthCredential(id: string, consumerId: string, username: string, password: string): BasicAuthCredential {
  return { id, consumer: { id: consumerId }, username, password, created_at: T, tags: null };
}

export function acl(id: string, consumerId: string, group: string): Acl {
  return { id, consumer: { id: consumerId }, group, created_at: T, tags: null };
}

export function jwtSecret(id: string, consumerId: string, key: string, secret: string | null, algorithm = 'HS256', rsaPublicKey: string | null = null): JwtSecret {
  return { id, consumer: { id: consumerId }, key, secret, algorithm, rsa_public_key: rsaPublicKey, created_at: T, tags: null };
}

export function hmacCredential(id: string, consumerId: string, username: string, secret: string): HmacAuthCredential {
  return { id, consumer: { id: consumerId }, username, secret, created_at: T, tags: null };
}

export const ALICE = consumer('3f1e7a7e-8c4b-4a57-9a53-1c4cf4a1e001', 'alice', 'alice-custom');
export const BOB = consumer('3f1e7a7e-8c4b-4a57-9a53-1c4cf4a1e002', 'bob');
export const ANON = consumer('3f1e7a7e-8c4b-4a57-9a53-1c4cf4a1e0a0', 'anonymous');
export const NO_USERNAME = consumer('3f1e7a7e-8c4b-4a57-9a53-1c4cf4a1e003', null, 'only-custom');

/** Validates `input` as the plugin's config; returns the config with defaults or Kong's error tree. */
export function validatePluginConfig<S extends TObject>(def: PluginDefinition<S>, input: Record<string, unknown>):
  { ok: true; config: Static<S> } | { ok: false; errors: ErrorTree } {
  const config = structuredClone(input);
  const validate = pluginConfigValidator(def.schema);
  const tree: ErrorTree = {};
  if (!validate(config)) {
    placeAjvErrors(validate.errors ?? [], config, tree, []);
    return { ok: false, errors: tree };
  }
  const checked = def.check?.(config as Static<S>) ?? null;
  if (checked) return { ok: false, errors: checked as ErrorTree };
  return { ok: true, config: config as Static<S> };
}

/** A config with every default applied (throws on an invalid one). */
export function configOf<S extends TObject>(def: PluginDefinition<S>, input: Record<string, unknown> = {}): Static<S> {
  const r = validatePluginConfig(def, input);
  if (!r.ok) throw new Error(`invalid config: ${JSON.stringify(r.errors)}`);
  return r.config;
}
