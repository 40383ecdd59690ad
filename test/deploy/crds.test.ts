/**
 * deploy/crds/ is generated from src/controller/crds/ by scripts/gen-crds.ts: this regenerates it in
 * memory and fails on any drift (also for the Helm chart's copy), then checks each CRD the way the
 * API server would before accepting it — a structural schema, defaults that validate, list-map keys
 * that are required, CEL rules that only name fields the schema has — and checks names, scope,
 * short names, printer columns and the status subresource against KIC's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { CRD_DEFINITIONS, GROUP, createCrdAjv, renderCrdFiles } from '../../src/controller/crds/index.ts';
import { WATCHED_KINDS } from '../../src/controller/controller.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const crdDir = join(root, 'deploy', 'crds');
const helmCrdDir = join(root, 'deploy', 'helm', 'turnpike', 'crds');
const REGENERATE = 'run `node --import tsx scripts/gen-crds.ts`';

type Node = Record<string, unknown>;
interface Crd {
  apiVersion: string; kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string; scope: string;
    names: { kind: string; plural: string; singular: string; listKind: string; shortNames?: string[]; categories?: string[] };
    versions: { name: string; served: boolean; storage: boolean; subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: Node } }[];
  };
}

function loadCrds(): Map<string, Crd> {
  const out = new Map<string, Crd>();
  for (const name of readdirSync(crdDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    const docs = parseAllDocuments(readFileSync(join(crdDir, name), 'utf8'));
    assert.equal(docs.length, 1, `${name}: one document`);
    const crd = docs[0]!.toJS() as Crd;
    out.set(crd.spec.names.kind, crd);
  }
  return out;
}

test('deploy/crds/ is exactly what the schemas generate', () => {
  const expected = renderCrdFiles();
  const actual = readdirSync(crdDir).sort();
  assert.deepEqual(actual, [...expected.keys()].sort(), `files in deploy/crds/ differ; ${REGENERATE}`);
  for (const [name, text] of expected) {
    assert.equal(readFileSync(join(crdDir, name), 'utf8'), text, `deploy/crds/${name} is stale; ${REGENERATE}`);
  }
});

test('the Helm chart ships the same CRDs', () => {
  const expected = [...renderCrdFiles()].filter(([name]) => name !== 'kustomization.yaml');
  assert.deepEqual(readdirSync(helmCrdDir).sort(), expected.map(([n]) => n).sort(), `helm crds/ differ; ${REGENERATE}`);
  for (const [name, text] of expected) assert.equal(readFileSync(join(helmCrdDir, name), 'utf8'), text, `helm crds/${name} is stale; ${REGENERATE}`);
});

const EXPECTED: Record<string, { scope: string; version: string; short: string; plural: string; columns: string[] }> = {
  KongPlugin: { scope: 'Namespaced', version: 'v1', short: 'kp', plural: 'kongplugins', columns: ['Plugin-Type', 'Age', 'Disabled', 'Config', 'Programmed'] },
  KongClusterPlugin: { scope: 'Cluster', version: 'v1', short: 'kcp', plural: 'kongclusterplugins', columns: ['Plugin-Type', 'Age', 'Disabled', 'Config', 'Programmed'] },
  KongConsumer: { scope: 'Namespaced', version: 'v1', short: 'kc', plural: 'kongconsumers', columns: ['Username', 'Age', 'Programmed'] },
  KongUpstreamPolicy: { scope: 'Namespaced', version: 'v1beta1', short: 'kup', plural: 'kongupstreampolicies', columns: [] },
};

test('names, scope, versions, printer columns and status subresource match KIC', () => {
  const crds = loadCrds();
  assert.deepEqual([...crds.keys()].sort(), Object.keys(EXPECTED).sort());
  for (const [kind, want] of Object.entries(EXPECTED)) {
    const crd = crds.get(kind)!;
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.kind, 'CustomResourceDefinition');
    assert.equal(crd.metadata.name, `${want.plural}.${GROUP}`);
    assert.equal(crd.spec.group, GROUP);
    assert.equal(crd.spec.scope, want.scope, kind);
    assert.deepEqual(crd.spec.names.shortNames, [want.short]);
    assert.equal(crd.spec.names.plural, want.plural);
    assert.equal(crd.spec.names.singular, kind.toLowerCase());
    assert.equal(crd.spec.names.listKind, `${kind}List`);
    assert.ok(crd.spec.names.categories?.includes('kong-ingress-controller'));
    assert.equal(crd.spec.versions.length, 1);
    const v = crd.spec.versions[0]!;
    assert.equal(v.name, want.version);
    assert.equal(v.served, true);
    assert.equal(v.storage, true);
    assert.deepEqual(v.subresources, { status: {} });
    assert.deepEqual((v.additionalPrinterColumns ?? []).map((c) => c.name), want.columns);
    for (const c of v.additionalPrinterColumns ?? []) assert.match(c.jsonPath, /^\./);
    if (want.columns.includes('Programmed')) {
      assert.equal(v.additionalPrinterColumns!.find((c) => c.name === 'Programmed')!.jsonPath, '.status.conditions[?(@.type=="Programmed")].status');
    }
  }
  assert.equal(crds.get('KongUpstreamPolicy')!.metadata.labels?.['gateway.networking.k8s.io/policy'], 'direct');
});

test('the kinds the controller watches are the kinds we ship CRDs for', () => {
  const crds = loadCrds();
  const watched = WATCHED_KINDS.filter((k) => k.group === GROUP);
  assert.deepEqual(watched.map((k) => k.kind).sort(), [...crds.keys()].sort());
  for (const k of watched) {
    const crd = crds.get(k.kind)!;
    assert.equal(crd.spec.names.plural, k.plural);
    assert.equal(crd.spec.versions[0]!.name, k.version);
    assert.equal(crd.spec.scope === 'Namespaced', k.namespaced);
  }
});

test('a new plugin or consumer is Programmed=Unknown (Pending) by default', () => {
  const crds = loadCrds();
  const pending = [{ lastTransitionTime: '1970-01-01T00:00:00Z', message: 'Waiting for controller', reason: 'Pending', status: 'Unknown', type: 'Programmed' }];
  for (const kind of ['KongPlugin', 'KongClusterPlugin']) {
    const status = (crds.get(kind)!.spec.versions[0]!.schema.openAPIV3Schema.properties as Record<string, Node>).status!;
    assert.deepEqual((status.properties as Record<string, Node>).conditions!.default, pending, kind);
  }
  const status = (crds.get('KongConsumer')!.spec.versions[0]!.schema.openAPIV3Schema.properties as Record<string, Node>).status!;
  assert.deepEqual(status.default, { conditions: pending });
  // The timestamp must stay a string for sigs.k8s.io/yaml (YAML 1.1): it is quoted in the file.
  assert.match(readFileSync(join(crdDir, `${GROUP}_kongplugins.yaml`), 'utf8'), /lastTransitionTime: "1970-01-01T00:00:00Z"/);
});

/**
 * The API server's structural-schema rules, as far as they apply here: every node has a type
 * (or preserves unknown fields), no properties beside additionalProperties, none of the keywords
 * structural schemas forbid, `metadata` with no constraints, list-map keys required in the items,
 * defaults that pass their own schema, and CEL rules that only reach fields the node has.
 */
