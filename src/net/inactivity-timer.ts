/**
 * @module net/inactivity-timer
 * A socket's inactivity timeout that costs nothing per read or write. `socket.setTimeout` re-files
 * its timer on every read and every write (`timers.active`: a list removal, an insertion and a
 * clock read), ~1.5 µs of CPU a proxied request on the upstream socket (BENCHMARKS.md, session
 * 18). Here a timer ticks every 1/8 of the timeout and compares an activity count (bytes read and
 * written, say) with the one it saw last; eight silent ticks in a row are the timeout. It fires
 * between `ms` and `ms` + `ms`/8 after the last activity, or after `set()` when there was none.
 */

const TICKS = 8;

export class InactivityTimer {
  readonly #activity: () => number;
  readonly #onTimeout: () => void;
  #timer: NodeJS.Timeout | null = null;
  #ms = 0;
  /** Silent ticks in a row that make the timeout (8, or `ms` for a timeout under 8 ms). */
  #ticks = 0;
  #silent = 0;
  #seen = 0;

  /** `activity`: a number that changes whenever something happened (read at ticks only). */
  constructor(activity: () => number, onTimeout: () => void) {
    this.#activity = activity;
    this.#onTimeout = onTimeout;
  }

  get ms(): number { return this.#ms; }

  /** Times out after `ms` of silence from now on (0: never); the count starts afresh. */
  set(ms: number): void {
    this.clear();
    if (!(ms > 0)) return;
    const period = Math.max(1, Math.floor(ms / TICKS));
    this.#ms = ms;
    this.#ticks = Math.ceil(ms / period);
    this.#silent = 0;
    this.#seen = this.#activity();
    // Unref'd, as a socket's own timeout: a pooled connection does not keep the process alive.
    this.#timer = setInterval(this.#tick, period).unref();
  }

  clear(): void {
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    this.#ms = 0;
  }

  #tick = (): void => {
    const now = this.#activity();
    if (now !== this.#seen) {
      this.#seen = now;
      this.#silent = 0;
      return;
    }
    if (++this.#silent < this.#ticks) return;
    // Still armed after the callback (it may clear or set): the next timeout is a full `ms` away.
    this.#silent = 0;
    this.#onTimeout();
  };
}
