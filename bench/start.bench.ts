/**
 * Benchmark: how long `turnpike gateway --config kong.yml` (one worker) takes from exec to
 * `/status/ready` = 200, and to exit after SIGTERM; from the build (`dist/turnpike.mjs`, made here
 * if missing, as the image runs it) and from the sources through tsx (`bin/turnpike.js`, as
 * `npm start` runs them). Medians of ROUNDS starts each, taken in turn. A plain script, not a test:
 *   node --import tsx bench/start.bench.ts [ROUNDS]
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/harness/ports.ts';

const rounds = Number(process.argv[2] ?? 5);
const root = fileURLToPath(new URL('..', import.meta.url));
const entries = { build: join(root, 'dist/turnpike.mjs'), tsx: join(root, 'bin/turnpike.js') };
if (!existsSync(entries.build)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
const config = join(mkdtempSync(join(tmpdir(), 'turnpike-start-')), 'kong.yml');
writeFileSync(config, '_format_version: "3.0"\nservices:\n- name: s\n  url: http://127.0.0.1:9\n  routes:\n  - name: r\n    paths: [/]\n');

async function once(entry: string): Promise<{ ready: number; exit: number }> {
  const [proxy, status] = [await freePort(), await freePort()];
  const t0 = performance.now();
  const child = spawn(process.execPath, [entry, 'gateway', '--config', config, '--workers', '1', '--log-level', 'error',
    '--proxy-listen', `127.0.0.1:${proxy}`, '--status-listen', `127.0.0.1:${status}`, '--admin-listen', 'off', '--gui-listen', 'off'],
  { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
    const code = await fetch(`http://127.0.0.1:${status}/status/ready`).then((r) => r.status, () => 0);
    if (code === 200) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const ready = performance.now() - t0;
  const t1 = performance.now();
  child.kill('SIGTERM');
  await exited;
  return { ready, exit: performance.now() - t1 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { ready: number[]; exit: number[] }> = { build: { ready: [], exit: [] }, tsx: { ready: [], exit: [] } };
await once(entries.build); // the page cache and tsx's transform cache, once
await once(entries.tsx);
for (let i = 0; i < rounds; i++) {
  for (const [name, entry] of Object.entries(entries)) {
    const r = await once(entry);
    results[name]!.ready.push(r.ready);
    results[name]!.exit.push(r.exit);
  }
}
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(5)}: exec -> /status/ready ${median(r.ready).toFixed(0)} ms (of ${r.ready.map((x) => x.toFixed(0)).join(', ')}); SIGTERM -> exit ${median(r.exit).toFixed(0)} ms`);
}
console.log(JSON.stringify({ rounds, readyMs: { build: Math.round(median(results.build!.ready)), tsx: Math.round(median(results.tsx!.ready)) } }));
