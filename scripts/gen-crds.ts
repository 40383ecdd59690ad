/**
 * Writes the CustomResourceDefinitions generated from src/controller/crds/ to deploy/crds/ (with a
 * kustomization.yaml) and the same CRD files to the Helm chart's crds/. Stale generated YAML in
 * those folders is removed. test/deploy/crds.test.ts fails when the files and the schemas differ.
 *
 *   node --import tsx scripts/gen-crds.ts
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrdFiles } from '../src/controller/crds/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = renderCrdFiles();
const targets: { dir: string; keep: (name: string) => boolean }[] = [
  { dir: join(root, 'deploy', 'crds'), keep: () => true },
  { dir: join(root, 'deploy', 'helm', 'turnpike', 'crds'), keep: (name) => name !== 'kustomization.yaml' },
];

for (const { dir, keep } of targets) {
  mkdirSync(dir, { recursive: true });
  const wanted = new Map([...files].filter(([name]) => keep(name)));
  for (const name of readdirSync(dir)) if (name.endsWith('.yaml') && !wanted.has(name)) rmSync(join(dir, name));
  for (const [name, text] of wanted) writeFileSync(join(dir, name), text);
  process.stdout.write(`${dir}: ${[...wanted.keys()].join(', ')}\n`);
}
