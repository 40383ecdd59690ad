/**
 * @module plugins/bundled
 * The plugins that ship with Turnpike. Each line imports one plugin folder's definition.
 */
import type { PluginDefinition } from './api.ts';
import keyAuth from './key-auth/index.ts';
import basicAuth from './basic-auth/index.ts';
import acl from './acl/index.ts';
import jwt from './jwt/index.ts';
import hmacAuth from './hmac-auth/index.ts';
import requestTermination from './request-termination/index.ts';
import cors from './cors/index.ts';
import correlationId from './correlation-id/index.ts';
import ipRestriction from './ip-restriction/index.ts';
import requestSizeLimiting from './request-size-limiting/index.ts';
import requestTransformer from './request-transformer/index.ts';
import responseTransformer from './response-transformer/index.ts';
import rateLimiting from './rate-limiting/index.ts';
import proxyCache from './proxy-cache/index.ts';
import fileLog from './file-log/index.ts';
import httpLog from './http-log/index.ts';
import prometheus from './prometheus/index.ts';
import openidConnect from './openid-connect/index.ts';
import ldapAuth from './ldap-auth/index.ts';
import oauth2 from './oauth2/index.ts';

export const BUNDLED_PLUGINS: PluginDefinition[] = [
  keyAuth,
  basicAuth,
  acl,
  jwt,
  hmacAuth,
  requestTermination,
  cors,
  correlationId,
  ipRestriction,
  requestSizeLimiting,
  requestTransformer,
  responseTransformer,
  rateLimiting,
  proxyCache,
  fileLog,
  httpLog,
  prometheus,
  openidConnect,
  ldapAuth,
  oauth2,
];
