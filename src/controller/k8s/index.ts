/**
 * @module controller/k8s
 * The controller's connection to the Kubernetes API: informers that feed the store
 * (`watchResources`), Events and status writes, and Lease-based leader election.
 */
export {
  type KindSpec, type KubeObject, type RequestOptions, KubeApiError,
  KNOWN_KINDS, loadKubeConfig, kubeRequest, resolveKind, collectionPath, objectPath, apiPrefix, groupVersion,
} from './client.ts';
export { type ResourceEventType, type ResourceWatch, type WatchResourcesOptions, type WatchLog, watchResources } from './informer.ts';
export { type EventType, type EventOptions, type ObjectReference, createEvent, patchStatus } from './writes.ts';
export { type LeaderElectorOptions, LeaderElector } from './leader.ts';
