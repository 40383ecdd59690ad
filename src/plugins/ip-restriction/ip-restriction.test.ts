/**
 * ip-restriction: schema (IP/CIDR messages, at least one list) and the allow/deny decision with
 * default and custom status/message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginExit } from '../api.ts';
import { makeContext, silentLog, validatePluginConfig } from '../../../test/harness/plugin-context.ts';
import plugin from './index.ts';


const validate = (config: unknown) => validatePluginConfig(plugin, config);

function decide(config: Record<string, unknown>, clientIp: string): PluginExit | undefined {
  const v = validate(config);
  assert.ok(v.ok, JSON.stringify(v));
  return plugin.create(v.config as never, { entity: {} as never, log: silentLog }).access!(makeContext({ clientIp })) as PluginExit | undefined;
}

test('valid lists, status and message', () => {
  assert.equal(validate({ allow: ['127.0.0.1/32', '127.0.0.2/32'] }).ok, true);
  assert.equal(validate({ allow: ['127.0.0.1/32'], status: 403, message: 'Forbidden' }).ok, true);
  assert.equal(validate({ deny: ['127.0.0.1/8'] }).ok, true);
  assert.equal(validate({ allow: ['::/0', '::/1', '::/128'] }).ok, true);
  assert.equal(validate({ allow: ['127.0.0.1'], deny: ['127.0.0.2'] }).ok, true);
});

test('schema errors: types, invalid IPs and CIDRs, both lists empty', () => {
  assert.deepEqual(validate({ allow: 12 }), { ok: false, errors: { allow: 'expected an array' } });
  assert.deepEqual(validate({ deny: 12 }), { ok: false, errors: { deny: 'expected an array' } });
  assert.deepEqual(validate({ allow: ['hello'] }), { ok: false, errors: { allow: ["invalid ip or cidr range: 'hello'"] } });
  assert.deepEqual(validate({ deny: ['127.0.0.1/32', '127.0.0.2/32', 'hello'] }),
    { ok: false, errors: { deny: [null, null, "invalid ip or cidr range: 'hello'"] } });
  assert.deepEqual(validate({ allow: ['0.0.0.0/a', '0.0.0.0/-1', '0.0.0.0/33'] }), { ok: false, errors: { allow: [
    "invalid ip or cidr range: '0.0.0.0/a'", "invalid ip or cidr range: '0.0.0.0/-1'", "invalid ip or cidr range: '0.0.0.0/33'",
  ] } });
  assert.deepEqual(validate({ allow: ['::/129', '::1/a'] }), { ok: false, errors: { allow: [
    "invalid ip or cidr range: '::/129'", "invalid ip or cidr range: '::1/a'",
  ] } });
  const entity = { ok: false, errors: { '@entity': ["at least one of these fields must be non-empty: 'config.allow', 'config.deny'"] } };
  assert.deepEqual(validate({ allow: [], deny: [] }), entity);
  assert.deepEqual(validate({}), entity);
});

test('deny list: listed clients get 403 "IP address not allowed: <ip>"', () => {
  assert.deepEqual(decide({ deny: ['10.0.0.0/8'] }, '10.1.2.3'), { status: 403, message: 'IP address not allowed: 10.1.2.3' });
  assert.equal(decide({ deny: ['10.0.0.0/8'] }, '11.1.2.3'), undefined);
});

test('allow list: others refused', () => {
  assert.equal(decide({ allow: ['192.168.0.0/16'] }, '192.168.4.4'), undefined);
  assert.deepEqual(decide({ allow: ['192.168.0.0/16'] }, '8.8.8.8'), { status: 403, message: 'IP address not allowed: 8.8.8.8' });
});

test('deny is evaluated first, then allow', () => {
  const cfg = { allow: ['10.0.0.0/8'], deny: ['10.0.0.5'] };
  assert.equal(decide(cfg, '10.0.0.4'), undefined);
  assert.equal(decide(cfg, '10.0.0.5')?.status, 403);
  assert.equal(decide(cfg, '9.0.0.5')?.status, 403);
});

test('custom status and message', () => {
  assert.deepEqual(decide({ deny: ['1.2.3.4'], status: 401, message: 'go away' }, '1.2.3.4'), { status: 401, message: 'go away' });
});

test('IPv6 clients and IPv4-mapped addresses', () => {
  assert.equal(decide({ deny: ['2001:db8::/32'] }, '2001:db8::1')?.status, 403);
  assert.equal(decide({ deny: ['1.2.3.0/24'] }, '::ffff:1.2.3.4')?.status, 403);
  assert.equal(decide({ allow: ['::1'] }, '::1'), undefined);
});

test('no client address (unix socket): 403 with Kong\'s message', () => {
  assert.deepEqual(decide({ allow: ['1.1.1.1'] }, ''), { status: 403, message: 'Cannot identify the client IP address, unix domain sockets are not supported.' });
});
