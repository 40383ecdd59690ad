/**
 * @module admin/status
 * Bodies shared by the Admin and Status APIs: `GET /status` (memory formatted by `unit` and
 * `scale`, server counters, `configuration_hash` instead of `database` as in DB-less Kong) and
 * the metrics passthrough.
 */
import { EMPTY_CONFIG_HASH } from '../config/hash.ts';
import type { AdminBackend } from './backend.ts';
import { message, notFound, reply, unexpectedError, type Reply } from './http.ts';

type Query = ReadonlyMap<string, string | true>;

/** Kong's `bytes_to_str`: 'b' gives integers, k/m/g strings with `scale` decimals. */
export function bytesToStr(bytes: number, unit: string, scale: number): number | string {
  switch (unit.toLowerCase()) {
    case '':
    case 'b': return Math.trunc(bytes);
    case 'k': return `${(bytes / 2 ** 10).toFixed(scale)} KiB`;
    case 'm': return `${(bytes / 2 ** 20).toFixed(scale)} MiB`;
    case 'g': return `${(bytes / 2 ** 30).toFixed(scale)} GiB`;
    default: throw new RangeError(`invalid unit '${unit}' (expected 'k/K', 'm/M', or 'g/G')`);
  }
}

/** `GET /status`. `unit` defaults to m and `scale` to 2; a scale that is not a number is ignored, as Kong's `tonumber` makes it. */
export function statusReply(backend: AdminBackend, query: Query): Reply {
  const unitArg = query.get('unit');
  const unit = typeof unitArg === 'string' ? unitArg : 'm';
  const scaleArg = query.get('scale');
  const parsedScale = typeof scaleArg === 'string' && scaleArg.trim() !== '' ? Number(scaleArg) : NaN;
  const scale = Number.isNaN(parsedScale) ? 2 : parsedScale;
  if (scale < 0) return message(400, 'scale must be equal or greater than 0');
  const digits = Math.min(Math.trunc(scale), 100);
  try {
    bytesToStr(0, unit, digits);
  } catch (err) {
    return message(400, (err as Error).message);
  }
  const mem = backend.memoryStats();
  const sharedDicts: Record<string, { allocated_slabs: number | string; capacity: number | string }> = {};
  for (const [name, d] of Object.entries(mem.shared)) {
    sharedDicts[name] = { allocated_slabs: bytesToStr(d.allocated_slabs, unit, digits), capacity: bytesToStr(d.capacity, unit, digits) };
  }
  const workers = [...mem.workers].sort((a, b) => a.pid - b.pid)
    .map((w) => ({ http_allocated_gc: bytesToStr(w.http_allocated_gc, unit, digits), pid: w.pid }));
  return reply(200, {
    memory: { workers_lua_vms: workers, lua_shared_dicts: sharedDicts },
    server: backend.serverStats(),
    configuration_hash: backend.current()?.hash ?? EMPTY_CONFIG_HASH,
  });
}

/** `GET /metrics`: the backend's Prometheus text, or 404 when it has none. */
export async function metricsReply(backend: AdminBackend): Promise<Reply> {
  if (!backend.metrics) return notFound();
  try {
    const m = await backend.metrics();
    return { status: 200, text: { contentType: m.contentType, body: m.body } };
  } catch {
    return unexpectedError();
  }
}
