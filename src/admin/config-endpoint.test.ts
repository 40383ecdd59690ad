/**
 * `GET /config` and `POST /config` over a real HTTP server: every way Kong accepts a config
 * (JSON object, raw YAML/JSON, `config` field in JSON, urlencoded or multipart), the query
 * options, and every outcome row of Kong's table (201/304/400/429/500/503/504).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { createAdminHandler } from './admin-api.ts';
import type { ApplyResult } from './backend.ts';
import { fakeBackend, IDS, serve, type FakeBackend, type TestServer } from './test-fixtures.ts';

let backend: FakeBackend;
let server: TestServer;

before(async () => {
  backend = fakeBackend();
  server = await serve(createAdminHandler(backend));
});
after(() => server.close());
beforeEach(() => {
  backend.applyCalls.length = 0;
  backend.nextApply = null;
});

const YAML_CONFIG = '_format_version: "3.0"\nconsumers:\n  - username: bobby\n';

async function post(path: string, body: RequestInit['body'], contentType?: string) {
  const r = await fetch(server.url + path, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: text ? JSON.parse(text) : undefined };
}

describe('POST /config body forms', () => {
  test('a JSON object with _format_version is passed as an object', async () => {
    const r = await post('/config?check_hash=1', JSON.stringify({ _format_version: '3.0', consumers: [{ username: 'a' }] }), 'application/json');
    assert.equal(r.status, 201);
    assert.deepEqual(backend.applyCalls[0]!.body, { _format_version: '3.0', consumers: [{ username: 'a' }] });
    assert.deepEqual(backend.applyCalls[0]!.options, { checkHash: true, flattenErrors: false });
  });

  test('a raw YAML body is passed as text', async () => {
    const r = await post('/config', YAML_CONFIG, 'application/yaml');
    assert.equal(r.status, 201);
    assert.equal(backend.applyCalls[0]!.body, YAML_CONFIG);
  });

  test('a raw body without a content type is passed as text', async () => {
    const r = await post('/config', Buffer.from(YAML_CONFIG));
    assert.equal(r.status, 201);
    assert.equal(backend.applyCalls[0]!.body, YAML_CONFIG);
  });

  test('a `config` string in a JSON body (YAML or JSON text)', async () => {
    await post('/config', JSON.stringify({ config: YAML_CONFIG }), 'application/json');
    assert.equal(backend.applyCalls[0]!.body, YAML_CONFIG);
    const jsonText = '{"_format_version":"3.0"}';
    await post('/config', JSON.stringify({ config: jsonText }), 'application/json');
    assert.equal(backend.applyCalls[1]!.body, jsonText);
  });

  test('a `config` form field, urlencoded or multipart', async () => {
    await post('/config', new URLSearchParams({ config: YAML_CONFIG }).toString(), 'application/x-www-form-urlencoded');
    assert.equal(backend.applyCalls[0]!.body, YAML_CONFIG);
    const form = new FormData();
    form.set('config', YAML_CONFIG);
    const r = await post('/config', form);
    assert.equal(r.status, 201);
    // FormData turns the newlines of a text field into CRLF on the client side; YAML reads both.
    assert.equal((backend.applyCalls[1]!.body as string).replace(/\r\n/g, '\n'), YAML_CONFIG);
    const file = new FormData();
    file.set('config', new Blob([YAML_CONFIG], { type: 'application/yaml' }), 'kong.yml');
    await post('/config', file);
    assert.equal(backend.applyCalls[2]!.body, YAML_CONFIG);
  });

  test('nothing sent is 400 expected a declarative configuration', async () => {
    for (const [body, type] of [[undefined, undefined], ['', 'application/yaml'], ['', 'application/x-www-form-urlencoded']] as const) {
      const r = await post('/config', body, type);
      assert.equal(r.status, 400);
      assert.deepEqual(r.json, { message: 'expected a declarative configuration' });
    }
    assert.equal(backend.applyCalls.length, 0);
  });

  test('a JSON content type with a body that is not JSON is 400 Cannot parse JSON body', async () => {
    const r = await post('/config', YAML_CONFIG, 'application/json');
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { message: 'Cannot parse JSON body' });
  });
});

describe('POST /config options', () => {
  test('check_hash must be exactly 1', async () => {
    for (const [query, expected] of [['check_hash=1', true], ['check_hash=true', false], ['check_hash', false], ['', false]] as const) {
      backend.applyCalls.length = 0;
      await post(`/config?${query}`, YAML_CONFIG, 'application/yaml');
      assert.equal(backend.applyCalls[0]!.options.checkHash, expected, query);
    }
  });

  test('flatten_errors is truthy for true, 1, on, yes (any case) and a bare flag', async () => {
    const cases: Array<[string, boolean]> = [
      ['flatten_errors=true', true], ['flatten_errors=1', true], ['flatten_errors=ON', true], ['flatten_errors=yes', true],
      ['flatten_errors', true], ['flatten_errors=0', false], ['flatten_errors=no', false], ['', false],
    ];
    for (const [query, expected] of cases) {
      backend.applyCalls.length = 0;
      await post(`/config?${query}`, YAML_CONFIG, 'application/yaml');
      assert.equal(backend.applyCalls[0]!.options.flattenErrors, expected, query);
    }
  });

  test('options may also come in the body, and are not part of a posted config object', async () => {
    await post('/config', JSON.stringify({ config: YAML_CONFIG, flatten_errors: true, check_hash: 1 }), 'application/json');
    assert.deepEqual(backend.applyCalls[0]!.options, { checkHash: true, flattenErrors: true });
    await post('/config', JSON.stringify({ _format_version: '3.0', flatten_errors: 'yes' }), 'application/json');
    assert.deepEqual(backend.applyCalls[1]!.body, { _format_version: '3.0' });
    assert.equal(backend.applyCalls[1]!.options.flattenErrors, true);
    await post('/config', new URLSearchParams({ config: YAML_CONFIG, check_hash: '1' }).toString(), 'application/x-www-form-urlencoded');
    assert.equal(backend.applyCalls[2]!.options.checkHash, true);
  });
});

describe('POST /config outcomes', () => {
  const outcome = async (result: ApplyResult) => {
    backend.nextApply = () => result;
    return post('/config', YAML_CONFIG, 'application/yaml');
  };

  test('201 lists the loaded entities keyed by collection and id', async () => {
    const r = await post('/config', YAML_CONFIG, 'application/yaml');
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(r.json.services[IDS.echo].name, 'echo');
    assert.deepEqual(r.json.routes[IDS.echoRoute].service, { id: IDS.echo });
    assert.equal(r.json.keyauth_credentials[IDS.keyAuth].key, 'alice-secret');
    assert.deepEqual(Object.keys(r.json).sort(), [
      'acls', 'basicauth_credentials', 'ca_certificates', 'certificates', 'consumers', 'hmacauth_credentials',
      'jwt_secrets', 'keyauth_credentials', 'oauth2_credentials', 'plugins', 'routes', 'services', 'snis', 'targets', 'upstreams',
    ]);
  });

  test('201 is the same JSON whether the backend rendered it while its workers compiled or not', async () => {
    const rendered = await post('/config', YAML_CONFIG, 'application/yaml');
    const loaded = backend.loaded!;
    const plain = await outcome({ kind: 'applied', loaded });
    assert.equal(plain.status, 201);
    assert.equal(plain.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(plain.text, rendered.text);
    assert.equal(plain.headers.get('content-length'), rendered.headers.get('content-length'));
  });

  test('304 with an empty body when the hash is unchanged', async () => {
    const r = await outcome({ kind: 'unchanged' });
    assert.equal(r.status, 304);
    assert.equal(r.text, '');
  });

  test('400 passes the code-14 body through, flattened errors included', async () => {
    const error = {
      code: 14 as const, name: 'invalid declarative configuration',
      message: 'declarative config is invalid: {services={{host="required field missing"}}}',
      fields: { services: [{ host: 'required field missing' }] },
      flattened_errors: [{ entity_type: 'service', entity: { port: 80 }, errors: [{ type: 'field', field: 'host', message: 'required field missing' }] }],
    };
    const r = await outcome({ kind: 'invalid', error });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, error);
  });

  test('429 with Retry-After while another load runs', async () => {
    const r = await outcome({ kind: 'busy' });
    assert.equal(r.status, 429);
    assert.deepEqual(r.json, { message: 'Currently loading previous configuration' });
    assert.equal(r.headers.get('retry-after'), '1');
    const later = await outcome({ kind: 'busy', retryAfter: 7 });
    assert.equal(later.headers.get('retry-after'), '7');
  });

  test('503 while exiting, 504 on timeout, 500 on other failures', async () => {
    const exiting = await outcome({ kind: 'exiting' });
    assert.equal(exiting.status, 503);
    assert.deepEqual(exiting.json, { message: 'Kong currently exiting' });
    const timeout = await outcome({ kind: 'failed', message: 'worker 2 timed out', timeout: true });
    assert.equal(timeout.status, 504);
    assert.deepEqual(timeout.json, { message: 'Timed out while loading configuration' });
    const failed = await outcome({ kind: 'failed', message: 'worker 2 refused it' });
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.json, { message: 'An unexpected error occurred' });
    backend.nextApply = () => { throw new Error('boom'); };
    assert.equal((await post('/config', YAML_CONFIG, 'application/yaml')).status, 500);
  });
});

describe('GET /config', () => {
  test('exports the current config as YAML under `config`', async () => {
    const r = await fetch(`${server.url}/config`);
    assert.equal(r.status, 200);
    const body = await r.json() as { config: string };
    const doc = parseYaml(body.config) as Record<string, Array<Record<string, unknown>>>;
    assert.equal((doc as unknown as { _format_version: string })._format_version, '3.0');
    assert.deepEqual(doc.services!.map((s) => s.name).sort(), ['billing', 'echo', null]);
    assert.equal(doc.routes!.find((x) => x.name === 'echo-r')!.service, IDS.echo);
  });

  test('exports an empty config before anything is loaded', async () => {
    const empty = await serve(createAdminHandler(fakeBackend(null)));
    try {
      const r = await fetch(`${empty.url}/config`);
      const doc = parseYaml(((await r.json()) as { config: string }).config) as Record<string, unknown>;
      assert.equal(doc._format_version, '3.0');
      assert.equal(doc.services, undefined);
      const status = await (await fetch(`${empty.url}/status`)).json() as { configuration_hash: string };
      assert.equal(status.configuration_hash, '0'.repeat(32));
      const list = await (await fetch(`${empty.url}/services`)).json();
      assert.deepEqual(list, { data: [], next: null });
    } finally {
      await empty.close();
    }
  });
});
