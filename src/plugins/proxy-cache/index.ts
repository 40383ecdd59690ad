/**
 * @module plugins/proxy-cache
 * Kong's proxy-cache plugin (priority 100): `X-Cache-Status` Miss/Hit/Refresh/Bypass, Kong's cache
 * key, `cache_control` mode, vary by query parameters and headers.
 */
import { definePlugin } from '../api.ts';
import { ProxyCacheSchema } from './schema.ts';
import { createProxyCache } from './handler.ts';

export default definePlugin({
  name: 'proxy-cache',
  version: '3.10.0',
  priority: 100,
  schema: ProxyCacheSchema,
  create: createProxyCache,
});
