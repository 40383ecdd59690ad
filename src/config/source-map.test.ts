import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLocatedErrors, locateErrors, locateFlattenedErrors, renderPath } from './source-map.ts';
import { validateConfig } from './validate.ts';
import { parseConfigText } from './load.ts';
import { BUNDLED_PLUGINS } from '../plugins/bundled.ts';

const registry = new Map(BUNDLED_PLUGINS.map((p) => [p.name, p]));

function invalid(text: string) {
  const r = validateConfig(parseConfigText(text), registry);
  assert.ok(!r.ok);
  return r.error;
}

test('paths render as a reader writes them', () => {
  assert.equal(renderPath(['services', 0, 'routes', 1, 'paths', 0]), 'services[0].routes[1].paths[0]');
  assert.equal(renderPath(['plugins', 2, 'config', 'my-field']), 'plugins[2].config["my-field"]');
  assert.equal(renderPath([]), '');
});

test('tree errors: fields, entity messages, missing fields at their entity, nested plugin config', () => {
  const text = `_format_version: "3.0"
services:
- name: s
  plugins:
  - name: rate-limiting
    config:
      minute: -1
routes:
- name: r
  protocols: [http]
`;
  assert.deepEqual(locateErrors(text, invalid(text)).map((e) => `${e.line}:${e.col} ${e.path}`).sort(), [
    '9:3 routes[0]', '3:3 services[0].host', '7:15 services[0].plugins[0].config.minute',
  ].sort());
});

test('a position list Lua turned into 1-based keys still finds its item', () => {
  const text = '_format_version: "3.0"\nconsumers:\n- username: a\n- username: b\n';
  const located = locateErrors(text, { fields: { consumers: { 2: { custom_id: 'expected a string' } } } });
  assert.deepEqual(located, [{ line: 4, col: 3, path: 'consumers[1].custom_id', message: 'expected a string' }]);
});

test('flattened errors are found by the entity content, fields by their 1-based dotted path', () => {
  const text = `_format_version: "3.0"
services:
- name: s
  host: h
  routes:
  - name: r
    paths: [/ok, nope]
`;
  const error = invalid(text);
  assert.deepEqual(locateFlattenedErrors(text, error.flattened_errors).map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`),
    ['7:18 services[0].routes[0].paths[1]: should start with: / (fixed path) or ~/ (regex path)']);
});

test('parse failures carry the YAML position; otherwise line 1', () => {
  assert.equal(formatLocatedErrors('k.yml', 'a: [\n', { fields: { error: 'failed parsing declarative configuration: x' } }).split(':').slice(0, 3).join(':'), 'k.yml:2:1');
  assert.equal(formatLocatedErrors('k.yml', '- a\n', { fields: { error: 'failed parsing declarative configuration: expected an object' } }),
    'k.yml:1:1: failed parsing declarative configuration: expected an object');
});
