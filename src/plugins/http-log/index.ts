/**
 * @module plugins/http-log
 * Kong's http-log plugin (priority 12): after the response went out, the request's log entry is
 * queued (queue.ts) and sent to `http_endpoint` in the background (sender.ts), in batches and with
 * retries as the `queue` record says. Nothing of it delays a request.
 *
 * As in Kong, plugin instances whose endpoint parameters are the same share one queue per
 * process (the name is built from the legacy parameters, as Kong builds it).
 */
import { definePlugin, type PluginLogger } from '../api.ts';
import { VERSION } from '../../version.ts';
import { applyCustomFields, compileCustomFields, encodeLogEntry } from '../file-log/log-entry.ts';
import { HttpLogSchema, checkHttpLog, parseEndpoint, type HttpLogConfig } from './schema.ts';
import { enqueue, type QueueParams } from './queue.ts';
import { sendBatch, type SendOptions } from './sender.ts';

/** Kong's `make_queue_name` (its format string has room for the first six parameters only). */
export function queueName(c: HttpLogConfig): string {
  const s = (v: unknown) => (v === undefined || v === null ? 'nil' : String(v));
  return [c.http_endpoint, c.method, c.content_type, c.timeout, c.keepalive, c.retry_count].map(s).join(':');
}

/**
 * Kong's `Queue.get_plugin_params`: the `queue` record, with the deprecated flat parameters
 * mapped onto it when they differ from their old defaults (each with a deprecation warning).
 */
export function queueParams(c: HttpLogConfig, pluginId: string, log: PluginLogger | null): QueueParams {
  const q = c.queue;
  const params: QueueParams = {
    name: queueName(c),
    logTag: `http-log plugin ${pluginId}`,
    maxBatchSize: q.max_batch_size,
    maxCoalescingDelay: q.max_coalescing_delay,
    maxEntries: q.max_entries,
    maxBytes: q.max_bytes ?? null,
    maxRetryTime: q.max_retry_time,
    initialRetryDelay: q.initial_retry_delay,
    maxRetryDelay: q.max_retry_delay,
    concurrencyLimit: q.concurrency_limit,
  };
  if (c.retry_count !== undefined && c.retry_count !== null && c.retry_count !== 10) {
    log?.warn('the retry_count parameter no longer works, please update your configuration to use initial_retry_delay and max_retry_time instead');
  }
  if (c.queue_size !== undefined && c.queue_size !== null && c.queue_size !== 1) {
    params.maxBatchSize = c.queue_size;
    log?.warn('the queue_size parameter is deprecated, please update your configuration to use queue.max_batch_size instead');
  }
  if (c.flush_timeout !== undefined && c.flush_timeout !== null && c.flush_timeout !== 2) {
    params.maxCoalescingDelay = c.flush_timeout;
    log?.warn('the flush_timeout parameter is deprecated, please update your configuration to use queue.max_coalescing_delay instead');
  }
  return params;
}

export default definePlugin({
  name: 'http-log',
  version: VERSION,
  priority: 12,
  schema: HttpLogSchema,
  check: checkHttpLog,
  create(config, env) {
    const endpoint = parseEndpoint(config.http_endpoint);
    if (typeof endpoint === 'string') throw new Error(`http-log: http_endpoint: ${endpoint}`);
    const log = env.log;
    const params = queueParams(config, env.entity.id, log);
    const custom = compileCustomFields(config.custom_fields_by_lua, log, 'http-log');
    const send: SendOptions = {
      endpoint, method: config.method, contentType: config.content_type, timeout: config.timeout,
      keepalive: config.keepalive, headers: config.headers, array: params.maxBatchSize > 1,
    };
    const handler = (entries: string[]) => sendBatch(send, entries);
    return {
      log(ctx) {
        try {
          const entry = ctx.serialize();
          if (custom.length > 0) applyCustomFields(entry, custom);
          if (!enqueue(params, handler, log, encodeLogEntry(entry))) {
            log.error('Failed to enqueue log entry to log server');
          }
        } catch (err) {
          log.error(`http-log: could not log the request: ${(err as Error).message}`);
        }
      },
    };
  },
});
