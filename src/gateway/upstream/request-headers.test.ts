import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyResponseHeaders, ForwardedLines, type ForwardedInput } from './request-headers.ts';
import { newRecord, type HeaderMap } from '../pipeline/context.ts';

const base: ForwardedInput = {
  trusted: false, scheme: 'http', host: 'example.test', port: 8000, remoteAddr: '10.0.0.1', clientIp: '10.0.0.1',
  path: '/api/items', strippedPrefix: '/api',
};

/** The lines as a map, and how often each name occurs. */
function parse(lines: string | null): { map: Record<string, string>; counts: Record<string, number> } {
  assert.ok(lines !== null);
  assert.ok(lines.endsWith('\r\n'));
  const map: Record<string, string> = {};
  const counts: Record<string, number> = {};
  for (const line of lines.slice(0, -2).split('\r\n')) {
    const i = line.indexOf(': ');
    const name = line.slice(0, i);
    map[name] = line.slice(i + 2);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return { map, counts };
}

test('ForwardedLines: Kong\'s X-Forwarded-* set, X-Real-IP and Via, once each', () => {
  const f = new ForwardedLines();
  const { map, counts } = parse(f.render({ 'x-forwarded-for': '9.9.9.9', via: '1.0 edge' }, base, '1.1 turnpike/1'));
  assert.deepEqual(map, {
    'x-forwarded-for': '9.9.9.9, 10.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'example.test',
    'x-forwarded-port': '8000', 'x-forwarded-path': '/api/items', 'x-forwarded-prefix': '/api', 'x-real-ip': '10.0.0.1',
    via: '1.0 edge, 1.1 turnpike/1',
  });
  assert.ok(Object.values(counts).every((n) => n === 1));
  assert.equal(parse(f.render({}, { ...base, strippedPrefix: null }, null)).map['x-forwarded-prefix'], undefined);
  assert.equal(parse(f.render({ via: '1.0 edge' }, base, null)).map['via'], undefined, 'no Via entry: none sent');
});

test('ForwardedLines: equal inputs reuse the last lines; any changed input makes new ones', () => {
  const f = new ForwardedLines();
  const client: HeaderMap = { 'x-forwarded-for': '9.9.9.9' };
  const first = f.render(client, base, '1.1 turnpike/1');
  // Equal, not the same objects: strings built afresh for the second request.
  assert.equal(f.render({ 'x-forwarded-for': ['9.9.9', '9'].join('.') }, { ...base, path: `/api/${'items'}` }, '1.1 turnpike/1'), first);
  const changes: Array<[string, HeaderMap, Partial<ForwardedInput>, string | null, string, string | undefined]> = [
    ['client X-Forwarded-For', { 'x-forwarded-for': '8.8.8.8' }, {}, '1.1 turnpike/1', 'x-forwarded-for', '8.8.8.8, 10.0.0.1'],
    ['no client X-Forwarded-For', {}, {}, '1.1 turnpike/1', 'x-forwarded-for', '10.0.0.1'],
    ['client Via', { 'x-forwarded-for': '9.9.9.9', via: '1.0 a' }, {}, '1.1 turnpike/1', 'via', '1.0 a, 1.1 turnpike/1'],
    ['Via off', client, {}, null, 'via', undefined],
    ['scheme', client, { scheme: 'https' }, '1.1 turnpike/1', 'x-forwarded-proto', 'https'],
    ['host', client, { host: 'other.test' }, '1.1 turnpike/1', 'x-forwarded-host', 'other.test'],
    ['port', client, { port: 8443 }, '1.1 turnpike/1', 'x-forwarded-port', '8443'],
    ['peer', client, { remoteAddr: '10.0.0.2', clientIp: '10.0.0.2' }, '1.1 turnpike/1', 'x-real-ip', '10.0.0.2'],
    ['path', client, { path: '/api/other' }, '1.1 turnpike/1', 'x-forwarded-path', '/api/other'],
    ['prefix', client, { strippedPrefix: '/v2' }, '1.1 turnpike/1', 'x-forwarded-prefix', '/v2'],
  ];
  for (const [what, headers, input, via, name, expected] of changes) {
    f.render(client, base, '1.1 turnpike/1');
    assert.equal(parse(f.render(headers, { ...base, ...input }, via)).map[name], expected, what);
  }
});

test('ForwardedLines: a trusted peer\'s own values are used, each request afresh', () => {
  const f = new ForwardedLines();
  const trusted = { ...base, trusted: true };
  assert.equal(parse(f.render({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'a.test' }, trusted, null)).map['x-forwarded-host'], 'a.test');
  assert.equal(parse(f.render({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'b.test' }, trusted, null)).map['x-forwarded-host'], 'b.test');
  assert.equal(parse(f.render({ 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] }, base, null)).map['x-forwarded-for'], '1.1.1.1, 2.2.2.2, 10.0.0.1');
});

test('ForwardedLines: a value with a control character is refused, not sent or remembered', () => {
  const f = new ForwardedLines();
  assert.equal(f.render({}, { ...base, strippedPrefix: '/a\r\nInjected: 1' }, null), null);
  assert.equal(f.render({}, { ...base, path: '/a\0' }, null), null);
  assert.equal(f.render({}, { ...base, strippedPrefix: '/a\r\nInjected: 1' }, null), null, 'the refusal was not remembered as lines');
  assert.equal(parse(f.render({}, base, null)).map['x-forwarded-prefix'], '/api');
});

test('copyResponseHeaders: a list seen again copies to the same maps as the first time', () => {
  const copy = (raw: readonly string[], headers: HeaderMap = newRecord(), names: Record<string, string> = newRecord()) => {
    copyResponseHeaders(raw, headers, names);
    return { headers: { ...headers }, names: { ...names }, order: Object.keys(headers) };
  };
  const shared = ['Content-Type', 'text/plain', 'connection', 'keep-alive, X-Hop', 'X-Hop', 'dropped', 'Keep-Alive', 'timeout=5',
    'x-custom', 'a', 'Content-Length', '2'];
  const first = copy(shared);
  assert.deepEqual(first.headers, { 'content-type': 'text/plain', 'x-custom': 'a', 'content-length': '2' });
  assert.deepEqual(first.names, { 'content-type': 'Content-Type', 'x-custom': 'X-Custom', 'content-length': 'Content-Length' });
  for (let i = 0; i < 3; i++) assert.deepEqual(copy(shared), first, `time ${i + 2}`);
  // Headers already in the state (set by a plugin in access) are kept, with the upstream's added.
  const preset = newRecord<string | string[] | undefined>();
  preset['x-custom'] = 'from plugin';
  assert.deepEqual(copy(shared, preset).headers['x-custom'], ['from plugin', 'a']);
  // Repeated names are lists, every time.
  const cookies = ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '0'];
  for (let i = 0; i < 3; i++) assert.deepEqual(copy(cookies).headers, { 'set-cookie': ['a=1', 'b=2'], 'content-length': '0' });
  // Another list in between, then the first again.
  assert.deepEqual(copy(['Content-Length', '5']).headers, { 'content-length': '5' });
  assert.deepEqual(copy(shared), first);
  // The copies are the state's own: changing one leaves the next copy as it was.
  const mine = newRecord<string | string[] | undefined>();
  copyResponseHeaders(shared, mine, newRecord());
  mine['content-type'] = 'changed';
  delete mine['x-custom'];
  assert.deepEqual(copy(shared), first);
});
