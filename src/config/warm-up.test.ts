import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPluginRegistry } from '../plugins/registry.ts';
import { validateConfig } from './validate.ts';
import { warmUpConfig, warmUpValidator } from './warm-up.ts';

test('the warm-up config is valid, so it trains the paths a real config takes', async () => {
  const registry = await loadPluginRegistry([]);
  const r = validateConfig(warmUpConfig(0, registry), registry);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.config.services.length, 150);
  assert.equal(r.config.routes.length, 150);
  assert.equal(r.config.keyauth_credentials.length, 150);
  assert.deepEqual([...new Set(r.config.plugins.map((p) => p.name))].sort(), ['key-auth', 'rate-limiting']);
  // Without those plugins enabled it is still valid.
  assert.ok(validateConfig(warmUpConfig(1, new Map()), new Map()).ok);
});

test('the warm-up runs its rounds and stops when told', async () => {
  const registry = await loadPluginRegistry([]);
  assert.equal(await warmUpValidator(registry, () => true, 3), 3);
  let asked = 0;
  const rounds = await warmUpValidator(registry, () => ++asked <= 2, 6);
  assert.equal(rounds, 2);
  assert.equal(asked, 3);
});
