/**
 * @module bench/soak
 * A soak run: a real gateway (key-auth, rate-limiting, proxy-cache, config pushed every few
 * seconds) under an open-loop load at a fraction of the capacity measured first, for a fixed
 * time. Per window it records throughput, p50/p99, status classes, socket errors and the RSS of
 * the gateway's processes (primary + workers). `bench/soak/run.ts` prints and saves the report;
 * `test/soak/soak.test.ts` runs a short one in `npm test` and asserts what must hold at any
 * length: zero 5xx and errors, every config accepted, RSS flat after warm-up, p99 stable.
 */
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { startGateway, type GatewayProcess } from '../../test/harness/gateway-process.ts';

export interface SoakOptions {
  durationS: number;
  /** Fraction of the measured capacity to offer (0.8 = 80%). */
  loadFraction?: number;
  workers?: number;
  windowS?: number;
  /** Seconds of warm-up excluded from the flatness checks. */
  warmupS?: number;
  configEveryMs?: number;
  capacityProbeS?: number;
  /** Progress lines (one per window) go here. */
  onWindow?: (w: SoakWindow) => void;
}

export interface SoakWindow {
  t: number; requests: number; rps: number; p50: number; p99: number;
  s2xx: number; s4xx: number; s5xx: number; errors: number; rssMB: number;
}

export interface SoakReport {
  capacityRps: number; offeredRps: number; durationS: number; workers: number;
  windows: SoakWindow[];
  totals: { requests: number; s2xx: number; s4xx: number; s5xx: number; errors: number; dropped: number; configsPosted: number; configsRefused: number; cacheHits: number };
  rss: { warmMB: number; finalMB: number; peakMB: number; growthPct: number };
  p99: { earlyMs: number; lateMs: number };
}

const KEY = 'soak-key';
const paths = ['/cached', '/auth', '/open', '/limited'] as const;

function soakConfig(upstream: string, generation: number): object {
  return {
    _format_version: '3.0',
    services: [{
      name: 'echo', url: upstream,
      routes: [
        { name: 'open', paths: ['/open'] },
        { name: 'cached', paths: ['/cached'], plugins: [{ name: 'proxy-cache', config: { strategy: 'memory' } }] },
        { name: 'auth', paths: ['/auth'], plugins: [{ name: 'key-auth' }, { name: 'rate-limiting', config: { second: 1_000_000, policy: 'local' } }] },
        // A limit that trips: 429s are expected answers, never 5xx.
        { name: 'limited', paths: ['/limited'], plugins: [{ name: 'key-auth' }, { name: 'rate-limiting', config: { second: 5, policy: 'local' } }] },
        // What changes with every push, so each one is a real swap.
        { name: `generation-${generation}`, paths: [`/generation-${generation}`] },
      ],
    }],
    consumers: [{ username: 'soak', keyauth_credentials: [{ key: KEY }] }],
  };
}

