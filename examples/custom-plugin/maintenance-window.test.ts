/**
 * The example custom plugin loaded into a real gateway with --plugin, configured in a
 * declarative config like a bundled one.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../../test/harness/gateway-process.ts';
import { startRecordingUpstream } from '../../test/harness/upstreams.ts';

const PLUGIN = fileURLToPath(new URL('./maintenance-window.ts', import.meta.url));

test('a custom TypeScript plugin runs like a bundled one', async () => {
  const up = await startRecordingUpstream();
  const gw = await startGateway({
    args: ['--plugin', PLUGIN],
    config: {
      _format_version: '3.0',
      services: [{ name: 's', url: up.url, routes: [{ paths: ['/'] }], plugins: [{ name: 'maintenance-window', config: { message: 'Back soon' } }] }],
    },
  });
  after(async () => { await gw.stop(); await up.close(); });
  const closed = await fetch(`${gw.proxy}/x`, { headers: { 'x-maintenance': 'on' } });
  assert.equal(closed.status, 503);
  assert.equal(closed.headers.get('x-maintenance-window'), 'active');
  assert.equal(await closed.text(), '{\n  "message":"Back soon"\n}');
  const open = await fetch(`${gw.proxy}/x`);
  assert.equal(open.status, 200);
  assert.equal(open.headers.get('x-maintenance-window'), 'off');
  const seen = await open.json() as { headers: Record<string, string> };
  assert.equal(seen.headers['x-served-by'], 'turnpike');
  // An invalid config for it is refused like any plugin's.
  const bad = await gw.postConfig({ _format_version: '3.0', plugins: [{ name: 'maintenance-window', config: { nope: 1 } }] });
  assert.equal(bad.status, 400);
  const err = await bad.json() as { fields: { plugins: { config: Record<string, string> }[] } };
  assert.equal(err.fields.plugins[0]!.config['nope'], 'unknown field');
});
