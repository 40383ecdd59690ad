/**
 * @module controller/crds
 * TypeBox schemas of the configuration.konghq.com kinds the controller reads (KongPlugin,
 * KongClusterPlugin, KongConsumer, KongUpstreamPolicy), their CEL rules as TypeScript, an
 * ajv-based validator, and the CustomResourceDefinitions generated from them into deploy/crds/.
 */
export {
  GROUP, PENDING_PROGRAMMED, has, type CelRule, type CelViolation, type CrdDefinition, type PrinterColumn,
} from './common.ts';
export {
  KongPluginSchema, KongClusterPluginSchema, KongPluginCrd, KongClusterPluginCrd, PLUGIN_CEL_RULES, PLUGIN_PROTOCOLS, PLUGIN_RUN_ON,
  type KongPlugin, type KongClusterPlugin,
} from './kong-plugin.ts';
export { KongConsumerSchema, KongConsumerCrd, CONSUMER_CEL_RULES, CONTROL_PLANE_REF_CEL_RULES, TAGS_CEL_RULES, type KongConsumer } from './kong-consumer.ts';
export {
  KongUpstreamPolicySchema, KongUpstreamPolicySpecSchema, KongUpstreamPolicyStatusSchema, KongUpstreamPolicyCrd, UPSTREAM_POLICY_CEL_RULES,
  UPSTREAM_ALGORITHMS, HASH_INPUTS, HEALTHCHECK_TYPES, type KongUpstreamPolicy, type KongUpstreamPolicySpec,
} from './kong-upstream-policy.ts';
export { CRD_DEFINITIONS, crdFor } from './registry.ts';
export { celViolations, checkKongPlugin, checkKongClusterPlugin, checkKongConsumer, checkKongUpstreamPolicy } from './cel.ts';
export { validateCrdObject, validateWith, schemaValidator, createCrdAjv, type CrdProblem } from './validate.ts';
export { toCrd, crdName, crdFileName, renderCrdFiles, plainSchema } from './crd.ts';
