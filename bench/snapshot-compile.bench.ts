/**
 * Benchmark: a worker's share of `POST /config` for 10,000 services + 10,000 routes, without the
 * transfer: JSON.parse of the packed config, unpacking it, and compiling the snapshot (router,
 * plugin chains, upstreams), as `src/gateway/worker.ts` does. Each round is a config of its own
 * (a new tag), the previous snapshot disposed, as in a gateway. The first round is the one a
 * fresh worker pays. A plain script, not a test; run it as workers run
 * (`--max-semi-space-size=4`, see supervisor.ts):
 *   node --max-semi-space-size=4 --import tsx bench/snapshot-compile.bench.ts [SERVICES] [ROUNDS]
 */
import { validateConfig } from '../src/config/validate.ts';
import { loadPluginRegistry } from '../src/plugins/registry.ts';
import { packConfig, unpackConfig, type PackedConfig } from '../src/gateway/packed-config.ts';
import { compileSnapshot, type Snapshot } from '../src/gateway/snapshot.ts';
import { createLogger, pluginLogger } from '../src/observability/logger.ts';

const n = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 5);
const plugins = await loadPluginRegistry([]);
const log = pluginLogger(createLogger('error', {}));

/** The packed JSON a worker receives for generation `g` (config-apply.bench.ts's shape). */
function packed(g: number, size: number): string {
  const services = [];
  for (let i = 0; i < size; i++) {
    services.push({ name: `svc-${i}`, url: 'http://127.0.0.1:9000', tags: [`g${g}`], routes: [{ name: `route-${i}`, paths: [`/svc/${i}`] }] });
  }
  const r = validateConfig({ _format_version: '3.0', services }, plugins);
  if (!r.ok) throw new Error(r.error.message);
  return JSON.stringify(packConfig(r.config));
}

const texts = Array.from({ length: rounds }, (_, g) => packed(g + 1, n));
// A fresh worker has compiled its start config (one route) before the first large one.
let snapshot: Snapshot | undefined = compileSnapshot(unpackConfig(JSON.parse(packed(0, 1)) as PackedConfig), { plugins, log, hash: 'start', activeHealthchecks: false });
const totals: number[] = [];
for (let round = 0; round < rounds; round++) {
  const t0 = performance.now();
  const parsed = JSON.parse(texts[round]!) as PackedConfig;
  const t1 = performance.now();
  const config = unpackConfig(parsed);
  const t2 = performance.now();
  const next = compileSnapshot(config, { previous: snapshot, plugins, log, hash: `g${round}`, activeHealthchecks: false });
  const t3 = performance.now();
  snapshot?.dispose();
  snapshot = next;
  totals.push(t3 - t0);
  console.log(`round ${round}: ${n} services + ${n} routes: parse ${(t1 - t0).toFixed(0)} ms, unpack ${(t2 - t1).toFixed(0)} ms, compile ${(t3 - t2).toFixed(0)} ms (${(texts[round]!.length / 1e6).toFixed(1)} MB packed)`);
}
snapshot?.dispose();
console.log(JSON.stringify({ services: n, totalMs: totals.map(Math.round) }));
