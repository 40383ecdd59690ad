/**
 * Plugin chains as compiled for routes: a route that no plugin is scoped to shares the global
 * chain, a scoped one gets its own with the scoped instance, and a route asked for with another
 * service than its own gets that service's instance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../config/validate.ts';
import type { Config } from '../../config/entities.ts';
import { loadPluginRegistry } from '../../plugins/registry.ts';
import { createLogger, pluginLogger } from '../../observability/logger.ts';
import { compilePluginChains, resolveSlot, type PluginChain } from './plugin-chain.ts';

const registry = await loadPluginRegistry([]);
const log = pluginLogger(createLogger('error', {}));

function configOf(input: object): Config {
  const r = validateConfig(input, registry);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.config;
}

const config = configOf({
  _format_version: '3.0',
  services: [
    { name: 'plain', url: 'http://plain.internal', routes: [{ name: 'p1', paths: ['/p1'] }, { name: 'p2', paths: ['/p2'] }] },
    { name: 'limited', url: 'http://limited.internal', routes: [{ name: 'l1', paths: ['/l1'] }] },
    { name: 'other', url: 'http://other.internal', routes: [{ name: 'o1', paths: ['/o1'] }] },
  ],
  consumers: [{ username: 'alice' }],
  plugins: [
    { name: 'cors', config: { origins: ['*'] } },
    { name: 'rate-limiting', instance_name: 'global-rl', config: { minute: 100, policy: 'local' } },
    { name: 'rate-limiting', instance_name: 'limited-rl', service: 'limited', config: { minute: 5, policy: 'local' } },
    { name: 'rate-limiting', instance_name: 'o1-alice-rl', route: 'o1', consumer: 'alice', config: { minute: 1, policy: 'local' } },
  ],
});
const id = (collection: 'routes' | 'services' | 'consumers', name: string): string =>
  (config[collection] as { id: string; name?: string; username?: string }[]).find((e) => (e.name ?? e.username) === name)!.id;
const instanceFor = (chain: PluginChain, plugin: string, consumerId: string | null = null): string | null | undefined => {
  const slot = chain.slots.find((s) => s.name === plugin);
  return slot ? resolveSlot(slot, consumerId)?.entity.instance_name : undefined;
};

test('routes that no plugin is scoped to share the global chain', () => {
  const chains = compilePluginChains(config, registry, log);
  const p1 = chains.forRoute(id('routes', 'p1'), id('services', 'plain'));
  const p2 = chains.forRoute(id('routes', 'p2'), id('services', 'plain'));
  assert.equal(p1, chains.global);
  assert.equal(p2, chains.global);
  assert.deepEqual(p1.slots.map((s) => s.name), ['cors', 'rate-limiting']);
  assert.equal(instanceFor(p1, 'rate-limiting'), 'global-rl');
  // Asked again: the same chain, not a new one.
  assert.equal(chains.forRoute(id('routes', 'p1'), id('services', 'plain')), p1);
});

test('a scoped instance gives its route a chain of its own', () => {
  const chains = compilePluginChains(config, registry, log);
  const l1 = chains.forRoute(id('routes', 'l1'), id('services', 'limited'));
  assert.notEqual(l1, chains.global);
  assert.equal(instanceFor(l1, 'rate-limiting'), 'limited-rl');
  const cors = (chain: PluginChain) => resolveSlot(chain.slots.find((s) => s.name === 'cors')!, null);
  assert.ok(cors(l1));
  assert.equal(cors(l1), cors(chains.global));
  // Consumer-scoped on a route: the route's chain differs, the baseline stays global.
  const o1 = chains.forRoute(id('routes', 'o1'), id('services', 'other'));
  assert.notEqual(o1, chains.global);
  assert.equal(instanceFor(o1, 'rate-limiting'), 'global-rl');
  assert.equal(instanceFor(o1, 'rate-limiting', id('consumers', 'alice')), 'o1-alice-rl');
  assert.equal(instanceFor(chains.global, 'rate-limiting', id('consumers', 'alice')), 'global-rl');
});

test('a route asked for with another service gets that service\'s instances, and its own again after', () => {
  const chains = compilePluginChains(config, registry, log);
  const route = id('routes', 'p1');
  const own = chains.forRoute(route, id('services', 'plain'));
  const elsewhere = chains.forRoute(route, id('services', 'limited'));
  assert.equal(instanceFor(elsewhere, 'rate-limiting'), 'limited-rl');
  assert.equal(chains.forRoute(route, id('services', 'limited')), elsewhere);
  assert.equal(chains.forRoute(route, id('services', 'plain')), own);
  assert.equal(instanceFor(chains.forRoute(route, null), 'rate-limiting'), 'global-rl');
});
