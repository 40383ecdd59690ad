/**
 * @module test/k8s-api/helpers
 * Test helpers around the API test server: run the real kubectl against it (own discovery cache
 * per server so ports reused across tests never see stale discovery), plain JSON requests, and a
 * raw watch stream reader that collects events and waits for them.
 */
import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiServer, type KubeApiServer, type KubeApiServerOptions } from './server.ts';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  server: KubeApiServer;
  dir: string;
  kubeconfig: string;
  /** Runs kubectl with this cluster's kubeconfig; never throws on a non-zero exit. */
  kubectl(args: string[], stdin?: string): Promise<KubectlResult>;
  /** Writes a file in the cluster's temp dir and returns its path. */
  file(name: string, text: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTestCluster(options: KubeApiServerOptions = {}): Promise<TestCluster> {
  const server = await startKubeApiServer(options);
  const dir = await mkdtemp(join(tmpdir(), 'turnpike-k8s-'));
  const kubeconfig = await server.writeKubeconfig(join(dir, 'kubeconfig'));
  const env = { ...process.env, KUBECACHEDIR: join(dir, 'cache'), HOME: dir, KUBECONFIG: kubeconfig };
  return {
    server, dir, kubeconfig,
    kubectl(args, stdin) {
      return new Promise((resolve) => {
        const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
        if (stdin !== undefined) child.stdin?.end(stdin);
      });
    },
    async file(name, text) {
      const p = join(dir, name);
      await writeFile(p, text);
      return p;
    },
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface JsonResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: http.IncomingHttpHeaders;
}

export function request(baseUrl: string, method: string, path: string, body?: unknown, contentType = 'application/json', accept = 'application/json'): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(new URL(path, baseUrl), {
      method,
      headers: { Accept: accept, ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface WatchEvent {
  type: string;
  object: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface WatchStream {
  status: number;
  events: WatchEvent[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  waitFor(predicate: (events: WatchEvent[]) => boolean, timeoutMs?: number): Promise<WatchEvent[]>;
  close(): void;
}

/** Opens `path` (which must carry `watch=1`) and collects its newline-delimited events. */
export function openWatch(baseUrl: string, path: string): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const waiters = new Set<() => void>();
    let endResolve!: () => void;
    const ended = new Promise<void>((r) => { endResolve = r; });
    const req = http.get(new URL(path, baseUrl), (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
        }
        for (const w of [...waiters]) w();
      });
      res.on('end', endResolve);
      res.on('close', endResolve);
      res.on('error', endResolve);
      resolve({
        status: res.statusCode ?? 0,
        events,
        ended,
        waitFor(predicate, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const check = () => {
              if (!predicate(events)) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok(events);
            };
            const timer = setTimeout(() => { waiters.delete(check); fail(new Error(`timed out waiting; got ${JSON.stringify(events.map((e) => [e.type, e.object?.metadata?.name]))}`)); }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        close() { req.destroy(); },
      });
    });
    req.on('error', reject);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
