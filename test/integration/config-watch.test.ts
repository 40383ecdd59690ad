/**
 * `turnpike gateway --config FILE --watch` and `--config` refusals, on a real gateway process:
 * edits (in place and by rename, as editors save) reload the config; a bad file is refused with
 * its errors located in the file while the running config keeps serving.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../harness/upstreams.ts';

const dir = mkdtempSync(join(tmpdir(), 'tp-watch-'));
const processes: GatewayProcess[] = [];
const upstreams: Upstream[] = [];
after(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await Promise.all(upstreams.map((u) => u.close()));
});

const config = (port: number, path: string) => `_format_version: "3.0"
services:
- name: up
  url: http://127.0.0.1:${port}
  routes:
  - name: r
    paths: [${path}]
`;

/** Resolves when the gateway's output contains `pattern` (its stdout and stderr together). */
async function outputMatches(gw: GatewayProcess, pattern: RegExp, from = 0): Promise<RegExpExecArray> {
  const seen = () => pattern.exec(gw.output().slice(from));
  return seen() ?? await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${pattern} in:\n${gw.output()}`)); }, 20_000);
    const check = () => { const m = seen(); if (m) { cleanup(); resolve(m); } };
    const cleanup = () => { clearTimeout(timer); gw.child.stdout!.off('data', check); gw.child.stderr!.off('data', check); };
    // The harness's own listeners run first, so output() already holds this chunk.
    gw.child.stdout!.on('data', check);
    gw.child.stderr!.on('data', check);
  });
}

test('--watch reloads on change, keeps serving through a bad file, logs the new hash', async () => {
  const up = await startRecordingUpstream();
  upstreams.push(up);
  const file = join(dir, 'kong.yml');
  writeFileSync(file, config(up.port, '/one'));
  const gw = await startGateway({ args: ['--config', file, '--watch', '--gui-listen', 'off'], waitReady: true });
  processes.push(gw);
  assert.equal((await fetch(`${gw.proxy}/one`)).status, 200);

  // Rewritten in place.
  let mark = gw.output().length;
  writeFileSync(file, config(up.port, '/two'));
  const [, hash] = await outputMatches(gw, /kong\.yml: reloaded \(configuration hash ([0-9a-f]{32})\)/, mark);
  const status = await (await fetch(`${gw.admin}/status`)).json() as { configuration_hash: string };
  assert.equal(status.configuration_hash, hash);
  assert.equal((await fetch(`${gw.proxy}/two`)).status, 200);
  assert.equal((await fetch(`${gw.proxy}/one`)).status, 404);

  // A bad file: refused with located errors; /two still answers.
  mark = gw.output().length;
  writeFileSync(file, `_format_version: "3.0"\nservices:\n- name: up\n  url: http://127.0.0.1:${up.port}\n  routes:\n  - name: r\n    paths: [three]\n`);
  await outputMatches(gw, /kong\.yml: refused, the running configuration is kept:\n.*kong\.yml:7:13: services\[0\]\.routes\[0\]\.paths\[0\]: should start with/, mark);
  assert.equal((await fetch(`${gw.proxy}/two`)).status, 200);

  // Saved the way editors do: a new file renamed over the old one.
  mark = gw.output().length;
  const temp = join(dir, '.kong.yml.swp');
  writeFileSync(temp, config(up.port, '/four'));
  renameSync(temp, file);
  await outputMatches(gw, /kong\.yml: reloaded \(configuration hash [0-9a-f]{32}\)/, mark);
  assert.equal((await fetch(`${gw.proxy}/four`)).status, 200);
  assert.equal((await fetch(`${gw.proxy}/two`)).status, 404);
});

test('gateway --config refuses a bad file with file:line:col errors and exits 1, before it binds a port', async () => {
  const file = join(dir, 'bad.yml');
  writeFileSync(file, '_format_version: "3.0"\nservices:\n- name: s\n  host: h\n  port: 99999\n');
  // The ports are taken: the file's errors are still what the user is told (Kong reads it first).
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;
  const child = spawn(process.execPath, [BIN, 'gateway', '--config', file, '--workers', '1', '--gui-listen', 'off',
    '--proxy-listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${port}`, '--status-listen', 'off'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => { taken.close(); });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /^Error: invalid configuration in file:.*bad\.yml\n/);
  assert.match(stderr, new RegExp(`\n${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:9: services\\[0\\]\\.port: value should be between 0 and 65535\n`));
});
