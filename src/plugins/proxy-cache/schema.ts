/**
 * @module plugins/proxy-cache/schema
 * Kong's proxy-cache config (3.x). Only the `memory` strategy exists in Kong OSS; here it is a
 * byte-bounded cache shared by all workers of the gateway.
 */
import { Type, type Static } from '@sinclair/typebox';

const METHODS = ['HEAD', 'GET', 'POST', 'PATCH', 'PUT'] as const;

export const ProxyCacheSchema = Type.Object({
  response_code: Type.Array(Type.Integer({ minimum: 100, maximum: 900 }), { minItems: 1, default: [200, 301, 404] }),
  request_method: Type.Array(Type.String({ enum: [...METHODS] }), { minItems: 1, default: ['GET', 'HEAD'] }),
  content_type: Type.Array(Type.String(), { minItems: 1, default: ['text/plain', 'application/json'] }),
  cache_ttl: Type.Integer({ exclusiveMinimum: 0, default: 300 }),
  strategy: Type.Unsafe<'memory'>(Type.String({ enum: ['memory'] })),
  cache_control: Type.Boolean({ default: false }),
  ignore_uri_case: Type.Boolean({ default: false }),
  storage_ttl: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  memory: Type.Object({ dictionary_name: Type.String({ default: 'kong_db_cache' }) }, { additionalProperties: false, default: {} }),
  vary_query_params: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  vary_headers: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  response_headers: Type.Object({
    age: Type.Boolean({ default: true }),
    'X-Cache-Status': Type.Boolean({ default: true }),
    'X-Cache-Key': Type.Boolean({ default: true }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

export type ProxyCacheConfig = Static<typeof ProxyCacheSchema>;
