/**
 * @module controller/translator/failures
 * Translation problems, KIC style: each names the Kubernetes object that caused it, carries the
 * Event reason `KongConfigurationTranslationFailed` and a message. The collector drops exact
 * duplicates and sorts, so the list is as byte-stable as the config.
 */

import { splitApiVersion, type K8sObject } from '../store/objects.ts';
import { compareStrings } from './fields.ts';

/** FailureObject identifies the object a failure is about. */
export interface FailureObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

/** TranslationFailure is one problem found while translating; the object was (partly) left out. */
export interface TranslationFailure {
  object: FailureObject;
  reason: 'KongConfigurationTranslationFailed';
  message: string;
}

/** failureObjectOf builds the identity of an object for failures and status. */
export function failureObjectOf(obj: K8sObject): FailureObject {
  const out: FailureObject = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) out.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) out.uid = obj.metadata.uid;
  return out;
}

/** formatFailure renders `Kind ns/name: message` (`Kind name: message` for cluster-scoped objects). */
export function formatFailure(f: TranslationFailure): string {
  const id = f.object.namespace ? `${f.object.namespace}/${f.object.name}` : f.object.name;
  return `${f.object.kind} ${id}: ${f.message}`;
}

/** FailureCollector accumulates failures during one translation. */
export class FailureCollector {
  #seen = new Set<string>();
  #failures: TranslationFailure[] = [];

  /** push records `message` against each causing object. */
  push(message: string, ...objects: K8sObject[]): void {
    for (const obj of objects) {
      const f: TranslationFailure = { object: failureObjectOf(obj), reason: 'KongConfigurationTranslationFailed', message };
      const key = `${splitApiVersion(obj.apiVersion).group}\u0000${formatFailure(f)}`;
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      this.#failures.push(f);
    }
  }

  /** has says whether an object already has at least one failure. */
  hasFailureFor(obj: K8sObject): boolean {
    const id = failureObjectOf(obj);
    return this.#failures.some((f) => f.object.kind === id.kind && f.object.name === id.name && f.object.namespace === id.namespace);
  }

  /** sorted returns the failures ordered by kind, namespace, name, message. */
  sorted(): TranslationFailure[] {
    return [...this.#failures].sort((a, b) => compareStrings(formatFailure(a), formatFailure(b)));
  }
}
