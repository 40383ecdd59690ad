/**
 * @module gateway/pipeline/context
 * The per-request state that plugins see through the `PluginContext` interface: the client's
 * request (read-only), the request being prepared for the upstream (mutable in access), the
 * response on its way back, the route/service/consumer, and the shared stores. One of each object
 * per request; everything else is computed lazily.
 */
import type { Consumer, Route, Service } from '../../config/entities.ts';
import type {
  ConsumerDirectory, CounterStore, Credential, PluginContext, PluginLogger, RequestView, ResponseView,
  SharedCache, UpstreamRequest,
} from '../../plugins/api.ts';
import type { PluginInstance } from './plugin-chain.ts';
import { BodilessRequest, type ClientRequest } from '../http1/bodiless-request.ts';

export type HeaderMap = Record<string, string | string[] | undefined>;

const NO_PROTOTYPE: object = Object.freeze(Object.create(null));
/**
 * An empty record that no key can reach a prototype through (`__proto__`, `constructor` are plain
 * keys), like `Object.create(null)`, but a fast-mode object: V8 keeps null-prototype objects as
 * dictionaries, whose for-in and copies cost ~2x on the per-request header maps.
 */
export function newRecord<T>(): Record<string, T> {
  return Object.create(NO_PROTOTYPE) as Record<string, T>;
}

/** Parses a query string into a record; repeated args become arrays, valueless args `true`. */
export function parseQuery(raw: string): Record<string, string | string[] | true> {
  const out = newRecord<string | string[] | true>();
  if (raw === '') return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq === -1 ? part : part.slice(0, eq));
    const v: string | true = eq === -1 ? true : safeDecode(part.slice(eq + 1));
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v === true ? '' : v);
    else out[k] = [prev === true ? '' : prev, v === true ? '' : v];
  }
  return out;
}

function safeDecode(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try { return decodeURIComponent(plus); } catch { return plus; }
}

export class ClientRequestView implements RequestView {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  readonly path: string;
  normalizedPath: string;
  readonly rawQuery: string;
  readonly headers: HeaderMap;
  readonly clientIp: string;
  readonly remoteAddr: string;
  trustedPeer = false;
  readonly connection: object;
  readonly raw: ClientRequest;
  #query: Record<string, string | string[] | true> | null = null;
  #body: Promise<Buffer> | null = null;

  constructor(raw: ClientRequest, scheme: 'http' | 'https', port: number, path: string, rawQuery: string,
    host: string, remoteAddr: string, clientIp: string) {
    this.raw = raw;
    // A request without a socket (a test double) is a connection of its own.
    this.connection = raw.socket ?? this;
    this.method = raw.method ?? 'GET';
    this.scheme = scheme;
    this.port = port;
    this.path = path;
    this.normalizedPath = path;
    this.rawQuery = rawQuery;
    this.headers = raw.headers as HeaderMap;
    this.host = host;
    this.remoteAddr = remoteAddr;
    this.clientIp = clientIp;
  }

  header(name: string): string | string[] | undefined { return this.headers[name]; }

  headerValues(name: string): readonly string[] {
    return this.raw.headersDistinct[name] ?? [];
  }

  get httpVersion(): string { return this.raw.httpVersion; }

  query(): Record<string, string | string[] | true> {
    return (this.#query ??= parseQuery(this.rawQuery));
  }

  get bodyRead(): boolean { return this.#body !== null; }

  readBody(): Promise<Buffer> {
    const raw = this.raw;
    if (raw instanceof BodilessRequest) return (this.#body ??= Promise.resolve(Buffer.alloc(0)));
    return (this.#body ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      raw.on('data', (c: Buffer) => chunks.push(c));
      raw.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      raw.on('error', reject);
    }));
  }
}

export class UpstreamRequestState implements UpstreamRequest {
  readonly headers: HeaderMap;
  path: string;
  query: string;
  method: string;
  body: Buffer | null = null;

