/**
 * file-log: schema, the cjson-style encoding, custom_fields_by_lua literals, the non-blocking
 * append writer (batching, a slow disk, reopen, open failures, the memory cap) and the log
 * handler on synthetic contexts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeContext, silentLog, validatePluginConfig, recordingLog } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';
import { applyCustomFields, compileCustomFields, encodeLogEntry, parseStaticLua, splitKeyPath } from './log-entry.ts';
import { AppendWriter, acquireWriter, releaseWriter, type AppendHandle } from './writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-file-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const validate = (config: unknown) => validatePluginConfig(plugin, config);

test('schema: path required and must look like a file name; reopen defaults to false', () => {
  assert.deepEqual(validate({}), { ok: false, errors: { path: 'required field missing' } });
  assert.deepEqual(validate({ path: ' /tmp/x.log' }), { ok: false, errors: { path: 'not a valid filename' } });
  assert.deepEqual(validate({ path: '/tmp/a*b.log' }), { ok: false, errors: { path: 'not a valid filename' } });
  assert.deepEqual(validate({ path: '/tmp/x.log', reopen: 'yes' }), { ok: false, errors: { reopen: 'expected a boolean' } });
  assert.deepEqual(validate({ path: '/tmp/x.log' }), { ok: true, config: { path: '/tmp/x.log', reopen: false } });
  const v = validate({ path: '/tmp/x.log', custom_fields_by_lua: { route: 'return nil' } });
  assert.ok(v.ok);
});

test('encodeLogEntry writes like cjson: slashes escaped, undefined fields left out', () => {
  assert.equal(encodeLogEntry({ uri: '/a/b', n: 1, u: undefined, q: { x: true } }), '{"uri":"\\/a\\/b","n":1,"q":{"x":true}}');
  assert.deepEqual(JSON.parse(encodeLogEntry({ uri: '/a/b' })), { uri: '/a/b' });
});

test('custom_fields_by_lua: literal expressions are understood, others ignored with a warning', () => {
  assert.deepEqual(parseStaticLua('return "hello"'), { value: 'hello' });
  assert.deepEqual(parseStaticLua("return 'it\\'s'"), { value: "it's" });
  assert.deepEqual(parseStaticLua('return 42'), { value: 42 });
  assert.deepEqual(parseStaticLua('return -1.5'), { value: -1.5 });
  assert.deepEqual(parseStaticLua('return true'), { value: true });
  assert.deepEqual(parseStaticLua('return nil'), { value: undefined });
  assert.deepEqual(parseStaticLua('return [[long text]]'), { value: 'long text' });
  assert.equal(parseStaticLua('return kong.request.get_header("x")'), null);
  assert.equal(parseStaticLua('return "a" .. "b"'), null);
  assert.deepEqual(splitKeyPath('a.b\\.c'), ['a', 'b.c']);

  const log = recordingLog();
  const fields = compileCustomFields({ env: 'return "prod"', 'request.headers': 'return nil', 'x.y': 'return 1', dyn: 'return ngx.now()' }, log, 'file-log');
  assert.equal(fields.length, 3);
  assert.match(log.lines[0]!, /^warn: file-log: custom_fields_by_lua: .*'dyn'/);

  const shared = { id: 'route-1', name: 'r' };
  const entry: Record<string, unknown> = { request: { headers: { a: '1' }, method: 'GET' }, route: shared };
  applyCustomFields(entry, [...fields, { path: ['route', 'name'], value: 'changed' }]);
  assert.deepEqual(entry, { request: { method: 'GET' }, route: { id: 'route-1', name: 'changed' }, env: 'prod', x: { y: 1 } });
  assert.equal(shared.name, 'r', 'objects shared with the request are copied, not changed');
});

/** A file handle whose writes take `delayMs` each, recording every write. */
function slowHandle(delayMs: number, writes: string[]): AppendHandle {
  return {
    fd: -1,
    write: (buf, off, len) => new Promise((r) => setTimeout(() => { writes.push(buf.subarray(off, off + len).toString()); r({ bytesWritten: len }); }, delayMs)),
    close: async () => {},
  };
}

test('writer: a slow disk never delays the caller; lines queue up and go out in order, in few writes', async () => {
  const writes: string[] = [];
  const w = new AppendWriter('/slow', silentLog, { opener: async () => slowHandle(150, writes) });
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) w.write(`line ${i}\n`);
  assert.ok(performance.now() - t0 < 20, 'write() returns at once');
  await new Promise((r) => setTimeout(r, 20));
  for (let i = 100; i < 200; i++) w.write(`line ${i}\n`);
  await w.flush();
  assert.ok(writes.length <= 3, `batched into ${writes.length} writes`);
  const all = writes.join('').split('\n').filter(Boolean);
  assert.equal(all.length, 200);
  assert.deepEqual(all, Array.from({ length: 200 }, (_, i) => `line ${i}`));
});

