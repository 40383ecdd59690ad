/**
 * `npm run bench:soak [-- SECONDS [WORKERS]]` (default 600 s, 1 worker): the soak run of
 * BENCHMARKS.md. Prints one line per window and the summary; saves JSON in bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { runSoak } from './soak.ts';

const durationS = Number(process.argv[2] ?? 600);
const workers = Number(process.argv[3] ?? 1);
console.log(`soak: ${durationS} s, ${workers} worker(s), 80% of measured capacity; ${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB`);
console.log('   t   req/s   p50ms   p99ms   2xx   4xx   5xx   err   rssMB');
const report = await runSoak({
  durationS, workers, windowS: durationS >= 300 ? 30 : 10,
  onWindow: (w) => console.log([w.t, w.rps, w.p50, w.p99, w.s2xx, w.s4xx, w.s5xx, w.errors, w.rssMB].map((x) => String(x).padStart(6)).join('  ')),
});
const { windows: _w, ...summary } = report;
console.log(JSON.stringify(summary, null, 2));
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
const file = new URL(`../results/soak-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, ...report }, null, 2));
console.log(`saved ${file.pathname}`);
