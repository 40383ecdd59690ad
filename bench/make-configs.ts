/**
 * Writes the declarative configs the load scenarios use into bench/configs/ (not committed):
 * every one proxies to the nginx upstream on 127.0.0.1:9000, as the nginx baseline does.
 *   node --import tsx bench/make-configs.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

const dir = new URL('./configs/', import.meta.url);
mkdirSync(dir, { recursive: true });
const upstreamUrl = 'http://127.0.0.1:9000';
const write = (name: string, config: object) => writeFileSync(new URL(`${name}.yml`, dir), stringify(config));
const consumer = { username: 'alice', keyauth_credentials: [{ key: 'key-alice-123' }] };

write('plain', { _format_version: '3.0', services: [{ name: 'up', url: upstreamUrl, routes: [{ name: 'all', paths: ['/'] }] }] });
write('key-auth', {
  _format_version: '3.0', consumers: [consumer],
  services: [{ name: 'up', url: upstreamUrl, routes: [{ name: 'all', paths: ['/'] }], plugins: [{ name: 'key-auth' }] }],
});
write('key-auth-rate-limiting', {
  _format_version: '3.0', consumers: [consumer],
  services: [{
    name: 'up', url: upstreamUrl, routes: [{ name: 'all', paths: ['/'] }],
    plugins: [{ name: 'key-auth' }, { name: 'rate-limiting', config: { second: 1_000_000_000, policy: 'local' } }],
  }],
});
write('proxy-cache', {
  _format_version: '3.0',
  services: [{ name: 'up', url: upstreamUrl, routes: [{ name: 'all', paths: ['/'] }] }],
  plugins: [{ name: 'proxy-cache', config: { strategy: 'memory', content_type: ['text/plain', 'text/plain; charset=utf-8', 'application/octet-stream'] } }],
});
write('getting-started', {
  _format_version: '3.0',
  services: [{
    name: 'echo', url: upstreamUrl,
    routes: [{ name: 'echo', paths: ['/'], strip_path: true, plugins: [{ name: 'rate-limiting', config: { minute: 1_000_000_000, policy: 'local' } }] }],
    plugins: [{ name: 'key-auth' }],
  }],
  consumers: [consumer],
  plugins: [{ name: 'proxy-cache', config: { strategy: 'memory', response_code: [200], request_method: ['GET', 'HEAD'], content_type: ['text/plain'], cache_ttl: 300 } }],
});
// Ten routes, the requests hitting the last: the baseline for "10,000 routes vs 10".
const ten = [];
for (let i = 0; i < 9; i++) ten.push({ name: `svc-${i}`, url: upstreamUrl, routes: [{ name: `route-${i}`, hosts: [`host-${i}.example.com`], paths: [`/api/v1/svc-${i}`] }] });
ten.push({ name: 'last', url: upstreamUrl, routes: [{ name: 'last', paths: ['/'] }] });
write('ten-routes', { _format_version: '3.0', services: ten, consumers: [consumer] });
// The 1 MiB body the nginx upstream serves at /1m.bin.
mkdirSync('/tmp/turnpike-bench', { recursive: true });
writeFileSync('/tmp/turnpike-bench/1m.bin', Buffer.alloc(1 << 20, 'x'));
const N = 10_000;
const services = [];
for (let i = 0; i < N; i++) {
  services.push({ name: `svc-${i}`, url: upstreamUrl, routes: [{ name: `route-${i}`, hosts: [`host-${i}.example.com`], paths: [`/api/v1/svc-${i}`] }] });
}
// The requests hit the last-defined route (`/` on the last service is matched by host).
services.push({ name: 'last', url: upstreamUrl, routes: [{ name: 'last', paths: ['/'] }] });
const consumers = [];
for (let i = 0; i < N; i++) consumers.push({ username: `user-${i}`, keyauth_credentials: [{ key: `key-${i}` }] });
consumers.push(consumer);
write('large', { _format_version: '3.0', services, consumers });