test('writer: appends to a real file (O_APPEND, created when missing)', async () => {
  const path = join(dir, 'append.log');
  const w = new AppendWriter(path, silentLog);
  w.write('one\n');
  w.write('two\n');
  await w.flush();
  w.write('three\n');
  await w.close();
  assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\nthree\n');
  assert.equal(statSync(path).mode & 0o777 & ~0o022, 0o644 & ~0o022);
});

test('writer: reopen picks up a rotated file; without it lines follow the old inode', async () => {
  const path = join(dir, 'rotate.log');
  const w = new AppendWriter(path, silentLog);
  w.write('a\n', true);
  await w.flush();
  renameSync(path, `${path}.1`);
  w.write('b\n', true);
  await w.flush();
  assert.equal(readFileSync(`${path}.1`, 'utf8'), 'a\n');
  assert.equal(readFileSync(path, 'utf8'), 'b\n');

  renameSync(path, `${path}.2`);
  w.write('c\n', false);
  await w.close();
  assert.equal(readFileSync(`${path}.2`, 'utf8'), 'b\nc\n');
  assert.equal(existsSync(path), false);
});

test('writer: a file that cannot be opened is reported; the next batch tries again', async () => {
  const log = recordingLog();
  const missingDir = join(dir, 'later');
  const path = join(missingDir, 'x.log');
  const w = new AppendWriter(path, log, { warnIntervalMs: 0 });
  w.write('lost\n');
  await w.flush();
  assert.match(log.lines.join('\n'), /error: file-log: failed to write to .*x\.log: .*ENOENT.*1 log line\(s\) lost/);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(missingDir);
  w.write('kept\n');
  await w.close();
  assert.equal(readFileSync(path, 'utf8'), 'kept\n');
});

test('writer: past the memory cap lines are dropped and counted, with a warning', async () => {
  const log = recordingLog();
  const writes: string[] = [];
  const w = new AppendWriter('/capped', log, { opener: async () => slowHandle(50, writes), maxPendingBytes: 20 });
  for (let i = 0; i < 5; i++) w.write('0123456789\n'); // 11 bytes each: 1 fits
  assert.equal(w.dropped, 4);
  assert.match(log.lines[0]!, /^warn: file-log: \/capped: the disk is not keeping up; 1 log line/);
  await w.flush();
  assert.equal(writes.join(''), '0123456789\n');
});

test('acquire/release: one writer per path, closed when its last user goes', async () => {
  const path = join(dir, 'shared.log');
  const a = acquireWriter(path, silentLog);
  const b = acquireWriter(path, silentLog);
  assert.equal(a, b);
  releaseWriter(a);
  assert.equal(a.refs, 1);
  releaseWriter(b);
  assert.equal(b.refs, 0);
  await b.flush();
  assert.notEqual(acquireWriter(path, silentLog), undefined);
});

test('log handler: one JSON line per request, credentials redacted, custom fields applied', async () => {
  const path = join(dir, 'handler.log');
  const v = validate({ path, custom_fields_by_lua: { 'tag': 'return "blue"', 'latencies': 'return nil' } });
  assert.ok(v.ok);
  const h = plugin.create(v.config as never, { entity: {} as never, log: silentLog });
  for (const p of ['/one', '/two']) {
    const ctx = makeContext({ path: p, query: 'a=1', headers: { authorization: 'Basic secret', 'x-k': 'v' } });
    ctx.response.status = 201;
    ctx.response.setHeader('Content-Type', 'text/plain');
    ctx.setLogValue('correlation_id', 'abc');
    h.log!(ctx);
  }
  h.dispose!();
  await new Promise((r) => setTimeout(r, 50));
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.ok(lines[0]!.includes('"uri":"\\/one?a=1"'), 'slashes escaped as Kong writes them');
  const first = JSON.parse(lines[0]!) as Record<string, any>;
  assert.equal(first.request.uri, '/one?a=1');
  assert.equal(first.request.method, 'GET');
  assert.deepEqual(first.request.querystring, { a: '1' });
  assert.equal(first.request.headers.authorization, 'REDACTED');
  assert.equal(first.request.headers['x-k'], 'v');
  assert.equal(first.response.status, 201);
  assert.equal(first.response.headers['content-type'], 'text/plain');
  assert.equal(first.upstream_status, '');
  assert.equal(first.source, 'upstream');
  assert.equal(first.correlation_id, 'abc');
  assert.equal(first.tag, 'blue');
  assert.equal('latencies' in first, false);
  assert.equal(JSON.parse(lines[1]!).request.uri, '/two?a=1');
});
