/**
 * @module admin/status-api
 * Kong's Status API as a `node:http` request handler: `/status`, readiness (`/status/ready`,
 * which load balancers and Kubernetes probes read and which turns 503 `draining` first on
 * shutdown), the read-only upstream routes Kong serves there in DB-less mode (health and
 * targets) and Prometheus metrics. Nothing here can change the gateway except draining.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { emptyConfig } from '../config/entities.ts';
import type { AdminBackend } from './backend.ts';
import { statusUpstreamRoutes, type EntityContext } from './entity-routes.ts';
import {
  MAX_ADMIN_BODY_BYTES, message, notFound, parseBodyParams, parseQuery, readBody, reply, unexpectedError, writeReply,
  type Reply,
} from './http.ts';
import { dispatch, Router, type RouteDefinition } from './router.ts';
import { metricsReply, statusReply } from './status.ts';

interface StatusContext extends EntityContext {
  readonly req: IncomingMessage;
  readonly body: Buffer;
}

/** `POST /status/ready`: `status=draining` from the query, a form or a JSON body. */
function drainReply(ctx: StatusContext): Reply {
  let status: unknown = ctx.query.get('status');
  if (status === undefined) {
    const params = parseBodyParams(ctx.req, ctx.body);
    if (params.kind === 'form') status = params.fields.get('status');
    else if (params.kind === 'json' && typeof params.value === 'object' && params.value !== null) status = (params.value as Record<string, unknown>).status;
    else if (params.kind === 'raw') status = new URLSearchParams(ctx.body.toString('utf8')).get('status') ?? undefined;
  }
  if (status !== 'draining') return { status: 400 }; // Kong answers an empty 400
  ctx.backend.setDraining();
  return { status: 204 };
}

function statusRoutes(): RouteDefinition<StatusContext>[] {
  return [
    { pattern: '/status', methods: { GET: (ctx) => statusReply(ctx.backend, ctx.query) } },
    {
      pattern: '/status/ready',
      methods: {
        GET: (ctx) => {
          const r = ctx.backend.readiness();
          return r.ready ? reply(200, { message: 'ready' }) : message(503, r.message);
        },
        POST: drainReply,
      },
    },
    { pattern: '/metrics', methods: { GET: (ctx) => metricsReply(ctx.backend) } },
    ...(statusUpstreamRoutes() as unknown as RouteDefinition<StatusContext>[]),
  ];
}

/** Creates the Status API request handler. */
export function createStatusHandler(backend: AdminBackend): (req: IncomingMessage, res: ServerResponse) => void {
  const router = new Router(statusRoutes());
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (r: Reply) => writeReply(req, res, r, { Server: `turnpike/${backend.version}` });
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req, MAX_ADMIN_BODY_BYTES);
    if (!body.ok) {
      if (!body.tooLarge) return;
      return send({ status: 413, body: { message: 'Payload too large' }, headers: { Connection: 'close' } });
    }
    const match = router.match(path);
    if (!match) return send(notFound());
    const ctx: StatusContext = {
      backend, config: backend.current()?.config ?? emptyConfig(), method,
      query: parseQuery(q < 0 ? '' : rawUrl.slice(q + 1)), req, body: body.body,
    };
    send(await dispatch(match, method, ctx));
  };
  return (req, res) => {
    handle(req, res).catch(() => writeReply(req, res, unexpectedError(), { Server: `turnpike/${backend.version}` }));
  };
}
