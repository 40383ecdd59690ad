/**
 * Shared parts of the kubectl walkthrough e2e tests (reference kic.md §6): the Kubernetes API test
 * server driven by the real `kubectl`, a real `turnpike controller` process pushing to a real
 * gateway process, the echo upstream, and steps 3–5 (rate limiting, proxy cache, key-auth), which
 * are the same whether the echo route is an HTTPRoute or an Ingress.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { startKubeApiServer } from '../k8s-api/server.ts';
import { startGateway, BIN } from '../harness/gateway-process.ts';
import { freePort } from '../harness/ports.ts';
import { startEchoServer } from '../../src/echo/echo-server.ts';

const run = promisify(execFile);
export const EXAMPLES = fileURLToPath(new URL('../../examples/getting-started/', import.meta.url));

export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until at least `margin` seconds remain in the current UTC minute (rate-limit windows). */
export async function awayFromMinuteEdge(margin = 20): Promise<void> {
  const s = new Date().getUTCSeconds() + new Date().getUTCMilliseconds() / 1000;
  if (60 - s < margin) await new Promise((r) => setTimeout(r, (60 - s + 0.5) * 1000));
}

export interface Walkthrough {
  dir: string;
  kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /**
   * A proxy request to the gateway. `client: 2` sends it from 127.0.0.2, a second client with its
   * own rate-limit counter (limit_by falls back to the IP), so a step need not wait for a new minute.
   */
  get(path: string, headers?: Record<string, string>, client?: 1 | 2): Promise<Response>;
  /** Writes `text` to a file in the test's folder and `kubectl apply`s it. */
  apply(name: string, text: string): Promise<void>;
  /** Waits for the controller's `/readyz` (its first successful push). */
  controllerReady(): Promise<void>;
  echoPort: number;
  /** The gateway's Admin API. */
  admin: string;
}

