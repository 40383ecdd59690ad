/**
 * @module dashboard/server
 * The dashboard's HTTP handler, served by the primary on `--gui-listen`. Read-only: a page with
 * its script and stylesheet (shipped in ./assets, no external resources, so it works offline) and
 * JSON endpoints the page polls:
 *
 *   GET  /api/overview   node, config hash/source/time, services, routes, plugins, consumers, upstreams
 *   GET  /api/traffic    the last five minutes, one point a second (TrafficTimeline)
 *   POST /api/explain    route explorer: {method, host, path, headers, scheme?, consumer?}
 *   GET  /api/explain    the same from query parameters (?method=&host=&path=&header=Name:value)
 */
import type http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Snapshot } from '../gateway/snapshot.ts';
import { buildInventory, type InventorySources } from './inventory.ts';
import { explainRequest, type ExplainRequest } from './route-explorer.ts';
import type { TrafficTimeline } from './traffic-timeline.ts';
import type { ControllerReport } from './controller-report.ts';

export interface DashboardBackend extends InventorySources {
  version: string;
  /** The primary's compiled snapshot of the current config (same router and chains as the workers'). */
  snapshot(): Snapshot | null;
  traffic: TrafficTimeline;
  /** Port and scheme of the first proxy listener (routes may match on ports). */
  proxy(): { port: number; ssl: boolean } | null;
  workers(): number;
  /** Translation failures and outcome when Kubernetes objects feed this process, else null. */
  controller(): ControllerReport | null;
}

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url));
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  '/': { type: 'text/html; charset=utf-8', body: asset('index.html') },
  '/dashboard.js': { type: 'text/javascript; charset=utf-8', body: asset('dashboard.js') },
  '/dashboard.css': { type: 'text/css; charset=utf-8', body: asset('dashboard.css') },
};

/** Everything the page loads comes from here; nothing may be framed or fetched from elsewhere. */
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const MAX_BODY = 64 * 1024;

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, head: boolean): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

function json(res: http.ServerResponse, status: number, value: unknown, head = false): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), head);
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { resolve(null); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `?method=GET&host=x&path=/a&header=apikey:k&header=x-y:z` -> ExplainRequest. */
function explainFromQuery(params: URLSearchParams): ExplainRequest {
  const headers: Record<string, string> = {};
  for (const h of params.getAll('header')) {
    const i = h.indexOf(':');
    if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return {
    method: params.get('method') ?? undefined, host: params.get('host') ?? undefined, path: params.get('path') ?? undefined,
    headers, scheme: params.get('scheme') === 'https' ? 'https' : undefined, consumer: params.get('consumer') ?? undefined,
  };
}

function validExplain(v: unknown): v is ExplainRequest {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  for (const k of ['method', 'host', 'path', 'scheme', 'consumer'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') return false;
  }
  if (o.headers !== undefined) {
    if (!o.headers || typeof o.headers !== 'object' || Array.isArray(o.headers)) return false;
    if (Object.values(o.headers).some((h) => typeof h !== 'string')) return false;
  }
  return true;
}

export function createDashboardHandler(backend: DashboardBackend): http.RequestListener {
  const explain = (input: ExplainRequest) => {
    const proxy = backend.proxy();
    const scheme = input.scheme ?? (proxy?.ssl ? 'https' : 'http');
    return explainRequest(backend.snapshot(), { ...input, scheme, port: input.port ?? proxy?.port });
  };
  const routeName = (id: string) => {
    if (id === '') return '(no route)';
    const r = backend.current()?.config.routes.find((x) => x.id === id);
    return r?.name ?? id;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const path = url.pathname;
    const file = ASSETS[path === '/index.html' ? '/' : path];
    if (file) {
      if (method !== 'GET' && !head) return json(res, 405, { message: 'Method not allowed' });
      return send(res, 200, file.type, file.body, head);
    }
    if (path === '/api/overview') {
      if (method !== 'GET' && !head) return json(res, 405, { message: 'Method not allowed' });
      return json(res, 200, {
        node: { version: backend.version, workers: backend.workers(), proxy: backend.proxy(), now: new Date().toISOString() },
        ...buildInventory(backend),
        controller: backend.controller(),
      }, head);
    }
    if (path === '/api/traffic') {
      if (method !== 'GET' && !head) return json(res, 405, { message: 'Method not allowed' });
      return json(res, 200, backend.traffic.series(routeName), head);
    }
    if (path === '/api/explain') {
      if (method === 'GET' || head) return json(res, 200, explain(explainFromQuery(url.searchParams)), head);
      if (method !== 'POST') return json(res, 405, { message: 'Method not allowed' });
      const text = await readBody(req);
      if (text === null) return json(res, 413, { message: 'Request size limit exceeded' });
      let body: unknown;
      try { body = JSON.parse(text || '{}'); } catch { return json(res, 400, { message: 'Cannot parse JSON body' }); }
      if (!validExplain(body)) return json(res, 400, { message: 'expected {method, host, path, headers: {name: value}}' });
      return json(res, 200, explain(body));
    }
    return json(res, 404, { message: 'Not found' }, head);
  };

  return (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { message: 'An unexpected error occurred' });
      else res.destroy();
    });
  };
}
