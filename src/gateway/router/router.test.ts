/**
 * Router tables: Kong's precedence rules (kong-gateway.md §2.3), the v0 upstream path table (§2.4)
 * and request-path normalization (§2.2), each row a case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Route, Service } from '../../config/entities.ts';
import { RouteIndex, normalizePath, buildUpstreamPath, type RouteRequest } from './index.ts';

let n = 0;
function route(name: string, fields: Partial<Route>): Route {
  return {
    id: `id-${name}-${n++}`, name, created_at: 0, updated_at: 0, tags: null, protocols: ['http', 'https'], methods: null, hosts: null,
    paths: null, headers: null, snis: null, sources: null, destinations: null, strip_path: true, preserve_host: false,
    regex_priority: 0, path_handling: 'v0', https_redirect_status_code: 426, request_buffering: true, response_buffering: true,
    service: { id: 'svc' }, ...fields,
  };
}
const service = { id: 'svc', enabled: true } as Service;
const services = new Map([['svc', service]]);
function req(fields: Partial<RouteRequest>): RouteRequest {
  return { method: 'GET', host: 'example.com', path: '/', headers: {}, scheme: 'http', port: 8000, ...fields };
}
function winner(routes: Route[], r: Partial<RouteRequest>): string | null {
  return new RouteIndex(routes, services).match(req(r))?.route.name ?? null;
}

const precedence: [string, Route[], Partial<RouteRequest>, string | null][] = [
  ['more matching attributes win', [route('paths', { paths: ['/a'] }), route('paths+methods', { paths: ['/a'], methods: ['GET'] })], { path: '/a' }, 'paths+methods'],
  ['plain host beats wildcard host', [route('wild', { hosts: ['*.example.com'] }), route('plain', { hosts: ['api.example.com'] })], { host: 'api.example.com' }, 'plain'],
  ['more headers win', [route('h1', { headers: { 'x-a': ['1'] } }), route('h2', { headers: { 'x-a': ['1'], 'x-b': ['2'] } })], { headers: { 'x-a': '1', 'x-b': '2' } }, 'h2'],
  ['regex beats prefix', [route('prefix', { paths: ['/users/123'] }), route('regex', { paths: ['~/users/\\d+'] })], { path: '/users/123' }, 'regex'],
  ['regex_priority orders regex routes', [route('low', { paths: ['~/a/.*'] }), route('high', { paths: ['~/a/b'], regex_priority: 5 })], { path: '/a/b' }, 'high'],
  ['longest prefix wins', [route('short', { paths: ['/a'] }), route('long', { paths: ['/a/b'] })], { path: '/a/b/c' }, 'long'],
  ['prefix is a plain string prefix', [route('foo', { paths: ['/foo'] })], { path: '/foobar' }, 'foo'],
  ['a route with several paths competes per path', [route('multi', { paths: ['/a', '/x/y/z'] }), route('mid', { paths: ['/x/y'] })], { path: '/x/y/z/1' }, 'multi'],
  ['… and loses with its short path', [route('multi', { paths: ['/x', '/x/y/z'] }), route('mid', { paths: ['/x/y'] })], { path: '/x/y/1' }, 'mid'],
  ['host with port requires that port', [route('p', { hosts: ['example.com:8080'] })], { host: 'example.com' }, null],
  ['host with port matches that port', [route('p', { hosts: ['example.com:8080'] })], { host: 'example.com:8080' }, 'p'],
  ['host without port matches any port', [route('p', { hosts: ['example.com'] })], { host: 'EXAMPLE.com:9999' }, 'p'],
  ['suffix wildcard', [route('w', { hosts: ['*.example.com'] })], { host: 'a.b.example.com' }, 'w'],
  ['suffix wildcard needs a label', [route('w', { hosts: ['*.example.com'] })], { host: 'example.com' }, null],
  ['prefix wildcard', [route('w', { hosts: ['example.*'] })], { host: 'example.org:81' }, 'w'],
  ['header values are case-insensitive', [route('h', { headers: { 'x-env': ['Prod'] } })], { headers: { 'x-env': 'PROD' } }, 'h'],
  ['header regex', [route('h', { headers: { 'x-v': ['~*^v[0-9]+$'] } })], { headers: { 'x-v': 'V12' } }, 'h'],
  ['header missing', [route('h', { headers: { 'x-v': ['1'] } })], {}, null],
  ['any instance of a repeated header', [route('h', { headers: { 'x-v': ['b'] } })], { headers: { 'x-v': 'a, b' } }, 'h'],
  ['methods', [route('post', { paths: ['/'], methods: ['POST'] })], { method: 'GET' }, null],
  ['snis only apply on https', [route('s', { snis: ['a.test'], paths: ['/'] })], { scheme: 'http' }, 's'],
  ['snis on https must match', [route('s', { snis: ['a.test'], paths: ['/'] })], { scheme: 'https', sni: 'b.test' }, null],
  ['sni trailing dot ignored', [route('s', { snis: ['a.test'], paths: ['/'] })], { scheme: 'https', sni: 'a.test.' }, 's'],
  ['regex anchored at the start only', [route('r', { paths: ['~/v\\d'] })], { path: '/v1/extra' }, 'r'],
  ['regex not anchored at the end but at the start', [route('r', { paths: ['~/v\\d'] })], { path: '/x/v1' }, null],
  ['equal priority: earlier route wins', [route('first', { paths: ['/same'] }), route('second', { paths: ['/same'] })], { path: '/same' }, 'first'],
  ['route without a service is matched', [route('orphan', { paths: ['/o'], service: null })], { path: '/o' }, 'orphan'],
  ['no route', [route('a', { paths: ['/a'] })], { path: '/b' }, null],
  // One candidate list (same prefix, no host): a first candidate that fails leaves the next in line.
  ['the next route on the same path when the first one\'s method does not match', [route('post', { paths: ['/'], methods: ['POST'] }), route('any', { paths: ['/'] })], { method: 'GET' }, 'any'],
  ['… and the one after that', [route('post', { paths: ['/'], methods: ['POST'] }), route('put', { paths: ['/'], methods: ['PUT'] }), route('any', { paths: ['/'] })], { method: 'GET' }, 'any'],
];

for (const [name, routes, r, expected] of precedence) {
  test(`precedence: ${name}`, () => assert.equal(winner(routes, r), expected));
}

test('routes of a disabled service are left out', () => {
  const off = new Map([['svc', { ...service, enabled: false }]]);
  assert.equal(new RouteIndex([route('a', { paths: ['/a'] })], off).match(req({ path: '/a' })), null);
});

test('regex captures are exposed, numbered and named', () => {
  const m = new RouteIndex([route('r', { paths: ['~/users/(?<id>\\d+)/(\\w+)'] })], services).match(req({ path: '/users/42/posts' }))!;
  assert.equal(m.uriCaptures['0'], '/users/42/posts');
  assert.equal(m.uriCaptures['1'], '42');
  assert.equal(m.uriCaptures['id'], '42');
  assert.equal(m.uriCaptures['2'], 'posts');
  assert.equal(m.matchedPath, '/users/42/posts');
});

test('10,000 routes: the last-defined route is found', () => {
  const routes: Route[] = [];
  for (let i = 0; i < 10_000; i++) routes.push(route(`r${i}`, { hosts: [`h${i}.test`], paths: [`/api/v1/s${i}`] }));
  const idx = new RouteIndex(routes, services);
  assert.equal(idx.match(req({ host: 'h9999.test', path: '/api/v1/s9999/x' }))?.route.name, 'r9999');
  assert.equal(idx.match(req({ host: 'h9999.test', path: '/api/v1/s9998' })), null);
});

// service.path | route path | strip | request | v0 result   (kong-gateway.md §2.4)
const pathTable: [string | null, string | null, boolean, string, string][] = [
  ['/', '/', true, '/route/req', '/route/req'],
  ['/', '/', false, '/route/req', '/route/req'],
  ['/', '/route', false, '/routereq', '/routereq'],
  ['/', '/route', true, '/route', '/'],
  ['/', '/route', true, '/route/', '/'],
  ['/', '/route', true, '/routereq', '/req'],
  ['/srv', '/rou', false, '/roureq', '/srv/roureq'],
  ['/srv', '/rou', true, '/roureq', '/srv/req'],
  ['/srv/', '/rou', true, '/rou', '/srv'],
  ['/service', '/', true, '/', '/service'],
  ['/service', '/', false, '/', '/service'],
  ['/service', '/', true, '/route/', '/service/route/'],
  ['/service', '/', false, '/route/', '/service/route/'],
  ['/service', '/route', true, '/route', '/service'],
  ['/service', '/route', true, '/route/', '/service/'],
  ['/service', '/route/', true, '/route/', '/service/'],
  ['/service/', '/route', true, '/route', '/service'],
  ['/service/', '/route', true, '/routereq', '/service/req'],
  ['/service/', null, true, '/route', '/service/route'],
  ['/service/', null, false, '/route', '/service/route'],
  ['/service', '/route', true, '/route./req', '/service/req'],
  ['/service', '/route', true, normalizePath('/route%2E/req'), '/service/req'],
  ['/service', '/route', true, '/route../req', '/service/req'],
  [null, '/echo', true, '/echo/x', '/x'],
];
for (const [sp, rp, strip, reqPath, expected] of pathTable) {
  test(`upstream path: service ${sp} route ${rp} strip=${strip} request ${reqPath} -> ${expected}`, () => {
    const matched = rp === null ? null : (reqPath.startsWith(rp) ? rp : null);
    assert.equal(buildUpstreamPath(sp, { matched, stripPath: strip }, reqPath).path, expected);
  });
}

test('X-Forwarded-Prefix is the stripped prefix, none for /', () => {
  assert.equal(buildUpstreamPath('/', { matched: '/api', stripPath: true }, '/api/x').strippedPrefix, '/api');
  assert.equal(buildUpstreamPath('/', { matched: '/', stripPath: true }, '/x').strippedPrefix, null);
  assert.equal(buildUpstreamPath('/', { matched: '/api', stripPath: false }, '/api/x').strippedPrefix, null);
});

const normalization: [string, string][] = [
  ['/echo/../admin', '/admin'],
  ['/echo/%2e%2e/admin', '/admin'],
  ['/a/%2E%2E/%2e/b', '/b'],
  ['/a%2Fb', '/a%2Fb'],
  ['/a%2fb', '/a%2Fb'],
  ['//a//b', '/a/b'],
  ['/%41%42c', '/ABc'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/a/b/..', '/a/'],
  ['/a/./b/', '/a/b/'],
  ['/%zz/x', '/%zz/x'],
  ['/%20x', '/%20x'],
  ['/.well-known/x', '/.well-known/x'],
  ['', '/'],
];
for (const [input, expected] of normalization) {
  test(`normalizePath(${JSON.stringify(input)}) = ${expected}`, () => assert.equal(normalizePath(input), expected));
}

test('normalizePath never throws, is idempotent and never leaves dot segments or //', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('/', '.', '%', '2', 'e', 'E', 'a', 'F', 'f', '0', 'x') , maxLength: 40 }), (s) => {
    const once = normalizePath(s);
    assert.equal(normalizePath(once), once);
    assert.ok(once.startsWith('/'));
    assert.ok(!once.includes('//'));
    assert.ok(!once.includes('/../') && !once.endsWith('/..'));
    assert.ok(!once.includes('/./'));
  }), { numRuns: 2000 });
});

test('regex literal prefixes used for indexing are conservative', async () => {
  const { literalPrefix } = await import('./route-index.ts');
  const cases: [string, string][] = [
    ['/api/v1/items/\\d+$', '/api/v1/items/'],
    ['/ab?c', '/a'],
    ['/a(b|c)', ''],
    ['/x\\.y/z', '/x.y/z'],
    ['/users/(?<id>\\d+)', '/users/'],
    ['/a+b', '/a'],
    ['/a{2}', '/'],
    ['[/]x', ''],
    ['/v\\d', '/v'],
  ];
  for (const [pattern, prefix] of cases) assert.equal(literalPrefix(pattern), prefix, pattern);
});

test('indexed regex and wildcard routes still win by priority among thousands', () => {
  const rs: Route[] = [];
  for (let i = 0; i < 2000; i++) {
    rs.push(route(`w${i}`, { hosts: [`*.t${i}.example.com`] }));
    rs.push(route(`x${i}`, { paths: [`~/api/v${i}/items/\\d+$`] }));
    rs.push(route(`p${i}`, { paths: [`/api/v${i}`] }));
  }
  rs.push(route('prefixwild', { hosts: ['shop.*'], paths: ['/'] }));
  const idx = new RouteIndex(rs, services);
  assert.equal(idx.match(req({ path: '/api/v1999/items/42' }))?.route.name, 'x1999');
  assert.equal(idx.match(req({ path: '/api/v1999/items/x' }))?.route.name, 'p1999');
  assert.equal(idx.match(req({ host: 'a.b.t1500.example.com', path: '/z' }))?.route.name, 'w1500');
  assert.equal(idx.match(req({ host: 'shop.example.org', path: '/z' }))?.route.name, 'prefixwild');
  assert.equal(idx.match(req({ host: 't1500.example.com', path: '/z' })), null);
});
