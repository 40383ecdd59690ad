/**
 * @module controller/sync/gateway-push
 * Pushes a declarative config to one gateway's Admin API the way KIC does:
 * `POST /config?check_hash=1&flatten_errors=1`, skipped when this gateway already has the hash
 * and still reports it (a gateway that restarted empty reports the zero hash and gets it again).
 */
import { createHash } from 'node:crypto';

export const EMPTY_HASH = '00000000000000000000000000000000';

export interface FlattenedError {
  entity_type?: string;
  entity_name?: string;
  entity_id?: string;
  entity_tags?: string[];
  errors?: { type?: string; field?: string; message: string }[];
}

export type PushOutcome =
  | { kind: 'applied'; url: string; hash: string }
  | { kind: 'skipped'; url: string; hash: string }
  | { kind: 'rejected'; url: string; status: number; message: string; flattened: FlattenedError[] }
  | { kind: 'unreachable'; url: string; message: string };

/** The SHA-256 the controller tracks per gateway (of the canonical JSON it sends). */
export function pushHash(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

export class GatewayClient {
  readonly url: string;
  #lastHash: string | null = null;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;

  constructor(url: string, options: { timeoutMs?: number; token?: string } = {}) {
    this.url = url.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#headers = { 'content-type': 'application/json' };
    if (options.token) this.#headers['authorization'] = `Bearer ${options.token}`;
  }

  get lastHash(): string | null { return this.#lastHash; }

  /** The hash the gateway reports, or null when it does not answer. */
  async configurationHash(): Promise<string | null> {
    try {
      const r = await fetch(`${this.url}/status`, { headers: this.#headers, signal: AbortSignal.timeout(5000) });
      if (!r.ok) { await r.arrayBuffer(); return null; }
      const body = await r.json() as { configuration_hash?: string };
      return body.configuration_hash ?? null;
    } catch {
      return null;
    }
  }

  async push(body: string, hash: string): Promise<PushOutcome> {
    if (this.#lastHash === hash) {
      const reported = await this.configurationHash();
      if (reported !== null && reported !== EMPTY_HASH) return { kind: 'skipped', url: this.url, hash };
    }
    let r: Response;
    try {
      r = await fetch(`${this.url}/config?check_hash=1&flatten_errors=1`, {
        method: 'POST', headers: this.#headers, body, signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      this.#lastHash = null;
      return { kind: 'unreachable', url: this.url, message: (err as Error).message };
    }
    if (r.status === 201 || r.status === 304) {
      await r.arrayBuffer();
      this.#lastHash = hash;
      return { kind: 'applied', url: this.url, hash };
    }
    const text = await r.text();
    let parsed: { message?: string; flattened_errors?: FlattenedError[] } = {};
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    this.#lastHash = null;
    return { kind: 'rejected', url: this.url, status: r.status, message: parsed.message ?? text, flattened: parsed.flattened_errors ?? [] };
  }
}

/** The Kubernetes object an entity came from, read back from its `k8s-*` tags. */
export interface TaggedObject { kind: string; namespace?: string; name: string; uid?: string; group?: string; version?: string }

export function objectFromTags(tags: readonly string[] | undefined): TaggedObject | null {
  if (!tags) return null;
  const get = (p: string) => tags.find((t) => t.startsWith(p))?.slice(p.length);
  const kind = get('k8s-kind:');
  const name = get('k8s-name:');
  if (!kind || !name) return null;
  return { kind, name, namespace: get('k8s-namespace:'), uid: get('k8s-uid:'), group: get('k8s-group:'), version: get('k8s-version:') };
}
