import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { diffConfigs } from './config-diff.ts';
import { deckLayout } from './config-remote.ts';
import { validateConfig } from '../config/validate.ts';
import { exportConfigYaml } from '../config/export.ts';
import type { Config } from '../config/entities.ts';
import { BUNDLED_PLUGINS } from '../plugins/bundled.ts';

const registry = new Map(BUNDLED_PLUGINS.map((p) => [p.name, p]));

function config(input: object): Config {
  const r = validateConfig({ _format_version: '3.0', ...input }, registry);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error.fields));
  return r.config;
}

test('diff: nested config fields, references by name, plugin scopes', () => {
  const before = config({
    services: [{ name: 'a', host: 'h' }, { name: 'b', host: 'h' }],
    routes: [{ name: 'r', service: 'a', paths: ['/'] }],
    consumers: [{ username: 'alice' }],
    plugins: [{ name: 'rate-limiting', route: 'r', consumer: 'alice', config: { minute: 5 } }],
  });
  const after = config({
    services: [{ name: 'a', host: 'h' }, { name: 'b', host: 'h' }],
    routes: [{ name: 'r', service: 'b', paths: ['/', '/x'] }],
    consumers: [{ username: 'alice' }],
    plugins: [{ name: 'rate-limiting', route: 'r', consumer: 'alice', config: { minute: 10 } }],
  });
  assert.deepEqual(diffConfigs(before, after).lines, [
    '~ route r (service b): paths ["/"] → ["/","/x"], service a → b',
    '~ plugin rate-limiting (route r, consumer alice): config.minute 5 → 10',
  ]);
  assert.deepEqual(diffConfigs(after, after), { lines: [], equal: true });
});

test('dump layout: children nested, single-scope plugins nested, multi-scope plugins by name', () => {
  const c = config({
    services: [{ name: 's', host: 'h', routes: [{ name: 'r', paths: ['/'], plugins: [{ name: 'cors' }] }] }],
    upstreams: [{ name: 'u', targets: [{ target: '10.0.0.1:80' }] }],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'k' }] }],
    plugins: [{ name: 'rate-limiting', service: 's', consumer: 'alice', config: { minute: 1 } }],
  });
  const layout = deckLayout(parseYaml(exportConfigYaml(c)) as Record<string, unknown>) as Record<string, any>;
  assert.equal(layout.services[0].routes[0].plugins[0].name, 'cors');
  assert.equal(layout.services[0].routes[0].service, undefined);
  assert.equal(layout.services[0].id, undefined);
  assert.deepEqual(layout.upstreams[0].targets.map((t: { target: string }) => t.target), ['10.0.0.1:80']);
  assert.deepEqual(layout.consumers[0].keyauth_credentials.map((k: { key: string }) => k.key), ['k']);
  assert.deepEqual([layout.plugins[0].service, layout.plugins[0].consumer], ['s', 'alice']);
  assert.equal(layout.routes, undefined);
  // The dump is a valid config that declares the same entities.
  const again = validateConfig(layout, registry);
  assert.ok(again.ok);
  assert.deepEqual(diffConfigs(c, again.config).lines, []);
});
