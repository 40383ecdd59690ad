/**
 * Hostile input against authentication: keys in several places at once, duplicate and empty
 * keys, keys differing in case or whitespace, anonymous fallbacks, ACL bypass attempts, spoofed
 * X-Consumer-* / X-Anonymous-Consumer / X-Forwarded-* / X-Real-IP headers (always overwritten or
 * removed before the upstream sees them on an authenticated route), and a constant-time-by-
 * construction check of the secret comparisons (no wall-clock timing).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startGateway, type GatewayProcess } from '../harness/gateway-process.ts';
import { startRecordingUpstream, type Upstream } from '../harness/upstreams.ts';
import { rawExchange } from '../harness/raw-client.ts';
import { keepAliveClient } from '../harness/keep-alive-client.ts';
import { IndexedConsumerDirectory, sameSecret } from '../../src/gateway/consumer-directory.ts';

let g: GatewayProcess;
let up: Upstream;

const SPOOFED = {
  'x-consumer-id': 'spoofed-id', 'x-consumer-username': 'root', 'x-consumer-custom-id': 'spoofed-custom',
  'x-credential-identifier': 'spoofed-cred', 'x-anonymous-consumer': 'false', 'x-consumer-groups': 'gold, admin',
  'x-authenticated-groups': 'gold',
};

before(async () => {
  up = await startRecordingUpstream();
  const keyAuth = (extra: object = {}) => ({ name: 'key-auth', config: { key_names: ['apikey', 'x-api-key'], ...extra } });
  g = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{
        name: 'api', url: up.url,
        routes: [
          { name: 'key', paths: ['/key'], plugins: [keyAuth()] },
          { name: 'hide', paths: ['/hide'], plugins: [keyAuth({ hide_credentials: true })] },
          { name: 'anon', paths: ['/anon'], plugins: [keyAuth({ anonymous: 'guest' })] },
          { name: 'gold', paths: ['/gold'], plugins: [keyAuth(), { name: 'acl', config: { allow: ['gold'] } }] },
          { name: 'anon-gold', paths: ['/anon-gold'], plugins: [keyAuth({ anonymous: 'guest' }), { name: 'acl', config: { allow: ['gold'] } }] },
          { name: 'deny', paths: ['/deny'], plugins: [keyAuth(), { name: 'acl', config: { deny: ['banned'] } }] },
          { name: 'basic', paths: ['/basic'], plugins: [{ name: 'basic-auth', config: {} }] },
          { name: 'ipr', paths: ['/ipr'], plugins: [{ name: 'ip-restriction', config: { allow: ['10.0.0.0/8'] } }] },
          { name: 'open', paths: ['/open'] },
        ],
      }],
      consumers: [
        { username: 'alice', custom_id: 'a-1', keyauth_credentials: [{ key: 'alice-key' }], acls: [{ group: 'gold' }], basicauth_credentials: [{ username: 'alice', password: 'wonder land' }] },
        { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }, { key: 'Alice-Key' }], acls: [{ group: 'silver' }, { group: 'banned' }] },
        { username: 'guest' },
      ],
    },
  });
});
after(async () => { await g?.stop(); await up?.close(); });

interface Seen { url: string; headers: Record<string, string> }
/**
 * One request on a raw socket, so repeated header lines stay separate lines (fetch would merge
 * them into one comma-joined value).
 */
