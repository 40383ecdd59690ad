/**
 * @module plugins/rate-limiting/windows
 * Fixed windows aligned to UTC calendar boundaries, as Kong's `kong/tools/timestamp.lua`: a
 * minute window starts at :00, a day at 00:00 UTC, a month on the 1st. Window lengths for TTLs
 * and `RateLimit-Reset` use Kong's constants (a month is 30 days, a year 365).
 */
import type { Period } from './schema.ts';

export const PERIOD_SECONDS: Record<Period, number> = {
  second: 1, minute: 60, hour: 3600, day: 86400, month: 2592000, year: 31536000,
};

export function windowStart(period: Period, nowMs: number): number {
  switch (period) {
    case 'second': return Math.floor(nowMs / 1000) * 1000;
    case 'minute': return Math.floor(nowMs / 60000) * 60000;
    case 'hour': return Math.floor(nowMs / 3600000) * 3600000;
    case 'day': return Math.floor(nowMs / 86400000) * 86400000;
    case 'month': { const d = new Date(nowMs); return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1); }
    case 'year': return Date.UTC(new Date(nowMs).getUTCFullYear(), 0, 1);
  }
}

/** Seconds until the window resets, at least 1 (Kong's `RateLimit-Reset`). */
export function resetSeconds(period: Period, nowMs: number): number {
  return Math.max(1, PERIOD_SECONDS[period] - Math.floor((nowMs - windowStart(period, nowMs)) / 1000));
}
