/**
 * @module controller/translator/crd-validation
 * The API server refuses a KongPlugin, KongClusterPlugin or KongConsumer that breaks its CRD schema
 * or CEL rules, so KIC never sees one. Objects that reach Turnpike anyway (manifest files, a cluster
 * with older CRDs installed) are checked here against Turnpike's CRDs: an invalid object is hidden
 * from the rest of the translator and reported as a translation failure in the API server's words.
 */

import { KongClusterPluginCrd, KongConsumerCrd, KongPluginCrd, schemaValidator, validateCrdObject, type CrdProblem } from '../crds/index.ts';
import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import type { FailureCollector } from './failures.ts';
import { objectMatchesClass, type IngressClassContext } from './ingress-class.ts';

/** The kinds checked, with whether the ingress class decides if the object is ours. */
const CHECKED: ReadonlyMap<string, { classed: boolean }> = new Map([
  [GK.KongPlugin, { classed: false }],
  [GK.KongClusterPlugin, { classed: true }],
  [GK.KongConsumer, { classed: true }],
]);

// Compiled once at load, so the first translation is not the one that pays for it.
for (const def of [KongPluginCrd, KongClusterPluginCrd, KongConsumerCrd]) schemaValidator(def);

/** Objects are replaced (not mutated) on every change, so a result per object identity stays right. */
const checked = new WeakMap<K8sObject, readonly CrdProblem[]>();

/** crdProblems returns what the API server would have refused `obj` for (empty when valid). */
export function crdProblems(obj: K8sObject): readonly CrdProblem[] {
  let problems = checked.get(obj);
  if (!problems) {
    problems = validateCrdObject(obj as unknown as Parameters<typeof validateCrdObject>[0]) ?? [];
    checked.set(obj, problems);
  }
  return problems;
}

/** crdRejectionMessage words the problems as `kubectl apply` shows the API server's refusal. */
export function crdRejectionMessage(obj: K8sObject, problems: readonly CrdProblem[]): string {
  const details = problems.map((p) => p.detail);
  return `The ${obj.kind} "${obj.metadata.name}" is invalid: ${details.length === 1 ? details[0] : `[${details.join(', ')}]`}`;
}

/**
 * crdCheckedStore is `store` without the checked kinds' invalid objects; each invalid object of this
 * controller (by class where the kind has one) gets a failure.
 */
export function crdCheckedStore(store: Store, classCtx: IngressClassContext, failures: FailureCollector): Store {
  const valid = new Map<string, readonly K8sObject[]>();
  for (const [kind, { classed }] of CHECKED) {
    const kept: K8sObject[] = [];
    for (const obj of store.list(kind)) {
      const problems = crdProblems(obj);
      if (problems.length === 0) { kept.push(obj); continue; }
      if (!classed || objectMatchesClass(obj, classCtx)) failures.push(crdRejectionMessage(obj, problems), obj);
    }
    valid.set(kind, kept);
  }
  return {
    get revision() { return store.revision; },
    list: (kind) => valid.get(kind) ?? store.list(kind),
    get: (kind, namespace, name) => {
      const obj = store.get(kind, namespace, name);
      return obj && CHECKED.has(kind) && crdProblems(obj).length > 0 ? undefined : obj;
    },
  };
}
