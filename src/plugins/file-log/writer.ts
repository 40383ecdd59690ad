/**
 * @module plugins/file-log/writer
 * Appends lines to a file without ever making a request wait for the disk. A line is queued in
 * memory and the writer hands everything queued so far to the OS in one `write` (O_APPEND, so
 * lines from several workers never overwrite each other), one write in flight at a time; a slow
 * or stuck disk only makes the next batch bigger. Past `maxPendingBytes` new lines are dropped
 * and counted (Kong instead blocks its worker on the write).
 *
 * One writer per path and process, shared by every plugin instance that names the path and kept
 * across config reloads; the file is opened on the first line (so the primary process, which
 * compiles plugins but serves no requests, never opens it). With `reopen` the file is closed and
 * opened again for every batch, so a rotated file is picked up.
 */
import { constants as fsc, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { PluginLogger } from '../api.ts';

/** The part of `fs.promises.FileHandle` the writer uses (replaceable in tests). */
export interface AppendHandle {
  readonly fd: number;
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}
export type AppendOpener = (path: string) => Promise<AppendHandle>;

const FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_APPEND;
/** rw-r--r--, as Kong's S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH. */
const MODE = 0o644;
const defaultOpener: AppendOpener = (path) => open(path, FLAGS, MODE);

export interface WriterOptions {
  opener?: AppendOpener;
  /** Queued bytes beyond which lines are dropped (default 64 MiB). */
  maxPendingBytes?: number;
  /** Minimum interval between two "dropping"/"failing" messages, ms (default 10 s). */
  warnIntervalMs?: number;
}

export class AppendWriter {
  readonly path: string;
  #log: PluginLogger;
  readonly #opener: AppendOpener;
  readonly #maxPending: number;
  readonly #warnInterval: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #reopenRequested = false;
  #handle: AppendHandle | null = null;
  #running: Promise<void> | null = null;
  #scheduled = false;
  #dropped = 0;
  #lastWarn = 0;
  /** Plugin instances using this writer. */
  refs = 0;

  constructor(path: string, log: PluginLogger, opts: WriterOptions = {}) {
    this.path = path;
    this.#log = log;
    this.#opener = opts.opener ?? defaultOpener;
    this.#maxPending = opts.maxPendingBytes ?? 64 * 1024 * 1024;
    this.#warnInterval = opts.warnIntervalMs ?? 10_000;
  }

  set log(log: PluginLogger) { this.#log = log; }

  /** Lines waiting to be handed to the OS. */
  get pendingLines(): number { return this.#pending.length; }
  /** Lines dropped because too much was queued. */
  get dropped(): number { return this.#dropped; }

  /** Queues one line (it must end with `\n`). Never blocks, never throws. */
  write(line: string, reopen = false): void {
    if (this.#pendingBytes + line.length > this.#maxPending) {
      this.#dropped++;
      this.#warn(`file-log: ${this.path}: the disk is not keeping up; ${this.#dropped} log line(s) dropped so far`);
      return;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (reopen) this.#reopenRequested = true;
    if (this.#running === null && !this.#scheduled) {
      // Lines logged in the same turn of the event loop go out in one write.
      this.#scheduled = true;
      setImmediate(() => { this.#scheduled = false; this.#kick(); });
    }
  }

  /** Resolves once everything queued so far was written (or dropped after an error). */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#running !== null || this.#scheduled) {
      if (this.#running === null && this.#pending.length > 0) this.#kick();
      await (this.#running ?? new Promise<void>((r) => setImmediate(r)));
    }
  }

  /** Writes what is queued synchronously, if the file is open (process exit). */
  flushSync(): void {
    if (this.#pending.length === 0 || this.#handle === null) return;
    const buf = Buffer.from(this.#pending.join(''));
    this.#pending = [];
    this.#pendingBytes = 0;
    try { writeSync(this.#handle.fd, buf); } catch { /* exiting anyway */ }
  }

  /** Flushes, then closes the file; later lines open it again. */
  async close(): Promise<void> {
    await this.flush();
    const h = this.#handle;
    this.#handle = null;
    if (h) await h.close().catch(() => {});
  }

  #kick(): void {
    if (this.#running !== null || this.#pending.length === 0) return;
    this.#running = this.#drain().finally(() => { this.#running = null; });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      const reopen = this.#reopenRequested;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#reopenRequested = false;
      const buf = Buffer.from(batch.length === 1 ? batch[0]! : batch.join(''));
      try {
        if (reopen && this.#handle) {
          const old = this.#handle;
          this.#handle = null;
          await old.close().catch(() => {});
        }
        this.#handle ??= await this.#opener(this.path);
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await this.#handle.write(buf, off, buf.length - off);
          if (bytesWritten <= 0) throw new Error('no progress writing');
          off += bytesWritten;
        }
      } catch (err) {
        // Kong: "failed to open the file: <reason>". Open again on the next batch.
        const h = this.#handle;
        this.#handle = null;
        if (h) await h.close().catch(() => {});
        this.#dropped += batch.length;
        this.#warn(`file-log: failed to write to ${this.path}: ${(err as Error).message}; ${batch.length} log line(s) lost`, 'error');
      }
    }
  }

  #warn(msg: string, level: 'warn' | 'error' = 'warn'): void {
    const now = Date.now();
    if (now - this.#lastWarn < this.#warnInterval) return;
    this.#lastWarn = now;
    this.#log[level](msg);
  }
}

const writers = new Map<string, AppendWriter>();
let exitHookInstalled = false;

/** The process-wide writer for `path`, counted as used once more. */
export function acquireWriter(path: string, log: PluginLogger): AppendWriter {
  let w = writers.get(path);
  if (!w) {
    w = new AppendWriter(path, log);
    writers.set(path, w);
  } else {
    w.log = log;
  }
  w.refs++;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Lines still queued when a worker exits go out synchronously (only to files already open:
    // opening could block, e.g. on a FIFO without a reader).
    process.once('exit', () => { for (const x of writers.values()) x.flushSync(); });
  }
  return w;
}

/** Drops one use; the last user closes the file once its lines are written. */
export function releaseWriter(w: AppendWriter): void {
  if (--w.refs > 0) return;
  void w.close().then(() => {
    if (w.refs === 0 && w.pendingLines === 0 && writers.get(w.path) === w) writers.delete(w.path);
  });
}