/** RSS of a process and all its descendants, in MB (Linux /proc). */
export function treeRssMB(rootPid: number): number {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* exited */ }
  }
  const tree = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent) if (!tree.has(pid) && tree.has(ppid)) { tree.add(pid); grew = true; }
  }
  let kb = 0;
  for (const pid of tree) {
    try { kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { /* exited */ }
  }
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

interface Sample { status: number; ms: number; cacheHit: boolean }

function request(pool: Pool, i: number): Promise<Sample> {
  const path = paths[i % paths.length]!;
  const headers: Record<string, string> = path === '/auth' || path === '/limited' ? { apikey: KEY } : {};
  const t0 = performance.now();
  return pool.request({ path, method: 'GET', headers, headersTimeout: 10_000, bodyTimeout: 10_000 }).then(async (r) => {
    await r.body.dump();
    return { status: r.statusCode, ms: performance.now() - t0, cacheHit: r.headers['x-cache-status'] === 'Hit' };
  }, () => ({ status: 0, ms: performance.now() - t0, cacheHit: false }));
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const windowS = opts.windowS ?? 10;
  const warmupS = opts.warmupS ?? Math.max(10, Math.round(opts.durationS / 4));
  const upstream = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' }).end('ok\n');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  let generation = 0;
  let gw: GatewayProcess | undefined;
  let pool: Pool | undefined;
  try {
    gw = await startGateway({ config: soakConfig(upstreamUrl, generation), workers: opts.workers ?? 1 });
    pool = new Pool(gw.proxy, { connections: 64, pipelining: 1 });

    // Capacity: a closed loop at 32 in flight.
    let served = 0;
    const probeEnd = performance.now() + (opts.capacityProbeS ?? 5) * 1000;
    await Promise.all(Array.from({ length: 32 }, async (_, k) => {
      for (let i = k; performance.now() < probeEnd; i += 32) { await request(pool!, i); served++; }
    }));
    const capacityRps = served / (opts.capacityProbeS ?? 5);
    const offeredRps = Math.max(10, Math.floor(capacityRps * (opts.loadFraction ?? 0.8)));

    const windows: SoakWindow[] = [];
    const totals = { requests: 0, s2xx: 0, s4xx: 0, s5xx: 0, errors: 0, dropped: 0, configsPosted: 0, configsRefused: 0, cacheHits: 0 };
    let current: Sample[] = [];
    let inFlight = 0;
    const pending = new Set<Promise<void>>();
    const start = performance.now();
    const end = start + opts.durationS * 1000;
    let issued = 0;
    const MAX_IN_FLIGHT = 512;

    // Config pushes on their own loop.
    const pushes = (async () => {
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, opts.configEveryMs ?? 2_000));
        if (performance.now() >= end) break;
        const r = await gw!.postConfig(soakConfig(upstreamUrl, ++generation));
        await r.arrayBuffer();
        totals.configsPosted++;
        if (r.status !== 201) totals.configsRefused++;
      }
    })();

    let nextWindow = start + windowS * 1000;
    while (performance.now() < end) {
      const now = performance.now();
      // Open loop: issue what the schedule says is due, whatever the answers are doing.
      const due = Math.floor(((now - start) / 1000) * offeredRps) - issued;
      for (let k = 0; k < due; k++) {
        issued++;
        if (inFlight >= MAX_IN_FLIGHT) { totals.dropped++; continue; }
        inFlight++;
        const p: Promise<void> = request(pool, issued).then((s) => { inFlight--; current.push(s); pending.delete(p); });
        pending.add(p);
      }
      if (now >= nextWindow) {
        windows.push(summarize(current, (windows.length + 1) * windowS, windowS, treeRssMB(gw.child.pid!), totals));
        opts.onWindow?.(windows[windows.length - 1]!);
        current = [];
        nextWindow += windowS * 1000;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
    await pushes;
    if (current.length) windows.push(summarize(current, opts.durationS, windowS, treeRssMB(gw.child.pid!), totals));

    const warm = windows.filter((w) => w.t > warmupS);
    const warmMB = warm[0]?.rssMB ?? windows[0]!.rssMB;
    const finalMB = windows[windows.length - 1]!.rssMB;
    const half = Math.ceil(warm.length / 2);
    return {
      capacityRps: Math.round(capacityRps), offeredRps, durationS: opts.durationS, workers: opts.workers ?? 1, windows, totals,
      rss: { warmMB: round(warmMB), finalMB: round(finalMB), peakMB: round(Math.max(...windows.map((w) => w.rssMB))), growthPct: round(((finalMB - warmMB) / warmMB) * 100) },
      p99: { earlyMs: round(median(warm.slice(0, half).map((w) => w.p99))), lateMs: round(median(warm.slice(half).map((w) => w.p99))) },
    };
  } finally {
    await pool?.close();
    await gw?.stop();
    await new Promise((r) => upstream.close(r));
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

function summarize(samples: Sample[], t: number, windowS: number, rssMB: number, totals: SoakReport['totals']): SoakWindow {
  const w: SoakWindow = { t, requests: samples.length, rps: Math.round(samples.length / windowS), p50: 0, p99: 0, s2xx: 0, s4xx: 0, s5xx: 0, errors: 0, rssMB: round(rssMB) };
  const ms: number[] = [];
  for (const s of samples) {
    ms.push(s.ms);
    if (s.status === 0) w.errors++;
    else if (s.status >= 500) w.s5xx++;
    else if (s.status >= 400) w.s4xx++;
    else w.s2xx++;
    if (s.cacheHit) totals.cacheHits++;
  }
  ms.sort((a, b) => a - b);
  w.p50 = round(percentile(ms, 0.5));
  w.p99 = round(percentile(ms, 0.99));
  totals.requests += w.requests; totals.s2xx += w.s2xx; totals.s4xx += w.s4xx; totals.s5xx += w.s5xx; totals.errors += w.errors;
  return w;
}