async function call(path: string, headers: Readonly<Record<string, string>> | readonly (readonly [string, string])[] = {}): Promise<{ status: number; message?: string; seen?: Seen }> {
  const n = up.requests.length;
  const lines = (Array.isArray(headers) ? headers : Object.entries(headers)) as [string, string][];
  const head = `GET ${path} HTTP/1.1\r\nHost: gw.test\r\nAccept: application/json\r\nConnection: close\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const res = await rawExchange(g.proxyPort, head, { idleMs: 2_000 });
  const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n([^]*)$/.exec(res.data);
  assert.ok(m, `no response to ${path}: ${res.data.slice(0, 100)}`);
  const status = Number(m[1]);
  const text = m[2]!;
  if (status === 200) {
    assert.equal(up.requests.length, n + 1);
    return { status: 200, seen: JSON.parse(text) as Seen };
  }
  assert.equal(up.requests.length, n, `${path}: a refused request must not reach the upstream`);
  return { status, message: (JSON.parse(text) as { message: string }).message };
}

test('key in several places at once: the first key name wins, header before query; no fall-through on a bad key', async () => {
  const both = await call('/key?apikey=bob-key', { apikey: 'alice-key' });
  assert.equal(both.seen?.headers['x-consumer-username'], 'alice', 'header beats query for the same name');
  const names = await call('/key', { 'x-api-key': 'bob-key', apikey: 'alice-key' });
  assert.equal(names.seen?.headers['x-consumer-username'], 'alice', 'key_names order decides');
  const badFirst = await call('/key', { apikey: 'wrong', 'x-api-key': 'alice-key' });
  assert.deepEqual([badFirst.status, badFirst.message], [401, 'Unauthorized'], 'a wrong key is not rescued by a good one elsewhere');
  const badHeaderGoodQuery = await call('/key?apikey=alice-key', { apikey: 'wrong' });
  assert.equal(badHeaderGoodQuery.status, 401);
});

test('duplicate keys: 401 "Duplicate API key found"', async () => {
  const h = await call('/key', [['apikey', 'alice-key'], ['apikey', 'alice-key']]);
  assert.deepEqual([h.status, h.message], [401, 'Duplicate API key found']);
  const q = await call('/key?apikey=alice-key&apikey=bob-key');
  assert.deepEqual([q.status, q.message], [401, 'Duplicate API key found']);
  const mixed = await call('/key', [['apikey', 'wrong'], ['apikey', 'alice-key']]);
  assert.deepEqual([mixed.status, mixed.message], [401, 'Duplicate API key found']);
});

test('empty keys: 401 "No API key found in request"', async () => {
  const cases: [string, Record<string, string>][] = [['/key', { apikey: '' }], ['/key?apikey=', {}], ['/key?apikey', {}], ['/key', { apikey: '   ' }]];
  for (const [path, headers] of cases) {
    const r = await call(path, headers);
    assert.deepEqual([r.status, r.message], [401, 'No API key found in request'], `${path} ${JSON.stringify(headers)}`);
  }
});

test('keys differing in case or whitespace are different keys; header names are case-insensitive', async () => {
  const upper = await call('/key', { apikey: 'ALICE-KEY' });
  assert.deepEqual([upper.status, upper.message], [401, 'Unauthorized']);
  const other = await call('/key', { apikey: 'Alice-Key' });
  assert.equal(other.seen?.headers['x-consumer-username'], 'bob', 'Alice-Key is bob\'s own key, not alice-key');
  const padded = await call('/key?apikey=%20alice-key');
  assert.deepEqual([padded.status, padded.message], [401, 'Unauthorized'], 'a query value keeps its spaces');
  const tab = await call('/key?apikey=alice-key%09');
  assert.equal(tab.status, 401);
  const nameCase = await call('/key', { APIKEY: 'alice-key' });
  assert.equal(nameCase.seen?.headers['x-consumer-username'], 'alice');
  // HTTP strips optional whitespace around a header value (RFC 9110 §5.5), as nginx does.
  const ows = await call('/key', { apikey: '  alice-key\t' });
  assert.equal(ows.seen?.headers['x-consumer-username'], 'alice');
});

test('hide_credentials: the key goes nowhere upstream, wherever it was sent', async () => {
  const r = await call('/hide?apikey=alice-key&keep=1', { 'x-other': '1' });
  assert.equal(r.seen?.url, '/?keep=1');
  const h = await call('/hide', { 'x-api-key': 'alice-key' });
  assert.equal(h.seen?.headers['x-api-key'], undefined);
  assert.equal(h.seen?.headers['apikey'], undefined);
});

test('spoofed X-Consumer-* headers never reach the upstream of an authenticated route', async () => {
  const alice = await call('/key', { apikey: 'alice-key', ...SPOOFED });
  const h = alice.seen!.headers;
  assert.equal(h['x-consumer-username'], 'alice');
  assert.equal(h['x-consumer-custom-id'], 'a-1');
  assert.match(h['x-consumer-id']!, /^[0-9a-f-]{36}$/);
  assert.match(h['x-credential-identifier']!, /^[0-9a-f-]{36}$/);
  assert.equal(h['x-anonymous-consumer'], undefined, 'removed for a real credential');
  const bob = await call('/key', { apikey: 'bob-key', ...SPOOFED });
  assert.equal(bob.seen!.headers['x-consumer-custom-id'], undefined, 'bob has no custom_id: the spoofed one is removed');
  const guest = await call('/anon', { apikey: 'nope', ...SPOOFED });
  assert.equal(guest.seen!.headers['x-consumer-username'], 'guest');
  assert.equal(guest.seen!.headers['x-anonymous-consumer'], 'true');
  assert.equal(guest.seen!.headers['x-credential-identifier'], undefined);
  assert.equal(guest.seen!.headers['x-consumer-custom-id'], undefined);
});

test('anonymous fallback: bad, empty, duplicate or missing keys become the anonymous consumer, a good key wins', async () => {
  const cases: [string, string][][] = [[], [['apikey', '']], [['apikey', 'wrong']], [['apikey', 'a'], ['apikey', 'b']]];
  for (const headers of cases) {
    const r = await call('/anon', headers);
    assert.equal(r.seen?.headers['x-consumer-username'], 'guest', JSON.stringify(headers));
  }
  const good = await call('/anon', { apikey: 'alice-key', 'x-anonymous-consumer': 'true' });
  assert.equal(good.seen?.headers['x-consumer-username'], 'alice');
  assert.equal(good.seen?.headers['x-anonymous-consumer'], undefined);
});

test('ACL bypass attempts: groups come from the consumer, never from the client', async () => {
  const none = await call('/gold', { 'x-consumer-groups': 'gold' });
  assert.equal(none.status, 401);
  const bob = await call('/gold', { apikey: 'bob-key', 'x-consumer-groups': 'gold', 'x-authenticated-groups': 'gold', 'x-consumer-username': 'alice' });
  assert.deepEqual([bob.status, bob.message], [403, 'You cannot consume this service']);
  const alice = await call('/gold', { apikey: 'alice-key', 'x-consumer-groups': 'admin, root' });
  assert.equal(alice.seen?.headers['x-consumer-groups'], 'gold');
  const anon = await call('/anon-gold', { apikey: 'nope', 'x-consumer-groups': 'gold' });
  assert.ok(anon.status === 401 || anon.status === 403, `anonymous without groups: ${anon.status}`);
  const banned = await call('/deny', { apikey: 'bob-key' });
  assert.deepEqual([banned.status, banned.message], [403, 'You cannot consume this service']);
  const Banned = await call('/deny', { apikey: 'alice-key', 'x-consumer-groups': 'banned' });
  assert.equal(Banned.status, 200, 'deny lists match the consumer\'s groups only');
  // Path tricks do not route around the ACL route onto the open one or vice versa.
  const trick = await call('/open/../gold', { apikey: 'bob-key' });
  assert.equal(trick.status, 403);
});

test('basic-auth: wrong case, whitespace or an empty password is refused', async () => {
  const b = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.equal((await call('/basic', { authorization: b('alice:wonder land') })).seen?.headers['x-consumer-username'], 'alice');
  for (const cred of ['alice:Wonder land', 'alice:wonder land ', 'alice: wonder land', 'Alice:wonder land', 'alice:', ':wonder land', 'alice']) {
    const r = await call('/basic', { authorization: b(cred) });
    assert.equal(r.status, 401, cred);
  }
  // Two Authorization lines: the first one is the credential (Kong's get_header), never a mix.
  const both = await call('/basic', [['authorization', b('bob:x')], ['authorization', b('alice:wonder land')]]);
  assert.equal(both.status, 401, 'a bad first Authorization is not rescued by a second one');
});

test('spoofed X-Forwarded-* and X-Real-IP: not believed from an untrusted peer', async () => {
  const r = await call('/open', {
    'x-forwarded-for': '10.1.2.3', 'x-real-ip': '10.1.2.3', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https',
    'x-forwarded-port': '1', 'x-forwarded-path': '/evil', 'x-forwarded-prefix': '/evil', forwarded: 'for=10.1.2.3',
  });
  const h = r.seen!.headers;
  assert.equal(h['x-forwarded-for'], '10.1.2.3, 127.0.0.1', 'the real peer is appended (Kong keeps the client list)');
  assert.equal(h['x-real-ip'], '127.0.0.1');
  assert.equal(h['x-forwarded-host'], 'gw.test', 'the Host the gateway received, not the client\'s claim');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-port'], String(g.proxyPort));
  assert.equal(h['x-forwarded-path'], '/open');
  assert.equal(h['x-forwarded-prefix'], '/open', 'the prefix strip_path removed, not the client\'s');
  // ip-restriction decides on the real peer: claiming a 10/8 address does not help.
  const ipr = await call('/ipr', { 'x-forwarded-for': '10.1.2.3', 'x-real-ip': '10.1.2.3' });
  assert.equal(ipr.status, 403);
});

test('one keep-alive connection carrying several clients: every request is judged by its own key', async () => {
  // As a load balancer's pooled connection does. The gateway remembers the last key accepted on a
  // connection; a near miss, a prefix, a longer key or another case must not pass for it.
  const client = keepAliveClient(g.proxyPort);
  const get = async (apikey: string) => {
    const r = await client.get('/key', { apikey });
    return { status: r.status, user: r.status === 200 ? (JSON.parse(r.body) as Seen).headers['x-consumer-username'] : undefined };
  };
  try {
    const steps: [string, number, string?][] = [
      ['alice-key', 200, 'alice'], ['alice-key', 200, 'alice'], ['bob-key', 200, 'bob'], ['alice-key', 200, 'alice'],
      ['alice-kez', 401], ['alice-ke', 401], ['alice-keyy', 401], ['Alice-Key', 200, 'bob'], ['alice-key', 200, 'alice'], ['', 401],
    ];
    for (const [key, status, user] of steps) {
      const r = await get(key);
      assert.deepEqual([r.status, r.user], [status, user], `apikey ${JSON.stringify(key)}`);
    }
    assert.equal(client.connections(), 1, 'every request went on the same connection');
  } finally {
    client.close();
  }
});

test('secret comparisons are constant-time by construction', () => {
  // key-auth: credentials are found by the SHA-256 of the presented key, so lookup time depends on
  // a digest, not on how much of a key was right. A key presented again on one connection is
  // compared with that connection's last accepted key by sameSecret, which reads every character.
  const dir = new IndexedConsumerDirectory({
    consumers: [{ id: 'c1', username: 'u' }], keyauth_credentials: [{ id: 'k1', key: 'secret-key', consumer: { id: 'c1' }, ttl: null, created_at: 0 }],
    basicauth_credentials: [], jwt_secrets: [], hmacauth_credentials: [], oauth2_credentials: [], acls: [],
  } as never);
  assert.equal(dir.keyAuth('secret-key')?.id, 'k1');
  assert.equal(dir.keyAuth('secret-kex'), undefined);
  const connection = {};
  for (const [key, id] of [['secret-key', 'k1'], ['secret-key', 'k1'], ['secret-kex', undefined], ['secret-ke', undefined],
    ['secret-keyy', undefined], ['Secret-key', undefined], ['', undefined], ['secret-key', 'k1']] as const) {
    assert.equal(dir.keyAuth(key, connection)?.id, id, `${JSON.stringify(key)} on a connection that had "secret-key" accepted`);
  }
  for (const [a, b, same] of [['abc', 'abc', true], ['abc', 'abd', false], ['abc', 'ab', false], ['ab', 'abc', false],
    ['', '', true], ['', 'a', false], ['a\0', 'a', false], ['a', 'a\0', false], ['é', 'é', true], ['é', 'e', false]] as const) {
    assert.equal(sameSecret(a, b), same, `sameSecret(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
  }
  const src = (p: string) => readFileSync(new URL(`../../src/${p}`, import.meta.url), 'utf8');
  const directory = src('gateway/consumer-directory.ts');
  const lookup = /keyAuth\(key: string, connection\?: object\)[^]*?\n {2}\}/.exec(directory)?.[0] ?? '';
  // Only the digest is looked up and compared (a Map hit is an exact match of it): timing tells a
  // guesser about the digest of a guess, not about how close the guess was.
  assert.match(lookup, /\.get\(keyDigest\(key\)\)/, 'the presented key is digested before any lookup');
  assert.match(directory, /hash as oneShotHash[^]*'sha256'/, 'with SHA-256');
  assert.doesNotMatch(lookup, /\.get\(key\)/, 'never looked up by the raw key');
  assert.match(lookup, /sameSecret\(key, memo\.key\)/, 'a remembered key is compared with sameSecret only');
  assert.doesNotMatch(lookup.replace(/\.key === ''/g, ''), /key\s*[!=]==|[!=]==\s*[\w.]*key\b/, 'and never with ===');
  // sameSecret's loop has no early exit: it runs over the whole presented key.
  const compare = /function sameSecret[^]*?\n\}/.exec(directory)?.[0] ?? '';
  assert.match(compare, /for \(let i = 0; i < presented\.length; i\+\+\) diff \|= /);
  assert.doesNotMatch(compare, /break|return (?!diff === 0)/);
  // The plugin itself never compares keys: it only asks the directory.
  const keyAuth = src('plugins/key-auth/access.ts');
  assert.doesNotMatch(keyAuth.replace(/\.key === ''/g, ''), /\.key\s*[!=]==|[!=]==\s*[\w.]*\.key\b/);
  assert.match(keyAuth, /ctx\.consumers\.keyAuth\(/);
  // The other secrets: basic-auth password hashes, HMAC and JWT signatures, the Admin API token.
  for (const file of ['plugins/basic-auth/access.ts', 'plugins/hmac-auth/access.ts', 'plugins/jwt/token.ts', 'admin/admin-api.ts']) {
    assert.match(src(file), /timingSafeEqual\(/, `${file} compares with timingSafeEqual`);
  }
});
