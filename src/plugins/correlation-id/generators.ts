/**
 * @module plugins/correlation-id/generators
 * The three ways Kong makes a correlation id: a random UUID, `<worker uuid>#<counter>`, and the
 * `tracker` string `<server addr>-<server port>-<pid>-<connection serial>-<requests on that
 * connection>-<seconds with ms>`.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { PluginContext } from '../api.ts';
import type { GeneratorName } from './schema.ts';

/** One UUID and one counter per worker process, shared by every plugin instance, as in Kong. */
const workerUuid = randomUUID();
let workerCounter = 0;

/** Connection serial numbers and per-connection request counts (nginx's $connection, $connection_requests). */
interface ConnectionInfo { serial: number; requests: number; lastRequest: object | null }
const connections = new WeakMap<Socket, ConnectionInfo>();
let connectionSerial = 0;

/**
 * The plugin API does not expose the socket; the gateway's request view carries the Node request
 * as `raw`. Without it the tracker falls back to the request's port and counts from 1.
 */
function socketOf(ctx: PluginContext): Socket | null {
  const raw = (ctx.request as unknown as { raw?: { socket?: Socket } }).raw;
  return raw?.socket ?? null;
}

function tracker(ctx: PluginContext): string {
  const socket = socketOf(ctx);
  let info: ConnectionInfo | undefined;
  if (socket) {
    info = connections.get(socket);
    if (!info) {
      info = { serial: ++connectionSerial, requests: 0, lastRequest: null };
      connections.set(socket, info);
    }
    // Count each request once even when the header phase generates again.
    if (info.lastRequest !== ctx.request) {
      info.requests++;
      info.lastRequest = ctx.request;
    }
  }
  const addr = socket?.localAddress?.replace(/^::ffff:(?=\d+\.)/, '') ?? '';
  const port = socket?.localPort ?? ctx.request.port;
  const now = (Date.now() / 1000).toFixed(3);
  return `${addr}-${port}-${process.pid}-${info?.serial ?? 0}-${info?.requests ?? 1}-${now}`;
}

export function generator(name: GeneratorName): (ctx: PluginContext) => string {
  switch (name) {
    case 'uuid': return () => randomUUID();
    case 'uuid#counter': return () => `${workerUuid}#${++workerCounter}`;
    case 'tracker': return tracker;
  }
}
