/**
 * Unit tests of acl: every row of the reference's §4.3 table, authenticated groups, and the
 * allow/deny entity checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeContext } from '../../../test/harness/plugin-context.ts';
import type { Credential, PluginExit } from '../api.ts';
import type { Consumer } from '../../config/entities.ts';
import aclPlugin from './index.ts';
import { ALICE, ANON, BOB, acl, configOf, validatePluginConfig } from '../key-auth/test-fixtures.ts';

const ACLS = [
  acl('a0000000-0000-4000-8000-000000000001', ALICE.id, 'admin'),
  acl('a0000000-0000-4000-8000-000000000002', ALICE.id, 'users'),
  acl('a0000000-0000-4000-8000-000000000003', ANON.id, 'guests'),
];
const CONFIG = { consumers: [ALICE, BOB, ANON], acls: ACLS };
const FORBIDDEN = { status: 403, message: 'You cannot consume this service' };
const UNAUTHORIZED = { status: 401, message: 'Unauthorized' };

interface Who { consumer?: Consumer | null; credential?: Credential | null; groups?: string[]; shared?: unknown; headers?: Record<string, string> }

async function run(conf: Record<string, unknown>, who: Who = {}) {
  const ctx = makeContext({ config: CONFIG, headers: who.headers });
  if (who.consumer !== undefined || who.credential !== undefined || who.groups) {
    ctx.authenticate(who.consumer ?? null, who.credential ?? null, who.groups);
  }
  if (who.shared !== undefined) ctx.shared['authenticated_groups'] = who.shared;
  const h = aclPlugin.create(configOf(aclPlugin, conf), { entity: {} as never, log: ctx.log });
  const exit = (await h.access!(ctx)) ?? null;
  return { ctx, exit: exit as PluginExit | null };
}

const cred = (c: Consumer): Credential => ({ id: `cred-${c.username}`, consumer: { id: c.id } });

test('schema: defaults; exactly one of allow/deny with Kong entity messages', () => {
  assert.deepEqual(configOf(aclPlugin, { allow: ['a'] }), { allow: ['a'], deny: null, hide_groups_header: false, always_use_authenticated_groups: false });
  assert.equal(aclPlugin.priority, 950);
  const none = validatePluginConfig(aclPlugin, {});
  assert.equal(none.ok, false);
  if (!none.ok) {
    assert.deepEqual(none.errors, { '@entity': [
      "exactly one of these fields must be non-empty: 'config.allow', 'config.deny'",
      "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
    ] });
  }
  const both = validatePluginConfig(aclPlugin, { allow: ['a'], deny: ['b'] });
  assert.equal(both.ok, false);
  if (!both.ok) assert.deepEqual(both.errors, { '@entity': ["exactly one of these fields must be non-empty: 'config.allow', 'config.deny'"] });
  assert.equal(validatePluginConfig(aclPlugin, { allow: [], deny: ['b'] }).ok, true);
  const badType = validatePluginConfig(aclPlugin, { allow: 'admin' });
  assert.equal(badType.ok, false);
  if (!badType.ok) assert.deepEqual(badType.errors, { allow: 'expected an array' });
});

test('no consumer, no authenticated groups, no credential: 401 Unauthorized', async () => {
  assert.deepEqual((await run({ allow: ['admin'] })).exit, UNAUTHORIZED);
  assert.deepEqual((await run({ deny: ['admin'] })).exit, UNAUTHORIZED);
});

test('no consumer/groups but a credential: 403', async () => {
  assert.deepEqual((await run({ allow: ['admin'] }, { credential: { id: 'x' } })).exit, FORBIDDEN);
});

test('consumer without groups: allow-mode 401/403, deny-mode allowed', async () => {
  assert.deepEqual((await run({ allow: ['admin'] }, { consumer: BOB, credential: cred(BOB) })).exit, FORBIDDEN);
  assert.deepEqual((await run({ allow: ['admin'] }, { consumer: BOB })).exit, UNAUTHORIZED);
  const deny = await run({ deny: ['admin'] }, { consumer: BOB, credential: cred(BOB) });
  assert.equal(deny.exit, null);
  assert.equal(deny.ctx.upstream.headers['x-consumer-groups'], undefined);
});

test('allow-mode: a listed group passes with X-Consumer-Groups of all groups; none listed is 403', async () => {
  const ok = await run({ allow: ['users'] }, { consumer: ALICE, credential: cred(ALICE) });
  assert.equal(ok.exit, null);
  assert.equal(ok.ctx.upstream.headers['x-consumer-groups'], 'admin, users');
  assert.deepEqual((await run({ allow: ['other'] }, { consumer: ALICE, credential: cred(ALICE) })).exit, FORBIDDEN);
});

test('deny-mode: any listed group is 403, otherwise allowed', async () => {
  assert.deepEqual((await run({ deny: ['users', 'x'] }, { consumer: ALICE, credential: cred(ALICE) })).exit, FORBIDDEN);
  const ok = await run({ deny: ['x'] }, { consumer: ALICE, credential: cred(ALICE) });
  assert.equal(ok.exit, null);
  assert.equal(ok.ctx.upstream.headers['x-consumer-groups'], 'admin, users');
});

test('group matching is exact and case-sensitive', async () => {
  assert.deepEqual((await run({ allow: ['Admin'] }, { consumer: ALICE, credential: cred(ALICE) })).exit, FORBIDDEN);
});

test('hide_groups_header: no groups header upstream, client copies removed', async () => {
  const r = await run({ allow: ['admin'], hide_groups_header: true }, {
    consumer: ALICE, credential: cred(ALICE), headers: { 'x-consumer-groups': 'forged', 'x-authenticated-groups': 'forged' },
  });
  assert.equal(r.exit, null);
  assert.equal(r.ctx.upstream.headers['x-consumer-groups'], undefined);
  assert.equal(r.ctx.upstream.headers['x-authenticated-groups'], undefined);
});

test('authenticated groups without a consumer: X-Authenticated-Groups', async () => {
  const r = await run({ allow: ['ldap-admins'] }, { groups: ['ldap-users', 'ldap-admins'] });
  assert.equal(r.exit, null);
  assert.equal(r.ctx.upstream.headers['x-authenticated-groups'], 'ldap-users, ldap-admins');
  assert.equal(r.ctx.upstream.headers['x-consumer-groups'], undefined);
  assert.deepEqual((await run({ allow: ['nope'] }, { groups: ['ldap-users'] })).exit, FORBIDDEN);
  // kong.ctx.shared.authenticated_groups is honoured too.
  const shared = await run({ deny: ['bad'] }, { shared: ['good'] });
  assert.equal(shared.ctx.upstream.headers['x-authenticated-groups'], 'good');
});

test('anonymous consumer (no credential): authenticated groups override its acls', async () => {
  const r = await run({ allow: ['ldap'] }, { consumer: ANON, groups: ['ldap'] });
  assert.equal(r.exit, null);
  assert.equal(r.ctx.upstream.headers['x-authenticated-groups'], 'ldap');
  // Without authenticated groups, the anonymous consumer's own acls apply.
  const own = await run({ allow: ['guests'] }, { consumer: ANON });
  assert.equal(own.ctx.upstream.headers['x-consumer-groups'], 'guests');
});

test('always_use_authenticated_groups: authenticated groups win over a real consumer', async () => {
  const who = { consumer: ALICE, credential: cred(ALICE), groups: ['ext'] };
  assert.deepEqual((await run({ allow: ['ext'] }, who)).exit, FORBIDDEN, 'default: consumer groups');
  const r = await run({ allow: ['ext'], always_use_authenticated_groups: true }, who);
  assert.equal(r.exit, null);
  assert.equal(r.ctx.upstream.headers['x-authenticated-groups'], 'ext');
  // Falls back to the consumer's groups when none were authenticated.
  const fb = await run({ allow: ['admin'], always_use_authenticated_groups: true }, { consumer: ALICE, credential: cred(ALICE) });
  assert.equal(fb.ctx.upstream.headers['x-consumer-groups'], 'admin, users');
});

test('a credential whose consumer was not loaded still finds the groups by the credential', async () => {
  const r = await run({ allow: ['admin'] }, { credential: cred(ALICE) });
  assert.equal(r.exit, null);
  assert.equal(r.ctx.upstream.headers['x-consumer-groups'], 'admin, users');
});
