/**
 * @module test/harness/load
 * A small, bounded load loop for fault tests: `concurrency` loops of `fetch` until `stop()` is
 * called (or `maxRequests` / `maxMs` is reached), loopback only. Every outcome is kept so a test
 * can assert "zero failed requests" and inspect what each response said.
 */

export interface LoadOutcome {
  status: number;
  /** 0 when the request failed at the socket level. */
  body: string;
  headers: Headers | null;
  error?: string;
  startedAt: number;
  endedAt: number;
}

export interface LoadRun {
  readonly outcomes: LoadOutcome[];
  /** Stops issuing new requests and waits for those in flight. */
  stop(): Promise<LoadOutcome[]>;
  /** Resolves when the run stopped by itself (limits) or after stop(). */
  readonly done: Promise<LoadOutcome[]>;
}

export interface LoadOptions {
  url: string | (() => string);
  init?: RequestInit;
  concurrency?: number;
  maxRequests?: number;
  maxMs?: number;
  /** Pause between two requests of one loop (ms). */
  pauseMs?: number;
  /** Per-request timeout (ms); a request over it counts as failed. */
  timeoutMs?: number;
}

export function startLoad(opts: LoadOptions): LoadRun {
  const outcomes: LoadOutcome[] = [];
  const concurrency = opts.concurrency ?? 8;
  const maxRequests = opts.maxRequests ?? 20_000;
  const deadline = Date.now() + (opts.maxMs ?? 30_000);
  let stopped = false;
  let issued = 0;
  const loop = async () => {
    while (!stopped && issued < maxRequests && Date.now() < deadline) {
      issued++;
      const startedAt = Date.now();
      const url = typeof opts.url === 'function' ? opts.url() : opts.url;
      try {
        const r = await fetch(url, { ...opts.init, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
        const body = await r.text();
        outcomes.push({ status: r.status, body, headers: r.headers, startedAt, endedAt: Date.now() });
      } catch (err) {
        outcomes.push({ status: 0, body: '', headers: null, error: String((err as Error).cause ?? err), startedAt, endedAt: Date.now() });
      }
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: concurrency }, loop)).then(() => outcomes);
  return {
    outcomes,
    done,
    stop: async () => { stopped = true; return done; },
  };
}

/** A one-line summary of what failed, for assertion messages. */
export function describeFailures(outcomes: LoadOutcome[], ok: (o: LoadOutcome) => boolean): string {
  const bad = outcomes.filter((o) => !ok(o));
  const counts = new Map<string, number>();
  for (const o of bad) {
    const k = o.status === 0 ? `error ${o.error}` : `${o.status} ${o.body.slice(0, 80)}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return `${bad.length}/${outcomes.length} failed: ${[...counts].map(([k, n]) => `${n}x ${k}`).join('; ')}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
