/**
 * @module test/harness/gateway-process
 * Starts a real `turnpike gateway` child process on free loopback ports and waits until it
 * listens (and, with a config, until /status/ready says so). Tests talk to it over real sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';

/** The sources through tsx: what `npm start` runs, and what TypeScript `--plugin` files need. */
export const SOURCE_BIN = fileURLToPath(new URL('../../bin/turnpike.js', import.meta.url));
/** Where scripts/run-tests.sh bundles the sources before a run (`scripts/build.mjs --outdir`). */
export const TEST_BUILD = fileURLToPath(new URL('../../node_modules/.cache/turnpike-test-build/turnpike.mjs', import.meta.url));

/** Newest modification time under `dir`, in ms (0 when it does not exist). */
function newestIn(dir: string): number {
  let newest = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
  } catch { /* missing */ }
  return newest;
}

function freshBuild(): boolean {
  try {
    const built = statSync(TEST_BUILD).mtimeMs;
    const root = fileURLToPath(new URL('../../', import.meta.url));
    return ['src', 'bin', 'examples/getting-started'].every((d) => newestIn(join(root, d)) <= built);
  } catch {
    return false;
  }
}

/**
 * The entry child processes run: the bundle of the current sources when run-tests.sh has built
 * one (what the image runs, and a start ~2 s shorter than through tsx's loader), else the
 * sources. A stale bundle, or none, means the sources: a test never runs code older than the tree.
 */
export const BIN = freshBuild() ? TEST_BUILD : SOURCE_BIN;

export interface GatewayProcess {
  readonly proxy: string;
  readonly admin: string;
  readonly status: string;
  readonly proxyPort: number;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** POST /config with a JSON or YAML body. */
  postConfig(body: string | object, query?: string): Promise<Response>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface GatewayStartOptions {
  /** Declarative config (object → YAML/JSON file) or none for an empty gateway. */
  config?: string | object;
  workers?: number;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /status/ready = 200 (default: when a config is given). */
  waitReady?: boolean;
  /** Fixed ports (e.g. to restart a gateway where it was); free ones by default. */
  ports?: { proxy: number; admin: number; status: number };
  /** The entry to run (default: BIN; SOURCE_BIN when an argument names a .ts file); benchmarks pass dist/. */
  entry?: string;
}

/** Whether the workers `GET /status` lists are `parent`'s children (true when it lists none). */
async function workersAreChildren(status: string, parent: number): Promise<boolean> {
  const body = await (await fetch(`${status}/status`)).json() as { memory?: { workers_lua_vms?: { pid: number }[] } };
  const pids = body.memory?.workers_lua_vms?.map((w) => w.pid) ?? [];
  return pids.length === 0 || pids.some((pid) => {
    try {
      // /proc/PID/stat: "pid (comm) state ppid ...", and comm may hold spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    } catch {
      return false;
    }
  });
}

export async function startGateway(opts: GatewayStartOptions = {}): Promise<GatewayProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGatewayOnce(opts);
    } catch (err) {
      // A port freePort() found can be taken by another test before the gateway listens on it:
      // pick new ones (fixed ports are the caller's to keep).
      if (opts.ports || attempt >= 3 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
    }
  }
}

async function startGatewayOnce(opts: GatewayStartOptions): Promise<GatewayProcess> {
  const [proxyPort, adminPort, statusPort] = opts.ports
    ? [opts.ports.proxy, opts.ports.admin, opts.ports.status]
    : [await freePort(), await freePort(), await freePort()];
  // A TypeScript plugin file needs tsx's loader, which only the sources' entry has.
  const entry = opts.entry ?? (opts.args?.some((a) => a.endsWith('.ts')) ? SOURCE_BIN : BIN);
  const args = [entry, 'gateway',
    '--proxy-listen', `127.0.0.1:${proxyPort}`,
    '--admin-listen', `127.0.0.1:${adminPort}`,
    '--status-listen', `127.0.0.1:${statusPort}`,
    '--workers', String(opts.workers ?? 1),
    '--log-level', 'error',
    // Tests that want the dashboard pass their own --gui-listen (later flags win).
    '--gui-listen', 'off',
    ...(opts.args ?? [])];
  if (opts.config !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'turnpike-test-'));
    const file = join(dir, typeof opts.config === 'string' ? 'kong.yml' : 'kong.json');
    writeFileSync(file, typeof opts.config === 'string' ? opts.config : JSON.stringify(opts.config));
    args.push('--config', file);
  }
  const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const status = `http://127.0.0.1:${statusPort}`;
  const deadline = Date.now() + 30_000;
  const wantReady = opts.waitReady ?? opts.config !== undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`gateway did not start:\n${out}`); }
    try {
      const r = await fetch(`${status}/status${wantReady ? '/ready' : ''}`);
      await r.arrayBuffer();
      if (r.status === 200 || (!wantReady && r.status < 500)) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  // The status port freePort() found may be another test's gateway's by now: that one answered,
  // and this child will fail its start (EADDRINUSE, so a retry). Its workers say whose it is.
  if (!(await workersAreChildren(status, child.pid!))) {
    child.kill('SIGKILL');
    throw new Error(`EADDRINUSE: another gateway answered on ${status}`);
  }
  const admin = `http://127.0.0.1:${adminPort}`;
  return {
    proxy: `http://127.0.0.1:${proxyPort}`,
    admin,
    status,
    proxyPort,
    child,
    output: () => out,
    postConfig: async (body, query = '') => {
      const send = () => fetch(`${admin}/config${query}`, {
        method: 'POST',
        headers: { 'content-type': typeof body === 'string' ? 'text/yaml' : 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      try {
        return await send();
      } catch (err) {
        // fetch's shared pool can hand out a kept-alive socket to an earlier gateway that had
        // this port (freePort reuses them) and does not retry a POST on it: once more, fresh.
        const code = ((err as Error).cause as { code?: string } | undefined)?.code;
        if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') throw err;
        return send();
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
