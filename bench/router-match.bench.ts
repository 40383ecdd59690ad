/**
 * Micro-benchmark (not a test): RouteIndex.match with 10 routes vs 10,000 routes, requests hitting
 * the last-defined route, plus the time to build the 10,000-route index.
 *   node --import tsx bench/router-match.bench.ts
 */
import type { Route, Service } from '../src/config/entities.ts';
import { RouteIndex, normalizePath, type RouteRequest } from '../src/gateway/router/index.ts';

const service = { id: 'svc', enabled: true } as Service;
const services = new Map([['svc', service]]);

function routes(n: number): Route[] {
  const out: Route[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    out.push({
      id: `r${i}`, name: `r${i}`, created_at: 0, updated_at: 0, tags: null, protocols: ['http', 'https'], methods: kind === 3 ? ['GET', 'POST'] : null,
      hosts: kind === 0 ? [`svc-${i}.example.com`] : kind === 1 ? [`*.tenant-${i}.example.com`] : null,
      paths: kind === 2 ? [`~/api/v${i}/items/\\d+$`] : [`/api/v1/svc-${i}`], headers: null, snis: null, sources: null, destinations: null,
      strip_path: true, preserve_host: false, regex_priority: 0, path_handling: 'v0', https_redirect_status_code: 426,
      request_buffering: true, response_buffering: true, service: { id: 'svc' },
    });
  }
  return out;
}

function bench(n: number): number {
  const rs = routes(n);
  const t0 = performance.now();
  const index = new RouteIndex(rs, services);
  const buildMs = performance.now() - t0;
  // the last host route and the last host-less prefix route defined
  const hostIdx = (n - 1) - ((n - 1) % 4);
  const plainIdx = (n - 1) % 4 === 3 ? n - 1 : hostIdx - 1;
  const req: RouteRequest = { method: 'GET', host: `svc-${hostIdx}.example.com`, path: `/api/v1/svc-${hostIdx}/x`, headers: {}, scheme: 'http', port: 8000 };
  const plain: RouteRequest = { ...req, host: 'other.example.com', path: normalizePath(`/api/v1/svc-${plainIdx}/x`) };
  for (let i = 0; i < 200_000; i++) { index.match(req); index.match(plain); }
  const iterations = 1_000_000;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    if (!index.match(i & 1 ? req : plain)) throw new Error('no match');
  }
  const ns = Number(process.hrtime.bigint() - t1) / iterations;
  console.log(`${String(n).padStart(6)} routes: ${ns.toFixed(0)} ns/match (index built in ${buildMs.toFixed(1)} ms)`);
  return ns;
}

const small = bench(10);
const large = bench(10_000);
console.log(`10,000 routes cost ${(large / small).toFixed(2)}x what 10 routes cost (throughput ratio ${(small / large).toFixed(2)})`);