function structuralProblems(schema: Node): string[] {
  const problems: string[] = [];
  const ajv = createCrdAjv();
  const FORBIDDEN = ['$ref', '$schema', '$id', 'patternProperties', 'dependencies', 'definitions', 'additionalItems', 'const', 'oneOf', 'anyOf', 'allOf', 'not', 'nullable'];
  const walk = (node: Node, path: string, isRoot: boolean) => {
    for (const k of Object.keys(node)) {
      if (FORBIDDEN.includes(k)) problems.push(`${path}: ${k} is not allowed`);
      else if (!/^(x-kubernetes-[a-z-]+|type|format|title|description|default|maximum|minimum|exclusiveMaximum|exclusiveMinimum|maxLength|minLength|pattern|maxItems|minItems|uniqueItems|multipleOf|enum|maxProperties|minProperties|required|items|properties|additionalProperties)$/.test(k)) {
        problems.push(`${path}: unknown keyword ${k}`);
      }
    }
    if (typeof node.type !== 'string' && node['x-kubernetes-preserve-unknown-fields'] !== true && node['x-kubernetes-int-or-string'] !== true) {
      problems.push(`${path}: no type`);
    }
    if (node.properties && node.additionalProperties !== undefined) problems.push(`${path}: properties and additionalProperties`);
    if (node.type === 'array' && !node.items) problems.push(`${path}: array without items`);
    if (node['x-kubernetes-list-type'] === 'map') {
      const items = node.items as Node;
      for (const key of (node['x-kubernetes-list-map-keys'] as string[] | undefined) ?? []) {
        const required = (items.required as string[] | undefined) ?? [];
        const prop = (items.properties as Record<string, Node>)[key];
        if (!required.includes(key) && prop?.default === undefined) problems.push(`${path}: list-map key ${key} must be required or defaulted`);
      }
    }
    if (node.default !== undefined) {
      const { default: value, ...rest } = node;
      const validate = ajv.compile(rest);
      if (!validate(value)) problems.push(`${path}: default does not validate: ${ajv.errorsText(validate.errors)}`);
    }
    for (const r of (node['x-kubernetes-validations'] as { rule: string; message: string }[] | undefined) ?? []) {
      if (!r.message) problems.push(`${path}: CEL rule without a message`);
      for (const m of r.rule.matchAll(/\b(self|oldSelf)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        let at: Node | undefined = node;
        for (const field of m[2]!.slice(1).split('.').map((f) => f.replace(/^__(\w+)__$/, '$1'))) {
          if (['filter', 'size', 'exists', 'all', 'map'].includes(field) && at?.type === 'array') break;
          at = (at?.properties as Record<string, Node> | undefined)?.[field];
          if (!at) { problems.push(`${path}: CEL rule names ${m[0]}, which the schema does not have`); break; }
        }
      }
    }
    if (isRoot) {
      const meta = (node.properties as Record<string, Node> | undefined)?.metadata;
      if (meta && Object.keys(meta).some((k) => !['type', 'description'].includes(k))) problems.push(`${path}.metadata: only type is allowed`);
    }
    for (const [name, child] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) walk(child, `${path}.${name}`, false);
    if (node.items) walk(node.items as Node, `${path}[]`, false);
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Node, `${path}{}`, false);
  };
  walk(schema, '<root>', true);
  if (schema.type !== 'object') problems.push('<root>: type must be object');
  return problems;
}

test('every CRD schema is structural, with valid defaults and CEL rules over real fields', () => {
  for (const [kind, crd] of loadCrds()) {
    assert.deepEqual(structuralProblems(crd.spec.versions[0]!.schema.openAPIV3Schema), [], kind);
  }
  // The checker itself catches what it should.
  const bad = structuralProblems({
    type: 'object',
    properties: {
      a: { properties: { b: { type: 'string' } }, additionalProperties: { type: 'string' } },
      c: { type: 'string', anyOf: [{ type: 'string' }], default: 3 },
    },
    'x-kubernetes-validations': [{ rule: 'has(self.nope)', message: 'm' }],
  });
  assert.deepEqual(bad.map((p) => p.replace(/:.*/, '')).sort(), ['<root>', '<root>.a', '<root>.a', '<root>.c', '<root>.c']);
});

test('every CRD definition has schema metadata the generator needs', () => {
  for (const def of CRD_DEFINITIONS) {
    assert.ok(def.schema.description, `${def.kind} schema has a description`);
    assert.ok(def.rules.length > 0, `${def.kind} has CEL rules`);
  }
});
