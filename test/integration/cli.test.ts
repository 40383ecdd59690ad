/**
 * The command line as a user runs it: `config validate`, `echo`, `translate`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BIN } from '../harness/gateway-process.ts';
import { freePort } from '../harness/ports.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tp-cli-'));
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

test('config validate: exit 0 with a summary, exit 1 with the flattened errors', async () => {
  const ok = await run(process.execPath, [BIN, 'config', 'validate', join(EXAMPLES, 'declarative/kong.yml')]);
  assert.match(ok.stdout, /kong\.yml: valid \(1 services, 1 routes, 0 upstreams, 1 consumers, 3 plugins\)/);
  const bad = join(dir, 'bad.yml');
  writeFileSync(bad, '_format_version: "3.0"\nservices:\n- name: s\n  port: 99999\n');
  const err = await run(process.execPath, [BIN, 'config', 'validate', '--json', bad]).then(() => null, (e: { code: number; stderr: string }) => e);
  assert.ok(err);
  assert.equal(err.code, 1);
  const body = JSON.parse(err.stderr) as { code: number; flattened_errors: { entity_type: string; entity_name: string; errors: { field: string; message: string }[] }[] };
  assert.equal(body.code, 14);
  const fe = body.flattened_errors[0]!;
  assert.equal(fe.entity_type, 'service');
  assert.equal(fe.entity_name, 's');
  assert.deepEqual(fe.errors.map((e) => `${e.field}: ${e.message}`).sort(), ['host: required field missing', 'port: value should be between 0 and 65535']);
  const unparsable = join(dir, 'garbage.yml');
  writeFileSync(unparsable, '- just\n- a list\n');
  const perr = await run(process.execPath, [BIN, 'config', 'validate', unparsable]).then(() => null, (e: { code: number; stderr: string }) => e);
  assert.equal(perr?.code, 1);
  assert.match(perr!.stderr, /failed parsing declarative configuration: expected an object/);
});

test('echo answers like go-echo', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'echo', '--listen', `127.0.0.1:${port}`],
    { env: { ...process.env, NODE_NAME: 'node-1', POD_NAME: 'echo-x', POD_NAMESPACE: 'ns', POD_IP: '10.1.2.3' }, stdio: 'ignore' });
  try {
    let r: Response | null = null;
    for (let i = 0; i < 100 && !r; i++) {
      r = await fetch(`http://127.0.0.1:${port}/any/path?details=true`, { method: 'POST', body: 'hi there' }).catch(() => null);
      if (!r) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(r);
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await r.text(), 'Welcome, you are connected to node node-1.\nRunning on Pod echo-x.\nIn namespace ns.\nWith IP address 10.1.2.3.\n'
      + `\nHTTP request details\n---------------------\nProtocol: HTTP/1.1\nHost: 127.0.0.1:${port}\nMethod: POST\nURL: /any/path?details=true\nhi there\n`);
  } finally {
    child.kill();
  }
});

test('translate prints the config and one line per problem', async () => {
  const out = await run(process.execPath, [BIN, 'translate', '-f', join(EXAMPLES, 'getting-started-ingress'), '--format', 'json', '--backend', 'kong/echo=127.0.0.1:1027']);
  const config = JSON.parse(out.stdout) as { services: { name: string; routes: { name: string; paths: string[]; strip_path: boolean }[] }[] };
  const svc = config.services.find((s) => s.name === 'kong.echo.1027')!;
  assert.deepEqual(svc.routes.map((r) => [r.name, r.paths, r.strip_path]), [['kong.echo.echo..1027', ['/echo'], true]]);
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'apiVersion: configuration.konghq.com/v1\nkind: KongConsumer\nmetadata: {name: nobody, namespace: default, annotations: {kubernetes.io/ingress.class: kong}}\n');
  const r2 = await run(process.execPath, [BIN, 'translate', '-f', broken]);
  // The API server would have refused it (CEL rule), so it is reported in the API server's words.
  assert.match(r2.stderr, /^KongConsumer default\/nobody: The KongConsumer "nobody" is invalid: <root>: Invalid value: "object": Need to provide either username or custom_id$/m);
});

test('a bad flag value stops the gateway with one line, not a stack trace', async () => {
  for (const [flag, value, message] of [
    ['--otlp-endpoint', 'notaurl', "Error: invalid --otlp-endpoint 'notaurl': expected an http(s) URL"],
    ['--headers', 'bogus', "Error: invalid value in 'headers': 'bogus'"],
  ] as const) {
    const err = await run(process.execPath, [BIN, 'gateway', flag, value, '--admin-listen', 'off', '--status-listen', 'off', '--gui-listen', 'off', '--proxy-listen', '127.0.0.1:0'])
      .then(() => null, (e: { code: number; stderr: string }) => e);
    assert.ok(err, `${flag} ${value} was accepted`);
    assert.equal(err.code, 1);
    assert.equal(err.stderr.trim(), message);
  }
});
