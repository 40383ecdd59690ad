/**
 * @module plugins/correlation-id/handler
 * Keeps a client-sent correlation id or generates one, passes it upstream, records it in the log
 * entry as `correlation_id`, and optionally echoes it to the client.
 */
import type { PluginContext, PluginHandlers } from '../api.ts';
import { generator } from './generators.ts';
import type { CorrelationIdConfig, GeneratorName } from './schema.ts';

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function createCorrelationId(config: CorrelationIdConfig): PluginHandlers {
  const headerName = config.header_name;
  const key = headerName.toLowerCase();
  const generate = generator(config.generator as GeneratorName);
  /** The id chosen in access, for the echo. */
  const chosen = new WeakMap<PluginContext, string>();

  const handlers: PluginHandlers = {
    access(ctx) {
      let id = first(ctx.request.headers[key]);
      if (!id) {
        id = generate(ctx);
        ctx.upstream.setHeader(headerName, id);
      }
      ctx.setLogValue('correlation_id', id);
      if (config.echo_downstream) chosen.set(ctx, id);
    },
  };
  if (config.echo_downstream) {
    handlers.header = (ctx) => {
      // Access may not have run (a request that ended earlier): fall back like Kong does.
      let id = chosen.get(ctx) ?? first(ctx.request.headers[key]);
      if (!id) id = generate(ctx);
      ctx.response.setHeader(headerName, id);
    };
  }
  return handlers;
}
