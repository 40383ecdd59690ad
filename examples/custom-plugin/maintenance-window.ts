/**
 * An example custom plugin: answers 503 with Kong's error template when a route's upstream is
 * marked as "in maintenance" by a header, and otherwise tags the upstream request and the
 * response. Load it with `turnpike gateway --plugin examples/custom-plugin/maintenance-window.ts`
 * and configure it in kong.yml like a bundled plugin:
 *
 *   plugins:
 *   - name: maintenance-window
 *     config: { header: x-maintenance, message: "Back soon" }
 */
import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../src/plugins/api.ts';

export default definePlugin({
  name: 'maintenance-window',
  version: '1.0.0',
  // After authentication (key-auth is 1250), before rate limiting (910).
  priority: 1000,
  schema: Type.Object({
    header: Type.String({ default: 'x-maintenance', description: 'request header that switches the window on' }),
    message: Type.String({ default: 'Service in maintenance' }),
    tag: Type.String({ default: 'turnpike' }),
  }, { additionalProperties: false }),
  create(config) {
    const header = config.header.toLowerCase();
    return {
      access(ctx) {
        if (ctx.request.header(header) === 'on') return { status: 503, message: config.message };
        ctx.upstream.setHeader('x-served-by', config.tag);
      },
      header(ctx) {
        ctx.response.setHeader('X-Maintenance-Window', ctx.response.source === 'exit' ? 'active' : 'off');
      },
    };
  },
});
