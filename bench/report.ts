/**
 * Turns bench/results/results.tsv into the BENCHMARKS.md table: medians per scenario and
 * connection count, each beside nginx from the same file, as ratios.
 *   node --import tsx bench/report.ts bench/results/results.tsv
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('./results/results.tsv', import.meta.url).pathname;
const lines = readFileSync(file, 'utf8').trim().split('\n');
const head = lines[0]!.split('\t');
const col = (n: string) => head.indexOf(n);
const rows = lines.slice(1).map((l) => l.split('\t'));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const groups = new Map<string, string[][]>();
for (const r of rows) {
  const key = `${r[col('name')]}\t${r[col('conns')]}`;
  let g = groups.get(key);
  if (!g) groups.set(key, (g = []));
  g.push(r);
}
const stat = (name: string, conns: string) => {
  const g = groups.get(`${name}\t${conns}`);
  if (!g) return null;
  const num = (c: string) => median(g.map((r) => Number(r[col(c)])));
  const canaries = g.map((r) => Number(r[col('canary_ms')])).filter((v) => v > 0);
  const cpus = g.map((r) => Number(r[col('gw_cpu_us_req')])).filter((v) => v > 0);
  return { rps: num('rps'), p50: num('p50_ms'), p99: num('p99_ms'), rss: num('rss_kb') / 1024, cpu: num('gw_cpu_us_req'), n: g.length, non2xx: num('non2xx'),
    canary: canaries.length ? `${Math.min(...canaries)}–${Math.max(...canaries)}` : '-',
    cpuRange: cpus.length ? `${Math.min(...cpus).toFixed(1)}–${Math.max(...cpus).toFixed(1)}` : '-' };
};
/** The nginx row each scenario is measured against: same body size, same worker count. */
const baselineOf = (name: string) => name.includes('-1m-') ? 'nginx-proxy-1m-w1' : name.endsWith('-w2') ? 'nginx-proxy-w2' : 'nginx-proxy-w1';
/** Plugin overhead is also shown against Turnpike's own plain proxying. */
const plainOf = (name: string) => name.startsWith('turnpike-') && !name.includes('-1m-') ? (name.endsWith('-w2') ? 'turnpike-plain-w2' : 'turnpike-plain-w1') : null;
const out: string[] = [];
out.push('| scenario | conns | req/s | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | nginx row | nginx req/s | nginx p99 ms | req/s ÷ nginx | p99 ÷ nginx | req/s ÷ Turnpike plain | runs | canary ms | CPU µs/req of the reps |');
out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
const names = [...new Set(rows.map((r) => r[col('name')]!))];
for (const conns of [...new Set(rows.map((r) => r[col('conns')]!))]) {
  for (const name of names) {
    const s = stat(name, conns);
    if (!s) continue;
    const baseName = baselineOf(name);
    const base = stat(baseName, conns);
    const plainName = plainOf(name);
    const plain = plainName && plainName !== name ? stat(plainName, conns) : null;
    const ratio = base ? (s.rps / base.rps).toFixed(2) : '-';
    const p99r = base ? (s.p99 / base.p99).toFixed(2) : '-';
    const plainR = plain ? (s.rps / plain.rps).toFixed(2) : '-';
    out.push(`| ${name} | ${conns} | ${Math.round(s.rps)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.rss.toFixed(0)} | ${s.cpu.toFixed(1)} | ${base ? baseName : '-'} | ${base ? Math.round(base.rps) : '-'} | ${base ? base.p99.toFixed(2) : '-'} | ${ratio} | ${p99r} | ${plainR} | ${s.n} | ${s.canary} | ${s.cpuRange} |`);
  }
}
// The canary (bench.sh) is the wall time of a fixed loop on the proxy's core before each run:
// a row whose range reaches well above the others' ran while the host was busy.
out.push('', 'canary ms: wall time of a fixed loop on the proxy\'s core before each run (lowest–highest of the row); higher means a busier host.');
// The canary can read normal while a rep still runs slow (the host gets busy during the run): a
// proxy's CPU per request barely moves with load, so a rep far above the row's lowest is the tell.
out.push('', 'CPU µs/req of the reps: lowest–highest of the row; a wide range means some reps ran while the host was busy, even when the canary read normal.');
process.stdout.write(`${out.join('\n')}\n`);
