/**
 * The template evaluator: Kong's template forms, Lua truthiness, literal text (including `#`),
 * runtime errors, and what it refuses to compile (it never runs code).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capturesTable, compileTemplate, headersTable, recordTable, TemplateError, type TemplateEnv } from './template.ts';

function env(over: { headers?: Record<string, unknown>; query?: Record<string, unknown>; captures?: Record<string, string>; shared?: Record<string, unknown> } = {}): TemplateEnv {
  return {
    headers: () => headersTable(over.headers ?? {}),
    query_params: () => recordTable(over.query ?? {}, (k) => k),
    uri_captures: () => capturesTable(over.captures ?? {}),
    shared: () => recordTable(over.shared ?? {}, (k) => k),
  };
}

const render = (t: string, e: TemplateEnv = env()) => compileTemplate(t).render(e);

test('plain values are literal, including a leading # and unbalanced $(', () => {
  assert.equal(render('value'), 'value');
  assert.equal(render('#value'), '#value');
  assert.equal(render('# not lua\n#again'), '# not lua\n#again');
  assert.equal(render('a $( b'), 'a $( b');
  assert.equal(compileTemplate('x').literal, true);
});

test('headers: dotted, bracketed, case-insensitive, underscores for dashes', () => {
  const e = env({ headers: { 'x-api-key': 'k1', host: 'h.test' } });
  assert.equal(render('$(headers["x-api-key"])', e), 'k1');
  assert.equal(render("$(headers['X-Api-Key'])", e), 'k1');
  assert.equal(render('$(headers.x_api_key)', e), 'k1');
  assert.equal(render('$(headers.host)', e), 'h.test');
  assert.equal(render('key=$(headers.missing)!', e), 'key=!');
});

test('repeated headers are lists: [1] is the first value', () => {
  const e = env({ headers: { 'x-foo': ['1', '2'] } });
  assert.equal(render('$(headers["x-foo"][1])-first', e), '1-first');
  assert.equal(render('$(headers["x-foo"][2])', e), '2');
  assert.equal(render('$(headers["x-foo"])', e), '1, 2');
});

test('query params, captures (numbered and named), shared', () => {
  const e = env({ query: { q: 'v', flag: true }, captures: { '0': '/u/7', '1': '7', id: '7' }, shared: { my_version: '1.2.3', n: 5 } });
  assert.equal(render('$(query_params.q)', e), 'v');
  assert.equal(render('$(query_params["flag"])', e), 'true');
  assert.equal(render('$(uri_captures[1])', e), '7');
  assert.equal(render('$(uri_captures[0])', e), '/u/7');
  assert.equal(render('$(uri_captures.id)', e), '7');
  assert.equal(render('$(uri_captures["id"])', e), '7');
  assert.equal(render('$(uri_captures["1"])', e), '', 'a string key is not a position');
  assert.equal(render('$(shared.my_version)', e), '1.2.3');
  assert.equal(render('$(shared.n)', e), '5');
});

test('or / and / .. follow Lua', () => {
  const e = env({ captures: { user1: 'foo' } });
  assert.equal(render("$(uri_captures.user1 or 'default1')", e), 'foo');
  assert.equal(render("$(uri_captures.user2 or 'default2')", e), 'default2');
  assert.equal(render("$(uri_captures.user1 and 'yes' or 'no')", e), 'yes');
  assert.equal(render("$(uri_captures.user2 and 'yes' or 'no')", e), 'no');
  assert.equal(render('/requests/$(uri_captures.user1 .. "-" .. 3)', e), '/requests/foo-3');
  assert.equal(render("$(false)$(nil)$(true)", e), 'true');
  assert.equal(render("$('$(uri_captures.user1)')", e), '$(uri_captures.user1)', 'a quoted template stays text');
});

test('runtime errors: indexing nil, concatenating nil', () => {
  assert.throws(() => render('$(headers.a.b)'), (err: unknown) => err instanceof TemplateError && /attempt to index a nil value/.test(err.message));
  assert.throws(() => render('$(headers.a .. "x")'), (err: unknown) => err instanceof TemplateError && /attempt to concatenate a nil value/.test(err.message));
});

test('refused at compile time: calls, assignments, unknown names, bad syntax', () => {
  for (const t of ['$(ERROR())', '$(type(headers.x))', '$(shared.written = true)', '$(os)', '$(uri_captures user2)',
    "$(require('inspect')(1))", '$(10 * uri_captures.user1)', '$(headers[)', '$("unterminated)']) {
    assert.throws(() => compileTemplate(t), TemplateError, t);
  }
});
