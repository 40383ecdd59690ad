/**
 * @module controller/translator/ingress-class
 * Which objects belong to this controller. Ingress: the `kubernetes.io/ingress.class` annotation is
 * checked first, then `spec.ingressClassName`, and an Ingress with neither is taken only when the
 * controller's IngressClass is the cluster default. Class-annotated CRDs (KongConsumer,
 * KongClusterPlugin) must carry the class, or nothing when the class is the default.
 */

import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import { ANN } from './annotations.ts';
import { rec, str } from './fields.ts';

/** IngressClassContext is the controller's class name and whether that IngressClass is the default. */
export interface IngressClassContext {
  name: string;
  isDefault: boolean;
}

/** ingressClassContext looks up the IngressClass named `name` to learn if it is the default class. */
export function ingressClassContext(store: Store, name: string): IngressClassContext {
  const ic = store.get(GK.IngressClass, undefined, name);
  return { name, isDefault: ic?.metadata.annotations?.[ANN.defaultIngressClass] === 'true' };
}

/** ingressMatchesClass applies KIC's Ingress class selection. */
export function ingressMatchesClass(ingress: K8sObject, ctx: IngressClassContext): boolean {
  const annotation = ingress.metadata.annotations?.[ANN.ingressClass];
  if (annotation !== undefined && annotation !== '') return annotation === ctx.name;
  const className = str(rec(ingress['spec'])?.['ingressClassName']);
  if (className !== undefined) return className === ctx.name;
  return ctx.isDefault;
}

/** objectMatchesClass applies the class annotation rule to CRDs (exact, or empty if default). */
export function objectMatchesClass(obj: K8sObject, ctx: IngressClassContext): boolean {
  const annotation = obj.metadata.annotations?.[ANN.ingressClass] ?? '';
  if (annotation === '') return ctx.isDefault;
  return annotation === ctx.name;
}
