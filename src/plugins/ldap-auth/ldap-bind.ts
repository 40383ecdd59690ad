/**
 * @module plugins/ldap-auth/ldap-bind
 * Simple binds against one LDAP server over a small pool of kept-alive connections (Kong keeps
 * its cosockets alive the same way, `keepalive` ms, StartTLS connections apart from plain ones).
 * A connection serves one bind at a time: LDAP ties the bind identity to the connection.
 *
 * Outcomes follow Kong's access.lua: a BindResponse with resultCode 0 is `ok`; any other
 * resultCode, and a failed TLS handshake, is `rejected` (Kong answers 401); not reaching the
 * server, a timeout or a failed StartTLS operation throws (Kong answers 500).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Client } from 'ldapts';

type Ldapts = typeof import('ldapts');
let ldapts: Promise<Ldapts> | null = null;
/** The client library loads with the first bind: a worker whose config has no ldap-auth never loads it. */
function loadLdapts(): Promise<Ldapts> {
  return (ldapts ??= import('ldapts'));
}

export type BindOutcome = 'ok' | 'rejected';
export interface BindResult {
  outcome: BindOutcome;
  /** Why a bind was rejected; `tls` marks a failed handshake (a server problem, not a user's). */
  detail?: string;
  tls?: boolean;
}

export interface LdapEndpoint {
  host: string;
  port: number;
  ldaps: boolean;
  startTls: boolean;
  verify: boolean;
  /** Per connect and per operation, ms. */
  timeoutMs: number;
  /** How long an idle connection stays open, ms (0: until the server closes it). */
  keepaliveMs: number;
}

/** Kong's wording for the result codes it names (kong/plugins/ldap-auth/ldap.lua). */
const RESULT_MESSAGES: Record<number, string> = {
  1: 'Initialization of LDAP library failed.',
  4: 'Size limit exceeded.',
  13: 'Confidentiality required',
  32: 'No such object',
  34: 'Invalid DN',
  49: 'The supplied credential is invalid.',
};

/** OpenResty's default cosocket pool size. */
const MAX_IDLE = 30;
const TLS_HANDSHAKE_FAILED = Symbol('tls-handshake-failed');

interface Idle { client: Client; timer: NodeJS.Timeout | null }

/** RFC 4514 escaping of an attribute value, so a username can never add RDNs or attributes. */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ')
    .replace(/\0/g, '\\00');
}

type TaggedError = Error & { [TLS_HANDSHAKE_FAILED]?: boolean };

/** Marks errors a TLS socket raises after its TCP connection is up and before it is secured. */
function tagHandshakeFailures(socket: tls.TLSSocket, tcpAlreadyUp: boolean): tls.TLSSocket {
  let tcpUp = tcpAlreadyUp;
  let secured = false;
  socket.once('connect', () => { tcpUp = true; });
  socket.once('secureConnect', () => { secured = true; });
  // Registered before ldapts's own listener, so the error is tagged before ldapts rejects with it.
  socket.once('error', (err: TaggedError) => { if (tcpUp && !secured) err[TLS_HANDSHAKE_FAILED] = true; });
  return socket;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0)) return p;
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

export class LdapBinder {
  readonly #endpoint: LdapEndpoint;
  readonly #tlsOptions: tls.ConnectionOptions;
  readonly #idle: Idle[] = [];
  #disposed = false;

  constructor(endpoint: LdapEndpoint) {
    this.#endpoint = endpoint;
    this.#tlsOptions = {
      rejectUnauthorized: endpoint.verify,
      ...(net.isIP(endpoint.host) ? {} : { servername: endpoint.host }),
    };
  }

  /**
   * Binds as `dn` with `password`. `detail` says why a bind was rejected (for the log).
   * Throws when the server gave no answer.
   */
  async bind(dn: string, password: string): Promise<BindResult> {
    const { ResultCodeError } = await loadLdapts();
    let client: Client | null = null;
    try {
      client = this.#take() ?? await this.#connect();
      await client.bind(dn, password);
      this.#release(client);
      return { outcome: 'ok' };
    } catch (err) {
      if (client && err instanceof ResultCodeError) {
        this.#release(client);
        const message = RESULT_MESSAGES[err.code] ?? `Unknown error occurred (code: ${err.code})`;
        return { outcome: 'rejected', detail: `bind as ${dn} refused: ${message}` };
      }
      if (client) this.#discard(client);
      if ((err as TaggedError)[TLS_HANDSHAKE_FAILED]) {
        const e = this.#endpoint;
        return { outcome: 'rejected', tls: true, detail: `failed to do SSL handshake with ${e.host}:${e.port}: ${(err as Error).message}` };
      }
      throw err;
    }
  }

  /** Closes every idle connection; connections in use close when their bind ends. */
  dispose(): void {
    this.#disposed = true;
    for (const idle of this.#idle.splice(0)) this.#close(idle);
  }

  #take(): Client | null {
    for (let idle = this.#idle.pop(); idle; idle = this.#idle.pop()) {
      if (idle.timer) clearTimeout(idle.timer);
      if (idle.client.isConnected) return idle.client;
    }
    return null;
  }

  async #connect(): Promise<Client> {
    const { Client, ResultCodeError } = await loadLdapts();
    const e = this.#endpoint;
    const host = e.host.includes(':') ? `[${e.host}]` : e.host;
    const timeout = e.timeoutMs > 0 ? e.timeoutMs : 0;
    const client = new Client({
      url: `${e.ldaps ? 'ldaps' : 'ldap'}://${host}:${e.port}`,
      timeout,
      connectTimeout: timeout,
      ...(e.ldaps ? { tlsOptions: this.#tlsOptions } : {}),
      createSecureConnection: ((...args: Parameters<typeof tls.connect>) => {
        const socket = tls.connect(...args);
        // For StartTLS the TCP connection is already up (ldapts passes it as `socket`).
        return tagHandshakeFailures(socket, !e.ldaps);
      }) as typeof tls.connect,
    });
    if (e.startTls) {
      try {
        await withTimeout(client.startTLS({ ...this.#tlsOptions }), timeout, 'StartTLS');
      } catch (err) {
        this.#discard(client);
        // A refused StartTLS operation is an error (500 in Kong), unlike a failed handshake.
        if (err instanceof ResultCodeError) throw new Error(`StartTLS refused: ${err.message}`);
        throw err;
      }
    }
    return client;
  }

  #release(client: Client): void {
    if (this.#disposed || this.#idle.length >= MAX_IDLE || !client.isConnected) { this.#discard(client); return; }
    const idle: Idle = { client, timer: null };
    if (this.#endpoint.keepaliveMs > 0) {
      idle.timer = setTimeout(() => {
        const i = this.#idle.indexOf(idle);
        if (i !== -1) this.#idle.splice(i, 1);
        this.#close(idle);
      }, this.#endpoint.keepaliveMs);
      idle.timer.unref();
    }
    this.#idle.push(idle);
  }

  #close(idle: Idle): void {
    if (idle.timer) clearTimeout(idle.timer);
    this.#discard(idle.client);
  }

  #discard(client: Client): void {
    client.unbind().catch(() => { /* the connection is gone either way */ });
  }
}