  constructor(headers: HeaderMap, method: string, path: string, query: string) {
    this.headers = headers;
    this.method = method;
    this.path = path;
    this.query = query;
  }
  setHeader(name: string, value: string | string[]): void { this.headers[name.toLowerCase()] = value; }
  removeHeader(name: string): void {
    const key = name.toLowerCase();
    // Most removals find nothing (the auth plugins clear every X-Consumer-* header they do not
    // set), and a `delete` of a missing key still costs V8 a runtime call: ~2x the `in`.
    if (key in this.headers) delete this.headers[key];
  }
  setBody(body: Buffer | string): void { this.body = typeof body === 'string' ? Buffer.from(body) : body; }
}

export interface HeaderSpelling {
  /** Lower-case: the key of the header maps. */
  readonly key: string;
  /** `Content-Type` form, as nginx prints the headers it passes on. */
  readonly name: string;
}
const spellings = new Map<string, HeaderSpelling>();
/** Header names repeat from request to request: each spelling is worked out once (bounded). */
export function headerSpelling(raw: string): HeaderSpelling {
  let s = spellings.get(raw);
  if (s === undefined) {
    const key = raw.toLowerCase();
    s = { key, name: key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()) };
    if (spellings.size < 10_000) spellings.set(raw, s);
  }
  return s;
}

/**
 * Response headers keyed by lower-case name, remembering the spelling each was set with so the
 * client sees `X-Cache-Status`, not `x-cache-status`.
 */
export class ResponseState implements ResponseView {
  status = 0;
  readonly headers: HeaderMap = newRecord();
  readonly names: Record<string, string> = newRecord();
  source: 'service' | 'exit' | 'error' = 'service';

  setHeader(name: string, value: string | string[] | number): void {
    const key = headerSpelling(name).key;
    this.headers[key] = typeof value === 'number' ? String(value) : value;
    this.names[key] = name;
  }
  /** setHeader for a name whose spelling is already worked out (the gateway's own headers). */
  setSpelled(spelling: HeaderSpelling, value: string): void {
    this.headers[spelling.key] = value;
    this.names[spelling.key] = spelling.name;
  }
  removeHeader(name: string): void {
    const key = name.toLowerCase();
    if (!(key in this.headers) && !(key in this.names)) return;
    delete this.headers[key];
    delete this.names[key];
  }
  /** Flat [name, value, name, value…] list for `writeHead`, multi-values repeated. */
  toRaw(): string[] {
    const out: string[] = [];
    for (const key in this.headers) {
      const v = this.headers[key];
      if (v === undefined) continue;
      const name = this.names[key] ?? key;
      if (Array.isArray(v)) for (const one of v) out.push(name, one);
      else out.push(name, v);
    }
    return out;
  }
}

export interface SharedServices {
  readonly consumers: ConsumerDirectory;
  readonly counters: CounterStore;
  readonly cache: SharedCache;
  readonly log: PluginLogger;
}

const NO_CAPTURES: Readonly<Record<string, string>> = Object.freeze({});

export class RequestContext implements PluginContext {
  readonly request: ClientRequestView;
  readonly upstream: UpstreamRequestState;
  readonly response = new ResponseState();
  route: Route | null = null;
  service: Service | null = null;
  uriCaptures: Readonly<Record<string, string>> = NO_CAPTURES;
  consumer: Consumer | null = null;
  credential: Credential | null = null;
  authenticatedGroups: readonly string[] | null = null;
  readonly shared: Record<string, unknown> = newRecord();
  logValues: Record<string, unknown> | null = null;
  readonly services: SharedServices;
  /** Instances chosen during access (or the global ones); header/body/log run these. */
  active: PluginInstance[] = [];
  readonly startedAt: number;
  readonly startedAtMs: number;
  readonly #nextId: () => string;
  #requestId: string | null = null;
  upstreamUri = '';
  upstreamStatus: number | null = null;
  /** performance.now() marks, ms. */
  upstreamHeadersAt = 0;
  upstreamStartAt = 0;
  tries: { ip: string; port: number; balancer_latency: number; state?: string; code?: number }[] = [];
  bytesOut = 0;

