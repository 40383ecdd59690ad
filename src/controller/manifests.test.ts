import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifests, parseManifestText } from './manifests.ts';

test('multi-document YAML, List flattening, default namespace, stringData', () => {
  const text = [
    'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n',
    'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\ndata: {a: YQ==, b: Yg==}\nstringData: {b: hello}\n',
    'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: kong, namespace: nope}\n',
    '',
  ].join('---\n');
  const { objects, problems } = parseManifestText(text, 'f.yaml');
  assert.deepEqual(problems, []);
  assert.equal(objects.length, 3);
  assert.equal(objects[0]!.metadata.namespace, 'default');
  assert.deepEqual(objects[1]!['data'], { a: 'YQ==', b: Buffer.from('hello').toString('base64') });
  assert.equal(objects[1]!['stringData'], undefined);
  assert.equal(objects[2]!.metadata.namespace, undefined);
});

test('HTTPRoute gets the Gateway API CRD defaults', () => {
  const { objects } = parseManifestText(
    'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n  - backendRefs: [{name: s, port: 80}]\n',
    'r.yaml',
  );
  const rule = (objects[0]!['spec'] as { rules: Record<string, unknown>[] }).rules[0]!;
  assert.deepEqual(rule['matches'], [{ path: { type: 'PathPrefix', value: '/' } }]);
  assert.deepEqual(rule['backendRefs'], [{ group: '', kind: 'Service', weight: 1, name: 's', port: 80 }]);
});

test('problems are reported, not thrown', () => {
  const { objects, problems } = parseManifestText('kind: Thing\n---\n: : :\n  - [\n', 'bad.yaml');
  assert.equal(objects.length, 0);
  assert.equal(problems.length, 2);
  assert.ok(problems.some((p) => /bad\.yaml: document 1: not a Kubernetes object/.test(p)));
  assert.ok(problems.some((p) => /bad\.yaml: document 2: /.test(p)));
});

test('loadManifests walks folders recursively and reads JSON', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'manifests-'));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n');
  await writeFile(join(dir, 'sub', 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'b', namespace: 'n' } }));
  await writeFile(join(dir, 'sub', 'ignored.txt'), 'nope');
  const { objects, problems } = await loadManifests([dir, join(dir, 'missing.yaml')]);
  assert.deepEqual(objects.map((o) => o.metadata.name), ['a', 'b']);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /missing\.yaml: no such file or directory/);
});

test('non-string label and annotation values become strings', () => {
  const { objects } = parseManifestText('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {global: true}\n  annotations: {konghq.com/retries: 3}\n', 'x.yaml');
  assert.deepEqual(objects[0]!.metadata.labels, { global: 'true' });
  assert.deepEqual(objects[0]!.metadata.annotations, { 'konghq.com/retries': '3' });
});
