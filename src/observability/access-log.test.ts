/**
 * Access-log redaction on a serialized entry and the `--access-log` target parsing: fixed
 * credential headers and query args, the names key-auth and jwt instances read credentials from,
 * and the raw query inside `uri`, `url` and `upstream_uri`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactEntry } from './access-log.ts';
import { checkAccessLogTarget, parseAccessLogTarget } from './access-log-target.ts';

type Active = Parameters<typeof redactEntry>[1];
const plugin = (name: string, config: object) => ({ name, entity: { config } }) as unknown as Active[number];

function entry(query: string, headers: Record<string, string>) {
  const qs = Object.fromEntries(new URLSearchParams(query));
  return {
    request: { uri: `/p?${query}`, url: `http://h:8000/p?${query}`, querystring: qs, headers },
    upstream_uri: `/up?${query}`,
    response: { status: 200 },
  } as Record<string, any>;
}

test('credential headers and default query args are redacted; the rest stays', () => {
  const e: Record<string, any> = redactEntry(entry('apikey=k1&access_token=t1&jwt=j1&page=2', {
    authorization: 'Basic x', 'proxy-authorization': 'Basic y', apikey: 'k2', cookie: 'c', 'x-api-key': 'k3', accept: '*/*',
  }), []);
  assert.deepEqual(e.request.querystring, { apikey: 'REDACTED', access_token: 'REDACTED', jwt: 'REDACTED', page: '2' });
  for (const h of ['authorization', 'proxy-authorization', 'apikey', 'cookie', 'x-api-key']) assert.equal(e.request.headers[h], 'REDACTED', h);
  assert.equal(e.request.headers.accept, '*/*');
  assert.equal(e.request.uri, '/p?apikey=REDACTED&access_token=REDACTED&jwt=REDACTED&page=2');
  assert.equal(e.request.url, 'http://h:8000/p?apikey=REDACTED&access_token=REDACTED&jwt=REDACTED&page=2');
  assert.equal(e.upstream_uri, '/up?apikey=REDACTED&access_token=REDACTED&jwt=REDACTED&page=2');
});

test("the key names of the request's key-auth and jwt instances are redacted too", () => {
  const e: Record<string, any> = redactEntry(entry('My-Key=k&token=t&q=1', { 'my-key': 'k', 'x-jwt': 'j' }), [
    plugin('key-auth', { key_names: ['My-Key'] }),
    plugin('jwt', { uri_param_names: ['token'], header_names: ['X-JWT'] }),
  ]);
  assert.deepEqual(e.request.querystring, { 'My-Key': 'REDACTED', token: 'REDACTED', q: '1' });
  assert.equal(e.request.headers['my-key'], 'REDACTED');
  assert.equal(e.request.headers['x-jwt'], 'REDACTED');
  assert.equal(e.request.uri, '/p?My-Key=REDACTED&token=REDACTED&q=1');
});

test('an entry without credentials is left as it was', () => {
  const e = entry('a=1', { accept: 'x' });
  const before = JSON.stringify(e);
  assert.equal(JSON.stringify(redactEntry(e, [])), before);
});

test('--access-log targets: off, stdout, stderr, a file (created), a folder that does not exist refused', () => {
  assert.equal(parseAccessLogTarget(undefined), 'off');
  assert.equal(parseAccessLogTarget('off'), 'off');
  assert.equal(parseAccessLogTarget('stdout'), 'stdout');
  assert.equal(parseAccessLogTarget('stderr'), 'stderr');
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-target-'));
  const file = join(dir, 'a.log');
  assert.deepEqual(checkAccessLogTarget(file), { file });
  assert.ok(existsSync(file));
  assert.throws(() => checkAccessLogTarget(join(dir, 'missing', 'a.log')), /cannot open access log '.*missing\/a\.log': ENOENT/);
});