/** Starts the API server, the echo upstream, a gateway and the controller (with `controllerArgs`). */
export async function startWalkthrough(cleanup: (() => Promise<unknown> | void)[], controllerArgs: string[] = []): Promise<Walkthrough> {
  const api = await startKubeApiServer();
  cleanup.push(() => api.stop());
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-e2e-'));
  const kubeconfig = await api.writeKubeconfig(join(dir, 'kubeconfig'));
  const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });

  const echo = await startEchoServer('127.0.0.1', 0, { NODE_NAME: 'kind', POD_NAME: 'echo-abc', POD_NAMESPACE: 'kong', POD_IP: '127.0.0.1' });
  cleanup.push(() => new Promise<void>((r) => { echo.server.closeAllConnections(); echo.server.close(() => r()); }));
  const gw = await startGateway({ waitReady: false });
  cleanup.push(() => gw.stop());

  const [health, metrics] = [await freePort(), await freePort()];
  const controller: ChildProcess = spawn(process.execPath, [BIN, 'controller', '--kubeconfig', kubeconfig,
    '--gateway-admin-url', gw.admin, '--health-probe-listen', `127.0.0.1:${health}`, '--metrics-listen', `127.0.0.1:${metrics}`,
    '--no-leader-election', '--log-level', 'warn', ...controllerArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  controller.stdout!.on('data', (d) => { out += d; });
  controller.stderr!.on('data', (d) => { out += d; });
  cleanup.push(() => { controller.kill('SIGTERM'); });

  return {
    dir, kubectl, echoPort: echo.port, admin: gw.admin,
    get: (path, headers = {}, client = 1) => client === 1
      ? fetch(`${gw.proxy}${path}`, { headers })
      : fromSecondClient(`${gw.proxy}${path}`, headers),
    async apply(name, text) {
      writeFileSync(join(dir, name), text);
      await kubectl('apply', '-f', join(dir, name));
    },
    async controllerReady() {
      await eventually('controller ready', async () => ((await fetch(`http://127.0.0.1:${health}/readyz`)).status === 200 ? true : undefined), 30_000)
        .catch((err) => { throw new Error(`${err}\n${out}`); });
    },
  };
}

/** A GET from 127.0.0.2 (any 127/8 address is loopback on Linux), as a fetch Response. */
function fromSecondClient(url: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, localAddress: '127.0.0.2' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(res.statusCode === 304 ? null : Buffer.concat(chunks), { status: res.statusCode, headers: h }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Step 1: the echo Service (without the step-5 annotation yet) and the EndpointSlice a kubelet would give it. */
export function echoManifest(echoPort: number): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: kong, labels: {app: echo}}
spec:
  ports: [{port: 1027, name: http, protocol: TCP, targetPort: 1027}]
  selector: {app: echo}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-abcde
  namespace: kong
  labels: {kubernetes.io/service-name: echo}
addressType: IPv4
ports: [{name: http, port: ${echoPort}, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
`;
}

/** The step-2 check: the echo banner through `/echo`. */
export async function expectEchoRoute(w: Walkthrough): Promise<void> {
  const banner = await eventually('the echo route', async () => {
    const r = await w.get('/echo');
    return r.status === 200 ? r.text() : undefined;
  });
  assert.match(banner, /^Welcome, you are connected to node kind\.\nRunning on Pod echo-abc\.\nIn namespace kong\.\nWith IP address 127\.0\.0\.1\.\n/);
}

/**
 * Steps 3–5 with the echo route of kind `routeKind` (`httproute` or `ingress`): five 200s then 429,
 * the global cache's Miss then Hits, key-auth's 45-byte 401, then 200 for consumer alex's key.
 */
export async function rateLimitCacheAndKeyAuth(w: Walkthrough, routeKind: 'httproute' | 'ingress'): Promise<void> {
  const { get, kubectl } = w;
  // Step 3: rate-limit-5-min on the route.
  await kubectl('apply', '-f', join(EXAMPLES, '03-rate-limiting.yaml'));
  await awayFromMinuteEdge();
  await kubectl('annotate', '-n', 'kong', routeKind, 'echo', 'konghq.com/plugins=rate-limit-5-min');
  // The first limited response may be one of the five.
  const first = await eventually('rate limiting', async () => {
    const r = await get('/echo', { apikey: 'example-key' });
    await r.arrayBuffer();
    return r.headers.get('x-ratelimit-limit-minute') === '5' ? r : undefined;
  });
  const statuses = [first.status];
  const remaining = [first.headers.get('ratelimit-remaining')];
  while (statuses.length < 7) {
    const r = await get('/echo', { apikey: 'example-key' });
    await r.arrayBuffer();
    statuses.push(r.status);
    remaining.push(r.headers.get('ratelimit-remaining'));
    if (r.status === 429) {
      assert.equal(r.headers.get('ratelimit-limit'), '5');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
      break;
    }
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  assert.deepEqual(remaining.slice(-2), ['0', '0']);

  // Step 4: a global proxy cache; with a fresh rate-limit window (a second client rather than a
  // minute's wait): Miss, Hit x4, then 429 without X-Cache-Status.
  await kubectl('apply', '-f', join(EXAMPLES, '04-proxy-cache.yaml'));
  await eventually('proxy-cache on the gateway', async () => {
    const plugins = await (await fetch(`${w.admin}/plugins`)).json() as { data: { name: string }[] };
    return plugins.data.some((p) => p.name === 'proxy-cache') ? true : undefined;
  });
  await awayFromMinuteEdge(15);
  const cache: (string | null)[] = [];
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await get('/echo', { apikey: 'example-key' }, 2);
    await r.arrayBuffer();
    codes.push(r.status);
    cache.push(r.headers.get('x-cache-status'));
  }
  assert.deepEqual(codes, [200, 200, 200, 200, 200, 429]);
  assert.deepEqual(cache, ['Miss', 'Hit', 'Hit', 'Hit', 'Hit', null]);

  // Step 5: key-auth on the Service, then consumer alex with the key hello_world.
  await w.apply('key-auth-plugin.yaml', `
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: key-auth, namespace: kong, annotations: {kubernetes.io/ingress.class: kong}}
plugin: key-auth
`);
  await kubectl('annotate', '-n', 'kong', 'service', 'echo', 'konghq.com/plugins=rate-limit-5-min,key-auth', '--overwrite');
  const unauthorized = await eventually('key-auth', async () => {
    const r = await get('/echo');
    const body = await r.text();
    return r.status === 401 ? { r, body } : undefined;
  });
  assert.equal(unauthorized.r.headers.get('www-authenticate'), 'Key realm="kong"');
  assert.equal(unauthorized.r.headers.get('content-length'), '45');
  assert.equal(unauthorized.body, '{\n  "message":"No API key found in request"\n}');
  await kubectl('apply', '-f', join(EXAMPLES, '05-key-auth.yaml'));
  const ok = await eventually('consumer alex', async () => {
    const r = await get('/echo', { apikey: 'hello_world' });
    const body = await r.text();
    return r.status === 200 ? body : undefined;
  });
  assert.match(ok, /^Welcome, you are connected to node kind\./);

  // The controller reported back: KongConsumer alex is Programmed.
  const alex = await eventually('KongConsumer status', async () => {
    const { stdout } = await kubectl('get', 'kongconsumer', 'alex', '-n', 'kong', '-o', 'json');
    const c = JSON.parse(stdout) as { status?: { conditions?: { type: string; status: string }[] } };
    return c.status?.conditions?.find((x) => x.type === 'Programmed' && x.status === 'True');
  });
  assert.equal(alex.status, 'True');
}
