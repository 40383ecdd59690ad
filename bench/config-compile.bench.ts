/**
 * Benchmark: validate + normalize a declarative config with 10,000 services and 10,000 routes.
 * A plain script (not a test): `node --import tsx bench/config-compile.bench.ts`.
 */
import { validateConfig } from '../src/config/validate.ts';

function generate(n: number): Record<string, unknown> {
  const services = [];
  for (let i = 0; i < n; i++) {
    services.push({
      name: `svc-${i}`,
      url: `http://backend-${i % 50}.internal:8080/api/${i}`,
      tags: ['bench'],
      routes: [{ name: `route-${i}`, paths: [`/svc/${i}`], methods: ['GET', 'POST'], strip_path: true }],
    });
  }
  return { _format_version: '3.0', services };
}

const n = Number(process.argv[2] ?? 10000);
const input = generate(n);
for (let round = 0; round < 5; round++) {
  const copy = structuredClone(input);
  const t0 = performance.now();
  const result = validateConfig(copy, new Map());
  const ms = performance.now() - t0;
  if (!result.ok) throw new Error(result.error.message.slice(0, 500));
  console.log(`round ${round}: ${n} services + ${n} routes validated+normalized in ${ms.toFixed(1)} ms`);
}
