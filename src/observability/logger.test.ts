/**
 * The logger: Kong's level names accepted (and others refused with the list), JSON records by
 * default, and the one-line human form a terminal gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLogLevel, formatHumanLine } from './logger.ts';

test("Kong's level names are accepted; anything else is refused with the list", () => {
  for (const l of ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg', 'silent']) assertLogLevel(l);
  assert.throws(() => assertLogLevel('verbose'), /invalid log level 'verbose': expected one of debug, info, notice/);
});

test('a pino record becomes one human line: time, level, process, message, extra fields', () => {
  const time = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const line = formatHumanLine(JSON.stringify({
    level: 40, time, pid: 4242, role: 'primary', msg: 'target health changed', upstream: 'backend', healthy: false, where: 'two words',
  }));
  assert.equal(line, '03:04:05.678 WARN  [primary 4242] target health changed upstream=backend healthy=false where="two words"\n');
});

test('errors print as type and message; nested newlines never split the line', () => {
  const line = formatHumanLine(JSON.stringify({
    level: 50, time: 0, pid: 1, role: 'worker', msg: 'request failed',
    err: { type: 'TypeError', message: 'x is not\na function', stack: 'TypeError: x\n    at y' },
  }));
  assert.equal(line.split('\n').length, 2, 'exactly one line');
  assert.match(line, /ERROR \[worker 1\] request failed err="TypeError: x is not\\na function"/);
});

test('colour codes only when asked; a non-JSON line passes through', () => {
  assert.match(formatHumanLine(JSON.stringify({ level: 30, time: 0, msg: 'm' }), true), /\x1b\[32mINFO /);
  assert.equal(formatHumanLine('not json'), 'not json\n');
});
