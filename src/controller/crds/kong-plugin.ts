/**
 * @module controller/crds/kong-plugin
 * KongPlugin (namespaced, `kp`) and KongClusterPlugin (cluster-scoped, `kcp`), configuration.konghq.com/v1.
 * Their fields sit at the top level (no `spec`). The two differ only in scope and in the Secret
 * references: a KongClusterPlugin names the Secret's namespace.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  AGE_COLUMN, Conditions, FreeObject, NamespacedSecretKeyRef, PROGRAMMED_COLUMN, SecretKeyRef, StringEnum, StringMap,
  celValidations, has, typeMetaProperties, type CelRule, type CrdDefinition, type PrinterColumn,
} from './common.ts';

export const PLUGIN_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'tcp', 'tls', 'udp'] as const;
export const PLUGIN_RUN_ON = ['first', 'second', 'all'] as const;

interface PluginShape { plugin?: unknown; config?: unknown; configFrom?: unknown; configPatches?: unknown }

/** KIC's rules for both plugin kinds, with their exact messages. */
export const PLUGIN_CEL_RULES: readonly CelRule<PluginShape>[] = [
  {
    rule: '!(has(self.config) && has(self.configFrom))',
    message: 'Using both config and configFrom fields is not allowed.',
    check: (self) => !(has(self, 'config') && has(self, 'configFrom')),
  },
  {
    rule: '!(has(self.configFrom) && has(self.configPatches))',
    message: 'Using both configFrom and configPatches fields is not allowed.',
    check: (self) => !(has(self, 'configFrom') && has(self, 'configPatches')),
  },
  {
    rule: 'self.plugin == oldSelf.plugin',
    message: 'The plugin field is immutable',
    transition: true,
    check: (self, oldSelf) => self.plugin === oldSelf?.plugin,
  },
];

function pluginSchema(kind: string, ref: TSchema, secretNote: string) {
  return Type.Object({
    ...typeMetaProperties(),
    plugin: Type.String({ description: 'Name of the Kong plugin this configures (immutable).' }),
    config: Type.Optional(FreeObject({
      description: 'The plugin configuration, as the `config` object of the Admin API. Not together with configFrom.',
    })),
    configFrom: Type.Optional(Type.Object({
      secretKeyRef: ref,
    }, { description: `The plugin configuration from a Secret key (JSON, else YAML); ${secretNote}. Not together with config or configPatches.` })),
    configPatches: Type.Optional(Type.Array(Type.Object({
      path: Type.String({ description: 'JSON Pointer (RFC 6901) into the configuration where the value is added.' }),
      valueFrom: Type.Object({ secretKeyRef: ref }, { description: 'Where the value (JSON text) comes from.' }),
    }, { description: 'A JSON Patch `add` of a Secret value into the configuration.' }), {
      description: 'Values from Secrets added to `config` (or to an empty object) with JSON Patch `add`.',
    })),
    disabled: Type.Optional(Type.Boolean({ description: 'When true the plugin is configured but not enabled.' })),
    protocols: Type.Optional(Type.Array(StringEnum(PLUGIN_PROTOCOLS, { description: 'A Kong protocol.' }), {
      description: 'The protocols of the requests the plugin runs on.',
    })),
    run_on: Type.Optional(StringEnum(PLUGIN_RUN_ON, { description: 'Service-mesh node selection (accepted, not used).' })),
    ordering: Type.Optional(Type.Object({
      before: Type.Optional(StringMap(Type.Array(Type.String()), { description: 'Per phase, plugins this one runs before.' })),
      after: Type.Optional(StringMap(Type.Array(Type.String()), { description: 'Per phase, plugins this one runs after.' })),
    }, { description: 'Dynamic plugin ordering (Kong Enterprise).' })),
    instance_name: Type.Optional(Type.String({ description: 'A name for the plugin instance; suffixed per attachment.' })),
    consumerRef: Type.Optional(Type.String({ description: 'A consumer reference (accepted, ignored as by KIC 3.x).' })),
    status: Type.Optional(Type.Object({
      conditions: Type.Optional(Conditions(`Conditions of the ${kind}; a new object is Programmed=Unknown (Pending).`, true)),
    }, { description: `Status of the ${kind}.` })),
  }, {
    description: kind === 'KongPlugin'
      ? 'KongPlugin configures a Kong plugin for the Services, Routes and consumers that reference it with the konghq.com/plugins annotation.'
      : 'KongClusterPlugin configures a Kong plugin cluster-wide: referenced from any namespace, or global with the label global: "true".',
    'x-kubernetes-validations': celValidations(PLUGIN_CEL_RULES),
  });
}

export const KongPluginSchema = pluginSchema('KongPlugin', SecretKeyRef, 'the Secret is in the same namespace');
export const KongClusterPluginSchema = pluginSchema('KongClusterPlugin', NamespacedSecretKeyRef, 'the Secret namespace is given');

export type KongPlugin = Static<typeof KongPluginSchema>;
export type KongClusterPlugin = Static<typeof KongClusterPluginSchema>;

const PLUGIN_COLUMNS: PrinterColumn[] = [
  { name: 'Plugin-Type', type: 'string', jsonPath: '.plugin', description: 'Name of the plugin' },
  AGE_COLUMN,
  { name: 'Disabled', type: 'boolean', jsonPath: '.disabled', description: 'Whether the plugin is disabled', priority: 1 },
  { name: 'Config', type: 'string', jsonPath: '.config', description: 'Configuration of the plugin', priority: 1 },
  PROGRAMMED_COLUMN,
];

export const KongPluginCrd: CrdDefinition = {
  kind: 'KongPlugin', plural: 'kongplugins', singular: 'kongplugin', listKind: 'KongPluginList',
  shortNames: ['kp'], categories: ['kong-ingress-controller', 'kong'], scope: 'Namespaced', version: 'v1',
  printerColumns: PLUGIN_COLUMNS,
  schema: KongPluginSchema,
  rules: [{ path: '', rules: PLUGIN_CEL_RULES }],
};

export const KongClusterPluginCrd: CrdDefinition = {
  kind: 'KongClusterPlugin', plural: 'kongclusterplugins', singular: 'kongclusterplugin', listKind: 'KongClusterPluginList',
  shortNames: ['kcp'], categories: ['kong-ingress-controller', 'kong'], scope: 'Cluster', version: 'v1',
  printerColumns: PLUGIN_COLUMNS,
  schema: KongClusterPluginSchema,
  rules: [{ path: '', rules: PLUGIN_CEL_RULES }],
};