  constructor(request: ClientRequestView, upstream: UpstreamRequestState, services: SharedServices,
    startedAt: number, nextId: () => string) {
    this.request = request;
    this.upstream = upstream;
    this.services = services;
    this.startedAt = startedAt;
    this.startedAtMs = Date.now();
    this.#nextId = nextId;
  }

  /** Made on first use: most requests never need one (it is off in Kong's default headers). */
  get requestId(): string { return this.#requestId ??= this.#nextId(); }

  get consumers(): ConsumerDirectory { return this.services.consumers; }
  get counters(): CounterStore { return this.services.counters; }
  get cache(): SharedCache { return this.services.cache; }
  get log(): PluginLogger { return this.services.log; }

  authenticate(consumer: Consumer | null, credential: Credential | null, groups?: string[]): void {
    this.consumer = consumer;
    this.credential = credential;
    if (groups) this.authenticatedGroups = groups;
  }

  setLogValue(key: string, value: unknown): void {
    (this.logValues ??= Object.create(null))[key] = value;
  }

  now(): number { return performance.now() - this.startedAt; }

  serialize(): Record<string, unknown> {
    const req = this.request;
    const headers: Record<string, unknown> = { ...req.headers };
    // Credentials never reach a log line.
    for (const k of ['authorization', 'proxy-authorization', 'apikey', 'cookie']) if (k in headers) headers[k] = 'REDACTED';
    const end = performance.now();
    const proxied = this.upstreamHeadersAt > 0;
    // Kong's sizes are nginx's $request_length and $bytes_sent: request/status line, headers and
    // body. Estimated from what was received and what the gateway wrote (Node adds Date etc.).
    const raw = req.raw;
    let requestSize = req.method.length + (raw.url?.length ?? 0) + (raw.httpVersion?.length ?? 3) + 9 + 2 + Number(req.headers['content-length'] ?? 0);
    for (let i = 0; i < raw.rawHeaders.length; i++) requestSize += raw.rawHeaders[i]!.length + 2;
    let responseSize = 17 + this.bytesOut + 2;
    for (const v of this.response.toRaw()) responseSize += v.length + 2;
    const socket = raw.socket as { encrypted?: boolean; getProtocol?: () => string | null; getCipher?: () => { standardName?: string; name: string } };
    const tls = req.scheme === 'https' && socket.encrypted && socket.getProtocol
      ? { version: socket.getProtocol(), cipher: socket.getCipher?.().standardName ?? socket.getCipher?.().name, client_verify: 'NONE' }
      : undefined;
    const entry: Record<string, unknown> = {
      request: {
        id: this.requestId,
        uri: req.path + (req.rawQuery ? `?${req.rawQuery}` : ''),
        url: `${req.scheme}://${req.host}:${req.port}${req.path}${req.rawQuery ? `?${req.rawQuery}` : ''}`,
        querystring: { ...req.query() },
        method: req.method,
        headers,
        size: requestSize,
        tls,
      },
      upstream_uri: this.upstreamUri,
      // nginx's $upstream_status is text ('' when nothing was proxied).
      upstream_status: this.upstreamStatus === null ? '' : String(this.upstreamStatus),
      response: { status: this.response.status, headers: { ...this.response.headers }, size: responseSize },
      latencies: {
        kong: Math.round((proxied ? this.upstreamStartAt : end) - this.startedAt),
        proxy: proxied ? Math.round(this.upstreamHeadersAt - this.upstreamStartAt) : -1,
        request: Math.round(end - this.startedAt),
        receive: 0,
      },
      tries: this.tries.length > 0 ? this.tries : undefined,
      route: this.route ?? undefined,
      service: this.service ?? undefined,
      consumer: this.consumer ?? undefined,
      authenticated_entity: this.credential
        ? { id: this.credential.id, consumer_id: this.credential.consumer?.id ?? this.consumer?.id }
        : undefined,
      client_ip: req.clientIp,
      started_at: this.startedAtMs,
      source: this.response.source === 'service' ? 'upstream' : 'kong',
      workspace: '00000000-0000-0000-0000-000000000000',
      workspace_name: 'default',
    };
    if (this.logValues) Object.assign(entry, this.logValues);
    return entry;
  }
}
