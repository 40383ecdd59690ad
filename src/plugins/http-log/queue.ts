/**
 * @module plugins/http-log/queue
 * Kong's plugin queue (kong/tools/queue.lua) restated for one Node process: entries (JSON text)
 * wait in memory and a background loop hands them to a handler in batches.
 *
 * - A batch starts with the oldest entry and collects more for up to `max_coalescing_delay`
 *   seconds (none is waited for when `max_batch_size` is 1) or until it holds `max_batch_size`.
 * - A failing batch is retried with exponential backoff (`initial_retry_delay`, doubled each
 *   time, at most `max_retry_delay`) until `max_retry_time` seconds have passed since its first
 *   attempt; then it is dropped and the loss logged. Entries keep queueing meanwhile.
 * - At `max_entries` (or `max_bytes`) the oldest entries are dropped to make room, with Kong's
 *   log messages; at 80 % of `max_entries` a warning is logged once.
 * - `concurrency_limit: -1` sends every entry on its own, at once, without queueing.
 *
 * Nothing here ever waits on the caller's side: `enqueue` is synchronous and O(1).
 * Queues are per process and keyed by name, as Kong's are per worker; a queue exists while it has
 * work and always uses the newest handler it was given.
 */
import type { PluginLogger } from '../api.ts';

export interface QueueParams {
  name: string;
  /** Prefix for log messages, e.g. `http-log plugin <id>`. */
  logTag: string;
  maxBatchSize: number;
  /** Seconds. */
  maxCoalescingDelay: number;
  maxEntries: number;
  maxBytes: number | null;
  /** Seconds; -1 = never retry. */
  maxRetryTime: number;
  initialRetryDelay: number;
  maxRetryDelay: number;
  concurrencyLimit: 1 | -1;
}

/** Processes a batch; throws (or rejects) to have it retried. */
export type QueueHandler = (entries: string[]) => Promise<void>;

const CAPACITY_WARNING_THRESHOLD = 0.8;
/** Below this many seconds of coalescing budget a batch is sent without waiting further. */
const COALESCE_MIN_TIME = 0.05;

