/**
 * @module controller/crds/registry
 * The configuration.konghq.com kinds Turnpike's controller reads, and lookup by apiVersion/kind.
 */
import { GROUP, type CrdDefinition } from './common.ts';
import { KongClusterPluginCrd, KongPluginCrd } from './kong-plugin.ts';
import { KongConsumerCrd } from './kong-consumer.ts';
import { KongUpstreamPolicyCrd } from './kong-upstream-policy.ts';

export const CRD_DEFINITIONS: readonly CrdDefinition[] = [KongClusterPluginCrd, KongConsumerCrd, KongPluginCrd, KongUpstreamPolicyCrd];

/** The definition for an object's apiVersion and kind, or undefined when it is not one of ours. */
export function crdFor(apiVersion: string, kind: string): CrdDefinition | undefined {
  return CRD_DEFINITIONS.find((d) => `${GROUP}/${d.version}` === apiVersion && d.kind === kind);
}
