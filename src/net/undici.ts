/**
 * @module net/undici
 * undici, loaded on first use. It adds about 20 MB to a process that imports it, and a worker
 * needs it only for WebSocket upgrades and the http-log plugin (proxied requests use H1Pool).
 */
type Undici = typeof import('undici');

let loading: Promise<Undici> | null = null;

export function loadUndici(): Promise<Undici> {
  return (loading ??= import('undici'));
}
