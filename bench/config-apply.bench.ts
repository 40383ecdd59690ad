/**
 * Benchmark: `POST /config` of 10,000 services + 10,000 routes applied to a running gateway under
 * load (validated by the primary, compiled and swapped in by every worker, 201 after the last ack),
 * with the failed-request count during the swaps and the gateway's own split of each apply; then
 * the memory a worker needs per 1,000 routes and per 1,000 consumers (a fresh gateway per config).
 * The gateway runs from the build (`dist/turnpike.mjs`, made here if missing), as the image runs it;
 * the sources through tsx carry tsx's loader and its `__name` wrappers. The config is posted by curl
 * (`npm run bench` installs it when missing). A plain script, not a test:
 *   node --import tsx bench/config-apply.bench.ts [WORKERS]
 */
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../test/harness/gateway-process.ts';
import { startLoad } from '../test/harness/load.ts';

const execFileAsync = promisify(execFile);
const workers = Number(process.argv[2] ?? 1);
const entry = fileURLToPath(new URL('../dist/turnpike.mjs', import.meta.url));
if (!existsSync(entry)) execFileSync('npm', ['run', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
const upstream = http.createServer((req, res) => { req.resume(); res.end('ok'); });
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;

const base = (generation: number) => ({ _format_version: '3.0', services: [{ name: 'live', url, tags: [`g${generation}`], routes: [{ name: 'live', paths: ['/live'] }] }] });
function withRoutes(n: number, generation: number) {
  const c = base(generation);
  for (let i = 0; i < n; i++) c.services.push({ name: `svc-${i}`, url, tags: [`g${generation}`], routes: [{ name: `route-${i}`, paths: [`/svc/${i}`] }] });
  return c;
}
function withConsumers(n: number) {
  const consumers = [];
  for (let i = 0; i < n; i++) consumers.push({ username: `user-${i}`, keyauth_credentials: [{ key: `key-${i}-${'k'.repeat(24)}` }] });
  return { ...base(0), consumers };
}

/** RSS (MB) of each worker: the gateway's node children, not the tsx/esbuild helper. */
function workerRss(primaryPid: number): number[] {
  const out: number[] = [];
  for (const pid of readFileSync(`/proc/${primaryPid}/task/${primaryPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (!/^Name:\s+node/m.test(status)) continue;
    out.push(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
  }
  return out;
}
const settle = () => new Promise((r) => setTimeout(r, 3_000));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const bodyFile = join(tmpdir(), `turnpike-config-apply-${process.pid}.json`);
const gw = await startGateway({ config: base(0), workers, args: ['--log-level', 'info'], entry });
/** The gateway's own split of the last apply (its 'configuration loaded' log line). */
const lastSplit = (): string => {
  const line = gw.output().split('\n').filter((l) => l.includes('configuration loaded')).at(-1);
  return line ? JSON.stringify((JSON.parse(line) as { ms?: unknown }).ms) : '?';
};
try {
  const load = startLoad({ url: `${gw.proxy}/live`, concurrency: 8, maxMs: 600_000, maxRequests: 10_000_000 });
  const applyMs: number[] = [];
  const gatewayMs: number[] = [];
  for (let generation = 1; generation <= 4; generation++) {
    const body = JSON.stringify(withRoutes(10_000, generation));
    writeFileSync(bodyFile, body);
    // As deck and the ingress controller send it: a JSON body that carries `_format_version`, from
    // a process of its own (this one also runs the load and the upstream, which would slow a
    // client here). curl's total is the time a user waits, the 9 MB answer included.
    const { stdout } = await execFileAsync('curl', ['-sS', '-o', '/dev/null', '-D', '-', '-w', '\n%{http_code} %{time_total}',
      '-H', 'content-type: application/json', '-H', 'Expect:', '--data-binary', `@${bodyFile}`, `${gw.admin}/config`]);
    const [status, seconds] = stdout.trim().split('\n').at(-1)!.split(' ');
    if (status !== '201') throw new Error(`POST /config answered ${status}`);
    applyMs.push(Number(seconds) * 1000);
    gatewayMs.push(Number(/^x-kong-admin-latency:\s*(\d+)/im.exec(stdout)?.[1]));
    console.log(`apply ${generation}: 10,000 services + 10,000 routes -> 201 in ${applyMs.at(-1)!.toFixed(0)} ms (under load; the gateway's X-Kong-Admin-Latency ${gatewayMs.at(-1)}); gateway's split ${lastSplit()}`);
  }
  const outcomes = await load.stop();
  const failed = outcomes.filter((o) => o.status !== 200).length;
  console.log(`requests during the swaps: ${outcomes.length}, failed: ${failed}`);
  const why = new Map<string, number>();
  for (const o of outcomes) if (o.status !== 200) { const k = `${o.status} ${o.error ?? o.body.slice(0, 80)}`; why.set(k, (why.get(k) ?? 0) + 1); }
  for (const [k, n] of why) console.log(`  ${n} x ${k}`);
  const slowest = outcomes.map((o) => o.endedAt - o.startedAt).sort((a, b) => b - a).slice(0, 5);
  console.log(`  slowest requests (ms): ${slowest.join(', ')}`);

  console.log(JSON.stringify({ workers, applyMs: applyMs.map(Math.round), gatewayMs, requests: outcomes.length, failed }));
} finally {
  rmSync(bodyFile, { force: true });
  await gw.stop();
}

// Memory: each config in a gateway of its own. RSS does not shrink after a large config is replaced,
// so differences measured in one gateway across applies say nothing.
async function rssWith(config: object): Promise<number> {
  const g = await startGateway({ config, workers, entry });
  try {
    await settle();
    return mean(workerRss(g.child.pid!));
  } finally {
    await g.stop();
  }
}
try {
  const empty = await rssWith(base(0));
  const routes = await rssWith(withRoutes(10_000, 0));
  const consumers = await rssWith(withConsumers(10_000));
  console.log(`worker RSS: 1 route ${empty.toFixed(0)} MB; 10,000 routes ${routes.toFixed(0)} MB -> ${((routes - empty) / 10).toFixed(1)} MB per 1,000 routes`);
  console.log(`worker RSS: 10,000 consumers ${consumers.toFixed(0)} MB -> ${((consumers - empty) / 10).toFixed(1)} MB per 1,000 consumers (key-auth credentials)`);
  console.log(JSON.stringify({ workers, rssMB: { empty, routes, consumers } }));
} finally {
  upstream.close();
}