export interface QueueClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
const realClock: QueueClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export class Queue {
  readonly params: QueueParams;
  handler: QueueHandler;
  log: PluginLogger;
  readonly #clock: QueueClock;
  #entries: string[] = [];
  #head = 0;
  #bytes = 0;
  #running: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #warned = false;
  #dropping = false;
  /** Entries dropped for capacity or lost after retries (for tests and stats). */
  lost = 0;
  #onIdle: (() => void) | null;

  constructor(params: QueueParams, handler: QueueHandler, log: PluginLogger, onIdle: (() => void) | null = null, clock: QueueClock = realClock) {
    this.params = params;
    this.handler = handler;
    this.log = log;
    this.#onIdle = onIdle;
    this.#clock = clock;
  }

  /** Entries waiting (not counting a batch being sent). */
  get count(): number { return this.#entries.length - this.#head; }
  get busy(): boolean { return this.#running !== null; }

  #msg(text: string): string { return `[${this.params.logTag}] queue ${this.params.name}: ${text}`; }

  /** Adds an entry; false (with the reason logged) when it cannot be queued. */
  enqueue(entry: string): boolean {
    const p = this.params;
    if (p.concurrencyLimit === -1) {
      void this.#handle([entry]);
      return true;
    }
    if (this.count >= p.maxEntries * CAPACITY_WARNING_THRESHOLD) {
      if (!this.#warned) {
        this.log.warn(this.#msg(`queue at ${CAPACITY_WARNING_THRESHOLD * 100}% capacity`));
        this.#warned = true;
      }
    } else {
      this.#warned = false;
    }
    if (this.count >= p.maxEntries) {
      this.log.error(this.#msg('queue full, dropping old entries until processing is successful again'));
      this.#dropOldest();
      this.#dropping = true;
    }
    if (p.maxBytes !== null) {
      if (entry.length > p.maxBytes) {
        this.log.error(this.#msg(`string to be queued is longer (${entry.length} bytes) than the queue's max_bytes (${p.maxBytes} bytes)`));
        return false;
      }
      if (this.#bytes + entry.length > p.maxBytes) {
        let dropped = 0;
        while (this.#bytes + entry.length > p.maxBytes && this.count > 0) { this.#dropOldest(); dropped++; }
        this.#dropping = true;
        this.log.error(this.#msg(`byte capacity exceeded, ${dropped} queue entries were dropped`));
      }
    }
    this.#entries.push(entry);
    this.#bytes += entry.length;
    if (this.#wake) { const w = this.#wake; this.#wake = null; w(); }
    if (this.#running === null) this.#start();
    return true;
  }

  #start(): void {
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      // An entry may have arrived while the loop was finishing.
      if (this.count > 0) this.#start();
      else this.#onIdle?.();
    });
  }

  /** Resolves when the queue has nothing left to send (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  #dropOldest(): void {
    this.#bytes -= this.#entries[this.#head]!.length;
    this.#entries[this.#head] = '';
    this.#head++;
    this.lost++;
    this.#compact();
  }

  #take(n: number): string[] {
    const batch = this.#entries.slice(this.#head, this.#head + n);
    this.#head += batch.length;
    for (const e of batch) this.#bytes -= e.length;
    this.#compact();
    return batch;
  }

  #compact(): void {
    if (this.#head === this.#entries.length) { this.#entries = []; this.#head = 0; }
    else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) { this.#entries = this.#entries.slice(this.#head); this.#head = 0; }
  }

  /** Waits until an entry arrives or `ms` passed. */
  #waitForEntry(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.#wake = null; resolve(); }, ms);
      this.#wake = () => { clearTimeout(t); resolve(); };
    });
  }

  async #loop(): Promise<void> {
    const p = this.params;
    while (this.count > 0) {
      const started = this.#clock.now();
      // The first entry is ours; collect more until the batch is full or the delay is spent.
      for (;;) {
        if (this.count >= p.maxBatchSize) break;
        const left = p.maxCoalescingDelay - (this.#clock.now() - started) / 1000;
        if (left < COALESCE_MIN_TIME) break;
        await this.#waitForEntry(left * 1000);
      }
      const batch = this.#take(Math.min(this.count, p.maxBatchSize));
      if (this.#dropping) {
        this.log.info(this.#msg('queue resumed processing'));
        this.#dropping = false;
      }
      await this.#handle(batch);
    }
  }

  async #handle(batch: string[]): Promise<void> {
    const p = this.params;
    const start = this.#clock.now();
    for (let retry = 0; ; retry++) {
      try {
        await this.handler(batch);
        return;
      } catch (err) {
        this.log.warn(this.#msg(`handler could not process entries: ${(err as Error)?.message ?? String(err)}`));
      }
      if ((this.#clock.now() - start) / 1000 > p.maxRetryTime) {
        this.log.error(this.#msg(`could not send entries due to max_retry_time exceeded. ${batch.length} queue entries were lost`));
        this.lost += batch.length;
        return;
      }
      await this.#clock.sleep(Math.min(p.maxRetryDelay, 2 ** retry * p.initialRetryDelay) * 1000);
    }
  }
}

const queues = new Map<string, Queue>();

/**
 * Queues `entry` on the process's queue called `params.name`, creating it when needed. An
 * existing queue keeps its parameters and takes the newest handler (Kong: "always use the latest
 * configuration that we have seen").
 */
export function enqueue(params: QueueParams, handler: QueueHandler, log: PluginLogger, entry: string): boolean {
  let q = queues.get(params.name);
  if (q === undefined) {
    const created = new Queue(params, handler, log, () => {
      if (created.count === 0 && !created.busy && queues.get(params.name) === created) queues.delete(params.name);
    });
    q = created;
    queues.set(params.name, q);
  } else {
    q.handler = handler;
    q.log = log;
  }
  return q.enqueue(entry);
}

/** The live queue called `name`, if any (tests). */
export function getQueue(name: string): Queue | undefined { return queues.get(name); }
