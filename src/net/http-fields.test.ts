import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldValue, isHeaderField, isHeaderName, isHeaderValue } from './http-fields.ts';

test('isHeaderName and isHeaderValue: tokens; no control character but tab, nothing beyond latin1', () => {
  for (const ok of ['Host', 'x-forwarded-for', "!#$%&'*+-.^_`|~09az"]) assert.ok(isHeaderName(ok), ok);
  for (const bad of ['', 'a b', 'a:b', 'a\r\nb', 'é', '(x)']) assert.ok(!isHeaderName(bad), JSON.stringify(bad));
  for (const ok of ['', 'a b', 'tab\there', 'latin1 \xa0\xff', '~!']) assert.ok(isHeaderValue(ok), JSON.stringify(ok));
  for (const bad of ['a\r\nb', 'a\nb', 'a\rb', 'nul\0', 'del\x7f', 'esc\x1b', 'wide \u0100']) assert.ok(!isHeaderValue(bad), JSON.stringify(bad));
});

test('isHeaderField: a remembered valid value never vouches for another one', () => {
  const name = 'x-field-test';
  assert.ok(isHeaderField(name, 'same'));
  assert.ok(isHeaderField(name, 'same'), 'the remembered value');
  // Each of these differs from the remembered value: all are checked in full.
  for (const bad of ['same\r\nInjected: 1', 'same\n', 'same\0', 'same\x7f', 'sa\rme']) {
    assert.equal(isHeaderField(name, bad), false, JSON.stringify(bad));
  }
  assert.ok(isHeaderField(name, 'same'), 'still valid after the refusals');
  assert.ok(isHeaderField(name, 'other'));
  assert.equal(isHeaderField(name, 'other\r\n'), false);
  // A long value is not remembered, but checked every time.
  const long = 'v'.repeat(500);
  assert.ok(isHeaderField(name, long));
  assert.equal(isHeaderField(name, `${long}\r\nX: 1`), false);
  // A bad name fails whatever its value, the first time and every time after.
  for (let i = 0; i < 2; i++) {
    assert.equal(isHeaderField('bad name', 'ok'), false);
    assert.equal(isHeaderField('x\r\ny', 'ok'), false);
  }
});

test('fieldValue: the value without the spaces and tabs around it', () => {
  assert.equal(fieldValue('Name: \t a b \t', 5, 13), 'a b');
  assert.equal(fieldValue('Name:', 5, 5), '');
  assert.equal(fieldValue('Name:  ', 5, 7), '');
});
