/**
 * @module plugins/api
 * The public plugin API: everything a plugin (bundled or user-written) may see. A plugin is a
 * `PluginDefinition`: a name, Kong's priority, a TypeBox config schema (validation, defaults and
 * types from one source) and a `create` function called once per configured plugin instance when
 * a config is compiled. `create` returns the phase handlers; per request the pipeline calls them
 * with a `PluginContext`. Plugins never import the gateway's internals.
 *
 * @example
 * export default definePlugin({
 *   name: 'hello', version: '1.0.0', priority: 1000,
 *   schema: Type.Object({ greeting: Type.String({ default: 'hi' }) }),
 *   create: (config) => ({
 *     access(ctx) { ctx.upstream.setHeader('x-greeting', config.greeting); },
 *   }),
 * });
 */
import type { TObject, Static } from '@sinclair/typebox';
import type {
  Acl, BasicAuthCredential, Consumer, HmacAuthCredential, JwtSecret, KeyAuthCredential,
  Oauth2Credential, Plugin, Route, Service,
} from '../config/entities.ts';

export type MaybePromise<T> = T | Promise<T>;

/** Phase names in execution order. `rewrite` only runs for global plugins (no route is known yet). */
export const PHASES = ['rewrite', 'access', 'response', 'header', 'body', 'log'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * What a handler returns to end the request without proxying. `message` renders Kong's
 * negotiated error template (`kong.response.error`); `body` is sent as is, objects as compact
 * JSON (`kong.response.exit`). The header and log phases still run for an exit.
 */
export interface PluginExit {
  status: number;
  message?: string;
  body?: string | Buffer | Record<string, unknown> | unknown[];
  headers?: Record<string, string | string[]>;
}

/** The client's request, read-only. Header names are lower-case. */
export interface RequestView {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** Host header without the port, lower-cased. */
  readonly host: string;
  /** The port the gateway received the request on. */
  readonly port: number;
  /** The request path as the client sent it, without the query string. */
  readonly path: string;
  /** The path the router matched against (percent-decoded unreserved chars, dot segments removed). */
  readonly normalizedPath: string;
  /** The query string without `?` ('' when none). */
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Client IP after `trusted_ips` / `real_ip_header` processing (Kong's forwarded IP). */
  readonly clientIp: string;
  /** The TCP peer address. */
  readonly remoteAddr: string;
  /** Whether the peer is in `trusted_ips`, so its X-Forwarded-* headers are believed. */
  readonly trustedPeer?: boolean;
  /**
   * The client connection the request came on: the same object for every request on it (what
   * Kong's `ngx.var.connection` tells apart), to key a per-connection memo in a WeakMap. Opaque.
   */
  readonly connection: object;
  header(name: string): string | string[] | undefined;
  /** Every value of a header as sent, one entry per header line (Node joins repeats in `headers`). */
  headerValues(name: string): readonly string[];
  /** `1.1`, `1.0`… as in the request line. */
  readonly httpVersion: string;
  /** Parsed query arguments (computed once). A repeated argument gives an array. */
  query(): Readonly<Record<string, string | string[] | true>>;
  /** Reads the whole request body (once; later calls return the same buffer). */
  readBody(): Promise<Buffer>;
}

/** The request the gateway will send upstream; changes made in `access` are applied when proxying. */
export interface UpstreamRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  setHeader(name: string, value: string | string[]): void;
  removeHeader(name: string): void;
  /** The path (without query) that will be sent upstream. */
  path: string;
  /** The query string without `?`. */
  query: string;
  method: string;
  /** Replace the body sent upstream (Content-Length is recomputed). */
  setBody(body: Buffer | string): void;
}

/** The response on its way to the client (header, body, response and log phases). */
export interface ResponseView {
  status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  setHeader(name: string, value: string | string[] | number): void;
  removeHeader(name: string): void;
  /** `service` when the upstream answered; `exit` for a plugin exit; `error` for gateway errors. */
  readonly source: 'service' | 'exit' | 'error';
}

export interface Credential { id: string; consumer?: { id: string } | null }

/** Consumer and credential lookups, compiled with the snapshot (indexed, O(1)). */
export interface ConsumerDirectory {
  consumer(idOrUsername: string): Consumer | undefined;
  /** The consumer whose `custom_id` this is (openid-connect's `consumer_by: [custom_id]`). */
  consumerByCustomId(customId: string): Consumer | undefined;
  /**
   * The credential of a key-auth key. Pass the request's `connection`: a key presented again on
   * it is confirmed by a constant-time compare instead of being digested again.
   */
  keyAuth(key: string, connection?: object): KeyAuthCredential | undefined;
  basicAuth(username: string): BasicAuthCredential | undefined;
  jwtSecret(key: string): JwtSecret | undefined;
  hmacAuth(username: string): HmacAuthCredential | undefined;
  oauth2(clientId: string): Oauth2Credential | undefined;
  acls(consumerId: string): readonly Acl[];
}

/** One counter in a `CounterStore.take` call. */
export interface CounterSpec {
  key: string;
  limit: number;
  /** How long the key lives, in seconds (the window length). */
  ttl: number;
}

/**
 * Counters shared by every worker of this gateway. `take` is atomic across workers: it reads the
 * usage of each key and, only if every usage is below its limit, adds `cost` to all of them.
 * It returns the usages as they were before the call.
 */
export interface CounterStore {
  take(counters: readonly CounterSpec[], cost: number): MaybePromise<number[]>;
}

/** A byte-bounded cache shared by the workers of this gateway. */
export interface SharedCache {
  get(key: string): MaybePromise<Buffer | undefined>;
  set(key: string, value: Buffer, ttlSeconds: number): void;
  /** Resolves once no worker serves the key any more (across workers: after every mirror dropped it). */
  delete(key: string): MaybePromise<void>;
  /** Delete every key that starts with `prefix` ('' = everything). */
  purge(prefix: string): void;
}

export interface PluginLogger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

/** The per-request context every handler receives. */
export interface PluginContext {
  readonly request: RequestView;
  readonly upstream: UpstreamRequest;
  /** Set once the upstream answered or an exit was produced (header phase and later). */
  readonly response: ResponseView;
  readonly route: Route | null;
  readonly service: Service | null;
  /** Regex captures of the matched route path: numbered (`'1'`, …) and named. */
  readonly uriCaptures: Readonly<Record<string, string>>;
  readonly consumer: Consumer | null;
  readonly credential: Credential | null;
  /** Groups set by an auth plugin without a consumer (ldap-auth, openid-connect). */
  readonly authenticatedGroups: readonly string[] | null;
  /** Sets the authenticated consumer/credential; consumer-scoped plugins become visible. */
  authenticate(consumer: Consumer | null, credential: Credential | null, groups?: string[]): void;
  /** Data shared between plugins for this request (Kong's `kong.ctx.shared`). */
  readonly shared: Record<string, unknown>;
  /** Extra fields for the access log entry (Kong's `kong.log.set_serialize_value`). */
  setLogValue(key: string, value: unknown): void;
  readonly consumers: ConsumerDirectory;
  readonly counters: CounterStore;
  readonly cache: SharedCache;
  readonly log: PluginLogger;
  /** Timings in ms since the request arrived (for latency headers and logs). */
  now(): number;
  /** The access-log entry, in the shape of Kong's log serializer (log phase only). */
  serialize(): Record<string, unknown>;
}

export interface PluginHandlers {
  /** Global plugins only, before routing. */
  rewrite?(ctx: PluginContext): MaybePromise<void | PluginExit>;
  access?(ctx: PluginContext): MaybePromise<void | PluginExit>;
  /**
   * Buffered body transform. Declaring it makes the gateway buffer the whole response; return a
   * new body or nothing to keep it.
   */
  response?(ctx: PluginContext, body: Buffer): MaybePromise<Buffer | void>;
  /** Response headers, before they are sent. */
  header?(ctx: PluginContext): void;
  /** Observes the response body as it streams to the client; `chunk` is null at the end. */
  body?(ctx: PluginContext, chunk: Buffer | null): void;
  /** After the response was sent. Must not throw; its work must not delay other requests. */
  log?(ctx: PluginContext): void;
  /** Called once when the config this instance belongs to is replaced (timers, connections). */
  dispose?(): void;
}

/** What `create` gets besides the config. */
export interface PluginEnv {
  /** The plugin entity this instance was created for (id, scope, protocols). */
  readonly entity: Plugin;
  readonly log: PluginLogger;
}

/** A Kong-style error tree: field name -> message, nested for records. */
export type FieldErrors = { [field: string]: string | FieldErrors | (string | FieldErrors)[] };

export interface PluginDefinition<S extends TObject = TObject> {
  name: string;
  version: string;
  /** Kong's PRIORITY; higher runs first. */
  priority: number;
  /** Config schema; `default`s are applied by the validator. */
  schema: S;
  /** Kong's `typedefs.no_consumer` etc.: the plugin cannot be scoped to these. */
  noConsumer?: boolean;
  noRoute?: boolean;
  noService?: boolean;
  /**
   * Cross-field checks after schema validation (Kong's entity checks). Return an error tree with
   * Kong's messages, `{ '@entity': ['message'] }` for entity-level errors, or null.
   */
  check?(config: Static<S>): FieldErrors | null;
  /** Build a handler set for one configured instance; called at config compile time. */
  create(config: Static<S>, env: PluginEnv): PluginHandlers;
}

/** Identity helper that keeps the config type flowing from the schema to `create`. */
export function definePlugin<S extends TObject>(def: PluginDefinition<S>): PluginDefinition<S> {
  return def;
}
