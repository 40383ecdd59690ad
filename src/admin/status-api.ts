/**
 * @module admin/status-api
 * Kong's Status API: liveness (`/status`), readiness (`/status/ready`, which load balancers and
 * Kubernetes probes read, and which turns 503 `draining` first on shutdown), read-only upstream
 * health and Prometheus metrics. It exposes nothing that can change the gateway except draining.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminBackend } from './backend.ts';
import { healthBody, send, statusBody } from './admin-api.ts';

export function createStatusHandler(backend: AdminBackend): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const t0 = performance.now();
    const url = new URL(req.url ?? '/', 'http://status');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const reply = (status: number, body?: unknown, headers?: Record<string, string>) => send(res, { status, body, headers }, t0, backend.version);
    if (path === '/status' && method === 'GET') {
      const r = statusBody(backend, url.searchParams);
      return send(res, r, t0, backend.version);
    }
    if (path === '/status/ready') {
      if (method === 'GET') {
        const r = backend.readiness();
        return r.ready ? reply(200, { message: 'ready' }) : reply(503, { message: r.message });
      }
      if (method === 'POST') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let status: string | null = null;
          try { status = (JSON.parse(text) as { status?: string }).status ?? null; } catch { status = new URLSearchParams(text).get('status'); }
          if (status !== 'draining') return reply(400, { message: "expected 'status' to be 'draining'" });
          backend.setDraining();
          reply(204);
        });
        return;
      }
      return reply(405, { message: 'Method not allowed' });
    }
    const m = /^\/upstreams\/([^/]+)\/health$/.exec(path);
    if (m && method === 'GET') return send(res, healthBody(backend, decodeURIComponent(m[1]!)), t0, backend.version);
    if (path === '/metrics' && method === 'GET' && backend.metrics) {
      backend.metrics().then((r) => reply(200, r.body, { 'Content-Type': r.contentType }), () => reply(500, { message: 'An unexpected error occurred' }));
      return;
    }
    reply(404, { message: 'Not found' });
  };
}
