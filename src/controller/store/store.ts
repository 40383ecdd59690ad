/**
 * @module controller/store/store
 * The controller's cache of Kubernetes objects. Sources (informers, manifest files) write into an
 * `ObjectStore`; the translator only sees the read-only `Store` interface. Objects are keyed by
 * `Kind.group` (see `groupKind`) and `namespace/name`. Every change bumps `revision`, so a sync loop can
 * tell cheaply whether anything happened since its last translation.
 */

import { groupKind, isClusterScoped, objectKey, type K8sObject } from './objects.ts';

/** Store is the read-only view the translator works from. Kinds are `groupKind` keys (`GK.*`). */
export interface Store {
  /** list returns every stored object of a kind, ordered by namespace then name. Do not mutate. */
  list(kind: string): readonly K8sObject[];
  /** get returns one object, or undefined. Pass `undefined` namespace for cluster-scoped kinds. */
  get(kind: string, namespace: string | undefined, name: string): K8sObject | undefined;
  /** revision grows by at least one on every change. */
  readonly revision: number;
}

/** storeKindOf is the `groupKind` key an object is stored under. */
export function storeKindOf(obj: K8sObject): string {
  return groupKind(obj.apiVersion, obj.kind);
}

function keyOf(obj: K8sObject): string {
  const ns = isClusterScoped(obj.kind) ? undefined : obj.metadata.namespace;
  return objectKey(ns, obj.metadata.name);
}

/**
 * ObjectStore is the in-memory Store. It is not a filter: callers decide what goes in (see
 * `secrets.ts` for KIC's rule on which Secrets to keep).
 */
export class ObjectStore implements Store {
  #kinds = new Map<string, Map<string, K8sObject>>();
  #sorted = new Map<string, readonly K8sObject[]>();
  #revision = 0;

  /** ObjectStore optionally starts with a set of objects (revision 1 if any were given). */
  constructor(objects?: Iterable<K8sObject>) {
    if (objects) this.replaceAll(objects);
  }

  get revision(): number {
    return this.#revision;
  }

  list(kind: string): readonly K8sObject[] {
    const cached = this.#sorted.get(kind);
    if (cached) return cached;
    const bucket = this.#kinds.get(kind);
    const sorted = bucket ? [...bucket.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o) : [];
    this.#sorted.set(kind, sorted);
    return sorted;
  }

  get(kind: string, namespace: string | undefined, name: string): K8sObject | undefined {
    return this.#kinds.get(kind)?.get(objectKey(namespace, name));
  }

  /** upsert adds or replaces an object. Returns false (and keeps the revision) if nothing changed. */
  upsert(obj: K8sObject): boolean {
    const kind = storeKindOf(obj);
    let bucket = this.#kinds.get(kind);
    if (!bucket) {
      bucket = new Map();
      this.#kinds.set(kind, bucket);
    }
    const key = keyOf(obj);
    const previous = bucket.get(key);
    if (previous === obj) return false;
    const rv = obj.metadata.resourceVersion;
    if (previous && rv !== undefined && rv !== '' && previous.metadata.resourceVersion === rv) return false;
    bucket.set(key, obj);
    this.#sorted.delete(kind);
    this.#revision++;
    return true;
  }

  /** remove deletes an object by `groupKind`, namespace and name. Returns whether it existed. */
  remove(kind: string, namespace: string | undefined, name: string): boolean {
    const bucket = this.#kinds.get(kind);
    if (!bucket || !bucket.delete(objectKey(namespace, name))) return false;
    this.#sorted.delete(kind);
    this.#revision++;
    return true;
  }

  /** removeObject deletes the stored object with the same kind, namespace and name as `obj`. */
  removeObject(obj: K8sObject): boolean {
    const ns = isClusterScoped(obj.kind) ? undefined : obj.metadata.namespace;
    return this.remove(storeKindOf(obj), ns, obj.metadata.name);
  }

  /** replaceAll swaps the whole content (e.g. after a relist) and bumps the revision once. */
  replaceAll(objects: Iterable<K8sObject>): void {
    this.#kinds.clear();
    this.#sorted.clear();
    for (const obj of objects) {
      const kind = storeKindOf(obj);
      let bucket = this.#kinds.get(kind);
      if (!bucket) {
        bucket = new Map();
        this.#kinds.set(kind, bucket);
      }
      bucket.set(keyOf(obj), obj);
    }
    this.#revision++;
  }

  /** kinds lists the `groupKind` keys that currently hold objects. */
  kinds(): string[] {
    return [...this.#kinds.entries()].filter(([, b]) => b.size > 0).map(([k]) => k).sort();
  }

  /** size is the number of stored objects across all kinds. */
  get size(): number {
    let n = 0;
    for (const b of this.#kinds.values()) n += b.size;
    return n;
  }
}
