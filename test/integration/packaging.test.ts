/**
 * Packaging: `npm run build` gives an entry (and its chunks) that plain `node` runs (no tsx), cluster workers
 * included; the Dockerfile keeps its invariants (checked statically: there is no Docker engine here).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../harness/ports.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = `${ROOT}dist/turnpike.mjs`;

let child: ChildProcess | undefined;
after(() => { child?.kill('SIGKILL'); });

test('npm run build: dist/turnpike.mjs serves the getting-started example with plain node and 2 workers', async () => {
  const built = await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });
  assert.match(built.stdout, /built dist\/turnpike\.mjs/);
  const bundle = readFileSync(BUNDLE, 'utf8');
  assert.ok(bundle.startsWith('#!/usr/bin/env node\n'));
  // Turnpike's own sources are inlined into the entry and the chunks split at dynamic imports
  // (so a worker never loads the controller); nothing loads TypeScript at run time.
  const files = readdirSync(`${ROOT}dist`).filter((f) => f.endsWith('.mjs'));
  assert.ok(files.some((f) => /^chunk-\w+\.mjs$/.test(f)), files.join(' '));
  for (const f of files) {
    const text = readFileSync(`${ROOT}dist/${f}`, 'utf8');
    assert.doesNotMatch(text, /from ["']tsx|import\(["'][^"']*\.ts["']\)/, f);
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']*)["']/g)) {
      assert.ok(/^\.\/[\w-]+\.mjs$/.test(m[1]!) && files.includes(m[1]!.slice(2)), `${f} imports ${m[1]}: only chunks beside it`);
    }
  }

  const [proxy, admin, status, gui, echo] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  // `start` reads the example manifests and the dashboard serves its assets: both copied into dist/.
  child = spawn(process.execPath, [BUNDLE, 'start', '--workers', '2', '--log-level', 'error',
    '--proxy-listen', `127.0.0.1:${proxy}`, '--admin-listen', `127.0.0.1:${admin}`,
    '--status-listen', `127.0.0.1:${status}`, '--gui-listen', `127.0.0.1:${gui}`],
  { cwd: '/', env: { ...process.env, NODE_OPTIONS: '', TURNPIKE_ECHO_PORT: String(echo) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    assert.equal(child.exitCode, null, `the bundle exited:\n${output}`);
    assert.ok(Date.now() < deadline, `not ready in 30 s:\n${output}`);
    const ready = await fetch(`http://127.0.0.1:${status}/status/ready`).then((r) => r.status, () => 0);
    if (ready === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(output, /2 worker\(s\)/);
  assert.match(output, /manifests from .*\/dist\/examples\/getting-started\//);
  const r = await fetch(`http://127.0.0.1:${proxy}/echo`, { headers: { apikey: 'hello_world' } });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /^Welcome, you are connected to node /);
  const page = await fetch(`http://127.0.0.1:${gui}/`);
  assert.equal(page.status, 200);
  const root = await (await fetch(`http://127.0.0.1:${admin}/`)).json() as { version: string; pids: { workers: number[] } };
  assert.equal(root.version, (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version);
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child!.once('exit', resolve));
  assert.equal(code, 0);
});

test('Dockerfile: multi-stage, slim Node 20, non-root runtime with only dist and production deps', () => {
  const text = readFileSync(`${ROOT}Dockerfile`, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  const stages = lines.filter((l) => /^FROM /.test(l));
  assert.ok(stages.length >= 2, 'multi-stage');
  for (const s of stages) assert.match(s, /^FROM node:20-bookworm-slim AS \w+$/);
  const runtimeStart = lines.lastIndexOf(stages.at(-1)!);
  const runtime = lines.slice(runtimeStart);
  const build = lines.slice(0, runtimeStart);
  assert.ok(build.some((l) => /RUN npm ci\b/.test(l)));
  assert.ok(build.some((l) => /RUN npm run build\b/.test(l)));
  assert.ok(build.some((l) => /npm ci --omit=dev/.test(l)), 'production dependencies installed separately');
  // The runtime stage copies only the bundle and node_modules from earlier stages, runs no npm.
  const copies = runtime.filter((l) => /^COPY /.test(l));
  assert.ok(copies.length > 0 && copies.every((l) => /--from=\w+/.test(l)), copies.join('\n'));
  assert.deepEqual(copies.map((l) => l.split(/\s+/).at(-2)).sort(), ['/app/node_modules', '/src/dist']);
  assert.ok(!runtime.some((l) => /^RUN /.test(l)), 'nothing installed or written in the runtime stage');
  const user = runtime.filter((l) => /^USER /.test(l)).at(-1);
  assert.ok(user && !/^USER (root|0)(:|$)/.test(user.slice(5).trim()), 'runs as a non-root user');
  assert.match(runtime.find((l) => /^EXPOSE /.test(l)) ?? '', /^EXPOSE 8000 8001 8100$/);
  assert.match(text, /HEALTHCHECK [\s\S]*\/status\/ready/);
  assert.match(runtime.find((l) => /^ENTRYPOINT /.test(l)) ?? '', /dist\/turnpike\.mjs/);
  // Every file the build stages COPY from the context exists (and is not excluded by .dockerignore).
  const ignored = readFileSync(`${ROOT}.dockerignore`, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const l of build.filter((x) => /^COPY /.test(x) && !/--from=/.test(x))) {
    const sources = l.split(/\s+/).slice(1, -1).filter((a) => !a.startsWith('--'));
    for (const src of sources) {
      assert.ok(existsSync(`${ROOT}${src}`), `COPY source ${src} exists`);
      assert.ok(!ignored.includes(src) && !ignored.includes(src.split('/')[0]!), `COPY source ${src} is not in .dockerignore`);
    }
  }
  for (const must of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(must), `.dockerignore has ${must}`);
});
