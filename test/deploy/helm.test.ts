/**
 * Static checks of deploy/helm/turnpike, which cannot be rendered here (no helm binary; when helm is
 * on PATH, kustomize.test.ts lints and templates the chart): Chart.yaml and values.yaml parse and
 * carry what the templates read, every `{{ }}` action is closed, every if/range/with/define has its
 * end, every included template is defined, and every `.Values` path a template reads exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const chart = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'helm', 'turnpike');
const templatesDir = join(chart, 'templates');
const templates = new Map(readdirSync(templatesDir).map((f) => [f, readFileSync(join(templatesDir, f), 'utf8')]));
const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;

test('Chart.yaml and values.yaml', () => {
  const meta = parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  assert.equal(meta.apiVersion, 'v2');
  assert.equal(meta.name, 'turnpike');
  assert.match(String(meta.version), /^\d+\.\d+\.\d+/);
  assert.ok(['allInOne', 'controllerAndGateways'].includes(values.topology as string));
  assert.deepEqual(values.image, { repository: 'turnpike', tag: 'latest', pullPolicy: 'IfNotPresent' });
  const podAnnotations = values.podAnnotations as Record<string, string>;
  assert.equal(podAnnotations['prometheus.io/scrape'], 'true');
  assert.equal(podAnnotations['prometheus.io/port'], String((values.status as { containerPort: number }).containerPort));
  const ic = values.ingressController as Record<string, unknown>;
  assert.equal((ic.podAnnotations as Record<string, string>)['prometheus.io/port'], String(ic.metricsPort));
  assert.equal((values.readinessProbe as { httpGet: { path: string } }).httpGet.path, '/status/ready');
  assert.equal((ic.readinessProbe as { httpGet: { path: string } }).httpGet.path, '/readyz');
  assert.equal((ic.livenessProbe as { httpGet: { path: string } }).httpGet.path, '/healthz');
});

function actions(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    const open = text.indexOf('{{', i);
    if (open < 0) break;
    const close = text.indexOf('}}', open + 2);
    assert.ok(close > 0, `unclosed {{ at offset ${open}`);
    const inner = text.slice(open + 2, close);
    assert.ok(!inner.includes('{{'), `nested {{ at offset ${open}`);
    out.push(inner.replace(/^-\s*/, '').replace(/\s*-$/, '').trim());
    i = close + 2;
  }
  assert.equal(text.slice(i).includes('}}'), false, 'a }} without {{');
  return out;
}

test('every action is closed and every block has its end', () => {
  for (const [name, text] of templates) {
    const stack: string[] = [];
    for (const a of actions(text)) {
      if (a.startsWith('/*')) { assert.ok(a.endsWith('*/'), `${name}: comment not closed in its action`); continue; }
      const word = /^(\w+)/.exec(a)?.[1];
      if (word === 'if' || word === 'range' || word === 'with' || word === 'define') stack.push(`${word} ${a}`);
      else if (word === 'else') assert.ok(stack.length > 0 && !stack.at(-1)!.startsWith('define'), `${name}: else outside a block`);
      else if (word === 'end') assert.ok(stack.pop(), `${name}: end without a block`);
    }
    assert.deepEqual(stack, [], `${name}: blocks left open`);
  }
});

test('every included template is defined', () => {
  const defined = new Set<string>();
  for (const text of templates.values()) for (const m of text.matchAll(/define\s+"([^"]+)"/g)) defined.add(m[1]!);
  for (const [name, text] of templates) {
    for (const m of text.matchAll(/include\s+"([^"]+)"/g)) assert.ok(defined.has(m[1]!), `${name}: include of undefined ${m[1]}`);
  }
});

function hasPath(path: string[]): boolean {
  let node: unknown = values;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

test('every .Values path a template reads exists in values.yaml', () => {
  const aliases: Record<string, string[]> = { '$v': [], '$ic': ['ingressController'] };
  const reads: string[][] = [];
  for (const [name, text] of templates) {
    for (const a of actions(text)) {
      for (const m of a.matchAll(/(?:\.root)?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)/g)) reads.push([name, ...m[1]!.split('.').slice(1)]);
      for (const m of a.matchAll(/(\$v|\$ic)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) reads.push([name, ...aliases[m[1]!]!, ...m[2]!.split('.').slice(1)]);
    }
  }
  assert.ok(reads.length > 30, 'found the template reads');
  for (const [name, ...path] of reads) assert.ok(hasPath(path), `${name} reads .Values.${path.join('.')}, which values.yaml lacks`);
});

test('the chart mirrors the kustomize RBAC rules', () => {
  const rbac = readFileSync(join(chart, '..', '..', 'base', 'rbac.yaml'), 'utf8');
  const rulesOf = (text: string) => [...text.matchAll(/- apiGroups: \[([^\]]*)\]\s+resources: \[([^\]]*)\]\s+verbs: \[([^\]]*)\]/g)].map((m) => m.slice(1).join(' | ')).sort();
  const kustomizeRules = rulesOf(rbac);
  assert.ok(kustomizeRules.length >= 5);
  assert.deepEqual(rulesOf(templates.get('rbac.yaml')!), kustomizeRules);
});
