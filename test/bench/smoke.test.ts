/**
 * `npm run bench:smoke` inside `npm test`, so CI proves the bench harness still runs: nginx as the
 * upstream and the reference, Turnpike on the plain scenario config, wrk for load, the report.
 * Behaviour only (every row measured, every answer a 200, the ratio computed); no timing is asserted.
 * Needs nginx and wrk (`.ci/run` installs them) and the fixed bench ports 8080 and 9000 (nginx) and 18000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

test('npm run bench:smoke measures nginx and Turnpike and reports the ratio', { timeout: 100_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-smoke-'));
  const out = join(dir, 'smoke.tsv');
  // Its own process group: a failed run takes its wrk and servers with it (bench.sh cleans up on exit).
  const child = spawn('npm', ['run', '--silent', 'bench:smoke'], { cwd: ROOT, env: { ...process.env, OUT: out }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  try {
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `bench:smoke exited ${code}\n${stdout}\n${stderr}`);
    const [head, ...rows] = readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const col = (n: string): number => head!.indexOf(n);
    const byName = new Map(rows.map((r) => [r[col('name')], r]));
    for (const name of ['nginx-proxy-w1', 'turnpike-plain-w1']) {
      const r = byName.get(name);
      assert.ok(r, `no ${name} row in ${out}:\n${rows.map((x) => x.join(' ')).join('\n')}`);
      assert.ok(Number(r[col('rps')]) > 0, `${name} served nothing: ${r.join(' ')}`);
      assert.equal(Number(r[col('non2xx')]), 0, `${name} answered non-2xx: ${r.join(' ')}`);
      assert.ok(Number(r[col('gw_cpu_us_req')]) > 0, `${name} has no CPU figure: ${r.join(' ')}`);
    }
    // The report's Turnpike row carries a ratio to nginx measured in the same run.
    const line = stdout.split('\n').find((l) => l.startsWith('| turnpike-plain-w1 |'));
    assert.ok(line, `no Turnpike row in the report:\n${stdout}`);
    const cells = line.split('|').map((c) => c.trim());
    const header = stdout.split('\n').find((l) => l.startsWith('| scenario |'))!.split('|').map((c) => c.trim());
    assert.match(cells[header.indexOf('req/s ÷ nginx')]!, /^\d+\.\d\d$/);
    assert.equal(cells[header.indexOf('nginx row')], 'nginx-proxy-w1');
  } finally {
    if (child.exitCode === null) try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});
