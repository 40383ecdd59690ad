import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { BUNDLED_PLUGINS } from './bundled.ts';
import { renderPluginReference } from './reference.ts';
import { definePlugin } from './api.ts';

test('docs/plugins.md is what the bundled schemas render (run `node --import tsx scripts/gen-plugin-docs.ts`)', () => {
  const onDisk = readFileSync(new URL('../../docs/plugins.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderPluginReference(BUNDLED_PLUGINS));
});

test('the reference shows nested records, defaults, required fields and enums', () => {
  const p = definePlugin({
    name: 'demo', version: '1.0.0', priority: 7, noConsumer: true,
    schema: Type.Object({
      mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a' }),
      limit: Type.Integer({ minimum: 1 }),
      redis: Type.Object({ port: Type.Integer({ default: 6379, minimum: 0, maximum: 65535 }) }, { default: {} }),
    }, { required: ['limit'] }),
    create: () => ({}),
  });
  const md = renderPluginReference([p]);
  assert.match(md, /## demo\n\nPriority 7, version 1\.0\.0; not on consumers\./);
  assert.match(md, /\| `mode` \| string \| `"a"` \| one of `a`, `b` \|/);
  assert.match(md, /\| `limit` \| integer \| \*required\* \| ≥ 1 \|/);
  assert.match(md, /\| `redis\.port` \| integer \| `6379` \| ≥ 0; ≤ 65535 \|/);
});
