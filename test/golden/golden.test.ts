/**
 * @module test/golden
 * Golden tests for the translator: every `test/golden/<case>/in.yaml` (Kubernetes manifests, read
 * like `turnpike translate` reads them) must translate to `out.yaml` (the expected declarative
 * config) and `failures.txt` (one `Kind ns/name: message` line per failure). An optional
 * `options.yaml` holds TranslateOptions (`backends` as a map). HTTPRoute parent status, when there is
 * any, is compared with `status.yaml`. `UPDATE_GOLDEN=1` rewrites the
 * expectations; every rewritten file must be reviewed against KIC's behaviour before committing.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { parseManifestText } from '../../src/controller/manifests.ts';
import { ObjectStore, filterSecrets } from '../../src/controller/store/index.ts';
import { formatFailure, translate, type TranslateOptions } from '../../src/controller/translator/index.ts';

const root = dirname(fileURLToPath(import.meta.url));
const update = process.env['UPDATE_GOLDEN'] === '1';

function readOptions(dir: string): TranslateOptions {
  const file = join(dir, 'options.yaml');
  if (!existsSync(file)) return {};
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const options = { ...raw } as TranslateOptions & { backends?: unknown };
  if (raw['backends'] && typeof raw['backends'] === 'object') {
    options.backends = new Map(Object.entries(raw['backends'] as Record<string, string>));
  }
  return options as TranslateOptions;
}

/** renderConfig is the byte form golden files use. */
export function renderConfig(config: unknown): string {
  return stringify(config, { lineWidth: 0 });
}

const cases = readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, e.name, 'in.yaml')))
  .map((e) => e.name)
  .sort();

test('golden cases exist', () => {
  assert.ok(cases.length > 0);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const dir = join(root, name);
    const { objects, problems } = parseManifestText(readFileSync(join(dir, 'in.yaml'), 'utf8'), 'in.yaml');
    assert.deepEqual(problems, []);
    const store = new ObjectStore(filterSecrets(objects));
    const result = translate(store, readOptions(dir));
    const out = renderConfig(result.config);
    const failures = result.failures.map((f) => `${formatFailure(f)}\n`).join('');
    const status = result.routeStatus.length > 0 ? renderConfig(result.routeStatus) : undefined;
    const statusFile = join(dir, 'status.yaml');
    // Byte stability: a second run over the same store gives identical bytes.
    assert.equal(renderConfig(translate(store, readOptions(dir)).config), out);
    if (update) {
      writeFileSync(join(dir, 'out.yaml'), out);
      writeFileSync(join(dir, 'failures.txt'), failures);
      if (status !== undefined) writeFileSync(statusFile, status);
      return;
    }
    assert.equal(out, readFileSync(join(dir, 'out.yaml'), 'utf8'), `${name}/out.yaml differs`);
    assert.equal(failures, readFileSync(join(dir, 'failures.txt'), 'utf8'), `${name}/failures.txt differs`);
    assert.equal(status, existsSync(statusFile) ? readFileSync(statusFile, 'utf8') : undefined, `${name}/status.yaml differs`);
  });
}
