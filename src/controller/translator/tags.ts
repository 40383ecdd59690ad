/**
 * @module controller/translator/tags
 * Provenance tags KIC puts on every generated entity, in KIC's order: `k8s-name:`, `k8s-namespace:`,
 * `k8s-kind:`, `k8s-uid:`, `k8s-group:` (not for the core group), `k8s-version:`, extra tags, then the
 * values of the object's `konghq.com/tags` annotation (deduplicated). Kong errors are mapped back to
 * Kubernetes objects through them.
 */

import { splitApiVersion, type K8sObject } from '../store/objects.ts';
import { csv, ANN } from './annotations.ts';

/** tagsFor returns the tags of an entity generated from `obj`. */
export function tagsFor(obj: K8sObject, extra: readonly string[] = []): string[] {
  const { group, version } = splitApiVersion(obj.apiVersion);
  const tags: string[] = [];
  if (obj.metadata.name) tags.push(`k8s-name:${obj.metadata.name}`);
  if (obj.metadata.namespace) tags.push(`k8s-namespace:${obj.metadata.namespace}`);
  if (obj.kind) tags.push(`k8s-kind:${obj.kind}`);
  if (obj.metadata.uid) tags.push(`k8s-uid:${obj.metadata.uid}`);
  if (group) tags.push(`k8s-group:${group}`);
  if (version) tags.push(`k8s-version:${version}`);
  tags.push(...extra);
  const user = csv(obj.metadata.annotations?.[ANN.tags]);
  tags.push(...new Set(user));
  return tags;
}

/** UNKNOWN_SERVICE_TAGS are KIC's tags for a Kong service whose Kubernetes Services all failed to resolve. */
export const UNKNOWN_SERVICE_TAGS: readonly string[] = [
  'k8s-name:UNKNOWN',
  'k8s-namespace:UNKNOWN',
  'k8s-kind:Service',
  'k8s-uid:00000000-0000-0000-0000-000000000000',
  'k8s-group:core',
  'k8s-version:v1',
];
