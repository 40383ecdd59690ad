/**
 * @module gateway/router
 * Request -> route: path normalization, the route index and the upstream path.
 */
export { normalizePath } from './normalize-path.ts';
export { RouteIndex, splitHost, type RouteMatch, type RouteRequest } from './route-index.ts';
export { buildUpstreamPath, type UpstreamPath } from './upstream-path.ts';
