/**
 * ldap-auth end to end: a real gateway process, a real upstream and a real OpenLDAP slapd
 * (test/harness/ldap-server.ts). Kong's 401 bodies and challenges, the upstream headers, hide_credentials,
 * anonymous, header_type, ldaps/StartTLS/verify_ldap_host, the bind cache (slapd stopped: cached
 * answers still served, then 500 after cache_ttl), keep-alive reuse, and LDAP failures as 500.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type GatewayProcess } from '../../../test/harness/gateway-process.ts';
import { startRecordingUpstream, refusingPort, type Upstream } from '../../../test/harness/upstreams.ts';
import { startLdapServer, type LdapServer } from '../../../test/harness/ldap-server.ts';

let gw: GatewayProcess;
let up: Upstream;
let ldap: LdapServer;
interface Seen { url: string; headers: Record<string, string | undefined> }
const ldapAuth = (u: string, p: string, scheme = 'ldap') => `${scheme} ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const UNAUTHORIZED_BODY = '{\n  "message":"Unauthorized"\n}';
const MISSING_ANON = '9a3f5e0c-5d42-4f0e-9c7e-7a4c1f0b2d11';

before(async () => {
  [up, ldap] = await Promise.all([startRecordingUpstream(), startLdapServer()]);
  await ldap.addUsers([
    { uid: 'einstein', password: 'password' },
    { uid: 'newton', password: 'gravity' },
    { uid: 'curie', password: 'pass:with:colons' },
  ]);
  const base = { ldap_host: '127.0.0.1', ldap_port: ldap.port, base_dn: ldap.peopleDn, attribute: 'uid' };
  const route = (name: string, config: Record<string, unknown>, extra: Record<string, unknown>[] = []) =>
    ({ name, paths: [`/${name}`], plugins: [{ name: 'ldap-auth', config: { ...base, ...config } }, ...extra] });
  gw = await startGateway({
    env: { NODE_EXTRA_CA_CERTS: ldap.certificateFile },
    config: {
      _format_version: '3.0',
      services: [{
        name: 'echo', url: up.url,
        routes: [
          route('plain', {}),
          route('hidden', { hide_credentials: true, realm: 'test-ldap' }),
          route('anon', { anonymous: 'no-body' }),
          route('anon-missing', { anonymous: MISSING_ANON }),
          route('custom-type', { header_type: 'Basic', realm: 'test-ldap' }),
          route('either', { anonymous: 'no-body' }, [{ name: 'key-auth', config: { anonymous: 'no-body' } }]),
          route('ldaps', { ldaps: true, ldap_port: ldap.tlsPort }),
          route('starttls', { start_tls: true }),
          route('verified', { ldaps: true, ldap_port: ldap.tlsPort, verify_ldap_host: true, ldap_host: 'localhost' }),
          // Kong's cache key covers host, port, base_dn, attribute and cache_ttl only, so routes that
          // must not see other routes' cached binds get a cache_ttl of their own.
          route('mismatch', { ldaps: true, ldap_port: ldap.tlsPort, verify_ldap_host: true, cache_ttl: 58 }),
          route('short-cache', { cache_ttl: 1 }),
          route('frozen', { timeout: 300, cache_ttl: 59 }),
          route('down', { ldap_port: await refusingPort() }),
        ],
      }],
      consumers: [
        { username: 'no-body' },
        { username: 'mickey', keyauth_credentials: [{ key: 'mouse' }] },
      ],
    },
  });
});

after(async () => {
  await gw?.stop();
  await up?.close();
  await ldap?.close();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${gw.proxy}${path}`, { headers });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, seen: r.status === 200 ? JSON.parse(text) as Seen : null };
}

test('no credentials: 401 Unauthorized with WWW-Authenticate: LDAP', async () => {
  const r = await get('/plain');
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'LDAP');
  assert.equal(r.text, UNAUTHORIZED_BODY);
});

test('valid user: proxied with X-Credential-Identifier and no consumer headers', async () => {
  const auth = ldapAuth('einstein', 'password');
  const r = await get('/plain', {
    authorization: auth, 'x-consumer-username': 'forged', 'x-consumer-id': 'forged', 'x-anonymous-consumer': 'true',
  });
  assert.equal(r.status, 200);
  const h = r.seen!.headers;
  assert.equal(h['x-credential-identifier'], 'einstein');
  assert.equal(h['x-consumer-username'], undefined);
  assert.equal(h['x-consumer-id'], undefined);
  assert.equal(h['x-anonymous-consumer'], undefined);
  assert.equal(h['authorization'], auth, 'without hide_credentials the header goes upstream');
});

test('wrong password, unknown user, an injected DN: 401 Unauthorized', async () => {
  for (const [u, p] of [['einstein', 'wrong'], ['nobody', 'password'], ['einstein,ou=people', 'password'], ['*', 'password']]) {
    const r = await get('/plain', { authorization: ldapAuth(u!, p!) });
    assert.equal(r.status, 401, `${u}:${p}`);
    assert.equal(r.headers.get('www-authenticate'), 'LDAP');
    assert.equal(r.text, UNAUTHORIZED_BODY);
  }
});

test('malformed values are 401; scheme is case-insensitive and may follow spaces', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  for (const value of ['abcd', 'ldap ', `ldap ${b64('einstein:')}`, `ldap ${b64('einstein')}`, `invalidldap ${b64('einstein:password')}`,
    `ldap${b64('einstein:password')}`, `ldap ${b64('einstein:password:another')}`]) {
    const r = await get('/plain', { authorization: value });
    assert.equal(r.status, 401, value);
    assert.equal(r.headers.get('www-authenticate'), 'LDAP');
  }
  assert.equal((await get('/plain', { authorization: ` LDAP ${b64('einstein:password')}` })).status, 200);
  // Only the first colon separates: the rest is the password.
  assert.equal((await get('/plain', { authorization: ldapAuth('curie', 'pass:with:colons') })).status, 200);
});

test('Proxy-Authorization is tried first, then Authorization', async () => {
  let r = await get('/plain', { 'proxy-authorization': ldapAuth('newton', 'gravity') });
  assert.equal(r.status, 200);
  assert.equal(r.seen!.headers['x-credential-identifier'], 'newton');
  r = await get('/plain', { 'proxy-authorization': ldapAuth('newton', 'nope'), authorization: ldapAuth('einstein', 'password') });
  assert.equal(r.status, 200);
  assert.equal(r.seen!.headers['x-credential-identifier'], 'einstein');
  r = await get('/plain', { 'proxy-authorization': ldapAuth('newton', 'gravity'), authorization: ldapAuth('einstein', 'password') });
  assert.equal(r.seen!.headers['x-credential-identifier'], 'newton');
});

test('hide_credentials strips both headers upstream; realm is in the challenge', async () => {
  const r = await get('/hidden', { authorization: ldapAuth('einstein', 'password'), 'proxy-authorization': 'ldap junk' });
  assert.equal(r.status, 200);
  assert.equal(r.seen!.headers['authorization'], undefined);
  assert.equal(r.seen!.headers['proxy-authorization'], undefined);
  const denied = await get('/hidden', { authorization: ldapAuth('einstein', 'wrong') });
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get('www-authenticate'), 'LDAP realm="test-ldap"');
});

test('header_type: a custom scheme is accepted and named in the challenge', async () => {
  assert.equal((await get('/custom-type', { authorization: ldapAuth('einstein', 'password', 'basic') })).status, 200);
  const r = await get('/custom-type', { authorization: ldapAuth('einstein', 'password') });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'Basic realm="test-ldap"');
  assert.equal((await get('/custom-type')).headers.get('www-authenticate'), 'Basic realm="test-ldap"');
});

test('anonymous: failures fall back to the anonymous consumer; success keeps the LDAP identity', async () => {
  for (const headers of [{}, { authorization: ldapAuth('einstein', 'wrong') }] as Record<string, string>[]) {
    const r = await get('/anon', headers);
    assert.equal(r.status, 200);
    assert.equal(r.seen!.headers['x-anonymous-consumer'], 'true');
    assert.equal(r.seen!.headers['x-consumer-username'], 'no-body');
    assert.equal(r.seen!.headers['x-credential-identifier'], undefined);
  }
  const ok = await get('/anon', { authorization: ldapAuth('einstein', 'password') });
  assert.equal(ok.seen!.headers['x-credential-identifier'], 'einstein');
  assert.equal(ok.seen!.headers['x-anonymous-consumer'], undefined);
  assert.equal(ok.seen!.headers['x-consumer-username'], undefined);
});

test('anonymous consumer that does not exist: 500 naming it', async () => {
  const r = await get('/anon-missing');
  assert.equal(r.status, 500);
  assert.equal(JSON.parse(r.text).message, `anonymous consumer ${MISSING_ANON} is configured but doesn't exist`);
});

test('logical OR with key-auth: either credential authenticates', async () => {
  let r = await get('/either', { apikey: 'mouse' });
  assert.equal(r.seen!.headers['x-consumer-username'], 'mickey');
  r = await get('/either', { authorization: ldapAuth('newton', 'gravity') });
  assert.equal(r.seen!.headers['x-credential-identifier'], 'newton');
  assert.equal(r.seen!.headers['x-anonymous-consumer'], undefined);
  r = await get('/either');
  assert.equal(r.seen!.headers['x-consumer-username'], 'no-body');
  assert.equal(r.seen!.headers['x-anonymous-consumer'], 'true');
});

test('ldaps and StartTLS bind over TLS', async () => {
  for (const path of ['/ldaps', '/starttls']) {
    assert.equal((await get(path, { authorization: ldapAuth('einstein', 'password') })).status, 200, path);
    assert.equal((await get(path, { authorization: ldapAuth('einstein', 'wrong') })).status, 401, path);
  }
});

test('verify_ldap_host: a trusted certificate naming the host passes; a hostname mismatch is 401 as in Kong', async () => {
  assert.equal((await get('/verified', { authorization: ldapAuth('einstein', 'password') })).status, 200);
  const r = await get('/mismatch', { authorization: ldapAuth('einstein', 'password') });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), 'LDAP');
});

test('connections are kept alive and reused between binds', async () => {
  await get('/plain', { authorization: ldapAuth('newton', 'gravity') });
  await ldap.syncLog();
  const connections = ldap.connectionCount();
  for (const [u, p] of [['einstein', 'password'], ['newton', 'gravity-x'], ['curie', 'pass:with:colons-x']]) {
    await get('/plain', { authorization: ldapAuth(u!, p!) });
  }
  await ldap.syncLog();
  // One extra connection: the log marker's own.
  assert.equal(ldap.connectionCount(), connections + 1);
});

test('LDAP unreachable: 500 An unexpected error occurred', async () => {
  const r = await get('/down', { authorization: ldapAuth('einstein', 'password') });
  assert.equal(r.status, 500);
  assert.equal(JSON.parse(r.text).message, 'An unexpected error occurred');
  // Without credentials there is nothing to ask LDAP: a plain 401.
  assert.equal((await get('/down')).status, 401);
});

test('LDAP not answering within timeout: 500', async () => {
  await ldap.freeze();
  try {
    const started = Date.now();
    const r = await get('/frozen', { authorization: ldapAuth('newton', 'gravity') });
    assert.equal(r.status, 500);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    ldap.thaw();
  }
  assert.equal((await get('/frozen', { authorization: ldapAuth('newton', 'gravity') })).status, 200);
});

test('bind results are cached for cache_ttl: served with slapd down, then 500 once expired', async () => {
  const good = { authorization: ldapAuth('einstein', 'password') };
  const bad = { authorization: ldapAuth('newton', 'not-gravity') };
  await ldap.syncLog();
  const binds = ldap.bindCount();
  assert.equal((await get('/short-cache', good)).status, 200);
  assert.equal((await get('/short-cache', bad)).status, 401);
  assert.equal((await get('/short-cache', good)).status, 200);
  assert.equal((await get('/short-cache', bad)).status, 401);
  await ldap.syncLog();
  assert.equal(ldap.bindCount() - binds, 2, 'one bind per distinct credential');
  await ldap.stop();
  try {
    assert.equal((await get('/short-cache', good)).status, 200, 'accepted bind served from the cache');
    assert.equal((await get('/short-cache', bad)).status, 401, 'refused bind served from the cache');
    // cache_ttl is 1 s: poll until the entry expires and LDAP is asked again (and is down).
    const deadline = Date.now() + 5_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await get('/short-cache', good)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 500);
  } finally {
    await ldap.start();
  }
  assert.equal((await get('/short-cache', good)).status, 200, 'errors are not cached');
});
