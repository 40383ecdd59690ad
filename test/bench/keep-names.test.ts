/**
 * `npm start` runs the sources through tsx, which transpiles with esbuild's keepNames: a class
 * field written as a named arrow becomes `__name(arrow, "field")`, a `defineProperty` on every
 * instance. On the classes made per request that cost ~4 µs a request (BENCHMARKS.md, session 19),
 * so they must hold none. The check reads esbuild's own output with tsx's option, as tsx makes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';

const SRC = new URL('../../src/', import.meta.url);

/** Class name → fields whose initialiser tsx wraps in `__name`, for every class of one file. */
function namedArrowFields(file: string): Map<string, string[]> {
  const { code } = transformSync(readFileSync(new URL(file, SRC), 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', keepNames: true });
  const out = new Map<string, string[]>();
  let current: string | null = null;
  // esbuild prints a class's members two spaces in, its declaration and closing brace at column 0.
  for (const line of code.split('\n')) {
    const decl = /^(?:export )?(?:class (\w+)|var (\w+) = class)\b/.exec(line);
    if (decl) { current = decl[1] ?? decl[2]!; out.set(current, []); continue; }
    if (/^\}/.test(line)) { current = null; continue; }
    const field = /^ {2}(?:static )?(#?\w+) = (?:\/\* @__PURE__ \*\/ )?__name\(/.exec(line);
    if (field && current) out.get(current)!.push(field[1]!);
  }
  return out;
}

const PER_REQUEST: [file: string, classes: string[]][] = [
  ['gateway/http1/proxy-response.ts', ['ProxyResponse']],
  ['gateway/http1/bodiless-request.ts', ['BodilessRequest']],
  ['gateway/upstream/h1-pool.ts', ['Exchange']],
  ['gateway/request-flow.ts', ['UpstreamResponseHandler']],
  ['gateway/pipeline/context.ts', ['ClientRequestView', 'UpstreamRequestState', 'ResponseState', 'RequestContext']],
];

test('the classes made per request hold no arrow field that tsx names per instance', () => {
  for (const [file, classes] of PER_REQUEST) {
    const found = namedArrowFields(file);
    for (const name of classes) {
      assert.ok(found.has(name), `${file}: class ${name} not found in esbuild's output`);
      assert.deepEqual(found.get(name), [], `${file}: ${name} has named arrow fields, one defineProperty each per request under tsx`);
    }
  }
});

test('the check sees named arrow fields where they are (a pooled connection has them, made once each)', () => {
  const pool = namedArrowFields('gateway/upstream/h1-pool.ts');
  assert.ok(pool.get('Connection')!.includes('#onRead'), `Connection's fields as read: ${JSON.stringify(pool.get('Connection'))}`);
  const server = namedArrowFields('gateway/http1/proxy-server.ts');
  assert.ok(server.get('ClientConnection')!.includes('#onHeadersComplete'));
});
