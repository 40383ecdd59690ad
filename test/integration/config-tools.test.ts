/**
 * `turnpike config validate | diff | push | dump` as a user runs them: real CLI processes, and a
 * real gateway for push and dump.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BIN, startGateway, type GatewayProcess } from '../harness/gateway-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'tp-config-tools-'));

interface CliResult { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const BASE = `_format_version: "3.0"
services:
- name: echo
  url: http://127.0.0.1:80
  routes:
  - name: echo
    paths: [/echo]
    plugins:
    - name: rate-limiting
      config: {minute: 5, policy: local}
consumers:
- username: alice
`;

test('validate: each error at the line and column of the node that caused it', async () => {
  const bad = file('kong.yml', `_format_version: "3.0"
services:
- name: s
  port: 99999
  routes:
  - name: r0
    paths: ["/ok", "bad"]
routes:
- name: r1
  protocols: [http]
`);
  const refs = file('refs.yml', '_format_version: "3.0"\nroutes:\n- name: r1\n  service: ghost\n  paths: [/x]\nconsumers:\n- custom_id: c\n- custom_id: c\n');
  const json = file('kong.json', '{\n  "_format_version": "3.0",\n  "services": [\n    {"name": "s", "host": "h", "port": "x"}\n  ]\n}\n');
  const broken = file('broken.yml', 'services:\n  - name: [\n');
  // Independent CLI runs, side by side (each start costs seconds on a busy machine).
  const [r, r2, rJson, r3, rKong] = await Promise.all([
    cli(['config', 'validate', bad]), cli(['config', 'validate', refs]), cli(['config', 'validate', json]),
    cli(['config', 'validate', broken]), cli(['config', 'validate', '--json', json]),
  ]);
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.trim().split('\n'), [
    `${bad}:3:3: services[0].host: required field missing`,
    `${bad}:4:9: services[0].port: value should be between 0 and 65535`,
    `${bad}:7:20: services[0].routes[0].paths[1]: should start with: / (fixed path) or ~/ (regex path)`,
    `${bad}:9:3: routes[0]: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'`,
  ]);
  // Errors keyed by name (references) and duplicates point at the entity itself.
  assert.deepEqual(r2.stderr.trim().split('\n'), [
    `${refs}:3:3: routes[0]: invalid reference 'service: ghost' (no such entry in 'services')`,
    `${refs}:8:3: consumers[1]: uniqueness violation: 'consumers' entity with custom_id set to 'c' already declared`,
  ]);
  // JSON files map the same way; parse errors carry YAML's position.
  assert.equal(rJson.stderr, `${json}:4:40: services[0].port: expected an integer\n`);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: failed parsing declarative configuration: `));
  // --json keeps Kong's body for scripts.
  const body = JSON.parse(rKong.stderr) as { code: number; flattened_errors: unknown[] };
  assert.equal(body.code, 14);
  assert.equal(body.flattened_errors.length, 1);
});

test('diff: entity-level lines, exit 0 when equal, 1 when different, 2 when invalid', async () => {
  const a = file('a.yml', BASE);
  const same = file('a-reordered.json', JSON.stringify({
    _format_version: '3.0',
    consumers: [{ username: 'alice' }],
    services: [{ name: 'echo', host: '127.0.0.1', port: 80, protocol: 'http', routes: [{ name: 'echo', paths: ['/echo'] }] }],
    plugins: [{ name: 'rate-limiting', route: 'echo', config: { policy: 'local', minute: 5 } }],
  }));
  const b = file('b.yml', `_format_version: "3.0"
services:
- name: echo
  url: http://127.0.0.1:8080
  routes:
  - name: echo
    paths: [/echo]
  - name: other
    paths: [/other]
consumers:
- username: alice
  keyauth_credentials:
  - key: k1
plugins:
- name: key-auth
  service: echo
`);
  const bad = file('bad-diff.yml', '_format_version: "3.0"\nservices:\n- name: s\n');
  const [eq, d, r] = await Promise.all([cli(['config', 'diff', a, same]), cli(['config', 'diff', a, b]), cli(['config', 'diff', a, bad])]);
  assert.deepEqual([eq.code, eq.stdout], [0, '']);
  assert.equal(d.code, 1);
  assert.deepEqual(d.stdout.trim().split('\n'), [
    '~ service echo: port 80 → 8080',
    '+ route other (service echo)',
    '- plugin rate-limiting (route echo)',
    '+ plugin key-auth (service echo)',
    '+ keyauth_credential k1 (consumer alice)',
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad-diff\.yml:3:3: services\[0\]\.host: required field missing/);
});

let gw: GatewayProcess | undefined;
after(async () => { await gw?.stop(); });

test('push and dump against a running gateway', async () => {
  gw = await startGateway({ args: ['--gui-listen', 'off'] });
  const admin = ['--admin-url', gw.admin];
  const a = file('push.yml', BASE);
  const first = await cli(['config', 'push', a, ...admin]);
  assert.equal(first.code, 0, first.stderr);
  const status = await (await fetch(`${gw.admin}/status`)).json() as { configuration_hash: string };
  assert.equal(first.stdout, `${a}: loaded (configuration hash ${status.configuration_hash})\n`);
  const again = await cli(['config', 'push', a, ...admin]);
  assert.deepEqual([again.code, again.stdout], [0, `${a}: unchanged (the gateway already runs this configuration)\n`]);

  // Refused: Kong's flattened errors, located in the pushed file; the running config stays.
  const bad = file('push-bad.yml', '_format_version: "3.0"\nservices:\n- name: s\n  host: h\n  routes:\n  - name: r\n    paths: [nope]\nconsumers:\n- username: bob\n  tags: oops\n');
  const refused = await cli(['config', 'push', bad, ...admin]);
  assert.equal(refused.code, 1);
  assert.deepEqual(refused.stderr.trim().split('\n').sort(), [
    `${bad}: refused by ${gw.admin}: invalid declarative configuration`,
    `${bad}:10:9: consumers[0].tags: expected an array`,
    `${bad}:7:13: services[0].routes[0].paths[0]: should start with: / (fixed path) or ~/ (regex path)`,
  ].sort());
  const after = await (await fetch(`${gw.admin}/status`)).json() as { configuration_hash: string };
  assert.equal(after.configuration_hash, status.configuration_hash);

  // Dump: decK's layout (nested, no ids or timestamps); it validates and diffs equal to the source.
  const out = join(dir, 'dump.json');
  const [unreachable, dumped, toFile] = await Promise.all([
    cli(['config', 'push', a, '--admin-url', 'http://127.0.0.1:1']),
    cli(['config', 'dump', ...admin]),
    cli(['config', 'dump', ...admin, '-o', out, '--format', 'json']),
  ]);
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:1\/config/);
  assert.equal(dumped.code, 0, dumped.stderr);
  const doc = parseYaml(dumped.stdout) as { services: { name: string; id?: string; created_at?: number; routes: { name: string; plugins: { name: string }[] }[] }[]; plugins?: unknown };
  assert.equal(doc.services[0]!.name, 'echo');
  assert.equal(doc.services[0]!.id, undefined);
  assert.equal(doc.services[0]!.created_at, undefined);
  assert.deepEqual(doc.services[0]!.routes.map((r) => [r.name, r.plugins.map((p) => p.name)]), [['echo', ['rate-limiting']]]);
  assert.equal(doc.plugins, undefined);
  assert.deepEqual([toFile.code, toFile.stdout], [0, '']);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), doc);
  const roundTrip = await cli(['config', 'diff', a, out]);
  assert.deepEqual([roundTrip.code, roundTrip.stdout], [0, '']);
});
